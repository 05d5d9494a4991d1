//! Which tensors train: LoRA A/B pairs on chosen linears, or every weight (full fine-tuning).
//! Trainable tensors become candle `Var`s inside the decoder itself, so the forward pass
//! needs no special mode beyond differentiable kernels.

use crate::model::decoder::{Decoder, LINEAR_NAMES};
use crate::model::linear::{Linear, Lora};
use crate::model::ops::Kernels;
use candle_core::{DType, Result, Tensor, Var};
use rand::{Rng, SeedableRng};

/// LoRA settings (PEFT names and defaults; TokenSkip: r 8, alpha 16, all linear layers).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoraSpec {
    pub r: usize,
    pub alpha: f64,
    pub dropout: f64,
    /// Module names (`q_proj`, ..., `down_proj`); all seven by default.
    pub targets: Vec<String>,
}

impl Default for LoraSpec {
    fn default() -> Self {
        LoraSpec {
            r: 8,
            alpha: 16.0,
            dropout: 0.0,
            targets: LINEAR_NAMES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Named trainable variables, in a fixed order (the order of optimizer state and saving).
pub struct Trainable {
    /// `(name, var)`: PEFT key names for LoRA, HF names for full fine-tuning.
    pub params: Vec<(String, Var)>,
    pub lora: Option<LoraSpec>,
}

impl Trainable {
    pub fn vars(&self) -> Vec<Var> {
        self.params.iter().map(|(_, v)| v.clone()).collect()
    }

    pub fn n_params(&self) -> usize {
        self.params.iter().map(|(_, v)| v.elem_count()).sum()
    }
}

fn var_of(t: &Tensor) -> Result<Var> {
    Var::from_tensor(&t.to_dtype(DType::F32)?)
}

/// Attaches fresh LoRA adapters (PEFT init: A kaiming-uniform with a = sqrt(5), i.e.
/// U(-1/sqrt(in), 1/sqrt(in)); B zeros) to the target linears, seeded.
pub fn add_lora(model: &mut Decoder, spec: &LoraSpec, seed: u64) -> Result<()> {
    for t in &spec.targets {
        if !LINEAR_NAMES.contains(&t.as_str()) {
            candle_core::bail!(
                "unknown LoRA target `{t}` (known: {})",
                LINEAR_NAMES.join(", ")
            );
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dev = model.device().clone();
    let scale = spec.alpha / spec.r as f64;
    for block in model.blocks.iter_mut() {
        for (name, lin) in block.linears_mut() {
            let short = name.rsplit('.').next().unwrap_or(name);
            if !spec.targets.iter().any(|t| t == short) {
                continue;
            }
            let (out, inp) = (lin.out_features(), lin.in_features());
            let bound = 1.0 / (inp as f64).sqrt();
            let a: Vec<f32> = (0..spec.r * inp)
                .map(|_| rng.random_range(-bound..bound) as f32)
                .collect();
            lin.lora = Some(Lora {
                a: Tensor::from_vec(a, (spec.r, inp), &dev)?,
                b: Tensor::zeros((out, spec.r), DType::F32, &dev)?,
                scale,
            });
        }
    }
    Ok(())
}

/// Makes every LoRA pair in `model` trainable (fresh from [`add_lora`] or loaded from an
/// adapter), switching the model to differentiable kernels.
pub fn lora_trainable(model: &mut Decoder, spec: LoraSpec) -> Result<Trainable> {
    model.kernels = Kernels::Differentiable;
    let mut params = Vec::new();
    for (i, block) in model.blocks.iter_mut().enumerate() {
        for (name, lin) in block.linears_mut() {
            if let Some(l) = lin.lora.as_mut() {
                let (a, b) = (var_of(&l.a)?, var_of(&l.b)?);
                l.a = a.as_tensor().clone();
                l.b = b.as_tensor().clone();
                let key = format!("base_model.model.model.layers.{i}.{name}");
                params.push((format!("{key}.lora_A.weight"), a));
                params.push((format!("{key}.lora_B.weight"), b));
            }
        }
    }
    if params.is_empty() {
        candle_core::bail!("no LoRA modules to train");
    }
    Ok(Trainable {
        params,
        lora: Some(spec),
    })
}

/// Makes every weight of `model` trainable (tied embeddings stay one variable).
pub fn full_trainable(model: &mut Decoder) -> Result<Trainable> {
    model.kernels = Kernels::Differentiable;
    let mut params = Vec::new();
    let embed = var_of(&model.embed)?;
    model.embed = embed.as_tensor().clone();
    params.push(("model.embed_tokens.weight".to_string(), embed.clone()));
    let linear = |name: String, lin: &mut Linear, params: &mut Vec<(String, Var)>| -> Result<()> {
        let w = var_of(&lin.weight)?;
        lin.weight = w.as_tensor().clone();
        params.push((format!("{name}.weight"), w));
        if let Some(b) = lin.bias.as_mut() {
            let v = var_of(b)?;
            *b = v.as_tensor().clone();
            params.push((format!("{name}.bias"), v));
        }
        Ok(())
    };
    for (i, block) in model.blocks.iter_mut().enumerate() {
        let p = format!("model.layers.{i}");
        let v = var_of(&block.input_norm)?;
        block.input_norm = v.as_tensor().clone();
        params.push((format!("{p}.input_layernorm.weight"), v));
        let v = var_of(&block.post_norm)?;
        block.post_norm = v.as_tensor().clone();
        params.push((format!("{p}.post_attention_layernorm.weight"), v));
        for (name, lin) in block.linears_mut() {
            linear(format!("{p}.{name}"), lin, &mut params)?;
        }
    }
    let v = var_of(&model.norm)?;
    model.norm = v.as_tensor().clone();
    params.push(("model.norm.weight".to_string(), v));
    if model.cfg.tie_word_embeddings {
        model.lm_head.weight = embed.as_tensor().clone();
    } else {
        linear("lm_head".to_string(), &mut model.lm_head, &mut params)?;
    }
    Ok(Trainable { params, lora: None })
}
