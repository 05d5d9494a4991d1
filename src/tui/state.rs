//! The TUI's state: plain data, changed only by `update`, read by the views.

use crate::compress::{Compressor, Granularity, Kept};
use crate::data::example::Example;
use crate::importance::{Importance, TokenSpan};

use super::chart::ChartData;
use super::layout::{self, Regions};

/// Smallest terminal the layout supports; below it one line says so.
pub const MIN_COLS: u16 = 60;
pub const MIN_ROWS: u16 = 16;
/// Ratio slider steps: gamma = steps / 20, so 0.05 .. 1.0 without float drift.
pub const RATIO_STEPS: u8 = 20;
/// The spinner's frames, advanced by `Tick`.
pub const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatus {
    Loading {
        name: String,
    },
    Ready {
        name: String,
        decode_tokens_per_s: Option<f64>,
    },
    Failed {
        name: String,
        message: String,
    },
}

impl ModelStatus {
    pub fn is_ready(&self) -> bool {
        matches!(self, ModelStatus::Ready { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// The one-line message in the status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub level: Level,
    pub text: String,
}

/// Where the shown CoT came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Nothing selected yet.
    Empty,
    /// The dataset's reference CoT.
    Reference,
    /// Text typed into the prompt and compressed as is (no model).
    Typed,
    /// The model is writing it (`gamma` set for "generate at gamma").
    Streaming { gamma: Option<f64> },
    /// The model wrote it.
    Generated { gamma: Option<f64> },
}

/// A scored CoT, ranked once; the slider only re-thresholds `kept`.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub tokens: Vec<TokenSpan>,
    pub importance: Importance,
    pub compressor: Compressor,
    /// The kept mask at the current gamma (buffer reused by `at_into`).
    pub kept: Kept,
    /// Score range, for the heat scale and its legend.
    pub min_score: f32,
    pub max_score: f32,
    /// Number of ranked units (tokens or words), for "rank r of n".
    pub units: u32,
    /// Each token's log-probability under the loaded model (`None` for the first).
    pub logprobs: Option<Vec<Option<f32>>>,
}

impl Analysis {
    /// A token's score on the heat scale, 0..=1 (min-max over this CoT, because scorers
    /// use different units: probabilities, nats, attention mass).
    pub fn heat(&self, token: usize) -> f32 {
        let s = self.importance.scores.get(token).copied().unwrap_or(0.0);
        let span = self.max_score - self.min_score;
        if span > f32::EPSILON {
            ((s - self.min_score) / span).clamp(0.0, 1.0)
        } else {
            1.0
        }
    }

    pub fn is_kept(&self, token: usize) -> bool {
        self.kept.mask.get(token).copied().unwrap_or(false)
    }
}

/// The model's own compressed CoT ("generate at gamma", `G`), shown under the pruned one.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAt {
    pub gamma: f64,
    pub text: String,
    /// Generated tokens, once done.
    pub tokens: Option<usize>,
}

/// The CoT on screen.
#[derive(Debug, Clone)]
pub struct Doc {
    pub question: String,
    pub origin: Origin,
    pub text: String,
    /// `None` until the worker answers (or while the model streams).
    pub analysis: Option<Analysis>,
    pub model_at: Option<ModelAt>,
}

impl Default for Doc {
    fn default() -> Self {
        Doc {
            question: String::new(),
            origin: Origin::Empty,
            text: String::new(),
            analysis: None,
            model_at: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Running,
    Done,
    Failed,
    Cancelled,
}

/// Log lines kept per job (the pane shows the tail).
pub const JOB_LOG_LINES: usize = 200;

/// A child process of this binary, as its progress events describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: u64,
    pub args: Vec<String>,
    /// From the job's `start` event (else its subcommand).
    pub name: String,
    pub status: JobStatus,
    pub done: u64,
    pub total: u64,
    pub metrics: std::collections::BTreeMap<String, f64>,
    pub log: std::collections::VecDeque<(Level, String)>,
    pub outputs: Vec<String>,
    /// Runtime clock (ms since the TUI started) at start and at the last event.
    pub started_ms: u64,
    pub last_ms: u64,
}

impl Job {
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64).clamp(0.0, 1.0)
        }
    }

    /// Seconds left at the average pace so far, once something is done.
    pub fn eta_s(&self) -> Option<f64> {
        (self.status == JobStatus::Running && self.done > 0 && self.done < self.total).then(|| {
            let per = self.last_ms.saturating_sub(self.started_ms) as f64 / 1e3 / self.done as f64;
            per * (self.total - self.done) as f64
        })
    }
}

#[derive(Debug, Clone)]
pub struct State {
    pub cols: u16,
    pub rows: u16,
    pub now_ms: u64,
    pub examples: Vec<Example>,
    pub examples_source: String,
    pub selected: usize,
    /// Prompt box: focused (keys type into it) and its text, kept when leaving it.
    pub prompt_focused: bool,
    pub prompt: String,
    pub doc: Doc,
    /// Ratio gamma as steps of 0.05 (1..=20).
    pub ratio_steps: u8,
    pub granularity: Granularity,
    /// The current scorer spec and the ones `s` cycles through.
    pub scorer: String,
    pub scorers: Vec<String>,
    pub model: ModelStatus,
    /// Last request id handed out; results for other ids are stale and ignored.
    pub last_req: u64,
    pub pending_analysis: Option<u64>,
    pub pending_generation: Option<u64>,
    /// The running "generate at gamma" request (streams into `doc.model_at`).
    pub pending_side: Option<u64>,
    /// Token under the cursor (full-pane index).
    pub cursor: usize,
    /// First line of the full pane; the compressed pane follows it.
    pub scroll: usize,
    pub dragging_ratio: bool,
    /// Drops shown in brackets too (no colour).
    pub plain_marks: bool,
    pub help: bool,
    pub status: Option<Status>,
    /// The `:` command line while it is open.
    pub palette: Option<String>,
    pub jobs: Vec<Job>,
    pub jobs_view: bool,
    pub job_selected: usize,
    pub last_job: u64,
    /// The charts pane (`c`) and what it shows: the latest loss and eval charts.
    pub charts_view: bool,
    pub loss_chart: Option<ChartData>,
    pub eval_chart: Option<ChartData>,
    pub quit: bool,
}

impl State {
    /// A fresh state: no examples yet, model `model` loading, scorer `scorer`.
    pub fn new(model: &str, scorer: &str) -> Self {
        State {
            cols: 80,
            rows: 24,
            now_ms: 0,
            examples: Vec::new(),
            examples_source: String::new(),
            selected: 0,
            prompt_focused: false,
            prompt: String::new(),
            doc: Doc::default(),
            ratio_steps: 12,
            granularity: Granularity::Token,
            scorer: scorer.to_string(),
            scorers: vec![scorer.to_string()],
            model: ModelStatus::Loading {
                name: model.to_string(),
            },
            last_req: 0,
            pending_analysis: None,
            pending_generation: None,
            pending_side: None,
            cursor: 0,
            scroll: 0,
            dragging_ratio: false,
            plain_marks: false,
            help: false,
            status: None,
            palette: None,
            jobs: Vec::new(),
            jobs_view: false,
            job_selected: 0,
            last_job: 0,
            charts_view: false,
            loss_chart: None,
            eval_chart: None,
            quit: false,
        }
    }

    pub fn gamma(&self) -> f64 {
        f64::from(self.ratio_steps) / f64::from(RATIO_STEPS)
    }

    /// Something runs in the worker (the spinner turns).
    pub fn busy(&self) -> bool {
        self.pending_analysis.is_some()
            || self.pending_generation.is_some()
            || self.pending_side.is_some()
            || matches!(self.model, ModelStatus::Loading { .. })
    }

    pub fn spinner(&self) -> &'static str {
        SPINNER[(self.now_ms / 120) as usize % SPINNER.len()]
    }

    /// The screen regions for the current size (the right pane splits while the
    /// model's own compressed CoT is shown).
    pub fn regions(&self) -> Regions {
        let r = layout::regions(self.cols, self.rows);
        if self.doc.model_at.is_some() {
            layout::split_model(r)
        } else {
            r
        }
    }

    pub fn too_small(&self) -> bool {
        self.cols < MIN_COLS || self.rows < MIN_ROWS
    }

    /// Measured decode speed of the loaded model, if any.
    pub fn tokens_per_s(&self) -> Option<f64> {
        match &self.model {
            ModelStatus::Ready {
                decode_tokens_per_s,
                ..
            } => *decode_tokens_per_s,
            _ => None,
        }
    }
}
