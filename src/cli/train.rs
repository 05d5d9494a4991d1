//! `tokenskip-studio train`: LoRA (default) or full SFT, from a model or from scratch.

use super::ModelArgs;
use anyhow::{bail, Context};
use clap::Args;
use std::path::{Path, PathBuf};
use tokenskip_studio::data::synthetic::{
    drills, parse_drill_spec, parse_synthetic_spec, DRILL_INSTRUCTION,
};
use tokenskip_studio::jobs::progress::{ProgressMode, Reporter};
use tokenskip_studio::model::tokenizer::{ChatTokenizer, TOKENSKIP_INSTRUCTION};
use tokenskip_studio::model::{device, Decoder, ModelConfig};
use tokenskip_studio::pipeline::train::data::{read_records, tokenize, Record};
use tokenskip_studio::pipeline::train::optim::AdamWConfig;
use tokenskip_studio::pipeline::train::params::{self, LoraSpec};
use tokenskip_studio::pipeline::train::run::{train, TrainConfig};
use tokenskip_studio::pipeline::train::schedule::Schedule;
use tokenskip_studio::pipeline::train::{export, init, save};

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Training data: alpaca JSON (LLaMA-Factory) or JSONL with instruction/input/output,
    /// `synthetic[:N]` for the demo world's train split, or `synthetic-drill[:N]` for bare
    /// arithmetic drills. Repeat to mix several sources (shuffled together).
    #[arg(long, value_name = "FILE", required = true)]
    pub data: Vec<String>,
    /// Output directory: checkpoints, trainer_log.jsonl, then the adapter or model.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Train from scratch with this config.json instead of loading --model (needs --tokenizer).
    #[arg(long, value_name = "CONFIG")]
    pub init: Option<PathBuf>,
    /// Directory with tokenizer.json (+ tokenizer_config.json), for --init.
    #[arg(long, value_name = "DIR")]
    pub tokenizer: Option<PathBuf>,
    /// Std of the normal initialisation with --init.
    #[arg(long, default_value_t = 0.02)]
    pub init_std: f64,
    /// Fine-tune every weight instead of a LoRA adapter (implied by --init).
    #[arg(long)]
    pub full: bool,
    #[arg(long, default_value_t = 8)]
    pub lora_r: usize,
    #[arg(long, default_value_t = 16.0)]
    pub lora_alpha: f64,
    /// LoRA dropout (only 0 is supported: TokenSkip's LLaMA-Factory recipe uses 0).
    #[arg(long, default_value_t = 0.0)]
    pub lora_dropout: f64,
    /// Comma-separated linear names (default: all seven, as TokenSkip trains).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
    )]
    pub lora_targets: Vec<String>,
    #[arg(long, default_value_t = 5e-5)]
    pub lr: f64,
    #[arg(long, default_value_t = 3.0)]
    pub epochs: f64,
    /// Stop after this many optimizer steps (overrides --epochs when smaller).
    #[arg(long)]
    pub max_steps: Option<u64>,
    /// Stop after N optimizer steps but keep the LR schedule of the whole run (resume later
    /// with --resume and without --stop-after to finish it).
    #[arg(long)]
    pub stop_after: Option<u64>,
    /// Examples per micro-batch.
    #[arg(long, default_value_t = 1)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 8)]
    pub grad_accum: usize,
    /// Longest example in tokens (longer ones are cut at the end).
    #[arg(long, default_value_t = 2048)]
    pub cutoff_len: usize,
    #[arg(long, default_value_t = 0.1)]
    pub warmup_ratio: f64,
    #[arg(long, value_enum, default_value_t = Schedule::Cosine)]
    pub schedule: Schedule,
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    #[arg(long, default_value_t = 1.0)]
    pub max_grad_norm: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Checkpoint every N optimizer steps (0: only at the end).
    #[arg(long, default_value_t = 200)]
    pub save_steps: u64,
    /// Continue from the newest checkpoint in --out.
    #[arg(long)]
    pub resume: bool,
    /// Start over in a non-empty --out that holds an earlier run.
    #[arg(long)]
    pub overwrite: bool,
    #[arg(long, value_enum, default_value_t = ProgressMode::Human)]
    pub progress: ProgressMode,
    /// System message for the chat template.
    #[arg(long)]
    pub system: Option<String>,
    /// Write the equivalent LLaMA-Factory recipe (YAML, DeepSpeed ZeRO-2 config,
    /// dataset_info.json, the data) into DIR instead of training here.
    #[arg(long, value_name = "DIR")]
    pub export_llamafactory: Option<PathBuf>,
    /// dtype of a saved full model (f32, f16, bf16).
    #[arg(long, default_value = "f32")]
    pub save_dtype: String,
}

/// FNV-1a, stable across builds: fingerprints a run so `--resume` refuses other settings.
fn fnv(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn load_records(spec: &str) -> anyhow::Result<Vec<Record>> {
    if let Some(n) = parse_drill_spec(spec) {
        return Ok(drills(n?)
            .into_iter()
            .map(|d| Record {
                instruction: DRILL_INSTRUCTION.into(),
                input: d.problems,
                output: d.solution,
            })
            .collect());
    }
    if spec.starts_with("synthetic") {
        let s = parse_synthetic_spec(spec)?;
        return Ok(s
            .generate()?
            .into_iter()
            .map(|p| Record {
                instruction: TOKENSKIP_INSTRUCTION.into(),
                input: p.question.clone(),
                output: p.cot.clone(),
            })
            .collect());
    }
    Ok(read_records(Path::new(spec))?)
}

/// Refuses to clobber a directory that holds something other than an earlier run.
fn prepare_out(out: &Path, resume: bool, overwrite: bool) -> anyhow::Result<()> {
    let non_empty = out
        .read_dir()
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if non_empty && !resume {
        if !overwrite {
            bail!("{} is not empty: pass --resume to continue the run in it, or --overwrite to start over", out.display());
        }
        if !out.join("trainer_log.jsonl").exists() {
            bail!("{} is not empty and holds no earlier training run: refusing to delete it with --overwrite", out.display());
        }
        std::fs::remove_dir_all(out)?;
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    Ok(())
}

pub fn run(a: TrainArgs) -> anyhow::Result<()> {
    if a.lora_dropout != 0.0 {
        bail!(
            "--lora-dropout {}: only 0 is supported (TokenSkip's recipe uses 0)",
            a.lora_dropout
        );
    }
    let mut records = Vec::new();
    for spec in &a.data {
        records.extend(load_records(spec)?); // bad data fails here, before anything is written
    }
    if let Some(dir) = &a.export_llamafactory {
        return export_recipe(&a, dir);
    }
    prepare_out(&a.out, a.resume, a.overwrite)?;
    let mut rep = Reporter::new(a.progress, "train");
    let full = a.full || a.init.is_some();
    let (mut model, tok, base_name): (Decoder, ChatTokenizer, String) = match &a.init {
        Some(cfg_path) => {
            let dir = a
                .tokenizer
                .as_deref()
                .context("--init needs --tokenizer DIR (tokenizer.json)")?;
            let cfg = ModelConfig::from_file(cfg_path)?;
            let tok = ChatTokenizer::from_dir(dir, &cfg.eos_token_ids)?;
            if tok.inner.get_vocab_size(true) > cfg.vocab_size {
                bail!(
                    "{}: vocab_size {} is smaller than the tokenizer's {}",
                    cfg_path.display(),
                    cfg.vocab_size,
                    tok.inner.get_vocab_size(true)
                );
            }
            let dev = device::parse_device(&a.model.device)?;
            let weights = init::init_weights(&cfg, a.init_std, a.seed)?;
            let m = Decoder::load(cfg, &weights, &dev, candle_core::DType::F32)?;
            (m, tok, cfg_path.display().to_string())
        }
        None => {
            let mut args = a.model.clone();
            args.dtype = Some("f32".into()); // master weights stay f32
            let m = args.load()?;
            (m.decoder, m.tokenizer, m.name)
        }
    };
    let cutoff = a.cutoff_len.min(model.cfg.max_position_embeddings);
    let mut data = Vec::with_capacity(records.len());
    let mut skipped = 0;
    for r in &records {
        match tokenize(&tok, a.system.as_deref(), r, cutoff)? {
            Some(t) => data.push(t),
            None => skipped += 1,
        }
    }
    if skipped > 0 {
        rep.log(
            "warn",
            &format!(
                "{skipped} examples skipped: their prompt alone reaches --cutoff-len {cutoff}"
            ),
        );
    }
    if data.is_empty() {
        bail!("no example fits in --cutoff-len {cutoff}");
    }
    let lora = LoraSpec {
        r: a.lora_r,
        alpha: a.lora_alpha,
        dropout: a.lora_dropout,
        targets: a.lora_targets.clone(),
    };
    let trainable = if full {
        params::full_trainable(&mut model)?
    } else {
        params::add_lora(&mut model, &lora, a.seed)?;
        params::lora_trainable(&mut model, lora.clone())?
    };
    let cfg = train_config(&a);
    let mut h = fnv(serde_json::to_string(&cfg)?.as_bytes(), 0xcbf29ce484222325);
    h = fnv(
        format!("{base_name}|{full}|{lora:?}|{cutoff}|{:?}", a.system).as_bytes(),
        h,
    );
    for t in &data {
        h = fnv(
            &t.ids
                .iter()
                .flat_map(|i| i.to_le_bytes())
                .collect::<Vec<_>>(),
            h,
        );
    }
    let fingerprint = format!("{h:016x}");
    let n_tokens: usize = data.iter().map(|t| t.ids.len()).sum();
    rep.log(
        "info",
        &format!(
            "{} examples ({} tokens), {} trainable parameters ({}), {} epochs",
            data.len(),
            n_tokens,
            trainable.n_params(),
            if full { "full fine-tuning" } else { "LoRA" },
            a.epochs
        ),
    );
    let summary = train(
        &model,
        &trainable,
        &data,
        &cfg,
        &a.out,
        &fingerprint,
        a.resume,
        &mut rep,
    )?;
    let outputs = if full {
        let dtype = device::parse_dtype(Some(&a.save_dtype), &candle_core::Device::Cpu)?;
        save::save_model(&model, &tok, dtype, &a.out)?;
        vec![a.out.join("model.safetensors")]
    } else {
        save::save_adapter(&trainable, &lora, &base_name, &a.out)?;
        vec![a.out.join("adapter_model.safetensors")]
    };
    save::write_atomic(
        &a.out.join("train_summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    rep.log(
        "info",
        &format!(
            "done: {} steps, final loss {:.4}, {:.0} tokens/s; wrote {}",
            summary.steps,
            summary.final_loss,
            summary.tokens_per_s,
            outputs[0].display()
        ),
    );
    rep.done(outputs.iter().map(|p| p.display().to_string()).collect());
    Ok(())
}

fn train_config(a: &TrainArgs) -> TrainConfig {
    TrainConfig {
        lr: a.lr,
        epochs: a.epochs,
        max_steps: a.max_steps,
        micro_batch: a.batch_size.max(1),
        grad_accum: a.grad_accum.max(1),
        warmup_ratio: a.warmup_ratio,
        schedule: a.schedule,
        max_grad_norm: a.max_grad_norm,
        adamw: AdamWConfig {
            weight_decay: a.weight_decay,
            ..Default::default()
        },
        seed: a.seed,
        save_steps: a.save_steps,
        stop_after: a.stop_after,
    }
}

/// `--export-llamafactory`: the recipe for LLaMA-Factory, reading the architecture from the
/// model's config (no weights are loaded).
fn export_recipe(a: &TrainArgs, dir: &Path) -> anyhow::Result<()> {
    let data = match a.data.as_slice() {
        [one] if Path::new(one).is_file() => Path::new(one),
        _ => bail!(
            "--export-llamafactory needs --data to be one JSON/JSONL file, not `{}`",
            a.data.join(" ")
        ),
    };
    let arch = match (
        &a.init,
        a.model.model.parse::<tokenskip_studio::model::ModelSpec>(),
    ) {
        (Some(cfg), _) => ModelConfig::from_file(cfg)?.arch,
        (None, Ok(tokenskip_studio::model::ModelSpec::Dir(d))) => {
            ModelConfig::from_file(&d.join("config.json"))?.arch
        }
        (None, _) if a.model.model.to_lowercase().contains("llama") => {
            tokenskip_studio::model::Arch::Llama
        }
        _ => tokenskip_studio::model::Arch::Qwen2,
    };
    let cfg = train_config(a);
    let full = a.full || a.init.is_some();
    let recipe = export::Recipe {
        model: &a.model.model,
        arch,
        data,
        cfg: &cfg,
        lora: (!full).then_some((a.lora_r, a.lora_alpha, a.lora_dropout)),
        cutoff_len: a.cutoff_len,
    };
    let files = export::export(&recipe, dir)?;
    for f in &files {
        println!("{}", f.display());
    }
    Ok(())
}
