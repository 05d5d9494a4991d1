//! Reading f32 tensors on the CPU as plain slices, for the hand-written kernels.

use candle_core::{CpuStorage, Layout, Result, Storage, Tensor};

/// The data of a contiguous f32 CPU storage, as a custom op receives it; `op` names the op
/// in the error otherwise.
pub fn f32_data<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        _ => candle_core::bail!("{op}: contiguous f32 inputs only"),
    }
}

/// The largest absolute difference between two tensors of one shape (tests).
#[cfg(test)]
pub fn max_abs(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .and_then(|d| d.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>())
        .expect("two f32 tensors of one shape")
}

/// Runs `f` on the f32 data of `tensors` (each made contiguous first); `None`, without
/// calling `f`, when one of them is not f32 on the CPU.
pub fn with_f32<const N: usize, R>(
    tensors: [&Tensor; N],
    f: impl FnOnce([&[f32]; N]) -> R,
) -> Result<Option<R>> {
    let owned = tensors
        .iter()
        .map(|t| t.contiguous())
        .collect::<Result<Vec<_>>>()?;
    let guards: Vec<_> = owned.iter().map(|t| t.storage_and_layout()).collect();
    let mut slices = Vec::with_capacity(N);
    for (storage, layout) in &guards {
        match &**storage {
            Storage::Cpu(c @ CpuStorage::F32(_)) => slices.push(f32_data(c, layout, "")?),
            _ => return Ok(None),
        }
    }
    let slices: [&[f32]; N] = slices.try_into().expect("one slice per tensor");
    Ok(Some(f(slices)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    #[test]
    fn slices_follow_the_logical_layout_and_other_dtypes_are_none() {
        let dev = Device::Cpu;
        let a = Tensor::arange(0f32, 6., &dev)
            .unwrap()
            .reshape((2, 3))
            .unwrap();
        let t = a.t().unwrap(); // not contiguous: copied in logical order
        let sums = with_f32([&a, &t], |[x, y]| (x.to_vec(), y.to_vec()))
            .unwrap()
            .unwrap();
        assert_eq!(sums.0, [0., 1., 2., 3., 4., 5.]);
        assert_eq!(sums.1, [0., 3., 1., 4., 2., 5.]);
        let h = a.to_dtype(DType::F16).unwrap();
        assert!(with_f32([&a, &h], |_| ()).unwrap().is_none());
    }
}
