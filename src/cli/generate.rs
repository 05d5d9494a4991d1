//! `tokenskip-studio generate`: one prompt in, a streamed chain of thought out.

use super::ModelArgs;
use anyhow::{bail, Context};
use clap::Args;
use std::io::Write;
use std::ops::ControlFlow;
use tokenskip_studio::model::{self, GenerateParams, PromptFormat, Sampling};

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The question. It is wrapped in TokenSkip's format and the model's chat template.
    #[arg(long, short, required_unless_present = "dataset")]
    pub prompt: Option<String>,
    /// Instead of one prompt: the model's own CoT for every question of a dataset
    /// (gsm8k:PATH, math:PATH, jsonl:PATH, synthetic[:N]), written to OUT/cots.jsonl.
    #[arg(long, value_name = "D", conflicts_with = "prompt", requires = "out")]
    pub dataset: Option<String>,
    /// Output directory for --dataset.
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
    /// With --dataset: continue a killed run (skip questions already in cots.jsonl).
    #[arg(long)]
    pub resume: bool,
    /// With --dataset: only the first N questions.
    #[arg(long)]
    pub limit: Option<usize>,
    /// With --dataset: prompts decoded together.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    #[command(flatten)]
    pub fields: super::FieldArgs,
    /// With --dataset: how answers are checked.
    #[arg(long, default_value = "tokenskip-v1")]
    pub grader: String,
    #[arg(long, value_enum, default_value_t = tokenskip_studio::jobs::progress::ProgressMode::Human)]
    pub progress: tokenskip_studio::jobs::progress::ProgressMode,
    /// Target CoT ratio gamma in (0, 1]; below 1.0 the prompt carries `<eos>gamma<eos>`, as
    /// TokenSkip-trained adapters expect.
    #[arg(long, short, default_value_t = 1.0, value_name = "G")]
    pub ratio: f64,
    /// Feed the prompt to the model verbatim: no instruction, no gamma, no chat template.
    #[arg(long)]
    pub raw: bool,
    /// Separator around gamma (default: the model's EOS string). The released Qwen2.5
    /// TokenSkip adapters were trained with the literal text `<|eot_id|>`.
    #[arg(long, value_name = "TEXT")]
    pub separator: Option<String>,
    /// A system message for the chat template.
    #[arg(long)]
    pub system: Option<String>,
    #[arg(long, short = 'n', default_value_t = 512, value_name = "N")]
    pub max_new_tokens: usize,
    /// Sampling temperature; 0 means greedy decoding.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Nucleus sampling mass (with --temperature > 0).
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f64,
    /// Seed for sampling.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Stop when the text contains this string (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub stop: Vec<String>,
    /// Print one JSON object (text, ids, tokens, timings) instead of streaming text.
    #[arg(long)]
    pub json: bool,
}

/// Checks gamma: the kept fraction of CoT tokens, in (0, 1].
pub fn check_ratio(g: f64) -> anyhow::Result<f64> {
    if !(g > 0.0 && g <= 1.0) {
        bail!("--ratio {g} is outside (0, 1]: gamma is the fraction of chain-of-thought tokens to keep (e.g. 0.6)");
    }
    Ok(g)
}

pub fn run(a: GenerateArgs) -> anyhow::Result<()> {
    let gamma = check_ratio(a.ratio)?;
    if !(a.top_p > 0.0 && a.top_p <= 1.0) {
        bail!("--top-p {} is outside (0, 1]", a.top_p);
    }
    if a.temperature < 0.0 {
        bail!("--temperature {} is negative", a.temperature);
    }
    if let Some(d) = &a.dataset {
        return run_dataset(&a, d);
    }
    let text = a.prompt.clone().unwrap_or_default();
    let m = a.model.load()?;
    let prompt = if a.raw {
        text.clone()
    } else {
        let fmt = PromptFormat {
            separator: a.separator.clone(),
            system: a.system.clone(),
            ..Default::default()
        };
        m.tokenizer.tokenskip_prompt(&text, gamma, &fmt)?
    };
    let ids = m.tokenizer.encode(&prompt)?;
    let params = GenerateParams {
        max_new_tokens: a.max_new_tokens,
        sampling: if a.temperature > 0.0 {
            Sampling::Sample {
                temperature: a.temperature,
                top_p: a.top_p,
                seed: a.seed,
            }
        } else {
            Sampling::Greedy
        },
        stop_strings: a.stop.clone(),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let stream = !a.json;
    let g = model::generate(&m.decoder, &m.tokenizer, &ids, &params, &mut |ev| {
        if stream
            && !ev.piece.is_empty()
            && (write!(out, "{}", ev.piece).is_err() || out.flush().is_err())
        {
            return ControlFlow::Break(()); // stdout closed (e.g. piped into `head`)
        }
        ControlFlow::Continue(())
    })
    .context("generation failed")?;
    let decode_tps = if g.decode_s > 0.0 {
        g.ids.len() as f64 / g.decode_s
    } else {
        0.0
    };
    let prefill_tps = if g.prefill_s > 0.0 {
        g.prompt_tokens as f64 / g.prefill_s
    } else {
        0.0
    };
    if a.json {
        let tokens: Vec<String> = g
            .ids
            .iter()
            .map(|&i| m.tokenizer.decode(&[i]).unwrap_or_default())
            .collect();
        let v = serde_json::json!({
            "model": m.name, "adapter": a.model.adapter, "ratio": gamma, "prompt": prompt,
            "text": g.text, "ids": g.ids, "tokens": tokens, "prompt_tokens": g.prompt_tokens,
            "new_tokens": g.ids.len(), "stop": g.stop, "prefill_s": g.prefill_s, "decode_s": g.decode_s,
            "prefill_tokens_per_s": prefill_tps, "decode_tokens_per_s": decode_tps,
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(out)?;
        eprintln!(
            "[{} prompt + {} new tokens; prefill {:.0} tok/s, decode {:.1} tok/s; stop: {:?}]",
            g.prompt_tokens,
            g.ids.len(),
            prefill_tps,
            decode_tps,
            g.stop
        );
    }
    Ok(())
}

/// `generate --dataset D --out DIR`: TokenSkip step 1, the model's own CoTs.
fn run_dataset(a: &GenerateArgs, spec: &str) -> anyhow::Result<()> {
    use tokenskip_studio::data::datasets;
    let grader: tokenskip_studio::pipeline::answer::GraderStrategy = a.grader.parse()?;
    let (kind, mut examples) = datasets::load(spec, &a.fields.fields())?;
    if let Some(n) = a.limit {
        examples.truncate(n);
    }
    let out = a.out.clone().context("--dataset needs --out DIR")?;
    let file = out.join("cots.jsonl");
    if file.exists() && !a.resume {
        bail!(
            "{} exists: pass --resume to continue that run, or choose another --out",
            file.display()
        );
    }
    std::fs::create_dir_all(&out)?;
    tokenskip_studio::jobs::cancel::install();
    let m = a.model.load()?;
    let fmt = PromptFormat {
        separator: a.separator.clone(),
        system: a.system.clone(),
        ..Default::default()
    };
    let max_new = if a.max_new_tokens == 512 {
        kind.default_max_new_tokens()
    } else {
        a.max_new_tokens
    };
    let mut rep = tokenskip_studio::jobs::progress::Reporter::new(a.progress, "generate");
    let cots = tokenskip_studio::pipeline::collect::collect(
        &m.decoder,
        &m.tokenizer,
        &examples,
        &fmt,
        max_new,
        a.batch_size,
        grader,
        &file,
        &mut rep,
    )?;
    let correct = cots.iter().filter(|c| c.correct).count();
    rep.log(
        "info",
        &format!(
            "{} CoTs, {} correct ({:.1}%), in {}",
            cots.len(),
            correct,
            100.0 * correct as f64 / cots.len().max(1) as f64,
            file.display()
        ),
    );
    rep.done(vec![file.display().to_string()]);
    Ok(())
}
