//! `tokenskip-studio merge`: fold a LoRA adapter into its base model and save HF layout.

use super::ModelArgs;
use anyhow::{bail, Context};
use clap::Args;
use std::path::PathBuf;
use tokenskip_studio::model::device;
use tokenskip_studio::pipeline::train::save;

#[derive(Debug, Args)]
pub struct MergeArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output directory (config.json, model.safetensors, tokenizer files).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// dtype of the saved weights (f32, f16, bf16).
    #[arg(long, default_value = "f32")]
    pub save_dtype: String,
    /// Replace an existing model in --out.
    #[arg(long)]
    pub overwrite: bool,
}

pub fn run(a: MergeArgs) -> anyhow::Result<()> {
    if a.model.adapter.is_none() {
        bail!("merge needs --adapter (the LoRA adapter to fold into --model)");
    }
    if a.out.join("model.safetensors").exists() && !a.overwrite {
        bail!(
            "{} already holds a model: pass --overwrite to replace it",
            a.out.display()
        );
    }
    let dtype = device::parse_dtype(Some(&a.save_dtype), &candle_core::Device::Cpu)?;
    let mut args = a.model.clone();
    args.merge_adapter = true;
    args.dtype = Some("f32".into()); // merge in f32, cast when saving
    let m = args.load()?;
    save::save_model(&m.decoder, &m.tokenizer, dtype, &a.out)
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    println!("{}", a.out.display());
    Ok(())
}
