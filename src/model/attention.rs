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
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(data), Some((a, b))) => Ok(&data[a..b]),
        _ => candle_core::bail!("causal attention: contiguous f32 inputs only"),
    }
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
                // SAFETY: every pointer/stride pair below addresses the slices just taken
                // (or this task's own rows of `out`), with the dimensions given.
                unsafe {
                    // scores[rows, keys] = scale * q[rows, d] @ k[keys, d]^T
                    gemm::gemm(
                        rows,
                        keys,
                        d,
                        scores.as_mut_ptr(),
                        1,
                        keys as isize,
                        false,
                        q.as_ptr(),
                        1,
                        d as isize,
                        k.as_ptr(),
                        d as isize,
                        1,
                        0.0,
                        scale,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
                for (r, row) in scores.chunks_exact_mut(keys).enumerate() {
                    let visible = past + i0 + r + 1;
                    let (seen, unseen) = row.split_at_mut(visible);
                    super::vmath::softmax(seen);
                    unseen.fill(0.0);
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ops::causal_softmax_cpu;
    use candle_core::Device;

    /// The tensor path: full scores, causal softmax, times v, then `[b, t, heads * d]`.
    fn reference(q: &Tensor, k: &Tensor, v: &Tensor, scale: f64) -> Tensor {
        let (b, heads, t, d) = q.dims4().unwrap();
        let kv_heads = k.dim(1).unwrap();
        let g = heads / kv_heads;
        let total = k.dim(2).unwrap();
        let q = (q.reshape((b, kv_heads, g * t, d)).unwrap() * scale).unwrap();
        let scores = q.matmul(&k.t().unwrap()).unwrap();
        let scores = scores.reshape((b, heads, t, total)).unwrap();
        let p = causal_softmax_cpu(&scores, total - t, false)
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
            let diff = (got - want)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(
                diff < 1e-5,
                "b {b} heads {heads}/{kv_heads} t {t} past {past}: {diff}"
            );
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
