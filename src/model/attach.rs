//! Graph nodes whose value is computed beforehand and whose backward pass is written out.
//!
//! candle records one node per tensor op, and its backward pass accumulates every node's
//! gradient into a zeroed buffer of the node's size. A LoRA linear written as ops (`x W^T`,
//! `x A^T`, `B`, the scale, the sum) or an RMSNorm as seven ops costs a node, a buffer and
//! a gradient buffer for each. Here the value is computed off the graph (with the fused
//! kernels that record nothing, or plain ops on detached tensors) and one node carries it,
//! whose backward pass is a closure that gives each input's gradient directly. A value
//! computed into a plain buffer ([`Value::F32`]) is moved into the node; a tensor value is
//! copied out once (candle owns what a custom op returns).
//!
//! CPU only: callers check the device and fall back to the op composition elsewhere.

use candle_core::{CpuStorage, Layout, Result, Shape, Tensor};
use std::sync::Mutex;

/// The gradients of a node's inputs, given those inputs and the gradient of its output.
pub trait Backward: Send + Sync + 'static {
    fn grads(&self, inputs: &[&Tensor], grad: &Tensor) -> Result<Vec<Option<Tensor>>>;
}

impl<F> Backward for F
where
    F: Fn(&[&Tensor], &Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
{
    fn grads(&self, inputs: &[&Tensor], grad: &Tensor) -> Result<Vec<Option<Tensor>>> {
        self(inputs, grad)
    }
}

/// What an attached node evaluates to.
pub enum Value {
    /// A tensor on the CPU, copied into the node.
    Tensor(Tensor),
    /// A contiguous f32 buffer of this shape, moved into the node.
    F32(Vec<f32>, Shape),
}

impl From<Tensor> for Value {
    fn from(t: Tensor) -> Self {
        Value::Tensor(t)
    }
}

/// A node over `x` whose value is `y` (same device) and whose backward pass is `bwd`
/// (returning one gradient).
pub fn attach1(x: &Tensor, y: impl Into<Value>, bwd: impl Backward) -> Result<Tensor> {
    x.apply_op1(Attached::new(y.into(), bwd))
}

/// A node over `x`, `a`, `b` whose value is `y` and whose backward pass is `bwd`
/// (returning three gradients, in that order).
pub fn attach3(
    x: &Tensor,
    a: &Tensor,
    b: &Tensor,
    y: impl Into<Value>,
    bwd: impl Backward,
) -> Result<Tensor> {
    x.apply_op3(a, b, Attached::new(y.into(), bwd))
}

struct Attached<B> {
    /// Taken by the forward pass, which candle runs once per node.
    value: Mutex<Option<Value>>,
    bwd: B,
}

impl<B: Backward> Attached<B> {
    fn new(value: Value, bwd: B) -> Self {
        Attached {
            value: Mutex::new(Some(value)),
            bwd,
        }
    }

    /// The precomputed value, as the node's own storage.
    fn value(&self) -> Result<(CpuStorage, Shape)> {
        use CpuStorage as C;
        let taken = self.value.lock().map(|mut v| v.take());
        let y = match taken {
            Ok(Some(Value::F32(data, shape))) if data.len() == shape.elem_count() => {
                return Ok((C::F32(data), shape));
            }
            Ok(Some(Value::Tensor(y))) => y.contiguous()?,
            Ok(Some(Value::F32(data, shape))) => {
                candle_core::bail!("attached node: {} values for shape {shape:?}", data.len())
            }
            _ => candle_core::bail!("attached node: evaluated twice"),
        };
        let (storage, layout) = y.storage_and_layout();
        let (candle_core::Storage::Cpu(cpu), Some((a, b))) =
            (&*storage, layout.contiguous_offsets())
        else {
            candle_core::bail!("attached node: the value is not on the CPU");
        };
        let out = match cpu {
            C::F32(v) => C::F32(v[a..b].to_vec()),
            C::F16(v) => C::F16(v[a..b].to_vec()),
            C::BF16(v) => C::BF16(v[a..b].to_vec()),
            C::F64(v) => C::F64(v[a..b].to_vec()),
            _ => candle_core::bail!("attached node: unsupported dtype {:?}", y.dtype()),
        };
        Ok((out, y.shape().clone()))
    }

    fn grads(&self, inputs: &[&Tensor], grad: &Tensor) -> Result<Vec<Option<Tensor>>> {
        // Detached: ops on the graph's own inputs would record new nodes that keep the
        // whole forward graph alive through the gradients (and the optimizer state built
        // from them), one more graph each step.
        let detached: Vec<Tensor> = inputs.iter().map(|x| x.detach()).collect();
        let detached: Vec<&Tensor> = detached.iter().collect();
        let g = self.bwd.grads(&detached, &grad.detach())?;
        if g.len() != inputs.len() {
            candle_core::bail!(
                "attached node: {} gradients for {} inputs",
                g.len(),
                inputs.len()
            );
        }
        // Each gradient in its input's dtype, as candle's own backward passes keep them.
        g.into_iter()
            .zip(inputs)
            .map(|(g, x)| g.map(|g| g.to_dtype(x.dtype())).transpose())
            .collect()
    }
}

impl<B: Backward> candle_core::CustomOp1 for Attached<B> {
    fn name(&self) -> &'static str {
        "attached"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        self.value()
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(self.grads(&[x], grad)?.pop().flatten())
    }
}

impl<B: Backward> candle_core::CustomOp3 for Attached<B> {
    fn name(&self) -> &'static str {
        "attached"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.value()
    }

    #[allow(clippy::type_complexity)]
    fn bwd(
        &self,
        x: &Tensor,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let mut g = self.grads(&[x, a, b], grad)?.into_iter();
        Ok((g.next().flatten(), g.next().flatten(), g.next().flatten()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn the_value_is_y_and_the_gradients_are_the_closures() {
        let dev = Device::Cpu;
        let x = Var::new(&[1f32, 2., 3.], &dev).unwrap();
        let a = Var::new(&[4f32], &dev).unwrap();
        let b = Var::new(&[5f32], &dev).unwrap();
        // y = 2x, written out; its backward says 2 * grad.
        let y = (x.as_tensor().detach() * 2.0).unwrap();
        let node = attach1(&x, y.clone(), |_: &[&Tensor], g: &Tensor| {
            Ok(vec![Some((g * 2.0)?)])
        })
        .unwrap();
        assert_eq!(node.to_vec1::<f32>().unwrap(), [2., 4., 6.]);
        let grads = node.sum_all().unwrap().backward().unwrap();
        assert_eq!(
            grads.get(&x).unwrap().to_vec1::<f32>().unwrap(),
            [2., 2., 2.]
        );
        // Three inputs; `None` leaves an input without a gradient.
        let node = attach3(&x, &a, &b, y, |_: &[&Tensor], g: &Tensor| {
            Ok(vec![Some(g.clone()), Some(g.sum_keepdim(0)?), None])
        })
        .unwrap();
        let grads = node.sum_all().unwrap().backward().unwrap();
        assert_eq!(
            grads.get(&x).unwrap().to_vec1::<f32>().unwrap(),
            [1., 1., 1.]
        );
        assert_eq!(grads.get(&a).unwrap().to_vec1::<f32>().unwrap(), [3.]);
        assert!(grads.get(&b).is_none());
    }

    #[test]
    fn gradients_built_from_the_inputs_record_no_graph() {
        // A backward pass that multiplies by its input, a variable (as a LoRA matrix's
        // gradient uses the layer input): the gradient, which candle stores as it is for a
        // variable, must not carry a graph back into the forward pass, or the optimizer
        // state built from it would keep every step's graph alive.
        let x = Var::new(&[1f32, 2., 3.], &Device::Cpu).unwrap();
        let y = x.as_tensor().detach().sqr().unwrap();
        let node = attach1(&x, y, |inputs: &[&Tensor], g: &Tensor| {
            Ok(vec![Some(((inputs[0] * 2.0)? * g)?)])
        })
        .unwrap();
        let grads = node.sum_all().unwrap().backward().unwrap();
        let gx = grads.get(&x).unwrap();
        assert_eq!(gx.to_vec1::<f32>().unwrap(), [2., 4., 6.]);
        assert!(!gx.track_op());
    }
}
