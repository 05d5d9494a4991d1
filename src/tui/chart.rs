//! Chart data for the charts pane (`c`): training loss per step from a train job's
//! `trainer_log.jsonl`, and eval accuracy (%) against mean CoT tokens from an eval
//! job's `summary.json`. Plain data (serialisable), so a recorded `ChartLoaded` replays
//! without the file; reading the file happens only in the runtime (`load`).

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// x: step, y: loss.
    Loss,
    /// x: mean CoT tokens, y: accuracy in percent.
    Accuracy,
}

/// One named line of points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A chart as loaded from one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    pub kind: ChartKind,
    /// Where it came from (a path), for the title.
    pub source: String,
    pub series: Vec<Series>,
}

/// Largest |coordinate| drawn. ratatui's canvas maps a point with `(x - min) * width /
/// (max - min)`, which overflows to infinity for ranges near f64::MAX and then draws a
/// line of usize::MAX cells (a hang found by `hunt_busy_loop`); steps, losses, token
/// counts and accuracies are nowhere near this.
pub const PLOT_LIMIT: f64 = 1e12;

/// A point the charts pane can draw: finite and within `PLOT_LIMIT`.
pub fn plottable(&(x, y): &(f64, f64)) -> bool {
    x.is_finite() && y.is_finite() && x.abs() <= PLOT_LIMIT && y.abs() <= PLOT_LIMIT
}

impl ChartData {
    /// (min, max) of x and of y over every point, widened when flat.
    pub fn bounds(&self) -> ([f64; 2], [f64; 2]) {
        let pts = self.series.iter().flat_map(|s| s.points.iter());
        let (mut x, mut y) = ([f64::MAX, f64::MIN], [f64::MAX, f64::MIN]);
        for &(px, py) in pts.filter(|p| plottable(p)) {
            x = [x[0].min(px), x[1].max(px)];
            y = [y[0].min(py), y[1].max(py)];
        }
        let widen = |b: [f64; 2]| {
            if b[0] > b[1] {
                [0.0, 1.0]
            } else if b[1] - b[0] < 1e-9 {
                [b[0] - 0.5, b[1] + 0.5]
            } else {
                b
            }
        };
        (widen(x), widen(y))
    }
}

/// The file to chart for a finished job's outputs: its `summary.json` (eval), else the
/// `trainer_log.jsonl` next to its first output (train). Pure path arithmetic.
pub fn chart_path(name: &str, outputs: &[String]) -> Option<String> {
    if let Some(s) = outputs.iter().find(|o| o.ends_with("summary.json")) {
        if !s.ends_with("train_summary.json") {
            return Some(s.clone());
        }
    }
    if name != "train" {
        return None;
    }
    let first = Path::new(outputs.first()?);
    let dir = if first.extension().is_some() {
        first.parent()?
    } else {
        first
    };
    Some(dir.join("trainer_log.jsonl").display().to_string())
}

/// Parses `trainer_log.jsonl`: one `{"step":N,"loss":X,...}` object a line. Blank lines
/// are skipped; lines without a finite step and loss are errors.
pub fn parse_trainer_log(text: &str, source: &str) -> Result<ChartData, String> {
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{source} line {}: {e}", i + 1))?;
        let num = |k: &str| v.get(k).and_then(serde_json::Value::as_f64);
        match (num("step"), num("loss")) {
            (Some(s), Some(l)) if s.is_finite() && l.is_finite() => points.push((s, l)),
            _ => {
                return Err(format!(
                    "{source} line {}: no numeric \"step\" and \"loss\"",
                    i + 1
                ))
            }
        }
    }
    if points.is_empty() {
        return Err(format!("{source}: no training steps logged"));
    }
    Ok(ChartData {
        kind: ChartKind::Loss,
        source: source.to_string(),
        series: vec![Series {
            name: "loss".into(),
            points,
        }],
    })
}

/// Parses an eval `summary.json`: one series per method, points (mean tokens,
/// accuracy %) sorted by tokens. `accuracy` is a fraction (as `eval` writes it).
pub fn parse_summary(text: &str, source: &str) -> Result<ChartData, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("{source}: {e}"))?;
    let rows = v
        .get("rows")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| format!("{source}: no \"rows\" array (not an eval summary.json?)"))?;
    let mut series: Vec<Series> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let method = r
            .get("method")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?");
        let num = |k: &str| r.get(k).and_then(serde_json::Value::as_f64);
        let (Some(acc), Some(tok)) = (num("accuracy"), num("mean_tokens")) else {
            return Err(format!(
                "{source}: row {i} has no numeric accuracy and mean_tokens"
            ));
        };
        if !acc.is_finite() || !tok.is_finite() {
            continue;
        }
        let pct = acc * 100.0;
        match series.iter_mut().find(|s| s.name == method) {
            Some(s) => s.points.push((tok, pct)),
            None => series.push(Series {
                name: method.to_string(),
                points: vec![(tok, pct)],
            }),
        }
    }
    if series.is_empty() {
        return Err(format!("{source}: no rows"));
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Ok(ChartData {
        kind: ChartKind::Accuracy,
        source: source.to_string(),
        series,
    })
}

/// Reads and parses `path` (runtime only): a `.jsonl` is a trainer log, anything else
/// an eval summary; a directory is searched for either.
pub fn load(path: &str) -> Result<ChartData, String> {
    let p = Path::new(path);
    let file = if p.is_dir() {
        ["summary.json", "trainer_log.jsonl"]
            .iter()
            .map(|f| p.join(f))
            .find(|f| f.is_file())
            .ok_or_else(|| format!("{path}: no summary.json or trainer_log.jsonl in it"))?
    } else {
        p.to_path_buf()
    };
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if file.extension().is_some_and(|e| e == "jsonl") {
        parse_trainer_log(&text, &shown)
    } else {
        parse_summary(&text, &shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_formats_and_rejects_bad_ones() {
        let log =
            "{\"step\":1,\"loss\":2.5,\"lr\":0.001}\n\n{\"step\":2,\"loss\":2.0,\"lr\":0.001}\n";
        let c = parse_trainer_log(log, "t").unwrap();
        assert_eq!(c.series[0].points, vec![(1.0, 2.5), (2.0, 2.0)]);
        assert!(parse_trainer_log("{\"step\":1}", "t").is_err());
        assert!(parse_trainer_log("nope", "t").is_err());
        assert!(parse_trainer_log("", "t").is_err());
        let sum = r#"{"rows":[{"method":"tokenskip","gamma":0.5,"accuracy":0.8,"mean_tokens":120.0},
            {"method":"tokenskip","gamma":1.0,"accuracy":0.9,"mean_tokens":200.0},
            {"method":"truncation","gamma":0.5,"accuracy":0.4,"mean_tokens":100.0}]}"#;
        let c = parse_summary(sum, "s").unwrap();
        assert_eq!(c.series.len(), 2);
        assert_eq!(c.series[0].points, vec![(120.0, 80.0), (200.0, 90.0)]);
        assert!(parse_summary("{}", "s").is_err());
        assert!(parse_summary("[", "s").is_err());
        assert!(load("/nonexistent/summary.json").is_err());
    }

    #[test]
    fn job_outputs_point_at_the_chart_file() {
        let eval = vec!["out/e/samples.jsonl".into(), "out/e/summary.json".into()];
        assert_eq!(
            chart_path("eval", &eval).as_deref(),
            Some("out/e/summary.json")
        );
        let train = vec!["out/lora/adapter_model.safetensors".into()];
        assert_eq!(
            chart_path("train", &train).as_deref(),
            Some("out/lora/trainer_log.jsonl")
        );
        assert_eq!(chart_path("prune", &["x.jsonl".into()]), None);
    }
}
