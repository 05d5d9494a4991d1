//! `config.json` parsing for the decoder families we support (Qwen2 and LLaMA).
//!
//! Two dialects exist in the wild: the classic one (`rope_theta`, `rope_scaling`,
//! `torch_dtype`) and the one transformers 5 writes (`rope_parameters`, `dtype`). Both are
//! read into one [`ModelConfig`], so nothing downstream knows which dialect a file used.

use serde_json::{json, Map, Value};
use std::path::Path;

/// The decoder families this runtime implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Qwen2 / Qwen2.5: biases on q, k and v.
    Qwen2,
    /// LLaMA 2/3.x, SmolLM2 and other `LlamaForCausalLM` checkpoints.
    Llama,
}

/// Architectures (HF class names) we accept, for error messages.
pub const SUPPORTED_ARCHITECTURES: &[&str] = &["Qwen2ForCausalLM", "LlamaForCausalLM"];

impl Arch {
    fn from_names(architectures: Option<&str>, model_type: Option<&str>) -> Option<Arch> {
        match (architectures, model_type) {
            (Some("Qwen2ForCausalLM"), _) | (None, Some("qwen2")) => Some(Arch::Qwen2),
            (Some("LlamaForCausalLM"), _) | (None, Some("llama")) => Some(Arch::Llama),
            _ => None,
        }
    }

    /// The HF class name written back into `config.json`.
    pub fn hf_class(self) -> &'static str {
        match self {
            Arch::Qwen2 => "Qwen2ForCausalLM",
            Arch::Llama => "LlamaForCausalLM",
        }
    }

    fn model_type(self) -> &'static str {
        match self {
            Arch::Qwen2 => "qwen2",
            Arch::Llama => "llama",
        }
    }
}

/// RoPE frequency scaling schemes.
#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    /// LLaMA-3.x "llama3" scaling: low frequencies divided by `factor`, high ones kept,
    /// a smooth ramp in between.
    Llama3 {
        factor: f64,
        low_freq_factor: f64,
        high_freq_factor: f64,
        original_max_position_embeddings: usize,
    },
    /// Plain position interpolation: every frequency divided by `factor`.
    Linear { factor: f64 },
    /// One divisor per frequency, as GGUF files store LLaMA-3 scaling (`rope_freqs`).
    Factors(Vec<f64>),
}

/// Everything the decoder needs to know about a checkpoint's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub arch: Arch,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub rope_scaling: Option<RopeScaling>,
    pub max_position_embeddings: usize,
    pub tie_word_embeddings: bool,
    /// Bias on the q, k, v projections (true for Qwen2).
    pub attention_bias: bool,
    /// Bias on the MLP projections (rare; some LLaMA variants).
    pub mlp_bias: bool,
    pub bos_token_id: Option<u32>,
    pub eos_token_ids: Vec<u32>,
    /// The dtype the weights were saved in, if the file says.
    pub saved_dtype: Option<String>,
}

/// A `config.json` that we cannot use, with the file and the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not valid JSON ({source})")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: unsupported architecture `{found}`; supported: {}", SUPPORTED_ARCHITECTURES.join(", "))]
    Unsupported { path: String, found: String },
    #[error("{path}: field `{field}`: {problem}")]
    Field {
        path: String,
        field: String,
        problem: String,
    },
}

struct Reader<'a> {
    path: &'a str,
    obj: &'a Map<String, Value>,
}

impl<'a> Reader<'a> {
    fn err(&self, field: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::Field {
            path: self.path.to_string(),
            field: field.to_string(),
            problem: problem.into(),
        }
    }

    fn usize_opt(&self, field: &str) -> Result<Option<usize>, ConfigError> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
                self.err(field, format!("expected a non-negative integer, got {v}"))
            }),
        }
    }

    fn usize(&self, field: &str) -> Result<usize, ConfigError> {
        match self.usize_opt(field)? {
            Some(0) => Err(self.err(field, "must be greater than zero")),
            Some(n) => Ok(n),
            None => Err(self.err(field, "missing")),
        }
    }

    fn f64_opt(&self, field: &str) -> Result<Option<f64>, ConfigError> {
        f64_in(self.obj, field).map_err(|p| self.err(field, p))
    }

    fn bool_or(&self, field: &str, default: bool) -> Result<bool, ConfigError> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.err(field, format!("expected true or false, got {v}"))),
        }
    }

    fn token_ids(&self, field: &str) -> Result<Vec<u32>, ConfigError> {
        token_ids(self.obj.get(field)).map_err(|p| self.err(field, p))
    }
}

fn f64_in(obj: &Map<String, Value>, field: &str) -> Result<Option<f64>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| format!("expected a number, got {v}")),
    }
}

/// Reads `eos_token_id`-style fields: absent, one integer, or a list of integers.
pub fn token_ids(v: Option<&Value>) -> Result<Vec<u32>, String> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_u64()
                    .map(|n| n as u32)
                    .ok_or_else(|| format!("expected token ids, got {i}"))
            })
            .collect(),
        Some(v) => v
            .as_u64()
            .map(|n| vec![n as u32])
            .ok_or_else(|| format!("expected a token id or a list of them, got {v}")),
    }
}

impl ModelConfig {
    /// Reads and validates `config.json` at `path`.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::from_json_str(&text, &shown)
    }

    /// Parses a `config.json` text; `path` is only used in error messages.
    pub fn from_json_str(text: &str, path: &str) -> Result<Self, ConfigError> {
        let value: Value = serde_json::from_str(text).map_err(|source| ConfigError::Json {
            path: path.to_string(),
            source,
        })?;
        let Some(obj) = value.as_object() else {
            return Err(ConfigError::Field {
                path: path.to_string(),
                field: "(top level)".into(),
                problem: "expected a JSON object".into(),
            });
        };
        Self::from_map(obj, path)
    }

    fn from_map(obj: &Map<String, Value>, path: &str) -> Result<Self, ConfigError> {
        let r = Reader { path, obj };
        let class = obj
            .get("architectures")
            .and_then(|a| a.as_array())
            .and_then(|a| a.first())
            .and_then(|a| a.as_str());
        let model_type = obj.get("model_type").and_then(|m| m.as_str());
        let arch = Arch::from_names(class, model_type).ok_or_else(|| ConfigError::Unsupported {
            path: path.to_string(),
            found: class.or(model_type).unwrap_or("(none given)").to_string(),
        })?;

        let hidden_size = r.usize("hidden_size")?;
        let num_attention_heads = r.usize("num_attention_heads")?;
        let num_key_value_heads = r
            .usize_opt("num_key_value_heads")?
            .unwrap_or(num_attention_heads);
        if num_key_value_heads == 0 || num_attention_heads % num_key_value_heads != 0 {
            return Err(r.err(
                "num_key_value_heads",
                format!("{num_key_value_heads} does not divide num_attention_heads = {num_attention_heads}"),
            ));
        }
        let head_dim = match r.usize_opt("head_dim")? {
            Some(d) => d,
            None if hidden_size % num_attention_heads == 0 => hidden_size / num_attention_heads,
            None => {
                return Err(r.err(
                    "hidden_size",
                    format!("{hidden_size} is not a multiple of num_attention_heads = {num_attention_heads}"),
                ))
            }
        };
        if head_dim % 2 != 0 {
            return Err(r.err("head_dim", format!("{head_dim} must be even for RoPE")));
        }

        // transformers 5 moves rope_theta and the scaling keys into `rope_parameters`.
        let rope_params = obj.get("rope_parameters").and_then(|v| v.as_object());
        let rope_theta = match rope_params {
            Some(p) => {
                f64_in(p, "rope_theta").map_err(|e| r.err("rope_parameters.rope_theta", e))?
            }
            None => None,
        }
        .or(r.f64_opt("rope_theta")?)
        .unwrap_or(10_000.0);
        let scaling_obj = obj
            .get("rope_scaling")
            .and_then(|v| v.as_object())
            .or(rope_params);
        let rope_scaling = match scaling_obj {
            Some(s) => parse_rope_scaling(s).map_err(|p| r.err("rope_scaling", p))?,
            None => None,
        };

        let eps_field = if obj.contains_key("rms_norm_eps") {
            "rms_norm_eps"
        } else {
            "layer_norm_eps"
        };
        let attention_bias = match arch {
            Arch::Qwen2 => r.bool_or("attention_bias", true)?,
            Arch::Llama => r.bool_or("attention_bias", false)?,
        };
        let saved_dtype = obj
            .get("dtype")
            .or(obj.get("torch_dtype"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        Ok(ModelConfig {
            arch,
            vocab_size: r.usize("vocab_size")?,
            hidden_size,
            intermediate_size: r.usize("intermediate_size")?,
            num_hidden_layers: r.usize("num_hidden_layers")?,
            num_attention_heads,
            num_key_value_heads,
            head_dim,
            rms_norm_eps: r.f64_opt(eps_field)?.unwrap_or(1e-6),
            rope_theta,
            rope_scaling,
            max_position_embeddings: r.usize_opt("max_position_embeddings")?.unwrap_or(4096),
            tie_word_embeddings: r.bool_or("tie_word_embeddings", false)?,
            attention_bias,
            mlp_bias: r.bool_or("mlp_bias", false)?,
            bos_token_id: r.token_ids("bos_token_id")?.first().copied(),
            eos_token_ids: r.token_ids("eos_token_id")?,
            saved_dtype,
        })
    }

    /// The classic-dialect `config.json` for this model (what `save` writes).
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "architectures": [self.arch.hf_class()],
            "model_type": self.arch.model_type(),
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "max_position_embeddings": self.max_position_embeddings,
            "tie_word_embeddings": self.tie_word_embeddings,
            "attention_bias": self.attention_bias,
            "mlp_bias": self.mlp_bias,
            "hidden_act": "silu",
            "torch_dtype": self.saved_dtype.clone().unwrap_or_else(|| "float32".into()),
        });
        if let Some(bos) = self.bos_token_id {
            v["bos_token_id"] = json!(bos);
        }
        match self.eos_token_ids.as_slice() {
            [] => {}
            [one] => v["eos_token_id"] = json!(one),
            many => v["eos_token_id"] = json!(many),
        }
        v["rope_scaling"] = match &self.rope_scaling {
            // Per-frequency divisors have no HF spelling; such models come from GGUF files.
            None | Some(RopeScaling::Factors(_)) => Value::Null,
            Some(RopeScaling::Linear { factor }) => {
                json!({"rope_type": "linear", "factor": factor})
            }
            Some(RopeScaling::Llama3 {
                factor,
                low_freq_factor,
                high_freq_factor,
                original_max_position_embeddings,
            }) => json!({
                "rope_type": "llama3", "factor": factor, "low_freq_factor": low_freq_factor,
                "high_freq_factor": high_freq_factor,
                "original_max_position_embeddings": original_max_position_embeddings,
            }),
        };
        v
    }

    /// Number of query heads sharing one key/value head (GQA).
    pub fn kv_groups(&self) -> usize {
        self.num_attention_heads / self.num_key_value_heads
    }
}

fn parse_rope_scaling(s: &Map<String, Value>) -> Result<Option<RopeScaling>, String> {
    let kind = s
        .get("rope_type")
        .or(s.get("type"))
        .and_then(|v| v.as_str())
        .unwrap_or("default");
    let factor = || -> Result<f64, String> {
        f64_in(s, "factor")?.ok_or_else(|| "`factor` is missing".to_string())
    };
    match kind {
        "default" => Ok(None),
        "linear" => Ok(Some(RopeScaling::Linear { factor: factor()? })),
        "llama3" => Ok(Some(RopeScaling::Llama3 {
            factor: factor()?,
            low_freq_factor: f64_in(s, "low_freq_factor")?.unwrap_or(1.0),
            high_freq_factor: f64_in(s, "high_freq_factor")?.unwrap_or(4.0),
            original_max_position_embeddings: s
                .get("original_max_position_embeddings")
                .and_then(|v| v.as_u64())
                .ok_or("`original_max_position_embeddings` is missing")?
                as usize,
        })),
        other => Err(format!(
            "rope type `{other}` is not supported (supported: default, linear, llama3)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QWEN: &str = r#"{"architectures":["Qwen2ForCausalLM"],"hidden_size":64,"intermediate_size":128,
        "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":100,
        "rms_norm_eps":1e-6,"rope_theta":10000.0,"max_position_embeddings":128,
        "tie_word_embeddings":false,"torch_dtype":"float32","eos_token_id":[5,6]}"#;

    #[test]
    fn classic_qwen2() {
        let c = ModelConfig::from_json_str(QWEN, "config.json").unwrap();
        assert_eq!(c.arch, Arch::Qwen2);
        assert_eq!(c.head_dim, 16);
        assert_eq!(c.kv_groups(), 2);
        assert!(c.attention_bias);
        assert_eq!(c.eos_token_ids, vec![5, 6]);
        assert_eq!(c.saved_dtype.as_deref(), Some("float32"));
    }

    #[test]
    fn transformers5_dialect_llama3_scaling() {
        let text = r#"{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,
          "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":1,"vocab_size":100,
          "dtype":"bfloat16","rope_parameters":{"rope_type":"llama3","rope_theta":500000.0,"factor":8.0,
          "low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":32}}"#;
        let c = ModelConfig::from_json_str(text, "config.json").unwrap();
        assert_eq!(c.rope_theta, 500000.0);
        assert!(!c.attention_bias);
        assert_eq!(c.saved_dtype.as_deref(), Some("bfloat16"));
        assert!(matches!(
            c.rope_scaling,
            Some(RopeScaling::Llama3 {
                original_max_position_embeddings: 32,
                ..
            })
        ));
        // Round trip through the classic dialect keeps every field.
        let again = ModelConfig::from_json_str(&c.to_json().to_string(), "x").unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn unsupported_architecture_names_it_and_lists_supported() {
        let text = QWEN.replace("Qwen2ForCausalLM", "GPT2LMHeadModel");
        let e = ModelConfig::from_json_str(&text, "m/config.json")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("GPT2LMHeadModel") && e.contains("LlamaForCausalLM"),
            "{e}"
        );
    }

    #[test]
    fn field_errors_name_file_and_field() {
        let text = QWEN.replace(r#""hidden_size":64,"#, "");
        let e = ModelConfig::from_json_str(&text, "m/config.json")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "m/config.json: field `hidden_size`: missing");
        let text = QWEN.replace(r#""num_key_value_heads":2"#, r#""num_key_value_heads":3"#);
        let e = ModelConfig::from_json_str(&text, "c")
            .unwrap_err()
            .to_string();
        assert!(e.contains("num_key_value_heads"), "{e}");
        let e = ModelConfig::from_json_str("{not json", "c")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c: not valid JSON"), "{e}");
    }
}
