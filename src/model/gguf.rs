//! GGUF checkpoints (llama.cpp's format) loaded into the same decoder.
//!
//! candle's `quantized_llama` returns only the last position's logits, which cannot serve
//! per-token scoring, so we dequantize each tensor at load, rename it to its HF name and
//! undo llama.cpp's Q/K row permutation (its RoPE is interleaved, ours is half-rotation).

use super::config::{Arch, ModelConfig, RopeScaling};
use super::tokenizer::ChatTokenizer;
use super::weights::{LoadError, MapSource};
use candle_core::quantized::{gguf_file, tokenizer::TokenizerFromGguf};
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::Path;

/// A GGUF file turned into HF-named f32 tensors, a config and (when present) a tokenizer.
pub struct GgufModel {
    pub cfg: ModelConfig,
    pub tensors: MapSource,
    pub tokenizer: Option<ChatTokenizer>,
}

fn meta<'a>(ct: &'a gguf_file::Content, key: &str) -> Option<&'a gguf_file::Value> {
    ct.metadata.get(key)
}

fn meta_usize(ct: &gguf_file::Content, key: &str, path: &Path) -> Result<usize, LoadError> {
    meta(ct, key)
        .and_then(|v| v.to_u64().ok().or_else(|| v.to_u32().ok().map(u64::from)))
        .map(|v| v as usize)
        .ok_or_else(|| {
            LoadError::file(
                path,
                format!("GGUF metadata `{key}` is missing or not an integer"),
            )
        })
}

fn meta_f64(ct: &gguf_file::Content, key: &str) -> Option<f64> {
    meta(ct, key).and_then(|v| v.to_f32().ok().map(f64::from).or_else(|| v.to_f64().ok()))
}

/// HF name of a GGUF tensor, or `None` for tensors we do not use.
fn hf_name(gguf: &str) -> Option<String> {
    let fixed = match gguf {
        "token_embd.weight" => Some("model.embed_tokens.weight"),
        "output_norm.weight" => Some("model.norm.weight"),
        "output.weight" => Some("lm_head.weight"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(f.to_string());
    }
    let rest = gguf.strip_prefix("blk.")?;
    let (layer, name) = rest.split_once('.')?;
    let (module, kind) = name.rsplit_once('.')?;
    let hf = match module {
        "attn_norm" => "input_layernorm",
        "ffn_norm" => "post_attention_layernorm",
        "attn_q" => "self_attn.q_proj",
        "attn_k" => "self_attn.k_proj",
        "attn_v" => "self_attn.v_proj",
        "attn_output" => "self_attn.o_proj",
        "ffn_gate" => "mlp.gate_proj",
        "ffn_up" => "mlp.up_proj",
        "ffn_down" => "mlp.down_proj",
        _ => return None,
    };
    Some(format!("model.layers.{layer}.{hf}.{kind}"))
}

/// Inverse of llama.cpp's `permute`: rows `(head, d/2, 2)` back to `(head, 2, d/2)`.
fn unpermute(w: &Tensor, n_head: usize) -> candle_core::Result<Tensor> {
    let dims = w.dims().to_vec();
    let rows = dims[0];
    let rest: usize = dims[1..].iter().product();
    w.reshape((n_head, rows / n_head / 2, 2, rest))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape(dims)
}

/// Pre-tokenizers candle's GGUF helper gets wrong: it falls back to GPT-2 with a prefix
/// space, while llama.cpp never adds one, and SmolLM2 (`smollm`) splits digits first.
fn gpt2_pre_tokenizer(pre: Option<&str>) -> Option<tokenizers::PreTokenizerWrapper> {
    use tokenizers::pre_tokenizers::{byte_level::ByteLevel, digits::Digits, sequence::Sequence};
    let byte_level = ByteLevel::new(false, true, true);
    match pre {
        Some("smollm") => {
            Some(Sequence::new(vec![Digits::new(true).into(), byte_level.into()]).into())
        }
        Some("qwen2" | "llama3" | "smaug-bpe" | "lfm2") => None,
        _ => Some(byte_level.into()),
    }
}

impl GgufModel {
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        let mut file = std::fs::File::open(path).map_err(|e| LoadError::file(path, e))?;
        let ct = gguf_file::Content::read(&mut file)
            .map_err(|e| LoadError::file(path, format!("not a valid GGUF file: {e}")))?;
        let arch_name = meta(&ct, "general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        let arch = match arch_name.as_str() {
            "llama" => Arch::Llama,
            "qwen2" => Arch::Qwen2,
            other => {
                return Err(LoadError::file(
                    path,
                    format!(
                        "GGUF architecture `{other}` is not supported (supported: llama, qwen2)"
                    ),
                ))
            }
        };
        let key = |k: &str| format!("{arch_name}.{k}");
        let hidden = meta_usize(&ct, &key("embedding_length"), path)?;
        let heads = meta_usize(&ct, &key("attention.head_count"), path)?;
        let kv_heads = meta_usize(&ct, &key("attention.head_count_kv"), path).unwrap_or(heads);
        let tokens_len = meta(&ct, "tokenizer.ggml.tokens")
            .and_then(|v| v.to_vec().ok())
            .map(|v| v.len());
        let vocab = match meta_usize(&ct, &key("vocab_size"), path) {
            Ok(v) => v,
            Err(e) => tokens_len.ok_or(e)?,
        };

        let mut tensors = HashMap::new();
        let mut rope_freqs = None;
        for name in ct.tensor_infos.keys() {
            let q = ct
                .tensor(&mut file, name, &Device::Cpu)
                .map_err(|e| LoadError::file(path, format!("tensor `{name}`: {e}")))?;
            let t = q
                .dequantize(&Device::Cpu)
                .map_err(|e| LoadError::candle(name, e))?;
            if name == "rope_freqs.weight" {
                rope_freqs = Some(t.to_vec1::<f32>().map_err(|e| LoadError::candle(name, e))?);
                continue;
            }
            let Some(hf) = hf_name(name) else { continue };
            let t = match (arch, name.contains("attn_q."), name.contains("attn_k.")) {
                (Arch::Llama, true, _) => unpermute(&t, heads),
                (Arch::Llama, _, true) => unpermute(&t, kv_heads),
                _ => Ok(t),
            }
            .map_err(|e| LoadError::candle(name, e))?;
            tensors.insert(hf, t);
        }

        let (bos, eos) = special_ids(&ct);
        let cfg = ModelConfig {
            arch,
            vocab_size: vocab,
            hidden_size: hidden,
            intermediate_size: meta_usize(&ct, &key("feed_forward_length"), path)?,
            num_hidden_layers: meta_usize(&ct, &key("block_count"), path)?,
            num_attention_heads: heads,
            num_key_value_heads: kv_heads,
            head_dim: meta_usize(&ct, &key("attention.key_length"), path).unwrap_or(hidden / heads),
            rms_norm_eps: meta_f64(&ct, &key("attention.layer_norm_rms_epsilon")).unwrap_or(1e-5),
            rope_theta: meta_f64(&ct, &key("rope.freq_base")).unwrap_or(10_000.0),
            rope_scaling: rope_freqs
                .map(|f| RopeScaling::Factors(f.into_iter().map(f64::from).collect())),
            max_position_embeddings: meta_usize(&ct, &key("context_length"), path).unwrap_or(4096),
            tie_word_embeddings: !tensors.contains_key("lm_head.weight"),
            attention_bias: tensors.contains_key("model.layers.0.self_attn.q_proj.bias"),
            mlp_bias: tensors.contains_key("model.layers.0.mlp.up_proj.bias"),
            bos_token_id: bos,
            eos_token_ids: eos.clone(),
            saved_dtype: None,
        };
        let tokenizer = Self::tokenizer(&ct, bos, &eos);
        Ok(GgufModel {
            cfg,
            tensors: MapSource {
                tensors,
                desc: path.display().to_string(),
            },
            tokenizer,
        })
    }

    /// Only the tokenizer of the GGUF file at `path`, from its metadata (no tensor is read,
    /// any architecture); `None` when the file has no tokenizer metadata.
    pub fn read_tokenizer(path: &Path) -> Result<Option<ChatTokenizer>, LoadError> {
        let mut file = std::fs::File::open(path).map_err(|e| LoadError::file(path, e))?;
        let ct = gguf_file::Content::read(&mut file)
            .map_err(|e| LoadError::file(path, format!("not a valid GGUF file: {e}")))?;
        let (bos, eos) = special_ids(&ct);
        Ok(Self::tokenizer(&ct, bos, &eos))
    }

    /// Builds the tokenizer from `tokenizer.ggml.*` metadata (candle's GGUF helper).
    fn tokenizer(
        ct: &gguf_file::Content,
        bos_id: Option<u32>,
        eos_ids: &[u32],
    ) -> Option<ChatTokenizer> {
        let mut inner = tokenizers::Tokenizer::from_gguf(ct).ok()?;
        let pre = meta(ct, "tokenizer.ggml.pre")
            .and_then(|v| v.to_string().ok())
            .map(String::as_str);
        if let Some(p) = gpt2_pre_tokenizer(pre) {
            inner.with_pre_tokenizer(Some(p));
        }
        let token = |id: Option<u32>| id.and_then(|i| inner.id_to_token(i));
        let eos = token(eos_ids.first().copied());
        let bos = token(bos_id);
        let template = meta(ct, "tokenizer.chat_template")
            .and_then(|v| v.to_string().ok())
            .cloned();
        let add_bos = meta(ct, "tokenizer.ggml.add_bos_token")
            .and_then(|v| v.to_bool().ok())
            .unwrap_or(false);
        Some(ChatTokenizer::new(
            inner, eos, bos, template, add_bos, eos_ids,
        ))
    }
}

/// BOS id and EOS ids from `tokenizer.ggml.*` metadata.
fn special_ids(ct: &gguf_file::Content) -> (Option<u32>, Vec<u32>) {
    let id = |k: &str| meta(ct, k).and_then(|v| v.to_u32().ok());
    (
        id("tokenizer.ggml.bos_token_id"),
        id("tokenizer.ggml.eos_token_id").into_iter().collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_hf() {
        assert_eq!(
            hf_name("blk.3.attn_q.weight").as_deref(),
            Some("model.layers.3.self_attn.q_proj.weight")
        );
        assert_eq!(
            hf_name("blk.0.ffn_norm.weight").as_deref(),
            Some("model.layers.0.post_attention_layernorm.weight")
        );
        assert_eq!(
            hf_name("token_embd.weight").as_deref(),
            Some("model.embed_tokens.weight")
        );
        assert_eq!(hf_name("rope_freqs.weight"), None);
    }

    #[test]
    fn unpermute_inverts_llama_cpp_permute() {
        // llama.cpp: w.reshape(n_head, 2, d/2, in).swapaxes(1, 2).reshape(w.shape)
        let (n_head, d, inp) = (2usize, 4usize, 3usize);
        let w = Tensor::arange(0f32, (n_head * d * inp) as f32, &Device::Cpu)
            .unwrap()
            .reshape((n_head * d, inp))
            .unwrap();
        let permuted = w
            .reshape((n_head, 2, d / 2, inp))
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .contiguous()
            .unwrap()
            .reshape((n_head * d, inp))
            .unwrap();
        let back = unpermute(&permuted, n_head).unwrap();
        assert_eq!(back.to_vec2::<f32>().unwrap(), w.to_vec2::<f32>().unwrap());
    }
}
