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
}

/// Aggregates for one method and gamma.
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
        .map(|v| mean(v, &|s| s.tokens as f64));
    groups
        .iter()
        .map(|((method, _), v)| {
            let mut lat: Vec<f64> = v.iter().map(|s| s.latency_s).collect();
            lat.sort_by(f64::total_cmp);
            let total_lat: f64 = lat.iter().sum();
            let total_tok: usize = v.iter().map(|s| s.tokens).sum();
            let mean_tokens = mean(v, &|s| s.tokens as f64);
            Row {
                method: *method,
                gamma: v[0].gamma,
                n: v.len(),
                accuracy: mean(v, &|s| f64::from(u8::from(s.correct))),
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
    let mut s = format!(
        "{:<11} {:>5} {:>5} {:>8} {:>10} {:>8} {:>9} {:>9} {:>8}\n",
        "method", "gamma", "n", "acc %", "tokens", "ActRatio", "p50 s", "p95 s", "tok/s"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<11} {:>5.2} {:>5} {:>8.1} {:>10.1} {:>8} {:>9.3} {:>9.3} {:>8.1}\n",
            format!("{:?}", r.method).to_lowercase(),
            r.gamma,
            r.n,
            100.0 * r.accuracy,
            r.mean_tokens,
            r.act_ratio.map_or("-".to_string(), |a| format!("{a:.3}")),
            r.latency_p50_s,
            r.latency_p95_s,
            r.tokens_per_s
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
}
