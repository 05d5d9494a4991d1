//! What `update` asks the runtime to do, as data (STYLE.md: effects are commands).
//!
//! Tests assert these directly; the runtime sends them to the model worker.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Tokenize `text` with the target tokenizer and score it with `scorer` (a
    /// `--scorer` spec). Answered by `Analyzed` or `AnalysisFailed` with the same `req`;
    /// a newer request makes an older one stale (latest wins).
    Analyze {
        req: u64,
        text: String,
        scorer: String,
    },
    /// Generate a CoT for `question`; `gamma` below 1.0 uses the TokenSkip prompt
    /// `question<eos>gamma<eos>`. Streams `CotChunk`s, then `CotGenerated`.
    Generate {
        req: u64,
        question: String,
        gamma: Option<f64>,
    },
    /// Stop generation `req` (the user moved on); no result comes back for it.
    Cancel { req: u64 },
    /// Start `tokenskip-studio ARGS --progress json` as child process `id`.
    StartJob { id: u64, args: Vec<String> },
    /// Stop job `id` (SIGTERM).
    CancelJob { id: u64 },
    /// Read the chart file at `path` (a trainer_log.jsonl or summary.json); answered by
    /// `ChartLoaded` or `ChartFailed` with the same `job`.
    LoadChart { job: Option<u64>, path: String },
    /// Write the session recorded so far to `path` (`:save`); answered by
    /// `SessionSaved` or `SessionSaveFailed`. A replay drops it like every effect.
    SaveSession { path: String },
    /// Leave the event loop and restore the terminal.
    Quit,
}
