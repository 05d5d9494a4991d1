//! f32 matrix products on slices (the `gemm` crate, which candle's CPU matmul uses too),
//! for kernels that write into their own buffers: into a strided destination, accumulating
//! into what is there, with a scale, none of which candle's `matmul` offers.

/// A matrix operand: its data and the strides of a row step and a column step, so a
/// transpose is the same slice with the strides swapped.
#[derive(Clone, Copy)]
pub struct Mat<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> Mat<'a> {
    /// A row-major `[rows, cols]` matrix (cols = row stride).
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        Mat {
            data,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub fn t(data: &'a [f32], cols: usize) -> Self {
        Mat {
            data,
            row_stride: 1,
            col_stride: cols,
        }
    }

    /// Whether element `[r, c]` for every `r < rows`, `c < cols` lies inside `data`.
    fn covers(&self, rows: usize, cols: usize) -> bool {
        rows == 0
            || cols == 0
            || (rows - 1) * self.row_stride + (cols - 1) * self.col_stride < self.data.len()
    }
}

/// `dst = (accumulate ? dst : 0) + scale * lhs[m, k] @ rhs[k, n]`, with `dst` row-major
/// `[m, n]` at row stride `dst_stride` (at least `n`). `threads > 1` splits the work on
/// rayon's pool. Panics when an operand is too short for its shape: callers pass slices
/// cut to the shapes they name, so that is a bug, never bad input.
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    dst: &mut [f32],
    dst_stride: usize,
    accumulate: bool,
    (m, n, k): (usize, usize, usize),
    lhs: Mat<'_>,
    rhs: Mat<'_>,
    scale: f32,
    threads: usize,
) {
    let out = Mat::rows(dst, dst_stride);
    assert!(
        n <= dst_stride && out.covers(m, n) && lhs.covers(m, k) && rhs.covers(k, n),
        "matmul: operands too short for [{m}, {k}] @ [{k}, {n}]"
    );
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the assertion above keeps every element the product reads or writes inside
    // its slice; `dst` is borrowed mutably, so nothing else aliases it.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            if accumulate { 1.0 } else { 0.0 },
            scale,
            false,
            false,
            false,
            parallelism,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_transposes_strides_and_accumulation() {
        // lhs [2, 3], rhs given as its transpose [2, 3] (so rhs is [3, 2]).
        let a = [1f32, 2., 3., 4., 5., 6.];
        let bt = [1f32, 0., 1., 0., 1., 0.];
        // A destination row stride of 3 with 2 columns: the third column stays untouched.
        let mut dst = [9f32; 6];
        gemm(
            &mut dst,
            3,
            false,
            (2, 2, 3),
            Mat::rows(&a, 3),
            Mat::t(&bt, 3),
            2.0,
            1,
        );
        assert_eq!(dst, [8., 4., 9., 20., 10., 9.]);
        gemm(
            &mut dst,
            3,
            true,
            (2, 2, 3),
            Mat::rows(&a, 3),
            Mat::t(&bt, 3),
            0.5,
            2,
        );
        assert_eq!(dst, [10., 5., 9., 25., 12.5, 9.]);
    }

    #[test]
    #[should_panic(expected = "too short")]
    fn a_short_operand_is_caught() {
        let mut dst = [0f32; 4];
        gemm(
            &mut dst,
            2,
            false,
            (2, 2, 3),
            Mat::rows(&[1.; 5], 3),
            Mat::rows(&[1.; 6], 2),
            1.0,
            1,
        );
    }
}
