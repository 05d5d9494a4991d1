//! Everything that changes the TUI's state, as data.
//!
//! User intents are verbs (`SelectNext`, `SetRatio`), results of effects are past tense
//! (`Analyzed`, `CotGenerated`). Results carry their full payload (tokens, scores, text),
//! so a recorded stream of Actions (issue 10: one JSON line each) replays through
//! `update` to the same screens with no model, no tokenizer and no files.

use serde::{Deserialize, Serialize};

use crate::data::example::Example;
use crate::importance::{Importance, TokenSpan};
use crate::jobs::progress::Event;

use super::chart::ChartData;
use super::state::Level;

/// One thing that happened. Serialised as `{"type":"set_ratio","steps":12}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    // ---- terminal and clock ----
    /// The terminal has this many columns and rows.
    Resize {
        cols: u16,
        rows: u16,
    },
    /// The clock, for the spinner (only sent while something is running).
    Tick {
        now_ms: u64,
    },
    /// Colour depth is `never`: drops are also shown in brackets (text, not colour).
    SetPlainMarks {
        on: bool,
    },
    Quit,
    /// A message for the status bar from outside `update` (config or theme problems).
    Notice {
        text: String,
    },
    ToggleHelp,
    /// Dismiss the help overlay or the status message, or leave the prompt.
    Escape,

    // ---- question list ----
    SelectNext,
    SelectPrev,
    Select {
        index: usize,
    },

    // ---- prompt box ----
    FocusPrompt,
    InputChar {
        c: char,
    },
    InputBackspace,
    /// Ask the prompt's text: generate a CoT for it (or, with no model, compress it).
    SubmitPrompt,

    // ---- ratio and view ----
    /// Ratio gamma in steps of 0.05: `steps` in 1..=20 (20 = 1.0).
    SetRatio {
        steps: u8,
    },
    RatioUp,
    RatioDown,
    CycleScorer,
    ToggleGranularity,
    /// Move the token cursor by `delta` tokens (`h`/`l`).
    MoveCursor {
        delta: i64,
    },
    /// Scroll both panes by `lines` (negative: up).
    Scroll {
        lines: i64,
    },
    PageUp,
    PageDown,
    /// Generate a CoT for the selected question with the loaded model; with `at_ratio`,
    /// ask for a compressed one at the current gamma (TokenSkip prompt).
    Generate {
        at_ratio: bool,
    },

    // ---- command palette and jobs ----
    /// `:`: open the command line (typing goes there; Enter runs it).
    OpenPalette,
    /// `J`: show or hide the jobs pane.
    ToggleJobs,
    SelectJob {
        delta: i64,
    },
    /// `x` in the jobs pane: stop the selected job.
    CancelSelectedJob,
    /// `c`: show or hide the charts pane.
    ToggleCharts,

    // ---- mouse (terminal cells, 0-based) ----
    MouseDown {
        col: u16,
        row: u16,
    },
    MouseDrag {
        col: u16,
        row: u16,
    },
    MouseUp {
        col: u16,
        row: u16,
    },
    MouseMove {
        col: u16,
        row: u16,
    },
    MouseScroll {
        col: u16,
        row: u16,
        lines: i64,
    },

    // ---- results from the runtime ----
    /// The question list (built-ins, or `--dataset`); `note` explains a fallback.
    ExamplesLoaded {
        source: String,
        examples: Vec<Example>,
        note: Option<String>,
    },
    /// The model worker loaded `name`; `scorers` are the specs it can run.
    ModelLoaded {
        name: String,
        decode_tokens_per_s: Option<f64>,
        scorers: Vec<String>,
    },
    ModelFailed {
        name: String,
        message: String,
    },
    /// Tokens and importance of the text of request `req`.
    Analyzed {
        req: u64,
        tokens: Vec<TokenSpan>,
        importance: Importance,
        /// Each token's log-probability under the loaded model (the CoT scored on its
        /// own; the first token has no context: `None`). Absent without a model.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        logprobs: Option<Vec<Option<f32>>>,
    },
    AnalysisFailed {
        req: u64,
        message: String,
    },
    /// One streamed piece of generated text.
    CotChunk {
        req: u64,
        piece: String,
    },
    CotGenerated {
        req: u64,
        text: String,
        /// Tokens the model generated (its own count, for "generate at gamma").
        #[serde(default)]
        new_tokens: Option<usize>,
        decode_tokens_per_s: Option<f64>,
    },
    GenerationFailed {
        req: u64,
        message: String,
    },
    /// Job `id` (`tokenskip-studio ARGS --progress json`) started; `at_ms` is the
    /// runtime clock, for ETAs.
    JobStarted {
        id: u64,
        args: Vec<String>,
        at_ms: u64,
    },
    /// One progress-protocol line from the job's stdout.
    JobEvent {
        id: u64,
        event: Event,
        at_ms: u64,
    },
    /// A line for the job's log: its stderr (info), or a stdout line that is not a
    /// progress event (warn).
    JobLog {
        id: u64,
        level: Level,
        line: String,
    },
    /// The process ended (`code` is `None` when a signal ended it).
    JobExited {
        id: u64,
        code: Option<i32>,
        at_ms: u64,
    },
    JobSpawnFailed {
        id: u64,
        message: String,
    },
    /// A chart read from a file: job `job`'s output, or `:chart PATH` (`None`).
    ChartLoaded {
        job: Option<u64>,
        chart: ChartData,
    },
    ChartFailed {
        job: Option<u64>,
        message: String,
    },
    /// `:save FILE` wrote `actions` recorded actions to `path`.
    SessionSaved {
        path: String,
        actions: usize,
    },
    SessionSaveFailed {
        path: String,
        message: String,
    },
}
