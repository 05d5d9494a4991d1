//! `XLMRobertaForTokenClassification` in candle: candle-transformers' `XLMRobertaModel`
//! plus the token-classification head transformers puts on top (a dropout, inactive at
//! inference, then the linear `classifier` from hidden size to `num_labels`).
//!
//! Weights in HF naming: `roberta.embeddings.*`, `roberta.encoder.layer.N.*`,
//! `classifier.weight` `[num_labels, hidden]`, `classifier.bias`. A checkpoint saved from
//! the bare encoder (no `roberta.` prefix) loads too. `model.safetensors` (or shards) is
//! read; PyTorch `pytorch_model.bin` is read through candle's pickle reader when no
//! safetensors file exists (the LLMLingua-2 releases ship both).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Linear, Module, VarBuilder};
use candle_transformers::models::xlm_roberta::{Config, XLMRobertaModel};
use thiserror::Error;

use crate::model::weights::SafetensorsSource;

/// What can go wrong loading or running the classifier.
#[derive(Debug, Error)]
pub enum ClassifierError {
    #[error("{path}: {problem}")]
    File { path: String, problem: String },
    #[error("{path}: {problem} (expected an XLMRobertaForTokenClassification config.json)")]
    Config { path: String, problem: String },
    #[error("{0}")]
    Candle(#[from] candle_core::Error),
}

/// A token classifier: per-token label probabilities.
pub struct TokenClassifier {
    roberta: XLMRobertaModel,
    classifier: Linear,
    pub num_labels: usize,
    /// Longest input in tokens, special tokens included (`max_position_embeddings - 2`:
    /// RoBERTa positions start after the padding index).
    pub max_len: usize,
    device: Device,
}

fn file_err(path: &Path, problem: impl std::fmt::Display) -> ClassifierError {
    ClassifierError::File {
        path: path.display().to_string(),
        problem: problem.to_string(),
    }
}

/// Parses `config.json`, filling the keys transformers may leave out with its defaults.
fn read_config(path: &Path) -> Result<(Config, usize), ClassifierError> {
    let bad = |problem: String| ClassifierError::Config {
        path: path.display().to_string(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_err(path, e))?;
    let mut v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| bad("not a JSON object".into()))?;
    let defaults = [
        ("layer_norm_eps", serde_json::json!(1e-5)),
        ("attention_probs_dropout_prob", serde_json::json!(0.1)),
        ("hidden_dropout_prob", serde_json::json!(0.1)),
        ("position_embedding_type", serde_json::json!("absolute")),
        ("hidden_act", serde_json::json!("gelu")),
        ("type_vocab_size", serde_json::json!(1)),
        ("pad_token_id", serde_json::json!(1)),
    ];
    for (k, d) in defaults {
        if obj.get(k).is_none_or(|x| x.is_null()) {
            obj.insert(k.to_string(), d);
        }
    }
    if obj.get("position_embedding_type").and_then(|p| p.as_str()) != Some("absolute") {
        return Err(bad("only absolute position embeddings are supported".into()));
    }
    let num_labels = obj
        .get("id2label")
        .and_then(|m| m.as_object())
        .map_or(2, |m| m.len());
    let cfg: Config = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
    Ok((cfg, num_labels))
}

/// All tensors of the checkpoint in `dir`, on the CPU.
fn read_weights(dir: &Path) -> Result<HashMap<String, Tensor>, ClassifierError> {
    let has_st =
        dir.join("model.safetensors").exists() || dir.join("model.safetensors.index.json").exists();
    let bin = dir.join("pytorch_model.bin");
    if !has_st && bin.exists() {
        let all = candle_core::pickle::read_all(&bin)
            .map_err(|e| file_err(&bin, format!("cannot read the PyTorch checkpoint: {e}")))?;
        return Ok(all.into_iter().collect());
    }
    let src = SafetensorsSource::open_dir(dir).map_err(|e| file_err(dir, e))?;
    let names: Vec<String> = src.names().cloned().collect();
    let mut out = HashMap::with_capacity(names.len());
    for n in names {
        let t = src.raw(&n).map_err(|e| file_err(dir, e))?;
        out.insert(n, t);
    }
    Ok(out)
}

impl TokenClassifier {
    /// Loads `dir/config.json` and the weights beside it onto `device` as `dtype`.
    pub fn load(dir: &Path, device: &Device, dtype: DType) -> Result<Self, ClassifierError> {
        let (cfg, num_labels) = read_config(&dir.join("config.json"))?;
        let mut tensors = read_weights(dir)?;
        // Old checkpoints name LayerNorm parameters gamma/beta; transformers renames them.
        let renamed: Vec<(String, String)> = tensors
            .keys()
            .filter_map(|k| {
                let new = k
                    .strip_suffix(".gamma")
                    .map(|b| format!("{b}.weight"))
                    .or_else(|| k.strip_suffix(".beta").map(|b| format!("{b}.bias")))?;
                Some((k.clone(), new))
            })
            .collect();
        for (old, new) in renamed {
            if let Some(t) = tensors.remove(&old) {
                tensors.insert(new, t);
            }
        }
        let prefixed = tensors.contains_key("roberta.embeddings.word_embeddings.weight");
        let vb = VarBuilder::from_tensors(tensors, dtype, device);
        let enc_vb = if prefixed {
            vb.pp("roberta")
        } else {
            vb.clone()
        };
        let roberta = XLMRobertaModel::new(&cfg, enc_vb)?;
        let classifier = candle_nn::linear(cfg.hidden_size, num_labels, vb.pp("classifier"))?;
        Ok(Self {
            roberta,
            classifier,
            num_labels,
            max_len: cfg.max_position_embeddings.saturating_sub(2),
            device: device.clone(),
        })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Label probabilities `[b, t, num_labels]` (f32) for right-padded `ids: [b, t]` (u32)
    /// with `mask: [b, t]` (1 = real token).
    pub fn probs(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor, ClassifierError> {
        let token_types = ids.zeros_like()?;
        let hidden = self
            .roberta
            .forward(ids, mask, &token_types, None, None, None)?;
        let logits = self.classifier.forward(&hidden)?.to_dtype(DType::F32)?;
        Ok(candle_nn::ops::softmax(&logits, D::Minus1)?)
    }
}
