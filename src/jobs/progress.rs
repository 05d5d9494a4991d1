//! The progress protocol: one JSON object per line on stdout with `--progress json`
//! (`start`, `progress`, `log`, `done`, `error`), or a human progress line on stderr.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// One protocol event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Start {
        job: String,
        total: u64,
    },
    Progress {
        done: u64,
        total: u64,
        #[serde(default)]
        metrics: BTreeMap<String, f64>,
    },
    Log {
        level: String,
        message: String,
    },
    Done {
        outputs: Vec<String>,
    },
    Error {
        message: String,
    },
}

/// How a job reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ProgressMode {
    /// JSON lines on stdout (for the TUI and scripts).
    Json,
    /// A progress line on stderr.
    #[default]
    Human,
    /// Nothing but errors.
    Quiet,
}

/// Emits events in the chosen mode.
pub struct Reporter {
    mode: ProgressMode,
    job: String,
    started: Instant,
    last_line: Option<Instant>,
    tty: bool,
}

impl Reporter {
    pub fn new(mode: ProgressMode, job: &str) -> Self {
        Reporter {
            mode,
            job: job.to_string(),
            started: Instant::now(),
            last_line: None,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn emit(&self, e: &Event) {
        if self.mode == ProgressMode::Json {
            if let Ok(s) = serde_json::to_string(e) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{s}");
                let _ = out.flush();
            }
        }
    }

    pub fn start(&mut self, total: u64) {
        self.started = Instant::now();
        self.emit(&Event::Start {
            job: self.job.clone(),
            total,
        });
    }

    /// Reports progress; the human line is redrawn at most 4 times a second on a terminal
    /// and written every 10 s otherwise (logs stay short).
    pub fn progress(&mut self, done: u64, total: u64, metrics: BTreeMap<String, f64>) {
        match self.mode {
            ProgressMode::Json => self.emit(&Event::Progress {
                done,
                total,
                metrics,
            }),
            ProgressMode::Quiet => {}
            ProgressMode::Human => {
                let every = if self.tty {
                    Duration::from_millis(250)
                } else {
                    Duration::from_secs(10)
                };
                let due = self.last_line.is_none_or(|t| t.elapsed() >= every) || done == total;
                if !due {
                    return;
                }
                self.last_line = Some(Instant::now());
                let line = human_line(&self.job, done, total, &metrics, self.started.elapsed());
                let mut err = std::io::stderr().lock();
                let _ = if self.tty {
                    write!(err, "\r\x1b[2K{line}")
                } else {
                    writeln!(err, "{line}")
                };
                if self.tty && done == total {
                    let _ = writeln!(err);
                }
                let _ = err.flush();
            }
        }
    }

    pub fn log(&self, level: &str, message: &str) {
        tracing::info!(job = %self.job, "{message}");
        match self.mode {
            ProgressMode::Json => self.emit(&Event::Log {
                level: level.into(),
                message: message.into(),
            }),
            ProgressMode::Human => eprintln!(
                "{}[{}] {message}",
                if self.tty { "\r\x1b[2K" } else { "" },
                self.job
            ),
            ProgressMode::Quiet => {}
        }
    }

    pub fn done(&self, outputs: Vec<String>) {
        self.emit(&Event::Done { outputs });
    }

    pub fn error(&self, message: &str) {
        self.emit(&Event::Error {
            message: message.into(),
        });
    }
}

/// `[train] 120/7473 [####------]  1.6% loss 2.31 | 812 tok/s | ETA 12m03s`
pub fn human_line(
    job: &str,
    done: u64,
    total: u64,
    metrics: &BTreeMap<String, f64>,
    elapsed: Duration,
) -> String {
    let frac = if total > 0 {
        done as f64 / total as f64
    } else {
        0.0
    };
    let width = 20;
    let filled = ((frac * width as f64).round() as usize).min(width);
    let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
    let m: Vec<String> = metrics
        .iter()
        .map(|(k, v)| format!("{k} {}", short(*v)))
        .collect();
    let eta = if done > 0 && done < total {
        let secs = elapsed.as_secs_f64() / done as f64 * (total - done) as f64;
        format!(" | ETA {}", duration(secs))
    } else {
        String::new()
    };
    format!(
        "[{job}] {done}/{total} [{bar}] {:5.1}% {}{eta}",
        frac * 100.0,
        m.join(" | ")
    )
}

fn short(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-2 || v.abs() >= 1e5) {
        format!("{v:.2e}")
    } else {
        format!("{v:.3}")
    }
}

/// `1h02m`, `12m03s`, `45s`.
pub fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_the_documented_shape() {
        let e = Event::Start {
            job: "prune".into(),
            total: 7473,
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"start","job":"prune","total":7473}"#
        );
        let e = Event::Progress {
            done: 120,
            total: 7473,
            metrics: [("tokens_per_s".to_string(), 812.5)].into(),
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"progress","done":120,"total":7473,"metrics":{"tokens_per_s":812.5}}"#
        );
        let back: Event =
            serde_json::from_str(r#"{"event":"done","outputs":["out/prune/train.jsonl"]}"#)
                .unwrap();
        assert_eq!(
            back,
            Event::Done {
                outputs: vec!["out/prune/train.jsonl".into()]
            }
        );
    }

    #[test]
    fn human_line_has_bar_metrics_and_eta() {
        let l = human_line(
            "train",
            5,
            10,
            &[("loss".to_string(), 2.5)].into(),
            Duration::from_secs(30),
        );
        assert_eq!(
            l,
            "[train] 5/10 [##########----------]  50.0% loss 2.500 | ETA 30s"
        );
        assert_eq!(duration(3725.0), "1h02m");
    }
}
