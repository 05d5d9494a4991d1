//! The command line: clap definitions and dispatch. The only place that prints for humans.

mod bench;
mod bench_tty;
mod compress;
mod eval;
mod generate;
mod heat;
mod input;
mod merge;
mod prune;
mod replay;
mod score;
mod serve;
mod train;
mod tui;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use tokenskip_studio::model::{self, device, LoadOptions, LoadedModel, ModelSpec};

/// TokenSkip Studio: a terminal workbench for controllable chain-of-thought compression.
#[derive(Debug, Parser)]
#[command(name = "tokenskip-studio", version, about, long_about = None, args_override_self = true)]
pub struct Cli {
    /// Without a subcommand the TUI opens (as `tokenskip-studio tui`).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Worker threads for CPU math (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Log file (default: the platform data dir, e.g. ~/.local/share/tokenskip-studio/logs/).
    /// Level from TOKENSKIP_LOG (e.g. debug).
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the terminal workbench (the default): CoT heatmaps, ratio slider, inspector.
    Tui(tui::TuiArgs),
    /// Replay a recorded session (no model, no GPU; space pause, . step, [ ] seek, + - speed),
    /// or export it: --export cast (asciinema) or --export html (heatmaps for papers).
    Replay(replay::ReplayArgs),
    /// Generate a (compressed) chain of thought for a prompt, streaming the text.
    Generate(generate::GenerateArgs),
    /// Fine-tune a model (LoRA or full) on alpaca-style data, or train one from scratch.
    Train(train::TrainArgs),
    /// Evaluate accuracy, CoT length, ActRatio and latency per gamma (with baselines).
    Eval(eval::EvalArgs),
    /// Compare two eval summary.json files.
    #[command(name = "eval-compare")]
    EvalCompare(eval::CompareArgs),
    /// Write a Markdown results page (targets, scorer ablation) and SVG chart from eval runs.
    Report(eval::ReportArgs),
    /// Score CoTs once, compress them at every ratio and write TokenSkip training data.
    Prune(prune::PruneArgs),
    /// Fold a LoRA adapter into its base model and save the result in HF layout.
    Merge(merge::MergeArgs),
    /// Score the importance of each token of a CoT (heat-coloured text, or JSON).
    Score(score::ScoreArgs),
    /// Compress a CoT to ratio gamma with a scorer (text, JSON, or JSONL for files).
    Compress(compress::CompressArgs),
    /// Serve the TUI over SSH: each viewer (public key in authorized_keys) gets their own.
    Serve(serve::ServeArgs),
    /// Measure prefill and decode throughput on a model (prints one JSON line).
    #[command(name = "bench-generate")]
    BenchGenerate(bench::BenchArgs),
    /// Measure surprisal scoring throughput on a model (prints one JSON line).
    #[command(name = "bench-score")]
    BenchScore(bench::BenchScoreArgs),
    /// Measure bytes sent to the terminal per slider step and per second idle (JSON last line).
    #[command(name = "bench-tty")]
    BenchTty(bench_tty::BenchTtyArgs),
}

/// Field names for `jsonl:PATH` datasets: shared by generate, prune and eval.
#[derive(Debug, Clone, Args)]
pub struct FieldArgs {
    /// The question field of `jsonl:PATH` records.
    #[arg(long, default_value = "question")]
    pub question_field: String,
    /// The reference-answer field of `jsonl:PATH` records.
    #[arg(long, default_value = "answer")]
    pub answer_field: String,
    /// The field holding a reference CoT (for `prune --cot-source dataset`).
    #[arg(long)]
    pub cot_field: Option<String>,
}

impl FieldArgs {
    pub fn fields(&self) -> tokenskip_studio::data::datasets::JsonlFields {
        tokenskip_studio::data::datasets::JsonlFields {
            question: self.question_field.clone(),
            answer: self.answer_field.clone(),
            cot: self.cot_field.clone(),
        }
    }
}

/// Which model to load, and how: shared by every command that runs one.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// `demo` (embedded), a directory in HF layout, a .gguf file, or a hub id
    /// (e.g. Qwen/Qwen2.5-7B-Instruct; cached under HF_HOME, HF_HUB_OFFLINE=1 for cache only).
    #[arg(long, short, default_value = "demo", value_name = "M")]
    pub model: String,
    /// A PEFT LoRA adapter: a directory (adapter_config.json + adapter_model.safetensors), a
    /// hub id such as hemingkx/TokenSkip-Qwen2.5-7B-Instruct-GSM8K, or `demo` for the demo
    /// model's embedded TokenSkip adapter (the TUI's default with --model demo; `none` there
    /// turns it off).
    #[arg(long, short, value_name = "A")]
    pub adapter: Option<String>,
    /// Fold the adapter into the weights at load (faster; same results up to rounding).
    #[arg(long)]
    pub merge_adapter: bool,
    /// cpu, cuda, cuda:N or metal (the GPU ones need the `cuda` / `metal` cargo features).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// f32, f16 or bf16 (default: f32 on CPU, bf16 on GPUs).
    #[arg(long)]
    pub dtype: Option<String>,
}

impl ModelArgs {
    /// Device, dtype and adapter as `LoadOptions`.
    pub fn options(&self) -> anyhow::Result<LoadOptions> {
        let device = device::parse_device(&self.device)?;
        let dtype = device::parse_dtype(self.dtype.as_deref(), &device)?;
        Ok(LoadOptions {
            device,
            dtype,
            adapter: self.adapter.clone(),
            merge_adapter: self.merge_adapter,
        })
    }

    pub fn load(&self) -> anyhow::Result<LoadedModel> {
        let spec: ModelSpec = self.model.parse()?;
        let opts = self.options()?;
        let started = std::time::Instant::now();
        let m = model::load(&spec, &opts)?;
        tracing::info!(model = %spec, adapter = ?self.adapter, secs = started.elapsed().as_secs_f64(), "model loaded");
        Ok(m)
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => tui::run(tui::default_args()?, cli.log_file.as_deref()),
        Some(Command::Tui(a)) => tui::run(a, cli.log_file.as_deref()),
        Some(Command::Replay(a)) => replay::run(a),
        Some(Command::Generate(a)) => generate::run(a),
        Some(Command::Score(a)) => score::run(a),
        Some(Command::Compress(a)) => compress::run(a),
        Some(Command::BenchGenerate(a)) => bench::run(a),
        Some(Command::BenchScore(a)) => bench::run_score(a),
        Some(Command::Serve(a)) => serve::run(a),
        Some(Command::BenchTty(a)) => bench_tty::run(a),
        Some(Command::Train(a)) => train::run(a),
        Some(Command::Merge(a)) => merge::run(a),
        Some(Command::Prune(a)) => prune::run(a),
        Some(Command::Eval(a)) => eval::run(a),
        Some(Command::EvalCompare(a)) => eval::compare(a),
        Some(Command::Report(a)) => eval::report(a),
    }
}
