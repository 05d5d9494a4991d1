//! Token cross-entropy with a fused backward pass, for training.
//!
//! As tensor ops, `-log_softmax(logits)[target]` is a max, a subtraction, an `exp`, a sum, a
//! `log`, another subtraction and a gather, each writing a `[rows, vocab]` buffer in the
//! forward pass and again in the backward pass (the gather's backward scatters into a
//! zeroed one). For a micro-batch of 1,000 labelled tokens and an 8k vocabulary every such
//! buffer is 33 MB. Here the forward pass is one read of the logits per row (its
//! log-sum-exp, kept for the backward pass) and the backward pass writes the gradient
//! `g * (softmax - onehot)` once.

use super::vmath;
use candle_core::{CpuStorage, DType, Layout, Result, Shape, Tensor, D};
use std::sync::Mutex;

/// `-log softmax(logits[r])[targets[r]]` for each row of `logits: [rows, vocab]`, as a
/// `[rows]` f32 tensor that backpropagates into `logits`. On the CPU in f32 it is the fused
/// op; elsewhere the tensor-op composition.
pub fn token_cross_entropy(logits: &Tensor, targets: &[u32]) -> Result<Tensor> {
    let (rows, vocab) = logits.dims2()?;
    if rows != targets.len() {
        candle_core::bail!(
            "cross-entropy: {rows} rows of logits for {} targets",
            targets.len()
        );
    }
    if let Some(&t) = targets.iter().find(|&&t| t as usize >= vocab) {
        candle_core::bail!("cross-entropy: target id {t} is outside the vocabulary of {vocab}");
    }
    let logits = logits.to_dtype(DType::F32)?;
    if !logits.device().is_cpu() {
        let logp = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
        let idx = Tensor::new(targets, logits.device())?.unsqueeze(1)?;
        return logp.gather(&idx, 1)?.squeeze(1)?.neg();
    }
    let op = CrossEntropy {
        targets: targets.to_vec(),
        lse: Mutex::new(Vec::new()),
    };
    logits.contiguous()?.apply_op1(op)
}

struct CrossEntropy {
    targets: Vec<u32>,
    /// Each row's log-sum-exp, from the forward pass.
    lse: Mutex<Vec<f32>>,
}

fn rows_of<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [f32]> {
    super::cpu::f32_data(s, l, "cross-entropy")
}

impl candle_core::CustomOp1 for CrossEntropy {
    fn name(&self) -> &'static str {
        "token-cross-entropy"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        use rayon::prelude::*;
        let (rows, vocab) = l.shape().dims2()?;
        let data = rows_of(s, l)?;
        let lse: Vec<f32> = data.par_chunks(vocab).map(vmath::log_sum_exp).collect();
        let nll = lse
            .iter()
            .zip(data.chunks(vocab))
            .zip(&self.targets)
            .map(|((&z, row), &t)| z - row[t as usize])
            .collect();
        *self.lse.lock().expect("cross-entropy state") = lse;
        Ok((CpuStorage::F32(nll), Shape::from(rows)))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        use rayon::prelude::*;
        let (rows, vocab) = arg.dims2()?;
        let grad = grad.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        let lse = self.lse.lock().expect("cross-entropy state");
        if lse.len() != rows || grad.len() != rows {
            candle_core::bail!("cross-entropy: backward without its forward pass");
        }
        let (storage, layout) = arg.storage_and_layout();
        let candle_core::Storage::Cpu(s) = &*storage else {
            candle_core::bail!("cross-entropy: CPU logits only");
        };
        let data = rows_of(s, layout)?;
        let mut out = vec![0f32; rows * vocab];
        out.par_chunks_mut(vocab)
            .zip(data.par_chunks(vocab))
            .enumerate()
            .for_each(|(r, (dst, src))| {
                vmath::exp_shift_scale(src, dst, lse[r], grad[r]);
                dst[self.targets[r] as usize] -= grad[r];
            });
        Tensor::from_vec(out, (rows, vocab), arg.device()).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cpu::max_abs;
    use candle_core::{Device, Var};

    #[test]
    fn loss_and_gradient_match_log_softmax_and_gather() {
        let dev = Device::Cpu;
        let x =
            Var::from_tensor(&(Tensor::randn(0f32, 1.0, (7, 50), &dev).unwrap() * 5.0).unwrap())
                .unwrap();
        let targets: Vec<u32> = (0..7).map(|r| r * 7 % 50).collect();
        let w = Tensor::randn(0f32, 1.0, 7, &dev).unwrap();
        let run = |nll: Tensor| {
            let g = (&nll * &w).unwrap().sum_all().unwrap().backward().unwrap();
            (nll, g.get(&x).unwrap().clone())
        };
        let (got, got_grad) = run(token_cross_entropy(&x, &targets).unwrap());
        let logp = candle_nn::ops::log_softmax(&x, D::Minus1).unwrap();
        let idx = Tensor::new(targets.as_slice(), &dev)
            .unwrap()
            .unsqueeze(1)
            .unwrap();
        let want = logp
            .gather(&idx, 1)
            .unwrap()
            .squeeze(1)
            .unwrap()
            .neg()
            .unwrap();
        let (want, want_grad) = run(want);
        assert!(max_abs(&got, &want) < 1e-5);
        assert!(max_abs(&got_grad, &want_grad) < 1e-6);
    }

    #[test]
    fn mismatched_targets_are_refused() {
        let x = Tensor::zeros((2, 3), DType::F32, &Device::Cpu).unwrap();
        assert!(token_cross_entropy(&x, &[0]).is_err());
        let err = token_cross_entropy(&x, &[0, 3]).unwrap_err().to_string();
        assert!(err.contains("outside the vocabulary"), "{err}");
    }
}
