//! A linear layer that can carry a LoRA adapter, unmerged or merged.
//!
//! candle-transformers' models hold fixed `candle_nn::Linear`s; TokenSkip fine-tunes every
//! linear of the decoder with LoRA, so ours own their weight and an optional low-rank delta.

use super::attach;
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
        let y = matmul_t(x, &self.weight)?;
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        match &self.lora {
            Some(l) => y + (matmul_t(&matmul_t(x, &l.a)?, &l.b)? * l.scale)?,
            None => Ok(y),
        }
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
        let mut y = matmul_t(&xd, &w)?;
        if let Some(b) = &self.bias {
            y = y.broadcast_add(b)?;
        }
        let Some(l) = &self.lora else {
            let bwd = move |_: &[&Tensor], g: &Tensor| Ok(vec![Some(input_grad(g, &w)?)]);
            return attach::attach1(x, y, bwd).map(Some);
        };
        let (a, b, s) = (l.a.detach(), l.b.detach(), l.scale);
        let xa = matmul_t(&xd, &a)?;
        let y = (y + (matmul_t(&xa, &b)? * s)?)?;
        let bwd = move |inputs: &[&Tensor], g: &Tensor| {
            let x = inputs[0];
            let g2 = g.reshape((g.elem_count() / g.dim(D::Minus1)?, ()))?;
            let gb = (g2.matmul(&b)? * s)?; // [n, r]
            let dx = if x_tracked {
                let dx = (g2.matmul(&w)? + gb.matmul(&a)?)?;
                Some(dx.reshape(x.shape())?)
            } else {
                None
            };
            let x2 = x.reshape((x.elem_count() / x.dim(D::Minus1)?, ()))?;
            let xa2 = xa.reshape((xa.elem_count() / xa.dim(D::Minus1)?, ()))?;
            let da = gb.t()?.matmul(&x2)?;
            let db = (g2.t()?.matmul(&xa2)? * s)?;
            Ok(vec![dx, Some(da), Some(db)])
        };
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

/// `grad [.., out] @ w [out, in]`: the input gradient of `x w^T`.
fn input_grad(grad: &Tensor, w: &Tensor) -> Result<Tensor> {
    match grad.dims() {
        [b, t, o] => grad.reshape((b * t, *o))?.matmul(w)?.reshape((*b, *t, ())),
        _ => grad.broadcast_matmul(w),
    }
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
    use candle_core::Device;

    fn max_abs(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap()
    }

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
        let diff: f32 = (&unmerged - &merged)
            .unwrap()
            .abs()
            .unwrap()
            .max_keepdim(2)
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(diff < 1e-4, "{diff}");
        // and the adapter really changed the output
        let moved: f32 = (&unmerged - &base)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(moved > 1e-2);
    }
}
