//! Fresh weights for training from scratch (`train --init CONFIG.json`): normal(0, 0.02)
//! matrices (default N(0, 1) embeddings with a tied head blow the loss up), unit norms, zero
//! biases, all from one seed.

use crate::model::config::ModelConfig;
use crate::model::weights::MapSource;
use candle_core::{DType, Device, Result, Tensor};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use std::collections::HashMap;

/// Initial tensors, in HF names, for a model of shape `cfg`.
pub fn init_weights(cfg: &ModelConfig, std: f64, seed: u64) -> Result<MapSource> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, std as f32).map_err(candle_core::Error::wrap)?;
    let mut tensors = HashMap::new();
    let mut matrix =
        |name: String, rows: usize, cols: usize, rng: &mut rand_chacha::ChaCha8Rng| -> Result<()> {
            let v: Vec<f32> = (0..rows * cols).map(|_| normal.sample(rng)).collect();
            tensors.insert(name, Tensor::from_vec(v, (rows, cols), &Device::Cpu)?);
            Ok(())
        };
    let (h, im) = (cfg.hidden_size, cfg.intermediate_size);
    let (q, kv) = (
        cfg.num_attention_heads * cfg.head_dim,
        cfg.num_key_value_heads * cfg.head_dim,
    );
    matrix(
        "model.embed_tokens.weight".into(),
        cfg.vocab_size,
        h,
        &mut rng,
    )?;
    for i in 0..cfg.num_hidden_layers {
        let p = format!("model.layers.{i}");
        for (name, rows, cols) in [
            ("self_attn.q_proj", q, h),
            ("self_attn.k_proj", kv, h),
            ("self_attn.v_proj", kv, h),
            ("self_attn.o_proj", h, q),
            ("mlp.gate_proj", im, h),
            ("mlp.up_proj", im, h),
            ("mlp.down_proj", h, im),
        ] {
            matrix(format!("{p}.{name}.weight"), rows, cols, &mut rng)?;
        }
    }
    if !cfg.tie_word_embeddings {
        matrix("lm_head.weight".into(), cfg.vocab_size, h, &mut rng)?;
    }
    let ones = |n: usize| Tensor::ones(n, DType::F32, &Device::Cpu);
    let zeros = |n: usize| Tensor::zeros(n, DType::F32, &Device::Cpu);
    for i in 0..cfg.num_hidden_layers {
        let p = format!("model.layers.{i}");
        tensors.insert(format!("{p}.input_layernorm.weight"), ones(h)?);
        tensors.insert(format!("{p}.post_attention_layernorm.weight"), ones(h)?);
        if cfg.attention_bias {
            for (name, n) in [("q_proj", q), ("k_proj", kv), ("v_proj", kv)] {
                tensors.insert(format!("{p}.self_attn.{name}.bias"), zeros(n)?);
            }
        }
        if cfg.mlp_bias {
            for (name, n) in [("gate_proj", im), ("up_proj", im), ("down_proj", h)] {
                tensors.insert(format!("{p}.mlp.{name}.bias"), zeros(n)?);
            }
        }
    }
    tensors.insert("model.norm.weight".into(), ones(h)?);
    Ok(MapSource {
        tensors,
        desc: "fresh initialisation".into(),
    })
}
