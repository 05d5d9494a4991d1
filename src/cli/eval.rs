//! `tokenskip-studio eval` and `eval-compare`.

use super::generate::check_ratio;
use super::ModelArgs;
use anyhow::bail;
use clap::Args;
use std::path::{Path, PathBuf};
use tokenskip_studio::data::datasets::{self, JsonlFields};
use tokenskip_studio::jobs::progress::{ProgressMode, Reporter};
use tokenskip_studio::model::PromptFormat;
use tokenskip_studio::pipeline::answer::GraderStrategy;
use tokenskip_studio::pipeline::eval::chart;
use tokenskip_studio::pipeline::eval::run::{run as run_eval, EvalConfig};
use tokenskip_studio::pipeline::eval::summary::{rows, table, Method, Summary};
use tokenskip_studio::pipeline::train::save::write_atomic;

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// gsm8k:PATH, math:PATH, jsonl:PATH, synthetic[:N] or synthetic-test[:N].
    #[arg(long, value_name = "D")]
    pub dataset: String,
    /// Ratios gamma to evaluate (1.0 = the full CoT, no gamma in the prompt).
    #[arg(long, value_delimiter = ',', default_value = "1.0,0.9,0.8,0.7,0.6,0.5")]
    pub ratios: Vec<f64>,
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Only the first N questions.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Default: 512 (GSM8K, JSONL), 1024 (MATH), 256 (synthetic).
    #[arg(long)]
    pub max_new_tokens: Option<usize>,
    /// Prompts decoded together (throughput mode).
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Batch size 1 and per-sample wall time (latency as the paper reports it).
    #[arg(long)]
    pub latency: bool,
    /// Baselines on the same questions: truncation, prompt (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub baseline: Vec<Method>,
    #[arg(long, default_value = "tokenskip-v1")]
    pub grader: String,
    /// Separator around gamma (default: the model's EOS string).
    #[arg(long)]
    pub separator: Option<String>,
    #[arg(long, default_value = "question")]
    pub question_field: String,
    #[arg(long, default_value = "answer")]
    pub answer_field: String,
    /// Continue a killed run in --out without redoing or duplicating samples.
    #[arg(long)]
    pub resume: bool,
    /// Start over in an --out that holds an earlier run.
    #[arg(long)]
    pub overwrite: bool,
    #[arg(long, value_enum, default_value_t = ProgressMode::Human)]
    pub progress: ProgressMode,
    /// Also write the accuracy-vs-tokens chart as SVG.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

pub fn run(a: EvalArgs) -> anyhow::Result<()> {
    for &g in &a.ratios {
        check_ratio(g)?;
    }
    if !a.baseline.is_empty() && !a.ratios.iter().any(|g| (g - 1.0).abs() < 1e-9) {
        bail!("--baseline needs gamma 1.0 in --ratios: a baseline's budget is gamma x the mean full-CoT length");
    }
    let grader: GraderStrategy = a.grader.parse()?;
    let fields = JsonlFields {
        question: a.question_field.clone(),
        answer: a.answer_field.clone(),
        cot: None,
    };
    let (kind, mut examples) = datasets::load(&a.dataset, &fields)?;
    if let Some(n) = a.limit {
        examples.truncate(n);
    }
    let samples_path = a.out.join("samples.jsonl");
    if samples_path.exists() && !a.resume {
        if !a.overwrite {
            bail!(
                "{} already holds samples: pass --resume to continue, or --overwrite to start over",
                a.out.display()
            );
        }
        std::fs::remove_file(&samples_path)?;
    }
    std::fs::create_dir_all(&a.out)?;
    let m = a.model.load()?;
    let cfg = EvalConfig {
        ratios: a.ratios.clone(),
        max_new_tokens: a.max_new_tokens.unwrap_or(kind.default_max_new_tokens()),
        batch_size: a.batch_size,
        latency: a.latency,
        grader,
        prompt: PromptFormat {
            separator: a.separator.clone(),
            ..Default::default()
        },
        baselines: a.baseline.clone(),
    };
    let mut rep = Reporter::new(a.progress, "eval");
    let samples = run_eval(&m.decoder, &m.tokenizer, &examples, &cfg, &a.out, &mut rep)?;
    let summary = Summary {
        format: "tokenskip-eval-summary/1".into(),
        model: m.name.clone(),
        adapter: a.model.adapter.clone(),
        dataset: a.dataset.clone(),
        timing: if a.latency {
            "latency (batch size 1)".into()
        } else {
            format!("throughput (batch size {})", a.batch_size)
        },
        grader: grader.name().into(),
        rows: rows(&samples),
    };
    write_atomic(
        &a.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    if let Some(p) = &a.plot {
        write_atomic(
            p,
            chart::svg(&summary.rows, &format!("{} on {}", m.name, a.dataset)).as_bytes(),
        )?;
    }
    if a.progress != ProgressMode::Json {
        println!(
            "{} on {} ({}, grader {})",
            m.name, a.dataset, summary.timing, summary.grader
        );
        print!("{}", table(&summary.rows));
        print!("{}", chart::terminal(&summary.rows, 60, 12));
    }
    rep.done(vec![
        samples_path.display().to_string(),
        a.out.join("summary.json").display().to_string(),
    ]);
    Ok(())
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline summary.json.
    pub a: PathBuf,
    /// The summary.json to compare against it.
    pub b: PathBuf,
}

fn read_summary(p: &Path) -> anyhow::Result<Summary> {
    let text = std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not an eval summary.json: {e}", p.display()))
}

pub fn compare(a: CompareArgs) -> anyhow::Result<()> {
    let (x, y) = (read_summary(&a.a)?, read_summary(&a.b)?);
    println!(
        "A = {} ({}), B = {} ({})",
        x.model,
        a.a.display(),
        y.model,
        a.b.display()
    );
    println!(
        "{:<11} {:>5} {:>9} {:>9} {:>8} {:>10} {:>10} {:>8}",
        "method", "gamma", "acc A %", "acc B %", "Δ acc", "tokens A", "tokens B", "Δ tok %"
    );
    for rb in &y.rows {
        let Some(ra) = x
            .rows
            .iter()
            .find(|r| r.method == rb.method && (r.gamma - rb.gamma).abs() < 1e-9)
        else {
            continue;
        };
        println!(
            "{:<11} {:>5.2} {:>9.1} {:>9.1} {:>+8.1} {:>10.1} {:>10.1} {:>+8.1}",
            format!("{:?}", rb.method).to_lowercase(),
            rb.gamma,
            100.0 * ra.accuracy,
            100.0 * rb.accuracy,
            100.0 * (rb.accuracy - ra.accuracy),
            ra.mean_tokens,
            rb.mean_tokens,
            100.0 * (rb.mean_tokens / ra.mean_tokens.max(1e-9) - 1.0)
        );
    }
    Ok(())
}
