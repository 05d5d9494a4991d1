//! A linear layer that can carry a LoRA adapter, unmerged or merged.
//!
//! candle-transformers' models hold fixed `candle_nn::Linear`s; TokenSkip fine-tunes every
//! linear of the decoder with LoRA, so ours own their weight and an optional low-rank delta.

use super::attach;
use super::cpu;
use super::matmul::{self, Mat};
use candle_core::{Result, Tensor, D};

/// `y = x W^T + b (+ scale * x A^T B^T)`.
#[derive(Debug, Clone)]
pub struct Linear {
    /// `[out, in]`, as stored by PyTorch.
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub lora: Option<Lora>,
}

/// A low-rank update `scale * B A` of a `[out, in]` weight.
#[derive(Debug, Clone)]
pub struct Lora {
    /// `[r, in]`.
    pub a: Tensor,
    /// `[out, r]`.
    pub b: Tensor,
    /// `alpha / r` (or `alpha / sqrt(r)` with rsLoRA).
    pub scale: f64,
}

impl Linear {
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        Linear {
            weight,
            bias,
            lora: None,
        }
    }

    pub fn in_features(&self) -> usize {
        self.weight.dims().get(1).copied().unwrap_or(0)
    }

    pub fn out_features(&self) -> usize {
        self.weight.dims().first().copied().unwrap_or(0)
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if let Some(y) = self.forward_frozen(x)? {
            return Ok(y);
        }
        let xa = match &self.lora {
            Some(l) => Some(matmul_t(x, &l.a)?),
            None => None,
        };
        let lora = xa.as_ref().zip(self.lora.as_ref());
        Parts {
            x,
            w: &self.weight,
            bias: self.bias.as_ref(),
            lora: lora.map(|(xa, l)| (xa, &l.b, l.scale)),
        }
        .product()
    }

    /// Training with a frozen weight (LoRA) on the CPU: the layer is one graph node
    /// ([`attach`]) whose backward pass gives exactly the gradients needed.
    ///
    /// As ops, candle's matmul backward computes the gradient of both operands, so a frozen
    /// weight would cost a forward-sized matmul per linear per step and a weight-sized
    /// buffer, only to be thrown away (PyTorch skips it); and the adapter's five ops each
    /// keep a node and a gradient buffer. Here, with `g` the output gradient flattened to
    /// `[n, out]` and `s` the scale: `dx = g W + s (g B) A` (skipped when `x` carries no
    /// gradient, as for the first layer's input), `dA = s (g B)^T x`, `dB = s g^T (x A^T)`.
    /// `None` where this does not apply (inference, a trainable weight or bias, other
    /// devices): the plain ops then.
    fn forward_frozen(&self, x: &Tensor) -> Result<Option<Tensor>> {
        let adapter_tracked = self
            .lora
            .as_ref()
            .is_some_and(|l| l.a.track_op() || l.b.track_op());
        let x_tracked = x.track_op();
        if !(x_tracked || adapter_tracked)
            || self.weight.track_op()
            || self.bias.as_ref().is_some_and(|b| b.track_op())
            || !x.device().is_cpu()
        {
            return Ok(None);
        }
        let (xd, w) = (x.detach(), self.weight.clone());
        let lora = self
            .lora
            .as_ref()
            .map(|l| (l.a.detach(), l.b.detach(), l.scale));
        let xa = match &lora {
            Some((a, _, _)) => Some(matmul_t(&xd, a)?),
            None => None,
        };
        let parts = Parts {
            x: &xd,
            w: &w,
            bias: self.bias.as_ref(),
            lora: xa
                .as_ref()
                .zip(lora.as_ref())
                .map(|(xa, (_, b, s))| (xa, b, *s)),
        };
        let y: attach::Value = match parts.product_f32()? {
            Some(y) => y,
            None => parts.product()?.into(),
        };
        let Some((a, b, s)) = lora else {
            let bwd = move |_: &[&Tensor], g: &Tensor| Ok(vec![Some(input_grad(g, &w, None)?)]);
            return attach::attach1(x, y, bwd).map(Some);
        };
        let xa = xa.expect("computed with the adapter");
        let bwd = move |inputs: &[&Tensor], g: &Tensor| {
            let x = inputs[0];
            let g2 = g.reshape((g.elem_count() / g.dim(D::Minus1)?, ()))?;
            let gb = (g2.matmul(&b)? * s)?; // [n, r]
            let dx = if x_tracked {
                Some(input_grad(g, &w, Some((&gb, &a)))?)
            } else {
                None
            };
            let x2 = x.reshape((x.elem_count() / x.dim(D::Minus1)?, ()))?;
            let xa2 = xa.reshape((xa.elem_count() / xa.dim(D::Minus1)?, ()))?;
            let da = gb.t()?.matmul(&x2)?;
            let db = (g2.t()?.matmul(&xa2)? * s)?;
            Ok(vec![dx, Some(da), Some(db)])
        };
        let l = self.lora.as_ref().expect("`lora` is the adapter's");
        attach::attach3(x, &l.a, &l.b, y, bwd).map(Some)
    }

    /// Folds the adapter into the weight (`W += scale * B A`) and drops it.
    pub fn merge(&mut self) -> Result<()> {
        if let Some(l) = self.lora.take() {
            let delta = (l.b.matmul(&l.a)? * l.scale)?.to_dtype(self.weight.dtype())?;
            self.weight = (&self.weight + delta)?;
        }
        Ok(())
    }
}

/// The terms of a linear layer's output, on detached tensors: `x W^T (+ bias) (+ s xa B^T)`
/// with `xa = x A^T`.
struct Parts<'a> {
    x: &'a Tensor,
    w: &'a Tensor,
    bias: Option<&'a Tensor>,
    lora: Option<(&'a Tensor, &'a Tensor, f64)>,
}

impl Parts<'_> {
    /// As tensor ops.
    fn product(&self) -> Result<Tensor> {
        let mut y = matmul_t(self.x, self.w)?;
        if let Some(b) = self.bias {
            y = y.broadcast_add(b)?;
        }
        if let Some((xa, b, s)) = self.lora {
            y = (y + (matmul_t(xa, b)? * s)?)?;
        }
        Ok(y)
    }

    /// Into one f32 buffer on the CPU (see [`sum_of_products`]); `None` when a part is
    /// not f32 on the CPU.
    fn product_f32(&self) -> Result<Option<attach::Value>> {
        let out = self.w.dim(0)?;
        let mut terms = vec![(self.x, self.w, 1.0)];
        if let Some((xa, b, s)) = self.lora {
            terms.push((xa, b, s as f32));
        }
        let shape = with_last(self.x.dims(), out);
        let y = sum_of_products(out, self.bias, &terms, true)?;
        Ok(y.map(|y| attach::Value::F32(y, shape.into())))
    }
}

/// `dims` with the last one replaced by `last`.
fn with_last(dims: &[usize], last: usize) -> Vec<usize> {
    let keep = dims.len().saturating_sub(1);
    dims[..keep].iter().copied().chain([last]).collect()
}

/// `bias (each row, or 0) + sum of scale * lhs [rows, k] @ rhs` as one f32 `[rows, n]`
/// buffer on the CPU: the bias is written first and each product accumulates onto it
/// (`model::matmul`), so no temporary or extra pass. `rhs` is `[k, n]`, or stored as
/// `[n, k]` with `rhs_transposed` (a PyTorch weight). `None` when an operand is not f32 on
/// the CPU.
fn sum_of_products(
    n: usize,
    bias: Option<&Tensor>,
    terms: &[(&Tensor, &Tensor, f32)],
    rhs_transposed: bool,
) -> Result<Option<Vec<f32>>> {
    let Some(&(first, _, _)) = terms.first() else {
        candle_core::bail!("sum of products: no terms");
    };
    let rows = first.elem_count() / first.dim(D::Minus1)?.max(1);
    let mut y = vec![0f32; rows * n];
    if let Some(b) = bias {
        if b.dtype() != candle_core::DType::F32 || !b.device().is_cpu() {
            return Ok(None);
        }
        let b = b.to_vec1::<f32>()?;
        y.chunks_exact_mut(n).for_each(|r| r.copy_from_slice(&b));
    }
    let threads = candle_core::utils::get_num_threads();
    for (i, &(lhs, rhs, scale)) in terms.iter().enumerate() {
        let k = lhs.dim(D::Minus1)?;
        let accumulate = bias.is_some() || i > 0;
        let done = cpu::with_f32([lhs, rhs], |[l, r]| {
            let r = if rhs_transposed {
                Mat::t(r, k)
            } else {
                Mat::rows(r, n)
            };
            matmul::gemm(
                &mut y,
                n,
                accumulate,
                (rows, n, k),
                Mat::rows(l, k),
                r,
                scale,
                threads,
            );
        })?;
        if done.is_none() {
            return Ok(None);
        }
    }
    Ok(Some(y))
}

/// The input gradient of `x W^T (+ s x A^T B^T)`: `grad [.., out] @ W [out, in]`, plus
/// `gb @ A` where `gb = s grad B` is given; one f32 buffer on the CPU.
fn input_grad(grad: &Tensor, w: &Tensor, lora: Option<(&Tensor, &Tensor)>) -> Result<Tensor> {
    let inp = w.dim(1)?;
    let shape = with_last(grad.dims(), inp);
    let mut terms = vec![(grad, w, 1.0)];
    if let Some((gb, a)) = lora {
        terms.push((gb, a, 1.0));
    }
    if let Some(dx) = sum_of_products(inp, None, &terms, false)? {
        return Tensor::from_vec(dx, shape, grad.device());
    }
    let mut dx = grad.broadcast_matmul(w)?;
    if let Some((gb, a)) = lora {
        let delta = gb.matmul(a)?.reshape(dx.shape())?;
        dx = (dx + delta)?;
    }
    Ok(dx)
}

/// `x [.., in] @ w[out, in]^T` without materialising the transpose for 2-D inputs.
fn matmul_t(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    match x.dims() {
        [b, t, i] => x
            .reshape((b * t, *i))?
            .matmul(&w.t()?)?
            .reshape((*b, *t, ())),
        _ => x.broadcast_matmul(&w.t()?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cpu::max_abs;
    use candle_core::Device;

    #[test]
    fn a_frozen_layer_is_one_node_with_the_composed_gradients() {
        use candle_core::Var;
        let dev = Device::Cpu;
        let rand = |shape: &[usize]| Tensor::randn(0f32, 1.0, shape, &dev).unwrap();
        let x = Var::from_tensor(&rand(&[2, 3, 5])).unwrap();
        let (w, bias) = (rand(&[4, 5]), rand(&[4]));
        let (a, b) = (
            Var::from_tensor(&rand(&[2, 5])).unwrap(),
            Var::from_tensor(&rand(&[4, 2])).unwrap(),
        );
        let up = rand(&[2, 3, 4]);
        let loss = |y: &Tensor| (y * &up).unwrap().sum_all().unwrap();
        for with_lora in [false, true] {
            let mut lin = Linear::new(w.clone(), Some(bias.clone()));
            if with_lora {
                lin.lora = Some(Lora {
                    a: a.as_tensor().clone(),
                    b: b.as_tensor().clone(),
                    scale: 1.5,
                });
            }
            let ours = lin.forward(&x).unwrap();
            let mut plain = matmul_t(&x, &w).unwrap().broadcast_add(&bias).unwrap();
            if with_lora {
                let delta = matmul_t(&matmul_t(&x, &a).unwrap(), &b).unwrap();
                plain = (plain + (delta * 1.5).unwrap()).unwrap();
            }
            assert!(max_abs(&ours, &plain) < 1e-5);
            let (g_ours, g_plain) = (
                loss(&ours).backward().unwrap(),
                loss(&plain).backward().unwrap(),
            );
            let vars: &[&Var] = if with_lora { &[&x, &a, &b] } else { &[&x] };
            for v in vars {
                let d = max_abs(g_ours.get(v).unwrap(), g_plain.get(v).unwrap());
                assert!(d < 1e-5, "lora {with_lora}: gradient differs by {d}");
            }
            // No gradient for the frozen weight, and nothing but one node over x (and A, B).
            assert!(g_ours.get(&w).is_none());
            assert!(ours.track_op());
        }
        // Inference (nothing tracked) is the plain product, with no graph node.
        let lin = Linear::new(w, None);
        assert!(!lin.forward(&x.as_tensor().detach()).unwrap().track_op());
    }

    #[test]
    fn merged_equals_unmerged() {
        let dev = Device::Cpu;
        let w = Tensor::randn(0f32, 1.0, (6, 4), &dev).unwrap();
        let bias = Tensor::randn(0f32, 1.0, 6, &dev).unwrap();
        let mut lin = Linear::new(w, Some(bias));
        lin.lora = Some(Lora {
            a: Tensor::randn(0f32, 1.0, (2, 4), &dev).unwrap(),
            b: Tensor::randn(0f32, 1.0, (6, 2), &dev).unwrap(),
            scale: 2.0,
        });
        let x = Tensor::randn(0f32, 1.0, (3, 5, 4), &dev).unwrap();
        let unmerged = lin.forward(&x).unwrap();
        let base = Linear::new(lin.weight.clone(), lin.bias.clone())
            .forward(&x)
            .unwrap();
        lin.merge().unwrap();
        assert!(lin.lora.is_none());
        let merged = lin.forward(&x).unwrap();
        let diff = max_abs(&unmerged, &merged);
        assert!(diff < 1e-4, "{diff}");
        // and the adapter really changed the output
        let moved = max_abs(&unmerged, &base);
        assert!(moved > 1e-2);
    }
}
