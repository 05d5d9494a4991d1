//! Causal attention on the CPU in query blocks, for inference.
//!
//! The tensor-op path computes every score of `q k^T` (`[heads, t, past + t]`), masks the
//! upper triangle, softmaxes the whole tensor and multiplies it by `v`: twice the flops that
//! a causal mask needs, and a scores tensor that for a 1,000-token text is 34 MB a layer,
//! written and re-read by each step. Here each (sequence, head, block of 64 query
//! positions) is one task: its scores against only the keys it may see (up to the block's
//! last position) go into a small buffer that stays in cache, each row is softmaxed over its
//! own causal prefix, and the product with `v` is written straight into the `[b, t, heads *
//! d]` layout the output projection reads, so no transpose follows. Tasks run in parallel,
//! each matmul single-threaded (`gemm`). Grouped-query heads index their shared key/value
//! head; nothing is copied.
//!
//! It records no gradient and returns no attention probabilities: training and attention
//! maps keep the tensor path.

use super::attach;
use super::matmul::{self, Mat};
use candle_core::{CpuStorage, DType, Layout, Result, Shape, Tensor};

/// Query positions per task.
const BLOCK: usize = 64;

/// `softmax(scale * q k^T + causal mask) v` for contiguous f32 `q: [b, heads, t, d]` and
/// `k, v: [b, kv_heads, past + t, d]` on the CPU, as `[b, t, heads * d]`; query `i` sees keys
/// `0..=past + i`. `None` when the tensors are not f32 on the CPU (the caller then takes
/// the tensor path).
pub fn causal_attention_cpu(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    scale: f32,
) -> Result<Option<Tensor>> {
    if !q.device().is_cpu() || [q, k, v].iter().any(|x| x.dtype() != DType::F32) {
        return Ok(None);
    }
    let (b, heads, t, d) = q.dims4()?;
    let (kb, kv_heads, total, kd) = k.dims4()?;
    if kb != b || kd != d || v.dims() != k.dims() || total < t || heads % kv_heads != 0 {
        candle_core::bail!(
            "causal attention: q {:?}, k {:?}, v {:?} do not fit together",
            q.dims(),
            k.dims(),
            v.dims()
        );
    }
    let op = CausalAttention { scale };
    let out = q
        .contiguous()?
        .apply_op3_no_bwd(&k.contiguous()?, &v.contiguous()?, &op)?;
    Ok(Some(out))
}

struct CausalAttention {
    scale: f32,
}

/// A raw pointer that tasks on other threads write through, each into its own rows.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: tasks write disjoint regions (distinct query rows or heads) of one allocation
// that outlives the parallel loop.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// The element `offset` places on. (A method, so closures capture the whole `OutPtr`,
    /// which is `Sync`, rather than its raw-pointer field.)
    fn at(self, offset: usize) -> *mut f32 {
        // SAFETY: callers stay inside the output allocation.
        unsafe { self.0.add(offset) }
    }
}

fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [f32]> {
    super::cpu::f32_data(s, l, "causal attention")
}

impl candle_core::CustomOp3 for CausalAttention {
    fn name(&self) -> &'static str {
        "causal-attention"
    }

    fn cpu_fwd(
        &self,
        qs: &CpuStorage,
        ql: &Layout,
        ks: &CpuStorage,
        kl: &Layout,
        vs: &CpuStorage,
        vl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        use rayon::prelude::*;
        let (q, k, v) = (f32_slice(qs, ql)?, f32_slice(ks, kl)?, f32_slice(vs, vl)?);
        let &[b, heads, t, d] = ql.dims() else {
            candle_core::bail!("causal attention: q must be [b, heads, t, d]")
        };
        let &[_, kv_heads, total, _] = kl.dims() else {
            candle_core::bail!("causal attention: k must be [b, kv_heads, total, d]")
        };
        let past = total - t;
        let group = heads / kv_heads;
        let blocks = t.div_ceil(BLOCK);
        let mut out = vec![0f32; b * t * heads * d];
        let dst = OutPtr(out.as_mut_ptr());
        let scale = self.scale;
        (0..b * heads * blocks).into_par_iter().for_each_init(
            || vec![0f32; BLOCK * total],
            |scores, task| {
                let (seq, rest) = (task / (heads * blocks), task % (heads * blocks));
                let (head, block) = (rest / blocks, rest % blocks);
                let (i0, i1) = (block * BLOCK, ((block + 1) * BLOCK).min(t));
                let rows = i1 - i0;
                // The last query of the block sees keys 0..=past + i1 - 1.
                let keys = past + i1;
                let q = &q[((seq * heads + head) * t + i0) * d..][..rows * d];
                let kv = (seq * kv_heads + head / group) * total * d;
                let (k, v) = (&k[kv..][..keys * d], &v[kv..][..keys * d]);
                let scores = &mut scores[..rows * keys];
                causal_probs(scores, q, k, (rows, keys, d), past + i0, scale);
                // SAFETY: the destination is this task's own rows of `out` ([rows, d] at
                // row stride heads * d); `scores` and `v` are the slices just cut.
                unsafe {
                    // out[seq, i0..i1, head * d..] = scores[rows, keys] @ v[keys, d]
                    gemm::gemm(
                        rows,
                        d,
                        keys,
                        dst.at(((seq * t + i0) * heads + head) * d),
                        1,
                        (heads * d) as isize,
                        false,
                        scores.as_ptr(),
                        1,
                        keys as isize,
                        v.as_ptr(),
                        1,
                        d as isize,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
            },
        );
        Ok((CpuStorage::F32(out), Shape::from((b, t, heads * d))))
    }
}

/// `probs[rows, keys] = causal softmax(scale * q[rows, d] @ k[keys, d]^T)`, where row `r`
/// (query position `first + r`) sees keys `0..=first + r` and the rest of the row is 0.
fn causal_probs(
    probs: &mut [f32],
    q: &[f32],
    k: &[f32],
    (rows, keys, d): (usize, usize, usize),
    first: usize,
    scale: f32,
) {
    let dims = (rows, keys, d);
    matmul::gemm(
        probs,
        keys,
        false,
        dims,
        Mat::rows(q, d),
        Mat::t(k, d),
        scale,
        1,
    );
    for (r, row) in probs.chunks_exact_mut(keys).enumerate() {
        let (seen, unseen) = row.split_at_mut((first + r + 1).min(keys));
        super::vmath::softmax(seen);
        unseen.fill(0.0);
    }
}

/// [`causal_attention_cpu`] as a training node: the same blocked forward pass, and a
/// backward pass that recomputes each block's probabilities instead of keeping the
/// `[b, heads, t, total]` tensor (see [`attention_grads`]). `None` when not f32 on the CPU.
pub fn causal_attention_node(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    scale: f32,
) -> Result<Option<Tensor>> {
    let Some(out) = causal_attention_cpu(&q.detach(), &k.detach(), &v.detach(), scale)? else {
        return Ok(None);
    };
    let bwd = move |inputs: &[&Tensor], g: &Tensor| {
        let (q, k, v) = (inputs[0], inputs[1], inputs[2]);
        let (dq, dk, dv) = attention_grads(q, k, v, g, scale)?;
        Ok(vec![Some(dq), Some(dk), Some(dv)])
    };
    attach::attach3(q, k, v, out, bwd).map(Some)
}

/// Gradients of `q`, `k`, `v` for the output gradient `dout: [b, t, heads * d]`, block by
/// block: with `P` the block's probabilities (recomputed), `dV += P^T dO`, `dP = dO V^T`,
/// `dS = P (dP - rowsum(P dP))`, `dQ = scale dS K`, `dK += scale dS^T Q`. One task per
/// (sequence, key/value head) owns that head's `dK`, `dV` and its group's `dQ`.
fn attention_grads(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    dout: &Tensor,
    scale: f32,
) -> Result<(Tensor, Tensor, Tensor)> {
    use rayon::prelude::*;
    let (_, heads, t, d) = q.dims4()?;
    let (_, kv_heads, total, _) = k.dims4()?;
    let (past, group, hd) = (total - t, heads / kv_heads, heads * d);
    let grads = super::cpu::with_f32([q, k, v, dout], |[qs, ks, vs, gs]| {
        let mut dq = vec![0f32; qs.len()];
        let mut dk = vec![0f32; ks.len()];
        let mut dv = vec![0f32; vs.len()];
        dq.par_chunks_mut(group * t * d)
            .zip(dk.par_chunks_mut(total * d))
            .zip(dv.par_chunks_mut(total * d))
            .enumerate()
            .for_each(|(task, ((dq, dk), dv))| {
                let (seq, kvh) = (task / kv_heads, task % kv_heads);
                let kv = (seq * kv_heads + kvh) * total * d;
                let (kf, vf) = (&ks[kv..][..total * d], &vs[kv..][..total * d]);
                let mut probs = vec![0f32; BLOCK * total];
                let mut dp = vec![0f32; BLOCK * total];
                for j in 0..group {
                    let head = kvh * group + j;
                    for i0 in (0..t).step_by(BLOCK) {
                        let rows = (t - i0).min(BLOCK);
                        let keys = past + i0 + rows;
                        let (k, v) = (&kf[..keys * d], &vf[..keys * d]);
                        let qb = &qs[((seq * heads + head) * t + i0) * d..][..rows * d];
                        let go = Mat {
                            data: &gs[((seq * t + i0) * heads + head) * d..],
                            row_stride: hd,
                            col_stride: 1,
                        };
                        let (p, dp) = (&mut probs[..rows * keys], &mut dp[..rows * keys]);
                        causal_probs(p, qb, k, (rows, keys, d), past + i0, scale);
                        matmul::gemm(dv, d, true, (keys, d, rows), Mat::t(p, keys), go, 1.0, 1);
                        matmul::gemm(dp, keys, false, (rows, keys, d), go, Mat::t(v, d), 1.0, 1);
                        for (pr, dr) in p.chunks_exact(keys).zip(dp.chunks_exact_mut(keys)) {
                            let dot: f32 = pr.iter().zip(dr.iter()).map(|(a, b)| a * b).sum();
                            dr.iter_mut()
                                .zip(pr)
                                .for_each(|(x, &pv)| *x = pv * (*x - dot));
                        }
                        let ds = Mat::rows(dp, keys);
                        let dqb = &mut dq[(j * t + i0) * d..][..rows * d];
                        matmul::gemm(
                            dqb,
                            d,
                            false,
                            (rows, d, keys),
                            ds,
                            Mat::rows(k, d),
                            scale,
                            1,
                        );
                        let dst = Mat::t(dp, keys);
                        matmul::gemm(
                            dk,
                            d,
                            true,
                            (keys, d, rows),
                            dst,
                            Mat::rows(qb, d),
                            scale,
                            1,
                        );
                    }
                }
            });
        (dq, dk, dv)
    })?;
    let Some((dq, dk, dv)) = grads else {
        candle_core::bail!("causal attention: f32 CPU tensors only");
    };
    let dev = q.device();
    Ok((
        Tensor::from_vec(dq, q.shape(), dev)?,
        Tensor::from_vec(dk, k.shape(), dev)?,
        Tensor::from_vec(dv, v.shape(), dev)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cpu::max_abs;
    use crate::model::ops::causal_softmax_cpu;
    use candle_core::Device;

    /// The tensor path: full scores, causal softmax, times v, then `[b, t, heads * d]`.
    fn reference(q: &Tensor, k: &Tensor, v: &Tensor, scale: f64) -> Tensor {
        reference_grad(q, k, v, scale, false)
    }

    /// [`reference`], recording gradients when `grad`.
    fn reference_grad(q: &Tensor, k: &Tensor, v: &Tensor, scale: f64, grad: bool) -> Tensor {
        let (b, heads, t, d) = q.dims4().unwrap();
        let kv_heads = k.dim(1).unwrap();
        let g = heads / kv_heads;
        let total = k.dim(2).unwrap();
        let q = (q.reshape((b, kv_heads, g * t, d)).unwrap() * scale).unwrap();
        let scores = q.matmul(&k.t().unwrap()).unwrap();
        let scores = scores.reshape((b, heads, t, total)).unwrap();
        let p = causal_softmax_cpu(&scores, total - t, grad)
            .unwrap()
            .unwrap();
        let out = p
            .reshape((b, kv_heads, g * t, total))
            .unwrap()
            .matmul(v)
            .unwrap();
        out.reshape((b, heads, t, d))
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .reshape((b, t, heads * d))
            .unwrap()
    }

    #[test]
    fn blocks_match_the_tensor_path() {
        let dev = Device::Cpu;
        // Several blocks with a ragged last one, a KV cache prefix, GQA groups, a batch.
        for (b, heads, kv_heads, t, past, d) in [
            (1, 4, 2, 150, 0, 16),
            (2, 6, 3, 70, 9, 8),
            (1, 2, 2, 1, 5, 4),
            (1, 1, 1, 64, 0, 3),
        ] {
            let q = Tensor::randn(0f32, 1.0, (b, heads, t, d), &dev).unwrap();
            let k = Tensor::randn(0f32, 1.0, (b, kv_heads, past + t, d), &dev).unwrap();
            let v = Tensor::randn(0f32, 1.0, (b, kv_heads, past + t, d), &dev).unwrap();
            let scale = 1.0 / (d as f64).sqrt();
            let got = causal_attention_cpu(&q, &k, &v, scale as f32)
                .unwrap()
                .unwrap();
            let want = reference(&q, &k, &v, scale);
            assert_eq!(got.dims(), want.dims());
            let diff = max_abs(&got, &want);
            assert!(
                diff < 1e-5,
                "b {b} heads {heads}/{kv_heads} t {t} past {past}: {diff}"
            );
        }
    }

    #[test]
    fn the_training_node_has_the_gradients_of_the_tensor_path() {
        use candle_core::Var;
        let dev = Device::Cpu;
        for (b, heads, kv_heads, t, past, d) in [(2, 4, 2, 150, 0, 8), (1, 3, 1, 40, 7, 5)] {
            let var = |n: usize| {
                Var::from_tensor(&Tensor::randn(0f32, 1.0, (b, n, past + t, d), &dev).unwrap())
                    .unwrap()
            };
            let q = Var::from_tensor(&Tensor::randn(0f32, 1.0, (b, heads, t, d), &dev).unwrap())
                .unwrap();
            let (k, v) = (var(kv_heads), var(kv_heads));
            let w = Tensor::randn(0f32, 1.0, (b, t, heads * d), &dev).unwrap();
            let scale = 1.0 / (d as f64).sqrt();
            let grads = |out: &Tensor| {
                let g = (out * &w).unwrap().sum_all().unwrap().backward().unwrap();
                [&q, &k, &v].map(|x| g.get(x).expect("a gradient").clone())
            };
            let node = causal_attention_node(&q, &k, &v, scale as f32)
                .unwrap()
                .unwrap();
            let ops = reference_grad(&q, &k, &v, scale, true);
            assert!(max_abs(&node, &ops) < 1e-5);
            for (name, (a, b)) in ["q", "k", "v"]
                .iter()
                .zip(grads(&node).iter().zip(&grads(&ops)))
            {
                let diff = max_abs(a, b);
                assert!(
                    diff < 1e-4,
                    "d{name} differs by {diff} (t {t}, past {past})"
                );
            }
        }
    }

    #[test]
    fn other_dtypes_and_bad_shapes_are_refused() {
        let dev = Device::Cpu;
        let h = Tensor::zeros((1, 2, 3, 4), DType::F16, &dev).unwrap();
        assert!(causal_attention_cpu(&h, &h, &h, 1.0).unwrap().is_none());
        let q = Tensor::zeros((1, 3, 3, 4), DType::F32, &dev).unwrap();
        let kv = Tensor::zeros((1, 2, 3, 4), DType::F32, &dev).unwrap();
        let err = causal_attention_cpu(&q, &kv, &kv, 1.0).unwrap_err();
        assert!(err.to_string().contains("do not fit"), "{err}");
    }
}
