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

    /// Folds the adapter into the weight (`W += scale * B A`) and drops it.
    pub fn merge(&mut self) -> Result<()> {
        if let Some(l) = self.lora.take() {
            let delta = (l.b.matmul(&l.a)? * l.scale)?.to_dtype(self.weight.dtype())?;
            self.weight = (&self.weight + delta)?;
        }
        Ok(())
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
