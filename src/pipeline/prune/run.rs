//! The prune loop: filter, score ONCE per CoT, threshold every gamma from the same scores
//! (exact and cheaper than the reference's one compressor call per ratio), append records.

use crate::compress::{CompressOptions, Compressor, Granularity};
use crate::importance::{Scorer, TokenSpan};
use crate::jobs::progress::Reporter;
use crate::model::tokenizer::ChatTokenizer;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// A CoT to prune (from `generate --dataset` output or a dataset's own solutions).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: String,
    pub question: String,
    pub answer: String,
    pub cot: String,
    /// `None` for dataset CoTs (correct by construction).
    pub correct: Option<bool>,
}

/// One (question, gamma) line of `pruned.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrunedRecord {
    pub id: String,
    pub question: String,
    pub answer: String,
    pub cot: String,
    pub gamma_target: f64,
    /// Kept target tokens / all target tokens (the exact mask ratio).
    pub gamma_actual: f64,
    pub tokens_full: usize,
    pub tokens_kept: usize,
    /// Tokens of the compressed text re-tokenized by the target tokenizer.
    pub tokens_retokenized: usize,
    pub compressed_cot: String,
    pub scorer: String,
}

/// Settings of a prune run.
#[derive(Debug, Clone)]
pub struct PruneConfig {
    pub ratios: Vec<f64>,
    pub max_tokens: usize,
    pub granularity: Granularity,
    pub options: CompressOptions,
    /// Emulate the reference code: call the scorer once per ratio (for benchmarks only).
    pub rescore_per_ratio: bool,
}

/// Why CoTs were left out, counted per reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filtered {
    pub total: usize,
    pub kept: usize,
    pub incorrect: usize,
    pub too_long: usize,
    pub empty: usize,
}

/// The reasoning part of a CoT: everything before its final "The final answer is" line.
pub fn reasoning(cot: &str) -> &str {
    let cut = cot.rfind("The final answer is").unwrap_or(cot.len());
    cot[..cut].trim_end()
}

/// TokenSkip's output: the (compressed) CoT, then the boxed answer.
pub fn with_answer(cot: &str, answer: &str) -> String {
    format!(
        "{}\n\nThe final answer is: $\\boxed{{{answer}}}$",
        cot.trim_end()
    )
}

/// Target tokens as non-overlapping byte spans (bytes of one character split over several
/// byte-level tokens form one span).
fn spans(tok: &ChatTokenizer, text: &str) -> anyhow::Result<Vec<TokenSpan>> {
    Ok(crate::importance::tokens::target_tokens(tok, text)?)
}

/// Applies the filters, returning the CoTs to prune and the counts.
pub fn filter(
    tok: &ChatTokenizer,
    sources: &[Source],
    max_tokens: usize,
) -> anyhow::Result<(Vec<Source>, Filtered)> {
    let mut f = Filtered {
        total: sources.len(),
        ..Default::default()
    };
    let mut kept = Vec::new();
    for s in sources {
        if s.correct == Some(false) {
            f.incorrect += 1;
            continue;
        }
        let r = reasoning(&s.cot);
        if r.trim().is_empty() {
            f.empty += 1;
            continue;
        }
        if tok.encode_plain(r)?.len() > max_tokens {
            f.too_long += 1;
            continue;
        }
        kept.push(s.clone());
    }
    f.kept = kept.len();
    Ok((kept, f))
}

/// Prunes every source not yet in `out/pruned.jsonl`. Returns all records, and the CoTs
/// pruned and scorer calls made in this run (one call per CoT unless `rescore_per_ratio`).
pub fn run(
    tok: &ChatTokenizer,
    scorer: &dyn Scorer,
    sources: &[Source],
    cfg: &PruneConfig,
    out: &Path,
    rep: &mut Reporter,
) -> anyhow::Result<(Vec<PrunedRecord>, usize, usize)> {
    let path = out.join("pruned.jsonl");
    let mut records = read_pruned(&path)?;
    let n_ratios = cfg.ratios.len().max(1);
    // Keep only complete groups (all ratios of an id): a killed run may leave half a group.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in &records {
        *counts.entry(r.id.clone()).or_default() += 1;
    }
    let before = records.len();
    records.retain(|r| counts[&r.id] == n_ratios);
    if records.len() != before || crate::jobs::jsonl::is_torn(&path) {
        crate::jobs::jsonl::rewrite(&path, &records)?;
    }
    let done: HashSet<String> = records.iter().map(|r| r.id.clone()).collect();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    rep.start(sources.len() as u64);
    let (started, mut passes, mut finished) = (Instant::now(), 0usize, done.len());
    for s in sources.iter().filter(|s| !done.contains(&s.id)) {
        if crate::jobs::cancel::requested() {
            rep.log(
                "warn",
                "interrupted: finished CoTs are saved; rerun with --resume to continue",
            );
            break;
        }
        let text = reasoning(&s.cot);
        let toks = spans(tok, text)?;
        let mut importance = scorer.score(text, &toks)?;
        passes += 1;
        let mut comp = Compressor::new(text, &importance, &toks, cfg.granularity, cfg.options)?;
        let mut lines = String::new();
        for (k, &gamma) in cfg.ratios.iter().enumerate() {
            if cfg.rescore_per_ratio && k > 0 {
                importance = scorer.score(text, &toks)?;
                passes += 1;
                comp = Compressor::new(text, &importance, &toks, cfg.granularity, cfg.options)?;
            }
            let c = comp.compress(gamma)?;
            let r = PrunedRecord {
                id: s.id.clone(),
                question: s.question.clone(),
                answer: s.answer.clone(),
                cot: text.to_string(),
                gamma_target: gamma,
                gamma_actual: c.kept.ratio(),
                tokens_full: c.kept.total,
                tokens_kept: c.kept.kept,
                tokens_retokenized: tok.encode_plain(&c.text)?.len(),
                compressed_cot: c.text,
                scorer: importance.scorer.clone(),
            };
            lines.push_str(&serde_json::to_string(&r)?);
            lines.push('\n');
            records.push(r);
        }
        // One write per CoT: a kill leaves at most one torn group, dropped on resume.
        file.write_all(lines.as_bytes())?;
        file.flush()?;
        finished += 1;
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        rep.progress(
            finished as u64,
            sources.len() as u64,
            BTreeMap::from([
                (
                    "cots_per_s".to_string(),
                    (finished - done.len()) as f64 / secs,
                ),
                ("scorer_passes".to_string(), passes as f64),
            ]),
        );
    }
    Ok((records, finished - done.len(), passes))
}

/// Reads `pruned.jsonl` (a torn last line is dropped).
pub fn read_pruned(path: &Path) -> anyhow::Result<Vec<PrunedRecord>> {
    crate::jobs::jsonl::read_log(path, "a pruned record")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_drops_the_answer_line() {
        let cot = "First, 2 + 3 = 5.\nSo 5 * 2 = 10.\n\nThe final answer is: $\\boxed{10}$";
        assert_eq!(reasoning(cot), "First, 2 + 3 = 5.\nSo 5 * 2 = 10.");
        assert_eq!(with_answer(reasoning(cot), "10"), cot);
        assert_eq!(reasoning("no answer line "), "no answer line");
    }
}
