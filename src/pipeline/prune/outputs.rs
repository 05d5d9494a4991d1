//! The files `prune` writes after the records: LLaMA-Factory training data, its
//! dataset_info.json, and per-gamma statistics.

use super::run::{with_answer, Filtered, PrunedRecord};
use crate::model::tokenizer::{tokenskip_input, TOKENSKIP_INSTRUCTION};
use crate::pipeline::train::save::write_atomic;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One random gamma per question from {1.0} + ratios (seeded), in TokenSkip's format.
pub fn llamafactory(
    records: &[PrunedRecord],
    ratios: &[f64],
    sep: &str,
    seed: u64,
) -> Vec<serde_json::Value> {
    let mut by_id: BTreeMap<&str, Vec<&PrunedRecord>> = BTreeMap::new();
    let mut order = Vec::new();
    for r in records {
        if !by_id.contains_key(r.id.as_str()) {
            order.push(r.id.as_str());
        }
        by_id.entry(r.id.as_str()).or_default().push(r);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    order
        .into_iter()
        .map(|id| {
            let group = &by_id[id];
            let pick = rng.random_range(0..=ratios.len());
            let first = group[0];
            let (gamma, cot) = if pick == 0 {
                (1.0, first.cot.as_str())
            } else {
                let g = ratios[pick - 1];
                let r = group
                    .iter()
                    .find(|r| (r.gamma_target - g).abs() < 1e-9)
                    .unwrap_or(&first);
                (g, r.compressed_cot.as_str())
            };
            serde_json::json!({
                "instruction": TOKENSKIP_INSTRUCTION,
                "input": tokenskip_input(&first.question, gamma, sep),
                "output": with_answer(cot, &first.answer),
            })
        })
        .collect()
}

/// Per-gamma means.
#[derive(Debug, Clone, Serialize)]
pub struct GammaStats {
    pub count: usize,
    pub mean_target: f64,
    pub mean_actual: f64,
    pub mean_actual_retokenized: f64,
    pub mean_tokens_full: f64,
    pub mean_tokens_kept: f64,
}

pub fn stats(records: &[PrunedRecord]) -> BTreeMap<String, GammaStats> {
    let mut groups: BTreeMap<String, Vec<&PrunedRecord>> = BTreeMap::new();
    for r in records {
        groups
            .entry(format!("{:.2}", r.gamma_target))
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|(k, v)| {
            let n = v.len() as f64;
            let mean = |f: &dyn Fn(&PrunedRecord) -> f64| v.iter().map(|r| f(r)).sum::<f64>() / n;
            (
                k,
                GammaStats {
                    count: v.len(),
                    mean_target: mean(&|r| r.gamma_target),
                    mean_actual: mean(&|r| r.gamma_actual),
                    mean_actual_retokenized: mean(&|r| {
                        r.tokens_retokenized as f64 / r.tokens_full.max(1) as f64
                    }),
                    mean_tokens_full: mean(&|r| r.tokens_full as f64),
                    mean_tokens_kept: mean(&|r| r.tokens_kept as f64),
                },
            )
        })
        .collect()
}

/// How the CoTs were scored, for stats.json.
pub struct ScoringFacts<'a> {
    /// The scorer's name (`surprisal:demo`).
    pub scorer: &'a str,
    /// `--force-tokens`, kept besides digits and line breaks.
    pub force_tokens: &'a [String],
    /// Scorer calls per CoT (1 unless `--rescore-per-ratio`).
    pub passes_per_cot: f64,
}

/// Writes train_llamafactory.json, dataset_info.json and stats.json atomically.
pub fn write_all(
    out: &Path,
    records: &[PrunedRecord],
    ratios: &[f64],
    sep: &str,
    seed: u64,
    filtered: &Filtered,
    scoring: &ScoringFacts<'_>,
) -> anyhow::Result<Vec<String>> {
    let lf = llamafactory(records, ratios, sep, seed);
    write_atomic(
        &out.join("train_llamafactory.json"),
        serde_json::to_string_pretty(&lf)?.as_bytes(),
    )?;
    let info = serde_json::json!({
        "tokenskip": {"file_name": "train_llamafactory.json", "columns": {"prompt": "instruction", "query": "input", "response": "output"}}
    });
    write_atomic(
        &out.join("dataset_info.json"),
        serde_json::to_string_pretty(&info)?.as_bytes(),
    )?;
    let s = serde_json::json!({
        "scorer": scoring.scorer, "force_tokens": scoring.force_tokens, "filtered": filtered,
        "scorer_passes_per_cot": scoring.passes_per_cot,
        "per_gamma": stats(records), "separator": sep, "seed": seed,
    });
    write_atomic(
        &out.join("stats.json"),
        serde_json::to_string_pretty(&s)?.as_bytes(),
    )?;
    Ok([
        "pruned.jsonl",
        "train_llamafactory.json",
        "dataset_info.json",
        "stats.json",
    ]
    .iter()
    .map(|f| out.join(f).display().to_string())
    .collect())
}
