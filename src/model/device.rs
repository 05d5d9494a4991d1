//! `--device` and `--dtype` selection.

use candle_core::{DType, Device};

/// A device that was asked for but cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device `{0}`: expected cpu, cuda, cuda:N or metal")]
    Unknown(String),
    #[error("this build has no {name} support: rebuild with `cargo build --release --features {feature}`")]
    NotCompiled {
        name: &'static str,
        feature: &'static str,
    },
    #[error("cannot open {name}: {message}")]
    Open { name: String, message: String },
    #[error("unknown dtype `{0}`: expected f32, f16 or bf16")]
    Dtype(String),
}

/// Opens the device named `cpu`, `cuda`, `cuda:N` or `metal`.
pub fn parse_device(name: &str) -> Result<Device, DeviceError> {
    let open = |r: candle_core::Result<Device>| {
        r.map_err(|e| DeviceError::Open {
            name: name.to_string(),
            message: e.to_string(),
        })
    };
    match name {
        "cpu" => Ok(Device::Cpu),
        "metal" if cfg!(feature = "metal") => open(Device::new_metal(0)),
        "metal" => Err(DeviceError::NotCompiled {
            name: "Metal",
            feature: "metal",
        }),
        n if n == "cuda" || n.starts_with("cuda:") => {
            let ordinal = match n.strip_prefix("cuda:") {
                Some(i) => i.parse().map_err(|_| DeviceError::Unknown(n.to_string()))?,
                None => 0,
            };
            if cfg!(feature = "cuda") {
                open(Device::new_cuda(ordinal))
            } else {
                Err(DeviceError::NotCompiled {
                    name: "CUDA",
                    feature: "cuda",
                })
            }
        }
        other => Err(DeviceError::Unknown(other.to_string())),
    }
}

/// Parses `f32`, `f16` or `bf16`; `None` picks f32 on the CPU and bf16 on GPUs.
pub fn parse_dtype(name: Option<&str>, device: &Device) -> Result<DType, DeviceError> {
    match name {
        None if device.is_cpu() => Ok(DType::F32),
        None => Ok(DType::BF16),
        Some("f32" | "float32") => Ok(DType::F32),
        Some("f16" | "float16") => Ok(DType::F16),
        Some("bf16" | "bfloat16") => Ok(DType::BF16),
        Some(other) => Err(DeviceError::Dtype(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_dtypes() {
        assert!(parse_device("cpu").unwrap().is_cpu());
        assert!(matches!(parse_device("tpu"), Err(DeviceError::Unknown(_))));
        if !cfg!(feature = "cuda") {
            let e = parse_device("cuda").unwrap_err().to_string();
            assert!(e.contains("--features cuda"), "{e}");
        }
        assert_eq!(parse_dtype(None, &Device::Cpu).unwrap(), DType::F32);
        assert_eq!(
            parse_dtype(Some("bf16"), &Device::Cpu).unwrap(),
            DType::BF16
        );
        assert!(parse_dtype(Some("f8"), &Device::Cpu).is_err());
    }
}
