//! Where decoder weights come from: safetensors files (single or sharded, memory-mapped),
//! GGUF files (see `gguf.rs`) or in-memory maps. Every source answers in HF tensor names and
//! checks shapes, so a mismatch names the tensor, the expected and the found shape.

use candle_core::{safetensors::MmapedSafetensors, Device, Tensor};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Why weights could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: {problem}")]
    File { file: String, problem: String },
    #[error("tensor `{name}` is missing from {source_desc}")]
    Missing { name: String, source_desc: String },
    #[error(
        "tensor `{name}` in {source_desc} has shape {found:?}, the config implies {expected:?}"
    )]
    Shape {
        name: String,
        source_desc: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("tensor `{name}`: {message}")]
    Tensor { name: String, message: String },
}

impl LoadError {
    pub fn candle(name: &str, e: candle_core::Error) -> Self {
        LoadError::Tensor {
            name: name.to_string(),
            message: e.to_string(),
        }
    }

    pub fn file(file: &Path, problem: impl std::fmt::Display) -> Self {
        LoadError::File {
            file: file.display().to_string(),
            problem: problem.to_string(),
        }
    }
}

/// A named collection of tensors in HF naming (`model.layers.0.self_attn.q_proj.weight`).
pub trait TensorSource {
    /// The tensor called `name`, checked against `shape`, on the CPU in its stored dtype.
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor, LoadError>;
    /// Short description for messages ("model.safetensors (2 shards)").
    fn describe(&self) -> String;
}

/// Checks `t` against `shape`, naming the tensor on mismatch.
pub fn check_shape(
    t: Tensor,
    name: &str,
    shape: &[usize],
    src: &dyn TensorSource,
) -> Result<Tensor, LoadError> {
    if t.dims() != shape {
        return Err(LoadError::Shape {
            name: name.to_string(),
            source_desc: src.describe(),
            expected: shape.to_vec(),
            found: t.dims().to_vec(),
        });
    }
    Ok(t)
}

/// Memory-mapped safetensors, one file or the shards of `model.safetensors.index.json`.
pub struct SafetensorsSource {
    inner: MmapedSafetensors,
    names: HashSet<String>,
    desc: String,
}

impl SafetensorsSource {
    /// Opens `dir/model.safetensors`, or the shards listed in `dir/model.safetensors.index.json`.
    pub fn open_dir(dir: &Path) -> Result<Self, LoadError> {
        let index = dir.join("model.safetensors.index.json");
        if index.exists() {
            let files = shard_files(&index)?;
            return Self::open(
                &files,
                format!("{} ({} shards)", index.display(), files.len()),
            );
        }
        let single = dir.join("model.safetensors");
        if single.exists() {
            let desc = single.display().to_string();
            return Self::open(&[single], desc);
        }
        Err(LoadError::file(
            dir,
            "no model.safetensors or model.safetensors.index.json (PyTorch .bin checkpoints are not supported: convert them with `save_pretrained(..., safe_serialization=True)`)",
        ))
    }

    /// Opens the given safetensors files as one source.
    pub fn open(files: &[PathBuf], desc: String) -> Result<Self, LoadError> {
        for f in files {
            if !f.exists() {
                return Err(LoadError::file(f, "file not found"));
            }
        }
        // SAFETY: the files are memory-mapped read-only; like every mmap-based loader we rely on
        // nobody truncating them while the model is loaded.
        let inner = unsafe { MmapedSafetensors::multi(files) }.map_err(|e| LoadError::File {
            file: desc.clone(),
            problem: format!("not a valid safetensors file (truncated or corrupt?): {e}"),
        })?;
        let names = inner.tensors().into_iter().map(|(n, _)| n).collect();
        Ok(SafetensorsSource { inner, names, desc })
    }

    /// Names of all tensors in the files.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.names.iter()
    }
}

fn shard_files(index: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let text = std::fs::read_to_string(index).map_err(|e| LoadError::file(index, e))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| LoadError::file(index, format!("not valid JSON: {e}")))?;
    let map = v
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| LoadError::file(index, "field `weight_map` is missing or not an object"))?;
    let dir = index.parent().unwrap_or(Path::new("."));
    let mut files: Vec<PathBuf> = Vec::new();
    for (name, f) in map {
        let f = f.as_str().ok_or_else(|| {
            LoadError::file(index, format!("weight_map[`{name}`] is not a file name"))
        })?;
        let p = dir.join(f);
        if !files.contains(&p) {
            files.push(p);
        }
    }
    Ok(files)
}

impl SafetensorsSource {
    /// The tensor called `name`, any shape.
    pub fn raw(&self, name: &str) -> Result<Tensor, LoadError> {
        if !self.names.contains(name) {
            return Err(LoadError::Missing {
                name: name.to_string(),
                source_desc: self.desc.clone(),
            });
        }
        self.inner
            .load(name, &Device::Cpu)
            .map_err(|e| LoadError::candle(name, e))
    }
}

impl TensorSource for SafetensorsSource {
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor, LoadError> {
        check_shape(self.raw(name)?, name, shape, self)
    }

    fn describe(&self) -> String {
        self.desc.clone()
    }
}

/// Tensors held in memory (tests, freshly initialised models, dequantized GGUF).
pub struct MapSource {
    pub tensors: HashMap<String, Tensor>,
    pub desc: String,
}

impl TensorSource for MapSource {
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor, LoadError> {
        let t = self
            .tensors
            .get(name)
            .cloned()
            .ok_or_else(|| LoadError::Missing {
                name: name.to_string(),
                source_desc: self.desc.clone(),
            })?;
        check_shape(t, name, shape, self)
    }

    fn describe(&self) -> String {
        self.desc.clone()
    }
}
