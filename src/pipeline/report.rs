//! `tokenskip-studio report`: one Markdown page (and an SVG chart) from several eval runs.
//!
//! The reproduction (issue 9) evaluates the base model (with the truncation and prompt
//! baselines) and one TokenSkip adapter per importance scorer; this module turns their
//! `summary.json` files into `docs/results.md`: the full table, the targets checked against
//! the measured numbers, the scorer ablation and the chart. Every figure comes from the
//! summaries; the only typed-in numbers are the paper's, quoted with their source.

use std::fmt::Write as _;

use super::eval::chart::{svg_series, Series, PALETTE};
use super::eval::summary::{Method, Row, Summary};

/// One evaluated model under a short label (`base`, `surprisal`, ...).
pub struct Run {
    pub label: String,
    pub summary: Summary,
}

/// The acceptance targets.
pub const TOKENS_AT_06_MAX: f64 = 0.65;
pub const ACC_DROP_AT_06_MAX: f64 = 0.03;
pub const ACT_RATIO_TOL: f64 = 0.1;
pub const TRUNCATION_GAP_MIN: f64 = 0.20;

fn row(rows: &[Row], method: Method, gamma: f64) -> Option<&Row> {
    rows.iter()
        .find(|r| r.method == method && (r.gamma - gamma).abs() < 1e-6)
}

fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

/// How one adapter run fares against the targets (`None`: a row it needs is missing).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetCheck {
    pub tokens_ratio_06: f64,
    pub acc_drop_06: f64,
    pub worst_act_ratio_gap: f64,
    /// TokenSkip at 0.6 minus truncation at 0.6 (from the run that has the baseline).
    pub truncation_gap_06: Option<f64>,
}

impl TargetCheck {
    pub fn all_met(&self) -> bool {
        self.tokens_ratio_06 <= TOKENS_AT_06_MAX
            && self.acc_drop_06 <= ACC_DROP_AT_06_MAX
            && self.worst_act_ratio_gap <= ACT_RATIO_TOL
            && self
                .truncation_gap_06
                .is_some_and(|g| g >= TRUNCATION_GAP_MIN)
    }
}

/// The targets for `rows` (an adapter's), with `truncation` the baseline rows.
pub fn check(rows: &[Row], truncation: &[Row]) -> Option<TargetCheck> {
    let full = row(rows, Method::Tokenskip, 1.0)?;
    let at06 = row(rows, Method::Tokenskip, 0.6)?;
    let worst_act_ratio_gap = rows
        .iter()
        .filter(|r| r.method == Method::Tokenskip && r.gamma >= 0.6 - 1e-9)
        .filter_map(|r| r.act_ratio.map(|a| (a - r.gamma).abs()))
        .fold(0.0, f64::max);
    Some(TargetCheck {
        tokens_ratio_06: at06.mean_tokens / full.mean_tokens.max(1e-9),
        acc_drop_06: full.accuracy - at06.accuracy,
        worst_act_ratio_gap,
        truncation_gap_06: row(truncation, Method::Truncation, 0.6)
            .map(|t| at06.accuracy - t.accuracy),
    })
}

/// The Markdown page. `preamble` (how the runs were made) goes first, verbatim.
pub fn markdown(runs: &[Run], preamble: &str) -> String {
    let mut s = String::new();
    s.push_str(preamble.trim_end());
    s.push_str("\n\n## All runs\n\n");
    s.push_str("| run | method | gamma | n | accuracy % | mean CoT tokens | ActRatio | latency p50 s | tok/s |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for run in runs {
        for r in &run.summary.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {:.2} | {} | {} | {:.1} | {} | {:.3} | {:.0} |",
                run.label,
                format!("{:?}", r.method).to_lowercase(),
                r.gamma,
                r.n,
                pct(r.accuracy),
                r.mean_tokens,
                r.act_ratio.map_or("-".into(), |a| format!("{a:.3}")),
                r.latency_p50_s,
                r.tokens_per_s
            );
        }
    }
    let truncation: Vec<Row> = runs
        .iter()
        .flat_map(|r| r.summary.rows.iter())
        .filter(|r| r.method == Method::Truncation)
        .cloned()
        .collect();
    let adapters: Vec<&Run> = runs
        .iter()
        .filter(|r| r.summary.adapter.is_some())
        .collect();
    if !adapters.is_empty() {
        s.push_str("\n## Targets (issue 9), per adapter\n\n");
        let _ = writeln!(
            s,
            "Targets: at gamma 0.6 mean CoT tokens <= {TOKENS_AT_06_MAX} x gamma 1.0's and accuracy \
             within {} points of it; ActRatio within {ACT_RATIO_TOL} of gamma for gamma >= 0.6; \
             truncation to the same budget at least {} points below TokenSkip at 0.6.\n",
            100.0 * ACC_DROP_AT_06_MAX,
            100.0 * TRUNCATION_GAP_MIN
        );
        s.push_str("| adapter | tokens 0.6 / 1.0 | | accuracy drop at 0.6 (points) | | worst abs(ActRatio - gamma), gamma >= 0.6 | | TokenSkip - truncation at 0.6 (points) | |\n");
        s.push_str("|---|---|---|---|---|---|---|---|---|\n");
        for run in &adapters {
            match check(&run.summary.rows, &truncation) {
                Some(c) => {
                    let _ = writeln!(
                        s,
                        "| {} | {:.3} | {} | {:+.1} | {} | {:.3} | {} | {} | {} |",
                        run.label,
                        c.tokens_ratio_06,
                        mark(c.tokens_ratio_06 <= TOKENS_AT_06_MAX),
                        100.0 * c.acc_drop_06,
                        mark(c.acc_drop_06 <= ACC_DROP_AT_06_MAX),
                        c.worst_act_ratio_gap,
                        mark(c.worst_act_ratio_gap <= ACT_RATIO_TOL),
                        c.truncation_gap_06
                            .map_or("-".into(), |g| format!("{:+.1}", 100.0 * g)),
                        mark(c.truncation_gap_06.is_some_and(|g| g >= TRUNCATION_GAP_MIN)),
                    );
                }
                None => {
                    let _ = writeln!(
                        s,
                        "| {} | needs gamma 1.0 and 0.6 rows | | | | | | | |",
                        run.label
                    );
                }
            }
        }
        s.push_str("\n## Scorer ablation: which importance measure compresses best\n\n");
        s.push_str("| scorer (adapter) | accuracy % at 1.0 | at 0.6 | at 0.5 | tokens at 0.6 | tokens at 0.5 |\n|---|---|---|---|---|---|\n");
        let cell = |rows: &[Row], g: f64, f: &dyn Fn(&Row) -> String| {
            row(rows, Method::Tokenskip, g).map_or("-".to_string(), f)
        };
        for run in &adapters {
            let rows = &run.summary.rows;
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                run.label,
                cell(rows, 1.0, &|r| pct(r.accuracy)),
                cell(rows, 0.6, &|r| pct(r.accuracy)),
                cell(rows, 0.5, &|r| pct(r.accuracy)),
                cell(rows, 0.6, &|r| format!("{:.1}", r.mean_tokens)),
                cell(rows, 0.5, &|r| format!("{:.1}", r.mean_tokens)),
            );
        }
        for g in [0.6, 0.5] {
            if let Some((label, acc)) = best_at(runs, g) {
                let _ = writeln!(s, "\nBest at gamma {g}: **{label}** ({} %).", pct(acc));
            }
        }
    }
    s.push_str(PAPER);
    s
}

/// The adapter run with the highest TokenSkip accuracy at `gamma` (first one on ties).
pub fn best_at(runs: &[Run], gamma: f64) -> Option<(&str, f64)> {
    runs.iter()
        .filter(|r| r.summary.adapter.is_some())
        .filter_map(|r| {
            row(&r.summary.rows, Method::Tokenskip, gamma).map(|x| (r.label.as_str(), x.accuracy))
        })
        .fold(None, |best: Option<(&str, f64)>, cur| match best {
            Some(b) if b.1 >= cur.1 => Some(b),
            _ => Some(cur),
        })
}

/// The paper's figures (../shared/TOKENSKIP.md, from arXiv 2502.12067), for comparison.
const PAPER: &str = "
## The paper's numbers, for comparison

Quoted from the TokenSkip paper (arXiv 2502.12067) as summarised in the project brief, GSM8K
test, accuracy % / mean CoT tokens; not measured here.

| model | gamma 1.0 | 0.9 | 0.8 | 0.7 | 0.6 | 0.5 | truncation at 0.5 |
|---|---|---|---|---|---|---|---|
| LLaMA-3.1-8B-Instruct | 86.2 / 213.17 | 86.1 / 198.01 | 84.3 / 169.89 | 82.5 / 150.12 | 81.1 / 129.38 | 78.2 / 113.05 (ActRatio 0.53) | 7.0 |
| Qwen2.5-7B-Instruct | 91.4 / 297.83 | | | | 87.9 / 178.07 | 86.0 / 151.44 | |
";

/// The chart: one line per run for TokenSkip, plus every baseline present.
pub fn chart(runs: &[Run], title: &str) -> String {
    let mut series = Vec::new();
    for run in runs {
        for m in [Method::Tokenskip, Method::Truncation, Method::Prompt] {
            let rows: Vec<&Row> = run.summary.rows.iter().filter(|r| r.method == m).collect();
            if rows.is_empty() {
                continue;
            }
            let label = match m {
                Method::Tokenskip => run.label.clone(),
                other => format!("{} ({})", format!("{other:?}").to_lowercase(), run.label),
            };
            series.push(Series {
                label,
                colour: PALETTE[series.len() % PALETTE.len()],
                rows,
            });
        }
    }
    svg_series(&series, title)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: Method, gamma: f64, acc: f64, tokens: f64, act: f64) -> Row {
        Row {
            method,
            gamma,
            n: 100,
            accuracy: acc,
            mean_tokens: tokens,
            act_ratio: Some(act),
            latency_p50_s: 0.1,
            latency_p95_s: 0.2,
            tokens_per_s: 100.0,
            truncated: 0,
            errors: 0,
        }
    }

    fn summary(adapter: Option<&str>, rows: Vec<Row>) -> Summary {
        Summary {
            format: "x".into(),
            model: "demo".into(),
            adapter: adapter.map(String::from),
            dataset: "synthetic-test:100".into(),
            timing: "throughput".into(),
            grader: "tokenskip-v1".into(),
            endpoint: None,
            rows,
        }
    }

    #[test]
    fn targets_are_checked_from_the_rows() {
        let adapter = vec![
            r(Method::Tokenskip, 1.0, 0.90, 100.0, 1.0),
            r(Method::Tokenskip, 0.8, 0.89, 81.0, 0.81),
            r(Method::Tokenskip, 0.6, 0.88, 62.0, 0.62),
        ];
        let trunc = vec![r(Method::Truncation, 0.6, 0.30, 60.0, 0.6)];
        let c = check(&adapter, &trunc).unwrap();
        assert!((c.tokens_ratio_06 - 0.62).abs() < 1e-12);
        assert!((c.acc_drop_06 - 0.02).abs() < 1e-12);
        assert!((c.worst_act_ratio_gap - 0.02).abs() < 1e-12);
        assert!((c.truncation_gap_06.unwrap() - 0.58).abs() < 1e-12);
        assert!(c.all_met());
        let mut worse = adapter.clone();
        worse[2].accuracy = 0.80;
        assert!(!check(&worse, &trunc).unwrap().all_met());
        assert!(
            !check(&adapter, &[]).unwrap().all_met(),
            "no truncation baseline"
        );
        assert!(check(&adapter[..2], &trunc).is_none(), "no 0.6 row");
    }

    #[test]
    fn markdown_has_every_row_targets_and_ablation() {
        let runs = vec![
            Run {
                label: "base".into(),
                summary: summary(
                    None,
                    vec![
                        r(Method::Tokenskip, 1.0, 0.9, 100.0, 1.0),
                        r(Method::Truncation, 0.6, 0.3, 60.0, 0.6),
                    ],
                ),
            },
            Run {
                label: "rules".into(),
                summary: summary(
                    Some("a"),
                    vec![
                        r(Method::Tokenskip, 1.0, 0.9, 100.0, 1.0),
                        r(Method::Tokenskip, 0.6, 0.7, 70.0, 0.7),
                        r(Method::Tokenskip, 0.5, 0.6, 60.0, 0.6),
                    ],
                ),
            },
            Run {
                label: "surprisal".into(),
                summary: summary(
                    Some("b"),
                    vec![
                        r(Method::Tokenskip, 1.0, 0.9, 100.0, 1.0),
                        r(Method::Tokenskip, 0.6, 0.88, 60.0, 0.6),
                        r(Method::Tokenskip, 0.5, 0.5, 50.0, 0.5),
                    ],
                ),
            },
        ];
        let md = markdown(&runs, "# Results\n");
        assert!(md.starts_with("# Results\n"));
        assert_eq!(md.matches("| base |").count(), 2);
        assert!(md.contains("| rules | 0.700 | **missed** |"), "{md}");
        assert!(
            md.contains("| surprisal | 0.600 | met | +2.0 | met |"),
            "{md}"
        );
        assert!(md.contains("Best at gamma 0.6: **surprisal** (88.0 %)"));
        assert!(md.contains("Best at gamma 0.5: **rules** (60.0 %)"));
        let svg = chart(&runs, "t");
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert!(svg.contains("truncation (base)"));
    }
}
