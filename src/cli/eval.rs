//! `tokenskip-studio eval` and `eval-compare`.

use super::generate::check_ratio;
use super::ModelArgs;
use anyhow::{bail, Context};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokenskip_studio::data::datasets;
use tokenskip_studio::jobs::progress::{ProgressMode, Reporter};
use tokenskip_studio::model::{load_tokenizer, ChatTokenizer, ModelSpec, PromptFormat};
use tokenskip_studio::pipeline::answer::GraderStrategy;
use tokenskip_studio::pipeline::eval::chart;
use tokenskip_studio::pipeline::eval::endpoint::{stop_strings, Endpoint, EndpointConfig};
use tokenskip_studio::pipeline::eval::run::{run as run_eval, Backend, EvalConfig};
use tokenskip_studio::pipeline::eval::summary::{rows, table, Method, Summary};
use tokenskip_studio::pipeline::train::save::write_atomic;

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// gsm8k:PATH, math:PATH, jsonl:PATH, synthetic[:N], synthetic-test[:N] (the canonical 500 held-out
    /// problems) or synthetic-dev[:N] (held-out problems for choices made while training).
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
    #[command(flatten)]
    pub fields: super::FieldArgs,
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
    #[command(flatten)]
    pub served: ServedArgs,
}

/// Evaluating a model served by an OpenAI-compatible server instead of loading it.
#[derive(Debug, Args)]
pub struct ServedArgs {
    /// Base URL of an OpenAI-compatible server (vLLM, SGLang, llama.cpp server), e.g.
    /// http://gpu-node:8000: prompts go to URL/v1/completions and no weights are loaded;
    /// --model (default: --served-model) then only supplies the tokenizer and chat template.
    #[arg(long, value_name = "URL", requires = "served_model")]
    pub endpoint: Option<String>,
    /// The name the server serves the model under (the request's `model` field).
    #[arg(long, value_name = "NAME", requires = "endpoint")]
    pub served_model: Option<String>,
    /// Requests in flight at once with --endpoint [default: 8; 1 with --latency].
    #[arg(long, value_name = "N", requires = "endpoint")]
    pub concurrency: Option<usize>,
    /// Environment variable holding the server's API key (sent as a Bearer token).
    #[arg(long, value_name = "VAR", requires = "endpoint")]
    pub api_key_env: Option<String>,
    /// Retries of a failed request (waits 0.5 s, 1 s, 2 s, ...) before the sample is
    /// recorded as failed.
    #[arg(long, default_value_t = 3, requires = "endpoint")]
    pub retries: u32,
    /// Seconds one request may take.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 600,
        requires = "endpoint"
    )]
    pub request_timeout: u64,
    /// With --resume: redo the samples whose request failed in the earlier run.
    #[arg(long, requires = "resume")]
    pub retry_failed: bool,
}

impl ServedArgs {
    /// The client, or `None` without --endpoint.
    fn endpoint(&self, latency: bool, tok: &ChatTokenizer) -> anyhow::Result<Option<Endpoint>> {
        let (Some(url), Some(model)) = (&self.endpoint, &self.served_model) else {
            return Ok(None);
        };
        let concurrency = match (self.concurrency, latency) {
            (Some(0), _) => bail!("--concurrency must be at least 1"),
            (Some(n), true) if n > 1 => {
                bail!("--latency measures one request at a time: drop --concurrency {n}")
            }
            (Some(n), _) => n,
            (None, true) => 1,
            (None, false) => 8,
        };
        let api_key = match &self.api_key_env {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(k) if !k.is_empty() => Some(k),
                _ => bail!("--api-key-env {var}: the environment variable {var} is not set (or empty); export it with the server's API key"),
            },
        };
        let cfg = EndpointConfig {
            url: url.clone(),
            model: model.clone(),
            api_key,
            concurrency,
            retries: self.retries,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(self.request_timeout.max(1)),
        };
        Ok(Some(Endpoint::new(cfg, stop_strings(tok))?))
    }
}

pub fn run(a: EvalArgs) -> anyhow::Result<()> {
    for &g in &a.ratios {
        check_ratio(g)?;
    }
    if !a.baseline.is_empty() && !a.ratios.iter().any(|g| (g - 1.0).abs() < 1e-9) {
        bail!("--baseline needs gamma 1.0 in --ratios: a baseline's budget is gamma x the mean full-CoT length");
    }
    let grader: GraderStrategy = a.grader.parse()?;
    let fields = a.fields.fields();
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
    let served = a.served.endpoint.is_some();
    if served && a.model.adapter.is_some() {
        bail!("--adapter is applied to a model loaded here; with --endpoint serve the adapter on the server (vLLM: --enable-lora --lora-modules NAME=DIR) and pass NAME as --served-model");
    }
    // With --endpoint only the tokenizer and chat template are loaded.
    let (local, tokenizer, name) = match &a.served.served_model {
        Some(served_name) if served => {
            let spec_text = if a.model.model == "demo" {
                served_name
            } else {
                &a.model.model
            };
            let spec: ModelSpec = spec_text.parse().with_context(|| {
                format!("--endpoint needs the served model's tokenizer: pass --model DIR or a hub id (e.g. --model Qwen/Qwen2.5-7B-Instruct); `{spec_text}` is neither")
            })?;
            let tok = load_tokenizer(&spec)
                .with_context(|| format!("loading the tokenizer and chat template of {spec}"))?;
            (None, tok, served_name.clone())
        }
        _ => {
            let m = a.model.load()?;
            (Some(m.decoder), m.tokenizer, m.name)
        }
    };
    let endpoint = a.served.endpoint(a.latency, &tokenizer)?;
    std::fs::create_dir_all(&a.out)?;
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
        retry_failed: a.served.retry_failed,
    };
    let backend = match (&endpoint, &local) {
        (Some(ep), _) => Backend::Endpoint(ep),
        (None, Some(d)) => Backend::Local(d),
        (None, None) => {
            bail!("no model to evaluate: pass --model, or --endpoint with --served-model")
        }
    };
    let mut rep = Reporter::new(a.progress, "eval");
    let samples = run_eval(backend, &tokenizer, &examples, &cfg, &a.out, &mut rep)?;
    let summary = Summary {
        format: "tokenskip-eval-summary/1".into(),
        model: name.clone(),
        adapter: a.model.adapter.clone(),
        dataset: a.dataset.clone(),
        timing: match &endpoint {
            Some(ep) => format!("endpoint (concurrency {})", ep.config().concurrency),
            None if a.latency => "latency (batch size 1)".into(),
            None => format!("throughput (batch size {})", a.batch_size),
        },
        grader: grader.name().into(),
        endpoint: endpoint.as_ref().map(|ep| ep.url().to_string()),
        rows: rows(&samples),
    };
    write_atomic(
        &a.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    if let Some(p) = &a.plot {
        write_atomic(
            p,
            chart::svg(&summary.rows, &format!("{} on {}", name, a.dataset)).as_bytes(),
        )?;
    }
    if a.progress != ProgressMode::Json {
        println!(
            "{} on {} ({}, grader {})",
            name, a.dataset, summary.timing, summary.grader
        );
        print!("{}", table(&summary.rows));
        print!("{}", chart::terminal(&summary.rows, 60, 12));
    }
    let errors: usize = summary.rows.iter().map(|r| r.errors).sum();
    if errors > 0 {
        let note = format!(
            "{errors} request(s) failed and count as incorrect (see `error` in {}); rerun with --resume --retry-failed to redo them",
            samples_path.display()
        );
        match a.progress {
            ProgressMode::Json => rep.log("warn", &note),
            _ => println!("{note}"),
        }
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

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Runs as LABEL=PATH, PATH an eval --out directory or its summary.json (e.g.
    /// base=runs/eval-base surprisal=runs/eval-surprisal). Adapter runs are the ones whose
    /// summary names an adapter; truncation rows come from whichever run has them.
    #[arg(required = true, value_name = "LABEL=PATH")]
    pub runs: Vec<String>,
    /// The Markdown page to write (atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also write the accuracy-vs-tokens chart as SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Markdown put first, verbatim (how the runs were made: commands, times, machine).
    #[arg(long, value_name = "FILE")]
    pub preamble: Option<PathBuf>,
    /// The chart's title.
    #[arg(long, default_value = "TokenSkip on the demo model")]
    pub title: String,
}

pub fn report(a: ReportArgs) -> anyhow::Result<()> {
    use tokenskip_studio::pipeline::report::{best_at, chart, markdown, Run};
    let mut runs = Vec::new();
    for spec in &a.runs {
        let Some((label, path)) = spec.split_once('=') else {
            bail!("run `{spec}`: expected LABEL=PATH, e.g. base=runs/eval-base");
        };
        let mut path = PathBuf::from(path);
        if path.is_dir() {
            path = path.join("summary.json");
        }
        runs.push(Run {
            label: label.to_string(),
            summary: read_summary(&path)?,
        });
    }
    let preamble = match &a.preamble {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))?,
        None => "# Results\n".to_string(),
    };
    write_atomic(&a.out, markdown(&runs, &preamble).as_bytes())?;
    println!("{}", a.out.display());
    if let Some(svg) = &a.svg {
        write_atomic(svg, chart(&runs, &a.title).as_bytes())?;
        println!("{}", svg.display());
    }
    for g in [0.6, 0.5] {
        if let Some((label, _)) = best_at(&runs, g) {
            println!("best at {g}: {label}"); // read by scripts/reproduce-demo.sh
        }
    }
    Ok(())
}
