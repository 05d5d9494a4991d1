//! Writing training results: PEFT adapters, HF-layout models, tokenizer files. Every file is
//! written to a temporary name and renamed, so a crash never leaves a half-written output.

use super::params::{LoraSpec, Trainable};
use crate::model::config::ModelConfig;
use crate::model::decoder::Decoder;
use crate::model::tokenizer::ChatTokenizer;
use candle_core::{DType, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// Writes `bytes` to `path` atomically (temp file in the same dir, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Saves tensors as safetensors atomically.
pub fn save_tensors(tensors: &HashMap<String, Tensor>, path: &Path) -> anyhow::Result<()> {
    let tmp = path.with_extension("safetensors.tmp");
    candle_core::safetensors::save(tensors, &tmp)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// PEFT's `adapter_config.json` for a LoRA trained here.
pub fn adapter_config(spec: &LoraSpec, base: &str) -> serde_json::Value {
    let mut targets = spec.targets.clone();
    targets.sort();
    serde_json::json!({
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "r": spec.r,
        "lora_alpha": spec.alpha,
        "lora_dropout": spec.dropout,
        "target_modules": targets,
        "bias": "none",
        "fan_in_fan_out": false,
        "use_rslora": false,
        "use_dora": false,
        "inference_mode": true,
        "init_lora_weights": true,
        "modules_to_save": null,
        "base_model_name_or_path": base,
        "revision": null,
    })
}

/// Saves the trainable LoRA tensors as a PEFT adapter in `dir`.
pub fn save_adapter(t: &Trainable, spec: &LoraSpec, base: &str, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tensors: HashMap<String, Tensor> = t
        .params
        .iter()
        .map(|(n, v)| Ok((n.clone(), v.as_tensor().to_dtype(DType::F32)?)))
        .collect::<candle_core::Result<_>>()?;
    save_tensors(&tensors, &dir.join("adapter_model.safetensors"))?;
    let cfg = serde_json::to_string_pretty(&adapter_config(spec, base))?;
    write_atomic(&dir.join("adapter_config.json"), cfg.as_bytes())?;
    Ok(())
}

/// Every weight of `model` in HF names (LoRA deltas must be merged first).
pub fn model_tensors(
    model: &Decoder,
    dtype: DType,
) -> candle_core::Result<HashMap<String, Tensor>> {
    let mut out = HashMap::new();
    let cast = |t: &Tensor| t.to_dtype(dtype);
    out.insert("model.embed_tokens.weight".into(), cast(&model.embed)?);
    for (i, block) in model.blocks.clone().iter_mut().enumerate() {
        let p = format!("model.layers.{i}");
        out.insert(
            format!("{p}.input_layernorm.weight"),
            cast(&block.input_norm)?,
        );
        out.insert(
            format!("{p}.post_attention_layernorm.weight"),
            cast(&block.post_norm)?,
        );
        for (name, lin) in block.linears_mut() {
            lin.merge()?;
            out.insert(format!("{p}.{name}.weight"), cast(&lin.weight)?);
            if let Some(b) = &lin.bias {
                out.insert(format!("{p}.{name}.bias"), cast(b)?);
            }
        }
    }
    out.insert("model.norm.weight".into(), cast(&model.norm)?);
    if !model.cfg.tie_word_embeddings {
        out.insert("lm_head.weight".into(), cast(&model.lm_head.weight)?);
    }
    Ok(out)
}

/// Saves a whole model in HF layout: `config.json`, `model.safetensors`, tokenizer files.
pub fn save_model(
    model: &Decoder,
    tok: &ChatTokenizer,
    dtype: DType,
    dir: &Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    save_tensors(
        &model_tensors(model, dtype)?,
        &dir.join("model.safetensors"),
    )?;
    let mut cfg: ModelConfig = model.cfg.clone();
    cfg.saved_dtype = Some(
        match dtype {
            DType::BF16 => "bfloat16",
            DType::F16 => "float16",
            _ => "float32",
        }
        .into(),
    );
    write_atomic(
        &dir.join("config.json"),
        serde_json::to_string_pretty(&cfg.to_json())?.as_bytes(),
    )?;
    save_tokenizer(tok, dir)
}

/// Writes `tokenizer.json` and a `tokenizer_config.json` with the special tokens and template.
pub fn save_tokenizer(tok: &ChatTokenizer, dir: &Path) -> anyhow::Result<()> {
    let json = tok
        .inner
        .to_string(true)
        .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    write_atomic(&dir.join("tokenizer.json"), json.as_bytes())?;
    let cfg = serde_json::json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "eos_token": tok.eos_token,
        "bos_token": tok.bos_token,
        "add_bos_token": tok.add_bos,
        "chat_template": tok.chat_template,
    });
    write_atomic(
        &dir.join("tokenizer_config.json"),
        serde_json::to_string_pretty(&cfg)?.as_bytes(),
    )?;
    Ok(())
}
