//! Runs an evaluation: TokenSkip prompts per gamma (and baselines), greedy decoding batched
//! or one at a time on a local model, or through an OpenAI-compatible server; answers
//! checked, one `samples.jsonl` line appended per sample so a killed run resumes without
//! redoing or duplicating anything.

use super::endpoint::{served_prompt, Endpoint, Outcome, Request};
use super::summary::{read_samples, rows, Method, Sample, TokensSource};
use crate::data::example::Example;
use crate::jobs::progress::Reporter;
use crate::model::generate::generate_batch_greedy;
use crate::model::tokenizer::{ChatTokenizer, PromptFormat};
use crate::model::Decoder;
use crate::pipeline::answer::{check, GraderStrategy};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// What generates the CoTs.
#[derive(Clone, Copy)]
pub enum Backend<'a> {
    /// A model loaded here.
    Local(&'a Decoder),
    /// A model served elsewhere, reached through its completions API.
    Endpoint(&'a Endpoint),
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct EvalConfig {
    pub ratios: Vec<f64>,
    pub max_new_tokens: usize,
    /// Prompts per batch in throughput mode; 1 in latency mode.
    pub batch_size: usize,
    /// Batch size 1 and per-sample wall time, as the paper reports latency.
    pub latency: bool,
    pub grader: GraderStrategy,
    pub prompt: PromptFormat,
    pub baselines: Vec<Method>,
    /// Drop the samples whose request failed from an earlier run and redo them.
    pub retry_failed: bool,
}

/// One generated CoT (or the failure to get one), before grading.
struct Generated {
    cot: String,
    tokens: usize,
    tokens_source: Option<TokensSource>,
    truncated: bool,
    latency_s: f64,
    error: Option<String>,
}

/// Appends samples to `samples.jsonl` and reports progress.
struct Log<'r> {
    file: File,
    samples: Vec<Sample>,
    rep: &'r mut Reporter,
    finished: u64,
    total: u64,
    new_tokens: usize,
    started: Instant,
}

impl Log<'_> {
    fn push(&mut self, s: Sample) -> anyhow::Result<()> {
        writeln!(self.file, "{}", serde_json::to_string(&s)?)?;
        self.new_tokens += s.tokens;
        self.finished += 1;
        self.samples.push(s);
        Ok(())
    }

    /// Flushes the file (a killed run keeps every line written so far) and reports.
    fn flush(&mut self) -> anyhow::Result<()> {
        self.file.flush()?;
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        self.rep.progress(
            self.finished,
            self.total,
            BTreeMap::from([("tokens_per_s".to_string(), self.new_tokens as f64 / secs)]),
        );
        Ok(())
    }
}

fn graded(e: &Example, gamma: f64, method: Method, g: Generated, cfg: &EvalConfig) -> Sample {
    let v = check(&g.cot, &e.answer, cfg.grader);
    let ok = g.error.is_none();
    Sample {
        id: e.id.clone(),
        gamma,
        method,
        cot: g.cot,
        tokens: g.tokens,
        predicted: v.predicted.filter(|_| ok),
        reference: e.answer.clone(),
        correct: v.correct && ok,
        latency_s: g.latency_s,
        truncated: g.truncated,
        grader: cfg.grader.name().to_string(),
        tokens_source: g.tokens_source,
        error: g.error,
    }
}

/// A server's answer as a `Generated`; tokens from `usage`, else re-tokenized here.
fn from_outcome(o: Outcome, tok: &ChatTokenizer) -> Generated {
    match o.result {
        Ok(c) => {
            let (tokens, source) = match c.completion_tokens {
                Some(n) => (n, TokensSource::Usage),
                None => (
                    tok.encode_plain(&c.text).map_or(0, |ids| ids.len()),
                    TokensSource::Retokenized,
                ),
            };
            Generated {
                truncated: c.truncated(),
                cot: c.text,
                tokens,
                tokens_source: Some(source),
                latency_s: o.latency_s,
                error: None,
            }
        }
        Err(e) => Generated {
            cot: String::new(),
            tokens: 0,
            tokens_source: None,
            truncated: false,
            latency_s: o.latency_s,
            error: Some(format!(
                "{e} ({} attempt{})",
                o.attempts,
                if o.attempts == 1 { "" } else { "s" }
            )),
        },
    }
}

fn key(id: &str, gamma: f64, m: Method) -> String {
    format!("{id}|{gamma:.6}|{m:?}")
}

/// The prompt text of `method` at `gamma`; `budget` is the token budget for baselines.
fn prompt_text(
    tok: &ChatTokenizer,
    fmt: &PromptFormat,
    q: &str,
    gamma: f64,
    method: Method,
    budget: usize,
) -> anyhow::Result<String> {
    Ok(match method {
        Method::Tokenskip => tok.tokenskip_prompt(q, gamma, fmt)?,
        Method::Truncation => tok.tokenskip_prompt(q, 1.0, fmt)?,
        Method::Prompt => {
            let mut f = fmt.clone();
            f.instruction = format!(
                "{} Use at most {budget} tokens for your reasoning.",
                fmt.instruction
            );
            tok.tokenskip_prompt(q, 1.0, &f)?
        }
    })
}

/// Runs every (method, gamma, question) not yet in `out/samples.jsonl`.
pub fn run(
    backend: Backend<'_>,
    tok: &ChatTokenizer,
    examples: &[Example],
    cfg: &EvalConfig,
    out: &Path,
    rep: &mut Reporter,
) -> anyhow::Result<Vec<Sample>> {
    let path = out.join("samples.jsonl");
    let mut samples = read_samples(&path)?;
    let failed_before = samples.iter().filter(|s| s.error.is_some()).count();
    if cfg.retry_failed {
        samples.retain(|s| s.error.is_none());
    }
    // A killed run can leave a torn last line, and failed samples to redo must go: rewrite
    // the file from the records kept before appending.
    if crate::jobs::jsonl::is_torn(&path) || (cfg.retry_failed && failed_before > 0) {
        crate::jobs::jsonl::rewrite(&path, &samples)?;
    }
    let done: HashSet<String> = samples
        .iter()
        .map(|s| key(&s.id, s.gamma, s.method))
        .collect();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    let mut plan: Vec<(Method, f64)> = cfg.ratios.iter().map(|&g| (Method::Tokenskip, g)).collect();
    for &m in &cfg.baselines {
        plan.extend(cfg.ratios.iter().filter(|&&g| g < 1.0).map(|&g| (m, g)));
    }
    let total = (plan.len() * examples.len()) as u64;
    rep.start(total);
    let mut log = Log {
        file,
        finished: done.len() as u64,
        samples,
        rep,
        total,
        new_tokens: 0,
        started: Instant::now(),
    };
    let batch = if cfg.latency {
        1
    } else {
        cfg.batch_size.max(1)
    };
    // The first answers from a server are held back until one succeeds: if none of the
    // first batch does, the run stops before recording anything.
    let mut first_batch = true;
    for (method, gamma) in plan {
        // Baselines budget gamma x the mean full-CoT length (TokenSkip at 1.0, run first).
        let full_mean = rows(&log.samples)
            .into_iter()
            .find(|r| r.method == Method::Tokenskip && (r.gamma - 1.0).abs() < 1e-9)
            .map(|r| r.mean_tokens);
        let budget = match (method, full_mean) {
            (Method::Tokenskip, _) => cfg.max_new_tokens,
            (_, Some(m)) => ((gamma * m).round() as usize).max(1),
            (_, None) => anyhow::bail!("the {method:?} baseline needs gamma 1.0 in --ratios (its budget is gamma x the full-CoT length)"),
        };
        let max_new = if method == Method::Truncation {
            budget
        } else {
            cfg.max_new_tokens
        };
        let todo: Vec<&Example> = examples
            .iter()
            .filter(|e| !done.contains(&key(&e.id, gamma, method)))
            .collect();
        let prompt =
            |e: &Example| prompt_text(tok, &cfg.prompt, &e.question, gamma, method, budget);
        match backend {
            Backend::Local(model) => {
                for chunk in todo.chunks(batch) {
                    let prompts: Vec<Vec<u32>> = chunk
                        .iter()
                        .map(|e| Ok(tok.encode(&prompt(e)?)?))
                        .collect::<anyhow::Result<_>>()?;
                    let t0 = Instant::now();
                    let outs = generate_batch_greedy(model, &prompts, max_new, &tok.eos_ids)?;
                    let per = t0.elapsed().as_secs_f64() / chunk.len() as f64;
                    for (e, ids) in chunk.iter().zip(outs) {
                        let g = Generated {
                            cot: tok.decode(&ids)?,
                            tokens: ids.len(),
                            tokens_source: None,
                            truncated: ids.len() >= max_new,
                            latency_s: per,
                            error: None,
                        };
                        log.push(graded(e, gamma, method, g, cfg))?;
                    }
                    log.flush()?;
                }
            }
            Backend::Endpoint(ep) if !todo.is_empty() => {
                let reqs: Vec<Request> = todo
                    .iter()
                    .map(|e| {
                        Ok(Request {
                            prompt: served_prompt(tok, &prompt(e)?).to_string(),
                            max_tokens: max_new,
                        })
                    })
                    .collect::<anyhow::Result<_>>()?;
                let held_n = if first_batch {
                    ep.config().concurrency.clamp(1, todo.len())
                } else {
                    0
                };
                let mut held: Vec<Sample> = Vec::new();
                ep.complete_all(&reqs, |i, o| {
                    let s = graded(todo[i], gamma, method, from_outcome(o, tok), cfg);
                    if i < held_n {
                        held.push(s);
                        if i + 1 < held_n {
                            return Ok(());
                        }
                        if held.iter().all(|s| s.error.is_some()) {
                            anyhow::bail!(
                                "every request of the first batch ({held_n}) to {} failed, e.g. {}; is the server up and serving `{}` (--served-model)? Nothing was recorded",
                                ep.url(),
                                held[0].error.as_deref().unwrap_or_default(),
                                ep.config().model
                            );
                        }
                        for s in held.drain(..) {
                            log.push(s)?;
                        }
                    } else {
                        log.push(s)?;
                    }
                    log.flush()
                })?;
                first_batch = false;
            }
            Backend::Endpoint(_) => {}
        }
    }
    Ok(log.samples)
}
