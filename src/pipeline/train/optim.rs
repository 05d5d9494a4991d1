//! AdamW with global-norm gradient clipping, written out (rather than candle_nn's) so that
//! its state can be checkpointed and a resumed run continues bit for bit. The update is
//! PyTorch's `torch.optim.AdamW` (foreach=False) step for step, for parity with peft runs.

use candle_core::{Result, Tensor, Var};

/// AdamW hyper-parameters (PyTorch defaults).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// First and second moments for each parameter, and the step count.
pub struct AdamW {
    pub cfg: AdamWConfig,
    pub step: u64,
    pub m: Vec<Tensor>,
    pub v: Vec<Tensor>,
}

impl AdamW {
    pub fn new(cfg: AdamWConfig, params: &[Var]) -> Result<Self> {
        let zeros = |p: &Var| p.as_tensor().zeros_like();
        Ok(AdamW {
            cfg,
            step: 0,
            m: params.iter().map(zeros).collect::<Result<_>>()?,
            v: params.iter().map(zeros).collect::<Result<_>>()?,
        })
    }

    /// One update of every parameter with its gradient at learning rate `lr`.
    pub fn step(&mut self, params: &[Var], grads: &[Tensor], lr: f64) -> Result<()> {
        self.step += 1;
        let c = self.cfg;
        let t = self.step as i32;
        let bias1 = 1.0 - c.beta1.powi(t);
        let bias2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
        let step_size = lr / bias1;
        for (i, (p, g)) in params.iter().zip(grads).enumerate() {
            let theta = if c.weight_decay != 0.0 {
                (p.as_tensor() * (1.0 - lr * c.weight_decay))?
            } else {
                p.as_tensor().clone()
            };
            // exp_avg.lerp_(grad, 1 - beta1) == m + (1 - beta1) (g - m)
            let m = (&self.m[i] + ((g - &self.m[i])? * (1.0 - c.beta1))?)?;
            let v = ((&self.v[i] * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
            let denom = ((v.sqrt()? / bias2_sqrt)? + c.eps)?;
            let next = (theta - ((&m / denom)? * step_size)?)?;
            p.set(&next)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(())
    }
}

/// Scales `grads` in place so their global L2 norm is at most `max_norm` (PyTorch's
/// `clip_grad_norm_`, including its 1e-6 epsilon). Returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut [Tensor], max_norm: f64) -> Result<f64> {
    let mut total = 0f64;
    for g in grads.iter() {
        total += g
            .sqr()?
            .sum_all()?
            .to_dtype(candle_core::DType::F64)?
            .to_scalar::<f64>()?;
    }
    let norm = total.sqrt();
    if max_norm > 0.0 {
        let coef = max_norm / (norm + 1e-6);
        if coef < 1.0 {
            for g in grads.iter_mut() {
                *g = (&*g * coef)?;
            }
        }
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn first_step_moves_each_weight_by_about_lr() {
        // With bias correction, Adam's first step is lr * sign(g) (up to eps).
        let p = Var::new(&[1.0f32, -2.0, 3.0], &Device::Cpu).unwrap();
        let mut opt = AdamW::new(AdamWConfig::default(), &[p.clone()]).unwrap();
        let g = Tensor::new(&[0.5f32, -0.1, 0.0], &Device::Cpu).unwrap();
        opt.step(&[p.clone()], &[g], 0.1).unwrap();
        let got = p.as_tensor().to_vec1::<f32>().unwrap();
        assert!(
            (got[0] - 0.9).abs() < 1e-5
                && (got[1] + 1.9).abs() < 1e-5
                && (got[2] - 3.0).abs() < 1e-6,
            "{got:?}"
        );
    }

    #[test]
    fn clipping_bounds_the_global_norm() {
        let mut g = vec![Tensor::new(&[3.0f32, 4.0], &Device::Cpu).unwrap()];
        let n = clip_grad_norm(&mut g, 1.0).unwrap();
        assert!((n - 5.0).abs() < 1e-9);
        let v = g[0].to_vec1::<f32>().unwrap();
        assert!(((v[0] * v[0] + v[1] * v[1]).sqrt() - 1.0).abs() < 1e-5);
    }
}
