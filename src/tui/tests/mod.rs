//! TUI tests: scripted keys through `update`, rendered into a `TestBackend`.
//!
//! Effects are run synchronously here (`Analyze` with the demo tokenizer and the rules
//! scorer, exactly as the worker does without a model), so a script gives the screen a
//! user would see, with no threads, sleeps or model.

mod charts_tests;
mod jobs_tests;
mod props;
mod snapshots;
mod update_tests;

use std::sync::OnceLock;

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::action::Action;
use super::color::ColorDepth;
use super::effect::Effect;
use super::examples;
use super::keymap::{action_for, parse_keys};
use super::scoring::{analyze, fallback_tokenizer};
use super::state::State;
use super::theme::Theme;
use super::update::update;
use super::view::render_app;
use crate::model::ChatTokenizer;

fn tokenizer() -> &'static ChatTokenizer {
    static TOK: OnceLock<ChatTokenizer> = OnceLock::new();
    TOK.get_or_init(|| fallback_tokenizer().expect("demo tokenizer"))
}

/// Applies `a` and runs its effects inline; returns every Action applied (the
/// session a recorder would write).
pub fn apply(s: &mut State, a: Action) -> Vec<Action> {
    let mut log = vec![a.clone()];
    let mut queue = vec![a];
    while let Some(a) = queue.pop() {
        for e in update(s, a) {
            if let Effect::Analyze { req, text, scorer } = e {
                let result = analyze(tokenizer(), None, req, &text, &scorer);
                log.push(result.clone());
                queue.push(result);
            }
        }
    }
    log
}

/// Types `keys` (notation of `keymap::parse_keys`).
pub fn keys(s: &mut State, keys: &str) -> Vec<Action> {
    let mut log = Vec::new();
    for k in parse_keys(keys) {
        if let Some(a) = action_for(s, k) {
            log.extend(apply(s, a));
        }
    }
    log
}

/// A started TUI without a model: built-in examples, `cols` x `rows`.
pub fn started(cols: u16, rows: u16, depth: ColorDepth) -> State {
    let mut s = State::new("demo", "rules");
    apply(&mut s, Action::Resize { cols, rows });
    apply(
        &mut s,
        Action::SetPlainMarks {
            on: depth == ColorDepth::Never,
        },
    );
    apply(
        &mut s,
        Action::ModelFailed {
            name: "demo".into(),
            message: "the embedded demo model is not in this build".into(),
        },
    );
    apply(
        &mut s,
        Action::ExamplesLoaded {
            source: "built-in".into(),
            examples: examples::builtin(),
            note: None,
        },
    );
    s
}

pub fn render(s: &State, theme: &Theme) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(s.cols, s.rows)).expect("test terminal");
    t.draw(|f| render_app(s, theme, f)).expect("draw");
    t
}
