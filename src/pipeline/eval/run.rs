//! Runs an evaluation: TokenSkip prompts per gamma (and baselines), greedy decoding batched
//! or one at a time, answers checked, one `samples.jsonl` line appended per sample so a
//! killed run resumes without redoing or duplicating anything.

use super::summary::{read_samples, rows, Method, Sample};
use crate::data::example::Example;
use crate::jobs::progress::Reporter;
use crate::model::generate::generate_batch_greedy;
use crate::model::tokenizer::{ChatTokenizer, PromptFormat};
use crate::model::Decoder;
use crate::pipeline::answer::{check, GraderStrategy};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

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
    model: &Decoder,
    tok: &ChatTokenizer,
    examples: &[Example],
    cfg: &EvalConfig,
    out: &Path,
    rep: &mut Reporter,
) -> anyhow::Result<Vec<Sample>> {
    let path = out.join("samples.jsonl");
    let mut samples = read_samples(&path)?;
    // A killed run can leave a torn last line: drop it before appending.
    if crate::jobs::jsonl::is_torn(&path) {
        crate::jobs::jsonl::rewrite(&path, &samples)?;
    }
    let done: HashSet<String> = samples
        .iter()
        .map(|s| key(&s.id, s.gamma, s.method))
        .collect();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    let mut plan: Vec<(Method, f64)> = cfg.ratios.iter().map(|&g| (Method::Tokenskip, g)).collect();
    for &m in &cfg.baselines {
        plan.extend(cfg.ratios.iter().filter(|&&g| g < 1.0).map(|&g| (m, g)));
    }
    let total = (plan.len() * examples.len()) as u64;
    rep.start(total);
    let mut finished = done.len() as u64;
    let batch = if cfg.latency {
        1
    } else {
        cfg.batch_size.max(1)
    };
    let started = Instant::now();
    let mut new_tokens = 0usize;
    for (method, gamma) in plan {
        // Baselines budget gamma x the mean full-CoT length (TokenSkip at 1.0, run first).
        let full_mean = rows(&samples)
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
        for chunk in todo.chunks(batch) {
            let prompts: Vec<Vec<u32>> = chunk
                .iter()
                .map(|e| {
                    Ok(tok.encode(&prompt_text(
                        tok,
                        &cfg.prompt,
                        &e.question,
                        gamma,
                        method,
                        budget,
                    )?)?)
                })
                .collect::<anyhow::Result<_>>()?;
            let t0 = Instant::now();
            let outs = generate_batch_greedy(model, &prompts, max_new, &tok.eos_ids)?;
            let per = t0.elapsed().as_secs_f64() / chunk.len() as f64;
            for (e, ids) in chunk.iter().zip(outs) {
                let cot = tok.decode(&ids)?;
                let v = check(&cot, &e.answer, cfg.grader);
                let s = Sample {
                    id: e.id.clone(),
                    gamma,
                    method,
                    tokens: ids.len(),
                    truncated: ids.len() >= max_new,
                    cot,
                    predicted: v.predicted,
                    reference: e.answer.clone(),
                    correct: v.correct,
                    latency_s: per,
                    grader: cfg.grader.name().to_string(),
                };
                writeln!(file, "{}", serde_json::to_string(&s)?)?;
                new_tokens += s.tokens;
                samples.push(s);
            }
            file.flush()?;
            finished += chunk.len() as u64;
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            rep.progress(
                finished,
                total,
                BTreeMap::from([("tokens_per_s".to_string(), new_tokens as f64 / secs)]),
            );
        }
    }
    Ok(samples)
}
