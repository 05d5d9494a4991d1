//! `samples.jsonl` records and the per-(method, gamma) summary computed from them. The
//! summary is always recomputed from the samples, so the two can never disagree.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// How a CoT was obtained.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// TokenSkip's prompt (`question<eos>gamma<eos>`).
    Tokenskip,
    /// The full-CoT prompt with generation capped at gamma x the mean full-CoT length.
    Truncation,
    /// The full-CoT prompt asking for about gamma x the mean full-CoT length.
    Prompt,
}

/// Where a sample's token count comes from (absent: the local decoder's own ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokensSource {
    /// The server's `usage.completion_tokens`.
    Usage,
    /// The server reported no usage: the completion text re-tokenized locally.
    Retokenized,
}

/// One question at one gamma with one method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub id: String,
    pub gamma: f64,
    pub method: Method,
    pub cot: String,
    pub tokens: usize,
    pub predicted: Option<String>,
    pub reference: String,
    pub correct: bool,
    /// Seconds for this sample (batch time / batch size in throughput mode).
    pub latency_s: f64,
    /// Generation hit the token cap.
    pub truncated: bool,
    pub grader: String,
    /// Set for samples from an `--endpoint` server: how `tokens` was counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_source: Option<TokensSource>,
    /// The request failed (after retries): no CoT, counted as incorrect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Aggregates for one method and gamma. `n` and `accuracy` count every sample (a failed
/// request is incorrect); tokens, ActRatio, latency and tokens/s only the samples that
/// have a CoT (`n - errors`), so an outage does not read as short CoTs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub method: Method,
    pub gamma: f64,
    pub n: usize,
    pub accuracy: f64,
    pub mean_tokens: f64,
    /// Mean tokens at gamma / mean tokens of TokenSkip at gamma 1.0 (how well gamma is obeyed).
    pub act_ratio: Option<f64>,
    pub latency_p50_s: f64,
    pub latency_p95_s: f64,
    pub tokens_per_s: f64,
    pub truncated: usize,
    /// Samples whose request failed (`--endpoint`).
    #[serde(default)]
    pub errors: usize,
}

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub format: String,
    pub model: String,
    pub adapter: Option<String>,
    pub dataset: String,
    pub timing: String,
    pub grader: String,
    /// The server's URL when the model was evaluated through `--endpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    pub rows: Vec<Row>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest-rank on the sorted values.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Key for grouping: gammas compared by their 1e-6 grid.
fn gkey(g: f64) -> i64 {
    (g * 1e6).round() as i64
}

/// The samples that have a CoT (their request did not fail).
fn answered<'a>(v: &[&'a Sample]) -> Vec<&'a Sample> {
    v.iter().copied().filter(|s| s.error.is_none()).collect()
}

/// Computes the rows from samples, ordered by method then decreasing gamma.
pub fn rows(samples: &[Sample]) -> Vec<Row> {
    let mut groups: BTreeMap<(Method, i64), Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        groups
            .entry((s.method, -gkey(s.gamma)))
            .or_default()
            .push(s);
    }
    let mean = |v: &[&Sample], f: &dyn Fn(&Sample) -> f64| {
        v.iter().map(|s| f(s)).sum::<f64>() / v.len().max(1) as f64
    };
    let base = groups
        .get(&(Method::Tokenskip, -gkey(1.0)))
        .map(|v| mean(&answered(v), &|s| s.tokens as f64));
    groups
        .iter()
        .map(|((method, _), all)| {
            let v = answered(all);
            let mut lat: Vec<f64> = v.iter().map(|s| s.latency_s).collect();
            lat.sort_by(f64::total_cmp);
            let total_lat: f64 = lat.iter().sum();
            let total_tok: usize = v.iter().map(|s| s.tokens).sum();
            let mean_tokens = mean(&v, &|s| s.tokens as f64);
            Row {
                method: *method,
                gamma: all[0].gamma,
                n: all.len(),
                accuracy: mean(all, &|s| f64::from(u8::from(s.correct))),
                mean_tokens,
                act_ratio: base.filter(|b| *b > 0.0).map(|b| mean_tokens / b),
                latency_p50_s: percentile(&lat, 50.0),
                latency_p95_s: percentile(&lat, 95.0),
                tokens_per_s: if total_lat > 0.0 {
                    total_tok as f64 / total_lat
                } else {
                    0.0
                },
                truncated: v.iter().filter(|s| s.truncated).count(),
                errors: all.len() - v.len(),
            }
        })
        .collect()
}

/// Reads `samples.jsonl` (see [`crate::jobs::jsonl::read_log`]).
pub fn read_samples(path: &Path) -> anyhow::Result<Vec<Sample>> {
    crate::jobs::jsonl::read_log(path, "a sample record")
}

/// A fixed-width table of the rows.
pub fn table(rows: &[Row]) -> String {
    let any_errors = rows.iter().any(|r| r.errors > 0);
    let mut s = format!(
        "{:<11} {:>5} {:>5} {:>8} {:>10} {:>8} {:>9} {:>9} {:>8}{}\n",
        "method",
        "gamma",
        "n",
        "acc %",
        "tokens",
        "ActRatio",
        "p50 s",
        "p95 s",
        "tok/s",
        if any_errors { "   errors" } else { "" }
    );
    for r in rows {
        s.push_str(&format!(
            "{:<11} {:>5.2} {:>5} {:>8.1} {:>10.1} {:>8} {:>9.3} {:>9.3} {:>8.1}{}\n",
            format!("{:?}", r.method).to_lowercase(),
            r.gamma,
            r.n,
            100.0 * r.accuracy,
            r.mean_tokens,
            r.act_ratio.map_or("-".to_string(), |a| format!("{a:.3}")),
            r.latency_p50_s,
            r.latency_p95_s,
            r.tokens_per_s,
            if any_errors {
                format!(" {:>8}", r.errors)
            } else {
                String::new()
            }
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(method: Method, gamma: f64, tokens: usize, correct: bool, lat: f64) -> Sample {
        Sample {
            id: "x".into(),
            gamma,
            method,
            cot: String::new(),
            tokens,
            predicted: None,
            reference: "1".into(),
            correct,
            latency_s: lat,
            truncated: false,
            grader: "tokenskip-v1".into(),
            tokens_source: None,
            error: None,
        }
    }

    #[test]
    fn rows_recompute_accuracy_tokens_and_act_ratio() {
        let v = vec![
            s(Method::Tokenskip, 1.0, 100, true, 1.0),
            s(Method::Tokenskip, 1.0, 200, false, 3.0),
            s(Method::Tokenskip, 0.5, 75, true, 0.5),
            s(Method::Tokenskip, 0.5, 75, true, 0.5),
        ];
        let r = rows(&v);
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].gamma, r[0].accuracy, r[0].mean_tokens),
            (1.0, 0.5, 150.0)
        );
        assert_eq!(r[1].act_ratio, Some(0.5));
        assert_eq!(r[0].latency_p50_s, 1.0);
        assert_eq!(r[0].tokens_per_s, 75.0);
    }

    #[test]
    fn failed_requests_count_as_incorrect_but_not_as_tokens() {
        let mut failed = s(Method::Tokenskip, 1.0, 0, false, 9.0);
        failed.error = Some("HTTP 500".into());
        let v = vec![s(Method::Tokenskip, 1.0, 100, true, 1.0), failed];
        let r = rows(&v);
        assert_eq!((r[0].n, r[0].errors, r[0].accuracy), (2, 1, 0.5));
        assert_eq!((r[0].mean_tokens, r[0].latency_p95_s), (100.0, 1.0));
        assert!(table(&r).contains("errors"));
    }

    #[test]
    fn old_records_without_new_fields_still_load() {
        let line = r#"{"id":"q1","gamma":1.0,"method":"tokenskip","cot":"x","tokens":3,"predicted":"1","reference":"1","correct":true,"latency_s":0.5,"truncated":false,"grader":"tokenskip-v1"}"#;
        let old: Sample = serde_json::from_str(line).unwrap();
        assert_eq!((&old.error, old.tokens_source), (&None, None));
        // Local samples serialize exactly as before the endpoint fields existed.
        assert_eq!(serde_json::to_string(&old).unwrap(), line);
        let row = r#"{"method":"tokenskip","gamma":1.0,"n":1,"accuracy":1.0,"mean_tokens":3.0,"act_ratio":1.0,"latency_p50_s":0.5,"latency_p95_s":0.5,"tokens_per_s":6.0,"truncated":0}"#;
        assert_eq!(serde_json::from_str::<Row>(row).unwrap().errors, 0);
    }
}
