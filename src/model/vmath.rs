//! Vectorised row kernels built on one `exp`: softmax, the log-sum-exp of a row, SiLU-gated
//! products.
//!
//! The CPU forward pass spends its non-matmul time in `exp` (attention softmax, SiLU, the
//! log-softmax of the scorer) and in the reductions around it. `f32::exp` is a libm call per
//! element and float sums do not vectorise without reassociation, so a plain loop runs one
//! element at a time. Here `exp` is a branch-free polynomial (Cephes' `expf`: range reduction
//! by `ln 2`, a degree-6 polynomial, the exponent built from integer bits) that the compiler
//! vectorises, the reductions keep 16 partial sums, and each public function runs an AVX2+FMA
//! copy of its loop when the CPU has one (checked once at run time), so the release binary
//! stays portable. Accuracy: within 2 ulp of `f32::exp` over the whole range used (tested);
//! arguments below about -87.3 give the smallest normal number instead of 0 or a subnormal.

const LANES: usize = 16;

/// `a * b + c`, fused where the caller was compiled with FMA (`F`); without hardware FMA,
/// `mul_add` would be a slow libm call.
#[inline(always)]
fn madd<const F: bool>(a: f32, b: f32, c: f32) -> f32 {
    if F {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `e^x`, branch-free; see the module comment.
#[inline(always)]
fn exp<const F: bool>(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding it rounds to the nearest integer, which lands in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    let x = x.clamp(-87.336_54, 88.722_83);
    let shifted = madd::<F>(x, LOG2E, MAGIC);
    let n = shifted - MAGIC;
    let r = madd::<F>(n, -LN2_LO, madd::<F>(n, -LN2_HI, x));
    let mut p: f32 = 1.987_569_1e-4;
    p = madd::<F>(p, r, 1.398_2e-3);
    p = madd::<F>(p, r, 8.333_452e-3);
    p = madd::<F>(p, r, 4.166_579_6e-2);
    p = madd::<F>(p, r, 1.666_666_5e-1);
    p = madd::<F>(p, r, 0.5);
    let y = madd::<F>(p, r * r, r) + 1.0;
    // `n` is in [-126, 128]: 2^n from its bits (2^128 overflows to inf, as e^88.73 does).
    let bits = (shifted.to_bits().wrapping_sub(MAGIC.to_bits()) as i32 + 127) << 23;
    y * f32::from_bits(bits as u32)
}

#[inline(always)]
fn max_impl(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = a.max(x);
        }
    }
    tail.iter()
        .chain(&acc)
        .copied()
        .fold(f32::NEG_INFINITY, f32::max)
}

/// `xs[i] = e^(xs[i] - shift)`, returning the sum.
#[inline(always)]
fn exp_shift_sum_impl<const F: bool>(xs: &mut [f32], shift: f32) -> f32 {
    let mut acc = [0f32; LANES];
    let mut chunks = xs.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *x = exp::<F>(*x - shift);
            *a += *x;
        }
    }
    let mut tail = 0f32;
    for x in chunks.into_remainder() {
        *x = exp::<F>(*x - shift);
        tail += *x;
    }
    acc.iter().sum::<f32>() + tail
}

/// `sum(e^(src[i] - shift))` without writing anything.
#[inline(always)]
fn exp_sum_impl<const F: bool>(src: &[f32], shift: f32) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = src.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += exp::<F>(x - shift);
        }
    }
    acc.iter().sum::<f32>() + tail.iter().map(|&x| exp::<F>(x - shift)).sum::<f32>()
}

#[inline(always)]
fn softmax_impl<const F: bool>(xs: &mut [f32]) {
    let max = max_impl(xs);
    let inv = 1.0 / exp_shift_sum_impl::<F>(xs, max);
    xs.iter_mut().for_each(|x| *x *= inv);
}

#[inline(always)]
fn log_sum_exp_impl<const F: bool>(xs: &[f32]) -> f32 {
    let max = max_impl(xs);
    max + exp_sum_impl::<F>(xs, max).ln()
}

#[inline(always)]
fn exp_shift_scale_impl<const F: bool>(src: &[f32], dst: &mut [f32], shift: f32, scale: f32) {
    for (d, &x) in dst.iter_mut().zip(src) {
        *d = exp::<F>(x - shift) * scale;
    }
}

#[inline(always)]
fn silu_mul_impl<const F: bool>(gate: &[f32], up: &[f32], dst: &mut [f32]) {
    for ((d, &g), &u) in dst.iter_mut().zip(gate).zip(up) {
        *d = g / (1.0 + exp::<F>(-g)) * u;
    }
}

#[inline(always)]
fn silu_mul_grad_impl<const F: bool>(
    gate: &[f32],
    up: &[f32],
    grad: &[f32],
    d_gate: &mut [f32],
    d_up: &mut [f32],
) {
    for ((((dg, du), &g), &u), &o) in d_gate.iter_mut().zip(d_up).zip(gate).zip(up).zip(grad) {
        let sig = 1.0 / (1.0 + exp::<F>(-g));
        *du = o * g * sig;
        *dg = o * u * sig * madd::<F>(g, 1.0 - sig, 1.0);
    }
}

/// Sum of `a[i] * b[i] * c[i]` with 16 partial sums.
#[inline(always)]
fn dot3<const F: bool>(a: &[f32], b: &[f32], c: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let n = a.len().min(b.len()).min(c.len());
    let split = n - n % LANES;
    for ((x, y), z) in a[..split]
        .chunks_exact(LANES)
        .zip(b[..split].chunks_exact(LANES))
        .zip(c[..split].chunks_exact(LANES))
    {
        for (((s, &x), &y), &z) in acc.iter_mut().zip(x).zip(y).zip(z) {
            *s = madd::<F>(x * y, z, *s);
        }
    }
    let tail: f32 = (split..n).map(|i| a[i] * b[i] * c[i]).sum();
    acc.iter().sum::<f32>() + tail
}

/// The input gradient of RMSNorm for one row: with `r = 1/sqrt(mean(x^2) + eps)`,
/// `dx = r (g w) - x r^3 mean(g w x)`.
#[inline(always)]
fn rms_norm_grad_impl<const F: bool>(x: &[f32], w: &[f32], grad: &[f32], eps: f32, dx: &mut [f32]) {
    let n = x.len().max(1) as f32;
    let mut sq = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|v| v * v).sum();
    for c in chunks {
        for (s, &v) in sq.iter_mut().zip(c) {
            *s = madd::<F>(v, v, *s);
        }
    }
    let r = 1.0 / ((sq.iter().sum::<f32>() + tail) / n + eps).sqrt();
    let r3dot = r * r * r * dot3::<F>(grad, w, x) / n;
    for (((d, &xv), &wv), &gv) in dx.iter_mut().zip(x).zip(w).zip(grad) {
        *d = madd::<F>(r * gv, wv, -(xv * r3dot));
    }
}

/// Defines `pub fn $name` that runs `$imp` compiled for AVX2+FMA when the CPU has them.
macro_rules! dispatch {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $imp:ident) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) -> $ret {
                    $imp::<true>($($arg),*)
                }
                if has_avx2_fma() {
                    // SAFETY: the CPU supports the features `avx2` was compiled for.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $imp::<false>($($arg),*)
        }
    };
}

#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    use std::sync::OnceLock;
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
}

dispatch! {
    /// Softmax of a row, in place.
    fn softmax(xs: &mut [f32]) -> () = softmax_impl
}

dispatch! {
    /// `log(sum(e^x))` of a row, computed stably (shifted by the row's maximum).
    fn log_sum_exp(xs: &[f32]) -> f32 = log_sum_exp_impl
}

dispatch! {
    /// `dst[i] = scale * e^(src[i] - shift)`: with `shift` a row's log-sum-exp, its softmax
    /// times `scale` (the cross-entropy gradient).
    fn exp_shift_scale(src: &[f32], dst: &mut [f32], shift: f32, scale: f32) -> () = exp_shift_scale_impl
}

dispatch! {
    /// The gradients of `silu(gate) * up` for the output gradient `grad`:
    /// `d_gate = grad up sig (1 + gate (1 - sig))`, `d_up = grad gate sig`, `sig = sigmoid(gate)`.
    fn silu_mul_grad(gate: &[f32], up: &[f32], grad: &[f32], d_gate: &mut [f32], d_up: &mut [f32]) -> () = silu_mul_grad_impl
}

dispatch! {
    /// The input gradient of RMSNorm (weight `w`) for one row `x` and its output gradient.
    fn rms_norm_grad(x: &[f32], w: &[f32], grad: &[f32], eps: f32, dx: &mut [f32]) -> () = rms_norm_grad_impl
}

dispatch! {
    /// `dst[i] = silu(gate[i]) * up[i]`, the gated product of a SwiGLU MLP.
    fn silu_mul(gate: &[f32], up: &[f32], dst: &mut [f32]) -> () = silu_mul_impl
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i32 - b.to_bits() as i32).unsigned_abs()
    }

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut worst = (0, 0.0);
        let mut x = -87.0f32;
        while x < 88.0 {
            let u = ulps(exp::<false>(x), x.exp()).max(ulps(exp::<true>(x), x.exp()));
            if u > worst.0 {
                worst = (u, x);
            }
            x += 0.000_731;
        }
        assert!(worst.0 <= 2, "{} ulp at x = {}", worst.0, worst.1);
        assert_eq!(exp::<false>(0.0), 1.0);
        assert_eq!(exp::<false>(f32::NEG_INFINITY), exp::<false>(-87.336_54));
        assert!(exp::<false>(f32::NEG_INFINITY) < 1.2e-38);
        assert!(exp::<false>(89.0).is_infinite());
    }

    #[test]
    fn row_kernels_match_the_scalar_definitions() {
        // Lengths around the lane count, so the tails are exercised.
        for n in [1, 5, 15, 16, 17, 33, 1000] {
            let xs: Vec<f32> = (0..n)
                .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * 40.0)
                .collect();
            let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = xs.iter().map(|&x| (x - max).exp()).sum();
            let mut got = xs.clone();
            softmax(&mut got);
            for (g, &x) in got.iter().zip(&xs) {
                let want = (x - max).exp() / sum;
                assert!((g - want).abs() <= 1e-6 * want.max(1e-30) + 1e-12, "n {n}");
            }
            let lse = log_sum_exp(&xs);
            assert!(
                (lse - (max + sum.ln())).abs() <= 1e-5 * lse.abs().max(1.0),
                "n {n}"
            );
            let mut scaled = vec![0f32; n];
            exp_shift_scale(&xs, &mut scaled, lse, 3.0);
            for (s, g) in scaled.iter().zip(&got) {
                assert!((s - 3.0 * g).abs() <= 1e-5 * g.max(1e-30) + 1e-12, "n {n}");
            }
            let up: Vec<f32> = xs.iter().map(|x| x * 0.5 - 1.0).collect();
            let mut prod = vec![0f32; n];
            silu_mul(&xs, &up, &mut prod);
            for ((p, &g), &u) in prod.iter().zip(&xs).zip(&up) {
                let want = g / (1.0 + (-g).exp()) * u;
                assert!(
                    (p - want).abs() <= 1e-5 * want.abs().max(1e-3),
                    "{p} vs {want}"
                );
            }
        }
    }

    #[test]
    fn portable_and_avx2_paths_agree() {
        let xs: Vec<f32> = (0..100).map(|i| i as f32 * 0.37 - 20.0).collect();
        let (mut a, mut b) = (xs.clone(), xs);
        softmax_impl::<false>(&mut a);
        softmax(&mut b);
        for (x, y) in a.iter().zip(&b) {
            assert!(ulps(*x, *y) <= 1, "{x} vs {y}");
        }
    }
}
