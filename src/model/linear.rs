//! A linear layer that can carry a LoRA adapter, unmerged or merged.
//!
//! candle-transformers' models hold fixed `candle_nn::Linear`s; TokenSkip fine-tunes every
//! linear of the decoder with LoRA, so ours own their weight and an optional low-rank delta.

use candle_core::{Result, Tensor};

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
        let y = frozen_matmul_t(x, &self.weight)?;
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        match &self.lora {
            Some(l) => y + (matmul_t(&matmul_t(x, &l.a)?, &l.b)? * l.scale)?,
            None => Ok(y),
        }
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

/// `x @ w^T`, where a frozen `w` (not a variable: LoRA training) costs no gradient.
///
/// candle's matmul backward computes the gradient of both operands, so when `x` carries
/// gradients a frozen weight would cost one more matmul per linear per step (the size of
/// the forward one) and a weight-sized buffer, only to be thrown away; PyTorch skips it.
/// Here the product is computed off the graph and one node carries it, whose backward is
/// `grad @ w` for `x` alone. Everywhere else (inference, trainable weights, other
/// devices) it is the plain product.
fn frozen_matmul_t(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    if !x.track_op() || w.is_variable() || !x.device().is_cpu() {
        return matmul_t(x, w);
    }
    let y = matmul_t(&x.detach(), w)?;
    x.apply_op1(FrozenLinear { y, w: w.clone() })
}

/// The graph node of [`frozen_matmul_t`]: its forward returns the product computed
/// beforehand, its backward passes `grad @ w` to the input.
struct FrozenLinear {
    y: Tensor,
    w: Tensor,
}

impl candle_core::CustomOp1 for FrozenLinear {
    fn name(&self) -> &'static str {
        "frozen-linear"
    }

    fn cpu_fwd(
        &self,
        _x: &candle_core::CpuStorage,
        _layout: &candle_core::Layout,
    ) -> Result<(candle_core::CpuStorage, candle_core::Shape)> {
        use candle_core::CpuStorage as C;
        let y = self.y.contiguous()?;
        let (storage, layout) = y.storage_and_layout();
        let (candle_core::Storage::Cpu(cpu), Some((a, b))) =
            (&*storage, layout.contiguous_offsets())
        else {
            candle_core::bail!("frozen linear: the product is not on the CPU");
        };
        let out = match cpu {
            C::F32(v) => C::F32(v[a..b].to_vec()),
            C::F16(v) => C::F16(v[a..b].to_vec()),
            C::BF16(v) => C::BF16(v[a..b].to_vec()),
            C::F64(v) => C::F64(v[a..b].to_vec()),
            _ => candle_core::bail!("frozen linear: unsupported dtype {:?}", y.dtype()),
        };
        Ok((out, y.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        // grad [.., out] @ w [out, in] -> [.., in]
        let g = match grad.dims() {
            [b, t, o] => grad
                .reshape((b * t, *o))?
                .matmul(&self.w)?
                .reshape(x.shape())?,
            _ => grad.broadcast_matmul(&self.w)?,
        };
        Ok(Some(g.to_dtype(x.dtype())?))
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

    #[test]
    fn a_frozen_weight_passes_the_input_gradient() {
        use candle_core::Var;
        let dev = Device::Cpu;
        let x = Var::randn(0f32, 1.0, (2, 3, 5), &dev).unwrap();
        let w = Tensor::randn(0f32, 1.0, (4, 5), &dev).unwrap();
        let up = Tensor::randn(0f32, 1.0, (2, 3, 4), &dev).unwrap();
        let loss = |y: Tensor| (y * &up).unwrap().sum_all().unwrap();
        let ours = frozen_matmul_t(&x, &w).unwrap();
        let plain = matmul_t(&x, &w).unwrap();
        let diff = (&ours - &plain).unwrap().abs().unwrap().max_all().unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-6);
        let g_ours = loss(ours).backward().unwrap();
        let g_plain = loss(plain).backward().unwrap();
        let gx = (g_ours.get(&x).unwrap() - g_plain.get(&x).unwrap()).unwrap();
        let gx = gx
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(gx < 1e-5, "input gradient differs by {gx}");
        assert!(g_ours.get(&w).is_none());
        // Inference (nothing tracked) is the plain product, with no graph node.
        let y = frozen_matmul_t(x.as_tensor().detach().as_ref(), &w).unwrap();
        assert!(!y.track_op());
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
