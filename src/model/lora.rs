//! PEFT LoRA adapters: `adapter_config.json` + `adapter_model.safetensors` with PEFT key
//! names, so adapters move both ways between this tool and Python PEFT / LLaMA-Factory.

use super::decoder::Decoder;
use super::linear::Lora;
use super::weights::{LoadError, MapSource, SafetensorsSource};
use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// The fields of PEFT's `adapter_config.json` that change the math.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdapterConfig {
    #[serde(default = "lora_type")]
    pub peft_type: String,
    pub r: usize,
    pub lora_alpha: f64,
    #[serde(default)]
    pub lora_dropout: f64,
    /// A list of module names, or a regex string (PEFT accepts both).
    pub target_modules: serde_json::Value,
    #[serde(default)]
    pub use_rslora: bool,
    #[serde(default)]
    pub use_dora: bool,
    #[serde(default)]
    pub fan_in_fan_out: bool,
    #[serde(default = "bias_none")]
    pub bias: String,
    #[serde(default)]
    pub modules_to_save: Option<Vec<String>>,
    #[serde(default)]
    pub base_model_name_or_path: Option<String>,
    #[serde(default)]
    pub task_type: Option<String>,
}

fn lora_type() -> String {
    "LORA".into()
}
fn bias_none() -> String {
    "none".into()
}

impl AdapterConfig {
    /// The factor applied to `B A`.
    pub fn scale(&self) -> f64 {
        if self.use_rslora {
            self.lora_alpha / (self.r as f64).sqrt()
        } else {
            self.lora_alpha / self.r as f64
        }
    }

    fn unsupported(&self) -> Option<String> {
        if self.peft_type != "LORA" {
            return Some(format!(
                "peft_type `{}` (only LORA is supported)",
                self.peft_type
            ));
        }
        if self.use_dora {
            return Some("use_dora = true (DoRA is not supported)".into());
        }
        if self.fan_in_fan_out {
            return Some(
                "fan_in_fan_out = true (Conv1D-style GPT-2 layers are not supported)".into(),
            );
        }
        if self.bias != "none" {
            return Some(format!(
                "bias = `{}` (only \"none\" is supported)",
                self.bias
            ));
        }
        if self.modules_to_save.as_ref().is_some_and(|m| !m.is_empty()) {
            return Some("modules_to_save (fully trained extra modules are not supported)".into());
        }
        None
    }
}

/// Where an adapter's tensors are: a mapped file, or memory.
enum Weights {
    File(SafetensorsSource),
    Map(MapSource),
}

impl From<SafetensorsSource> for Weights {
    fn from(s: SafetensorsSource) -> Self {
        Weights::File(s)
    }
}

impl Weights {
    fn names(&self) -> HashSet<String> {
        match self {
            Weights::File(s) => s.names().cloned().collect(),
            Weights::Map(m) => m.tensors.keys().cloned().collect(),
        }
    }

    fn raw(&self, name: &str) -> Result<Tensor, LoadError> {
        match self {
            Weights::File(s) => s.raw(name),
            Weights::Map(m) => m
                .tensors
                .get(name)
                .cloned()
                .ok_or_else(|| LoadError::Missing {
                    name: name.to_string(),
                    source_desc: m.desc.clone(),
                }),
        }
    }
}

/// An adapter read from disk (or embedded).
pub struct Adapter {
    pub config: AdapterConfig,
    weights: Weights,
    names: HashSet<String>,
    pub dir: String,
}

/// PEFT's key prefix in front of the HF module path.
const PEFT_PREFIX: &str = "base_model.model.";

impl Adapter {
    pub fn open(dir: &Path) -> Result<Self, LoadError> {
        let cfg_path = dir.join("adapter_config.json");
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| {
            LoadError::file(
                &cfg_path,
                format!("{e} (is this a PEFT adapter directory?)"),
            )
        })?;
        let file = dir.join("adapter_model.safetensors");
        if !file.exists() {
            return Err(LoadError::file(&file, "missing (adapter_model.bin is not supported; re-save with safe_serialization=True)"));
        }
        let desc = file.display().to_string();
        let weights = SafetensorsSource::open(&[file], desc)?;
        Self::new(&text, &cfg_path, weights, dir.display().to_string())
    }

    /// An adapter held in memory (the demo model's, embedded in the binary).
    pub fn from_bytes(config: &[u8], weights: &[u8], name: &str) -> Result<Self, LoadError> {
        let cfg_path = Path::new(name).join("adapter_config.json");
        let text = String::from_utf8_lossy(config);
        let tensors = candle_core::safetensors::load_buffer(weights, &candle_core::Device::Cpu)
            .map_err(|e| LoadError::candle(name, e))?;
        let src = MapSource {
            tensors,
            desc: name.to_string(),
        };
        Self::new(&text, &cfg_path, Weights::Map(src), name.to_string())
    }

    fn new(
        text: &str,
        cfg_path: &Path,
        weights: impl Into<Weights>,
        dir: String,
    ) -> Result<Self, LoadError> {
        let config: AdapterConfig = serde_json::from_str(text).map_err(|e| {
            LoadError::file(cfg_path, format!("not a valid PEFT adapter config: {e}"))
        })?;
        if let Some(problem) = config.unsupported() {
            return Err(LoadError::file(
                cfg_path,
                format!("unsupported adapter: {problem}"),
            ));
        }
        let weights = weights.into();
        let names = weights.names();
        Ok(Adapter {
            config,
            weights,
            names,
            dir,
        })
    }

    fn find(&self, module: &str, which: &str) -> Option<String> {
        [
            format!("{PEFT_PREFIX}{module}.{which}.weight"),
            format!("{PEFT_PREFIX}{module}.{which}.default.weight"),
        ]
        .into_iter()
        .find(|k| self.names.contains(k))
    }

    /// Attaches the adapter to every matching linear of `model` (unmerged), or folds it into
    /// the weights when `merge` is set. Fails if a key matches no module of the model.
    pub fn apply(&self, model: &mut Decoder, merge: bool) -> Result<usize, LoadError> {
        let scale = self.config.scale();
        let (device, dtype) = (model.device().clone(), model.dtype());
        let mut used = HashSet::new();
        for (i, block) in model.blocks.iter_mut().enumerate() {
            for (name, lin) in block.linears_mut() {
                let module = format!("model.layers.{i}.{name}");
                let (Some(ka), Some(kb)) =
                    (self.find(&module, "lora_A"), self.find(&module, "lora_B"))
                else {
                    if let Some(k) = self
                        .find(&module, "lora_A")
                        .or(self.find(&module, "lora_B"))
                    {
                        return Err(LoadError::Tensor {
                            name: k,
                            message: format!(
                                "has no matching lora_A/lora_B partner in {}",
                                self.dir
                            ),
                        });
                    }
                    continue;
                };
                // The rank is read from the file: `rank_pattern` may give a module its own.
                let load = |k: &str| -> Result<Tensor, LoadError> {
                    self.weights
                        .raw(k)?
                        .to_device(&device)
                        .and_then(|t| t.to_dtype(dtype))
                        .map_err(|e| LoadError::candle(k, e))
                };
                let (a, b) = (load(&ka)?, load(&kb)?);
                let rank = a.dims().first().copied().unwrap_or(0);
                for (key, t, want) in [
                    (&ka, &a, [rank, lin.in_features()]),
                    (&kb, &b, [lin.out_features(), rank]),
                ] {
                    if t.dims() != want {
                        return Err(LoadError::Shape {
                            name: key.clone(),
                            source_desc: self.dir.clone(),
                            expected: want.to_vec(),
                            found: t.dims().to_vec(),
                        });
                    }
                }
                lin.lora = Some(Lora { a, b, scale });
                if merge {
                    lin.merge().map_err(|e| LoadError::candle(&module, e))?;
                }
                used.insert(ka);
                used.insert(kb);
            }
        }
        if let Some(stray) = self.names.iter().find(|k| !used.contains(*k)) {
            return Err(LoadError::Tensor {
                name: stray.clone(),
                message: format!(
                    "adapter tensor matches no linear layer of this model (is {} meant for another base model{}?)",
                    self.dir,
                    self.config.base_model_name_or_path.as_deref().map(|b| format!(", e.g. {b}")).unwrap_or_default()
                ),
            });
        }
        Ok(used.len() / 2)
    }
}
