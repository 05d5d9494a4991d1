//! The few numeric kernels whose fused versions have no backward pass.
//!
//! candle's fused `rms_norm`, `softmax_last_dim` and `rope` are fast but record no gradient:
//! a trainer built on them silently stops learning at the first norm. Every call site in the
//! decoder goes through [`Kernels`], so inference uses the fused ops and training switches the
//! whole model to differentiable versions with one field: on the CPU, one graph node each
//! with a written-out backward pass ([`super::attach`]), elsewhere compositions of basic ops.
//! The causal softmax ([`causal_softmax_cpu`]) and SiLU product ([`Kernels::silu_mul`]) are
//! one CPU op with its own backward pass serving both.

use candle_core::{DType, Result, Tensor, D};

/// Which implementation of the fused ops a model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernels {
    /// candle's fused kernels: fastest, no gradients.
    #[default]
    Fused,
    /// Compositions of basic ops that backpropagate.
    Differentiable,
}

/// Causal softmax over the last dimension of f32 `scores: [.., t, total]` on the CPU: row `i`
/// (query position `past + i`) is softmaxed over keys `0..=past + i` and the rest is 0, as
/// adding the causal mask and softmaxing would give, in one pass per row, without the mask
/// tensor and without exponentiating the masked half. With `grad` the result records a
/// backward pass (`y * (g - sum(g * y))`, which is 0 where y is), so training uses it too:
/// one op instead of a mask add and five softmax ops, each with its own backward.
/// `None` when the scores are not f32 on the CPU (the caller then adds the mask and uses
/// `softmax_last_dim`).
pub fn causal_softmax_cpu(scores: &Tensor, past: usize, grad: bool) -> Result<Option<Tensor>> {
    if !scores.device().is_cpu() || scores.dtype() != DType::F32 {
        return Ok(None);
    }
    let dims = scores.dims();
    if !matches!(dims, [.., t, total] if past + t == *total) {
        candle_core::bail!("causal softmax: scores {dims:?} do not end in [t, {past} + t]");
    }
    let scores = scores.contiguous()?;
    let op = CausalSoftmax { past };
    if grad {
        scores.apply_op1(op).map(Some)
    } else {
        scores.apply_op1_no_bwd(&op).map(Some)
    }
}

/// See [`causal_softmax_cpu`].
struct CausalSoftmax {
    past: usize,
}

impl candle_core::CustomOp1 for CausalSoftmax {
    fn name(&self) -> &'static str {
        "causal-softmax"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> Result<(candle_core::CpuStorage, candle_core::Shape)> {
        use rayon::prelude::*;
        let data = super::cpu::f32_data(storage, layout, "causal softmax")?;
        let dims = layout.dims();
        let (t, total) = (dims[dims.len() - 2], dims[dims.len() - 1]);
        let mut out = vec![0f32; data.len()];
        out.par_chunks_mut(total)
            .zip(data.par_chunks(total))
            .enumerate()
            .for_each(|(r, (dst, src))| {
                let keep = self.past + r % t + 1;
                let dst = &mut dst[..keep];
                dst.copy_from_slice(&src[..keep]);
                super::vmath::softmax(dst);
            });
        Ok((candle_core::CpuStorage::F32(out), layout.shape().clone()))
    }

    fn bwd(&self, _arg: &Tensor, res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let dot = (grad * res)?.sum_keepdim(D::Minus1)?;
        Ok(Some((res * grad.broadcast_sub(&dot)?)?))
    }
}

impl Kernels {
    /// RMSNorm over the last dimension, computed in f32 as the reference does.
    pub fn rms_norm(self, x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
        match self {
            Kernels::Fused => candle_nn::ops::rms_norm(&x.contiguous()?, weight, eps as f32),
            Kernels::Differentiable
                if x.device().is_cpu() && x.dtype() == DType::F32 && !weight.track_op() =>
            {
                rms_norm_node(x, weight, eps)
            }
            Kernels::Differentiable => rms_norm_ops(x, weight, eps),
        }
    }

    /// Softmax over the last dimension.
    pub fn softmax_last_dim(self, x: &Tensor) -> Result<Tensor> {
        match self {
            Kernels::Fused => candle_nn::ops::softmax_last_dim(x),
            Kernels::Differentiable => {
                let max = x.max_keepdim(D::Minus1)?.detach();
                let e = x.broadcast_sub(&max)?.exp()?;
                e.broadcast_div(&e.sum_keepdim(D::Minus1)?)
            }
        }
    }

    /// Rotary embedding (half-rotation layout, as in HF Qwen2/LLaMA) of `x: [b, h, t, d]`
    /// with `cos`/`sin` of shape `[t, d/2]` or `[b, t, d/2]`.
    pub fn rope(self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        match self {
            Kernels::Fused => candle_nn::rotary_emb::rope(&x.contiguous()?, cos, sin),
            Kernels::Differentiable if x.device().is_cpu() => rope_node(x, cos, sin),
            Kernels::Differentiable => rope_ops(x, cos, sin),
        }
    }

    /// `silu(gate) * up`, the gated product of the SwiGLU MLP. On the CPU in f32 it is one
    /// vectorised pass ([`super::vmath::silu_mul`]) with its own backward pass, instead of
    /// a SiLU and a product (two buffers, two backward nodes); elsewhere candle's `silu`,
    /// which backpropagates, times `up`. Both kernels take it: the gradient test below
    /// checks it against the composition.
    pub fn silu_mul(self, gate: &Tensor, up: &Tensor) -> Result<Tensor> {
        let fused = gate.device().is_cpu()
            && gate.dtype() == DType::F32
            && up.dtype() == DType::F32
            && gate.dims() == up.dims();
        if !fused {
            return gate.silu()? * up;
        }
        let (gate, up) = (gate.contiguous()?, up.contiguous()?);
        match self {
            Kernels::Fused => gate.apply_op2_no_bwd(&up, &SiluMul),
            Kernels::Differentiable => gate.apply_op2(&up, SiluMul),
        }
    }
}

/// RMSNorm of f32 `x` on the CPU with a frozen weight as one graph node
/// ([`super::attach`]): the fused forward pass, and one vectorised backward pass with `r = 1/rms(x)` per row, `dx = r (g w) - x r^3 mean(g w x)`.
fn rms_norm_node(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    let y = candle_nn::ops::rms_norm(&x.detach().contiguous()?, weight, eps as f32)?;
    let w = weight.to_dtype(DType::F32)?;
    let bwd = move |inputs: &[&Tensor], g: &Tensor| {
        use rayon::prelude::*;
        let d = w.elem_count();
        let fused = super::cpu::with_f32([inputs[0], &w, g], |[x, w, g]| {
            let mut dx = vec![0f32; x.len()];
            dx.par_chunks_mut(d)
                .zip(x.par_chunks(d).zip(g.par_chunks(d)))
                .for_each(|(dx, (x, g))| super::vmath::rms_norm_grad(x, w, g, eps as f32, dx));
            dx
        })?;
        let Some(dx) = fused else {
            candle_core::bail!("rms norm: f32 CPU tensors only");
        };
        Ok(vec![Some(Tensor::from_vec(
            dx,
            inputs[0].shape(),
            g.device(),
        )?)])
    };
    super::attach::attach1(x, y, bwd)
}

/// RMSNorm as basic ops, each recording its backward pass (a trainable weight, other
/// dtypes and devices).
fn rms_norm_ops(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    let dtype = x.dtype();
    let x = x.to_dtype(DType::F32)?;
    let mean_sq = x.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = x.broadcast_div(&(mean_sq + eps)?.sqrt()?)?;
    normed.to_dtype(dtype)?.broadcast_mul(weight)
}

/// RoPE as one graph node: the fused forward pass; the backward pass is the rotation's
/// transpose, the rotation by the negated angle.
fn rope_node(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let y = candle_nn::rotary_emb::rope(&x.detach().contiguous()?, cos, sin)?;
    let (cos, neg_sin) = (cos.clone(), sin.neg()?);
    let bwd = move |_: &[&Tensor], g: &Tensor| {
        let dx = candle_nn::rotary_emb::rope(&g.contiguous()?, &cos, &neg_sin)?;
        Ok(vec![Some(dx)])
    };
    super::attach::attach1(x, y, bwd)
}

/// RoPE as basic ops, each recording its backward pass (other devices).
fn rope_ops(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let cos = Tensor::cat(&[cos, cos], D::Minus1)?;
    let sin = Tensor::cat(&[sin, sin], D::Minus1)?;
    // [t, d] -> [1, 1, t, d]; [b, t, d] -> [b, 1, t, d].
    let (cos, sin) = if cos.rank() == 2 {
        (
            cos.unsqueeze(0)?.unsqueeze(0)?,
            sin.unsqueeze(0)?.unsqueeze(0)?,
        )
    } else {
        (cos.unsqueeze(1)?, sin.unsqueeze(1)?)
    };
    let half = x.dim(D::Minus1)? / 2;
    let x1 = x.narrow(D::Minus1, 0, half)?;
    let x2 = x.narrow(D::Minus1, half, half)?;
    let rotated = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
    x.broadcast_mul(&cos)? + rotated.broadcast_mul(&sin)?
}

/// See [`Kernels::silu_mul`].
struct SiluMul;

impl candle_core::CustomOp2 for SiluMul {
    fn name(&self) -> &'static str {
        "silu-mul"
    }

    fn cpu_fwd(
        &self,
        gs: &candle_core::CpuStorage,
        gl: &candle_core::Layout,
        us: &candle_core::CpuStorage,
        ul: &candle_core::Layout,
    ) -> Result<(candle_core::CpuStorage, candle_core::Shape)> {
        use rayon::prelude::*;
        let g = super::cpu::f32_data(gs, gl, "silu-mul")?;
        let u = super::cpu::f32_data(us, ul, "silu-mul")?;
        let mut out = vec![0f32; g.len()];
        const CHUNK: usize = 1 << 14;
        out.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK).zip(u.par_chunks(CHUNK)))
            .for_each(|(d, (g, u))| super::vmath::silu_mul(g, u, d));
        Ok((candle_core::CpuStorage::F32(out), gl.shape().clone()))
    }

    fn bwd(
        &self,
        gate: &Tensor,
        up: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        // d/dgate = grad up sig (1 + gate (1 - sig)), d/dup = grad gate sig: one pass.
        use rayon::prelude::*;
        const CHUNK: usize = 1 << 14;
        let grads = super::cpu::with_f32([gate, up, grad], |[g, u, o]| {
            let (mut dg, mut du) = (vec![0f32; g.len()], vec![0f32; g.len()]);
            dg.par_chunks_mut(CHUNK)
                .zip(du.par_chunks_mut(CHUNK))
                .zip(
                    g.par_chunks(CHUNK)
                        .zip(u.par_chunks(CHUNK))
                        .zip(o.par_chunks(CHUNK)),
                )
                .for_each(|((dg, du), ((g, u), o))| super::vmath::silu_mul_grad(g, u, o, dg, du));
            (dg, du)
        })?;
        let Some((dg, du)) = grads else {
            candle_core::bail!("silu-mul: f32 CPU tensors only");
        };
        let dev = gate.device();
        Ok((
            Some(Tensor::from_vec(dg, gate.shape(), dev)?),
            Some(Tensor::from_vec(du, up.shape(), dev)?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cpu::max_abs;
    use candle_core::{Device, Var};

    fn rand(shape: &[usize]) -> Tensor {
        Tensor::randn(0f32, 1.0, shape, &Device::Cpu).unwrap()
    }

    /// The causal mask as the decoder adds it.
    fn causal_mask(t: usize, past: usize) -> Tensor {
        let total = past + t;
        let mask: Vec<f32> = (0..t)
            .flat_map(|i| (0..total).map(move |j| if j <= past + i { 0.0 } else { -1e30 }))
            .collect();
        Tensor::from_vec(mask, (1, 1, t, total), &Device::Cpu).unwrap()
    }

    #[test]
    fn causal_softmax_gradient_matches_the_composition() {
        let (t, past) = (4, 2);
        let x = Var::from_tensor(&(rand(&[2, 3, t, past + t]) * 4.0).unwrap()).unwrap();
        let w = rand(&[2, 3, t, past + t]);
        let grad_of = |y: Tensor| {
            let g = (y * &w).unwrap().sum_all().unwrap().backward().unwrap();
            g.get(&x).expect("a gradient").clone()
        };
        let fused = grad_of(causal_softmax_cpu(&x, past, true).unwrap().unwrap());
        let masked = x.broadcast_add(&causal_mask(t, past)).unwrap();
        let composed = grad_of(Kernels::Differentiable.softmax_last_dim(&masked).unwrap());
        let diff = (fused - composed)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-6);
        // Without `grad` the op records nothing.
        let y = causal_softmax_cpu(&x, past, false).unwrap().unwrap();
        let g = (y * &w).unwrap().sum_all().unwrap().backward().unwrap();
        assert!(g.get(&x).is_none());
    }

    #[test]
    fn causal_softmax_matches_mask_then_softmax() {
        for (t, past) in [(5, 0), (3, 4), (1, 6)] {
            let total = past + t;
            let scores = (rand(&[2, 3, t, total]) * 8.0).unwrap();
            let mask = causal_mask(t, past);
            let want =
                candle_nn::ops::softmax_last_dim(&scores.broadcast_add(&mask).unwrap()).unwrap();
            let got = causal_softmax_cpu(&scores, past, false).unwrap().unwrap();
            assert_eq!(got.dims(), want.dims());
            let diff = (got - want).unwrap().abs().unwrap().max_all().unwrap();
            assert!(diff.to_scalar::<f32>().unwrap() < 1e-6, "t {t} past {past}");
        }
        // Not f32: the caller's path.
        let half = rand(&[1, 1, 2, 2]).to_dtype(DType::F16).unwrap();
        assert!(causal_softmax_cpu(&half, 0, false).unwrap().is_none());
        assert!(causal_softmax_cpu(&rand(&[1, 1, 2, 3]), 0, false).is_err());
    }

    #[test]
    fn fused_and_differentiable_agree() {
        let x = rand(&[2, 3, 5, 8]);
        let w = rand(&[8]);
        let (cos, sin) = (rand(&[5, 4]), rand(&[5, 4]));
        let (f, d) = (Kernels::Fused, Kernels::Differentiable);
        assert!(
            max_abs(
                &f.rms_norm(&x, &w, 1e-6).unwrap(),
                &d.rms_norm(&x, &w, 1e-6).unwrap()
            ) < 1e-5
        );
        assert!(
            max_abs(
                &f.softmax_last_dim(&x).unwrap(),
                &d.softmax_last_dim(&x).unwrap()
            ) < 1e-6
        );
        assert!(
            max_abs(
                &f.rope(&x, &cos, &sin).unwrap(),
                &d.rope(&x, &cos, &sin).unwrap()
            ) < 1e-5
        );
        // Per-row positions: cos/sin with a batch dimension.
        let (cos3, sin3) = (rand(&[2, 5, 4]), rand(&[2, 5, 4]));
        assert!(
            max_abs(
                &f.rope(&x, &cos3, &sin3).unwrap(),
                &d.rope(&x, &cos3, &sin3).unwrap()
            ) < 1e-5
        );
    }

    #[test]
    fn silu_mul_matches_the_composition_with_gradients() {
        let g = Var::from_tensor(&(rand(&[3, 5, 40]) * 4.0).unwrap()).unwrap();
        let u = Var::from_tensor(&rand(&[3, 5, 40])).unwrap();
        let w = rand(&[3, 5, 40]);
        let grads = |y: Tensor| {
            let gr = (y * &w).unwrap().sum_all().unwrap().backward().unwrap();
            (gr.get(&g).cloned(), gr.get(&u).cloned())
        };
        let composed = (g.silu().unwrap() * u.as_tensor()).unwrap();
        let fused = Kernels::Fused.silu_mul(&g, &u).unwrap();
        let trained = Kernels::Differentiable.silu_mul(&g, &u).unwrap();
        assert!(max_abs(&fused, &composed) < 1e-5);
        assert!(max_abs(&trained, &composed) < 1e-5);
        let (want_g, want_u) = grads(composed);
        let (got_g, got_u) = grads(trained);
        assert!(max_abs(&got_g.unwrap(), &want_g.unwrap()) < 1e-5);
        assert!(max_abs(&got_u.unwrap(), &want_u.unwrap()) < 1e-5);
        // The fused kernel records nothing.
        let (none_g, none_u) = grads(fused);
        assert!(none_g.is_none() && none_u.is_none());
    }

    #[test]
    fn rms_norm_and_rope_nodes_match_the_op_compositions() {
        let x = Var::from_tensor(&rand(&[2, 3, 5, 8])).unwrap();
        let w = rand(&[8]);
        let up = rand(&[2, 3, 5, 8]);
        let grad_of = |y: &Tensor| {
            let g = (y * &up).unwrap().sum_all().unwrap().backward().unwrap();
            g.get(&x).expect("a gradient").clone()
        };
        let (node, ops) = (
            rms_norm_node(&x, &w, 1e-6).unwrap(),
            rms_norm_ops(&x, &w, 1e-6).unwrap(),
        );
        assert!(max_abs(&node, &ops) < 1e-5);
        assert!(max_abs(&grad_of(&node), &grad_of(&ops)) < 1e-5);
        // Shared positions [t, d/2] and per-row positions [b, t, d/2].
        for shape in [vec![5, 4], vec![2, 5, 4]] {
            let (cos, sin) = (rand(&shape), rand(&shape));
            let (node, ops) = (
                rope_node(&x, &cos, &sin).unwrap(),
                rope_ops(&x, &cos, &sin).unwrap(),
            );
            assert!(max_abs(&node, &ops) < 1e-5);
            assert!(max_abs(&grad_of(&node), &grad_of(&ops)) < 1e-5);
        }
        // A trainable norm weight takes the ops, which give it a gradient.
        let wv = Var::from_tensor(&w).unwrap();
        let y = Kernels::Differentiable.rms_norm(&x, &wv, 1e-6).unwrap();
        let g = (y * &up).unwrap().sum_all().unwrap().backward().unwrap();
        assert!(g.get(&wv).is_some());
    }

    #[test]
    fn differentiable_kernels_pass_gradients_and_fused_do_not() {
        let x = Var::from_tensor(&rand(&[1, 2, 4, 8])).unwrap();
        let w = rand(&[8]);
        let (cos, sin) = (rand(&[4, 4]), rand(&[4, 4]));
        let run = |k: Kernels| {
            let y = k.rms_norm(x.as_tensor(), &w, 1e-6).unwrap();
            let y = k.rope(&y, &cos, &sin).unwrap();
            let y = k.softmax_last_dim(&y).unwrap();
            let loss = (y * rand(&[1, 2, 4, 8])).unwrap().sum_all().unwrap();
            loss.backward().unwrap().get(x.as_tensor()).is_some()
        };
        assert!(run(Kernels::Differentiable));
        // This is the trap the switch exists for: fused ops stop gradients silently.
        assert!(!run(Kernels::Fused));
    }
}
