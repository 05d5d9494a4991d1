//! What a viewer sees: the [`ViewerApp`] trait (keys in, frames out, its own clock), and
//! [`Workbench`], the TUI's own `State` driven by `update` with no model: the effects
//! that need one are answered locally (rules scoring on the demo tokenizer) or refused,
//! and nothing a viewer types can start a process or read a file.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::Frame;

use crate::data::example::Example;
use crate::model::ChatTokenizer;
use crate::tui::keymap::{self, Key};
use crate::tui::scoring::analyze;
use crate::tui::theme::Theme;
use crate::tui::view::render_app;
use crate::tui::{update, Action, Effect, State};

/// One viewer's screen. The viewer loop owns it: keys and resizes go in, `render`
/// draws (only when something changed), and `on_tick` runs at `next_deadline`.
pub trait ViewerApp: Send {
    /// A key; returns true to end the session.
    fn on_key(&mut self, key: Key) -> bool;
    fn on_resize(&mut self, cols: u16, rows: u16);
    fn render(&mut self, frame: &mut Frame);
    /// When `on_tick` wants to run next (`None`: only input changes the screen).
    fn next_deadline(&self) -> Option<Instant>;
    /// The deadline passed; returns true if the screen changed.
    fn on_tick(&mut self, now: Instant) -> bool;
}

/// Spinner tick while something runs (as the local TUI).
const TICK: Duration = Duration::from_millis(100);

/// The workbench without a model: a `State` folded by `update`, effects answered here.
pub struct Workbench {
    state: State,
    theme: Theme,
    tokenizer: Arc<ChatTokenizer>,
    started: Instant,
    /// Keys a read-only viewer may use (`None`: all).
    read_only: bool,
}

impl Workbench {
    /// A workbench on `examples`, drawn with `theme`, at `cols`x`rows`.
    pub fn new(
        examples: Vec<Example>,
        source: &str,
        theme: Theme,
        tokenizer: Arc<ChatTokenizer>,
        cols: u16,
        rows: u16,
    ) -> Self {
        let plain = theme.depth == crate::tui::color::ColorDepth::Never;
        let mut w = Workbench {
            state: State::new("none", "rules"),
            theme,
            tokenizer,
            started: Instant::now(),
            read_only: false,
        };
        w.apply(Action::Resize { cols, rows });
        w.apply(Action::SetPlainMarks { on: plain });
        w.apply(Action::ModelFailed {
            name: "none".into(),
            message: "SSH viewers get reference CoTs scored with rules".into(),
        });
        w.apply(Action::ExamplesLoaded {
            source: source.to_string(),
            examples,
            note: None,
        });
        w
    }

    /// Only scrolling, the cursor, help and quit (for following someone else's session).
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Folds `a` (and the answers to its effects) into the state; true on quit.
    pub fn apply(&mut self, a: Action) -> bool {
        let mut queue = VecDeque::from([a]);
        let mut quit = false;
        while let Some(a) = queue.pop_front() {
            for e in update(&mut self.state, a) {
                match self.answer(e) {
                    Answer::Quit => quit = true,
                    Answer::Then(a) => queue.push_back(a),
                    Answer::Nothing => {}
                }
            }
        }
        quit
    }

    fn answer(&self, e: Effect) -> Answer {
        match e {
            Effect::Quit => Answer::Quit,
            Effect::Analyze { req, text, scorer } => {
                Answer::Then(analyze(&self.tokenizer, None, req, &text, &scorer))
            }
            Effect::Generate { req, .. } => Answer::Then(Action::GenerationFailed {
                req,
                message: "no model in the SSH viewer".into(),
            }),
            Effect::StartJob { id, .. } => Answer::Then(Action::JobSpawnFailed {
                id,
                message: "SSH viewers cannot start jobs".into(),
            }),
            Effect::LoadChart { job, .. } => Answer::Then(Action::ChartFailed {
                job,
                message: "SSH viewers cannot read files".into(),
            }),
            Effect::SaveSession { path } => Answer::Then(Action::SessionSaveFailed {
                path,
                message: "SSH viewers cannot write files".into(),
            }),
            Effect::Cancel { .. } | Effect::CancelJob { .. } => Answer::Nothing,
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

enum Answer {
    Quit,
    Then(Action),
    Nothing,
}

impl ViewerApp for Workbench {
    fn on_key(&mut self, key: Key) -> bool {
        let Some(a) = keymap::action_for(&self.state, key) else {
            return false;
        };
        if self.read_only && !allowed_read_only(&a) {
            return false;
        }
        self.apply(a)
    }

    fn on_resize(&mut self, cols: u16, rows: u16) {
        self.apply(Action::Resize { cols, rows });
    }

    fn render(&mut self, frame: &mut Frame) {
        render_app(&self.state, &self.theme, frame);
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.state.busy().then(|| Instant::now() + TICK)
    }

    fn on_tick(&mut self, _now: Instant) -> bool {
        let now_ms = self.now_ms();
        self.apply(Action::Tick { now_ms });
        true
    }
}

/// Whether a read-only viewer may send `a`: it changes only what this viewer sees (used by
/// the `--session`/`--live` viewers too).
pub(super) fn allowed_read_only(a: &Action) -> bool {
    matches!(
        a,
        Action::Quit
            | Action::ToggleHelp
            | Action::Escape
            | Action::Scroll { .. }
            | Action::PageUp
            | Action::PageDown
            | Action::MoveCursor { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::color::ColorDepth;
    use crate::tui::keymap::parse_keys;
    use crate::tui::scoring::fallback_tokenizer;

    fn workbench() -> Workbench {
        let tok = Arc::new(fallback_tokenizer().unwrap());
        Workbench::new(
            crate::tui::examples::builtin(),
            "built-in",
            Theme::fallback(ColorDepth::Ansi256),
            tok,
            120,
            40,
        )
    }

    #[test]
    fn the_first_cot_is_scored_without_a_model_and_nothing_runs() {
        let mut w = workbench();
        assert!(w.state().doc.analysis.is_some(), "scored at once");
        assert!(!w.state().busy());
        assert_eq!(w.next_deadline(), None, "idle: no ticks");
        for k in parse_keys("j3g:train --out x<enter>") {
            assert!(!w.on_key(k));
        }
        assert!(w
            .state()
            .jobs
            .iter()
            .all(|j| j.status != crate::tui::state::JobStatus::Running));
        assert!(!w.state().busy(), "refused effects leave nothing pending");
        assert!(w.on_key(Key::Char('q')));
    }

    #[test]
    fn read_only_viewers_only_scroll_and_quit() {
        let mut w = workbench().read_only();
        let before = w.state().selected;
        let ratio = w.state().ratio_steps;
        for k in parse_keys("j3:<pgdn>") {
            assert!(!w.on_key(k));
        }
        assert_eq!(w.state().selected, before);
        assert_eq!(w.state().ratio_steps, ratio);
        assert!(w.state().palette.is_none());
        assert!(w.on_key(Key::CtrlC));
    }
}
