//! Session tests: the reader on good and damaged files, the recorder, the player.

mod format_tests;
mod player_tests;

use std::sync::OnceLock;

use crate::model::ChatTokenizer;
use crate::tui::action::Action;
use crate::tui::effect::Effect;
use crate::tui::scoring::{analyze, fallback_tokenizer};
use crate::tui::state::State;
use crate::tui::update::update;

use super::format::{to_jsonl, Header, Record, Session};

/// A small, valid session as the runtime would record it: each Action folded through
/// `update`, its `Analyze` effects answered inline by the rules scorer (as the worker
/// does without a model) and recorded too, 100 ms apart.
pub fn small_session() -> Session {
    let actions = vec![
        Action::Resize {
            cols: 120,
            rows: 40,
        },
        Action::SetPlainMarks { on: false },
        Action::ExamplesLoaded {
            source: "built-in".into(),
            examples: crate::tui::examples::builtin(),
            note: None,
        },
        Action::SelectNext,
        Action::RatioDown,
        Action::RatioDown,
        Action::ToggleHelp,
        Action::ToggleHelp,
    ];
    record_live("none", actions)
}

/// Runs `actions` live (effects answered inline) and returns the session recorded.
pub fn record_live(model: &str, actions: Vec<Action>) -> Session {
    static TOK: OnceLock<ChatTokenizer> = OnceLock::new();
    let tok = TOK.get_or_init(|| fallback_tokenizer().expect("demo tokenizer"));
    let mut s = State::new(model, "rules");
    let mut records = Vec::new();
    let mut queue: std::collections::VecDeque<Action> = actions.into();
    while let Some(a) = queue.pop_front() {
        records.push(Record {
            t_ms: records.len() as u64 * 100,
            action: a.clone(),
        });
        for e in update(&mut s, a) {
            if let Effect::Analyze { req, text, scorer } = e {
                queue.push_front(analyze(tok, None, req, &text, &scorer));
            }
        }
    }
    Session {
        header: Header::new(model, "rules", "2026-11-23T00:00:00Z".into()),
        records,
    }
}

pub fn small_jsonl() -> String {
    to_jsonl(&small_session())
}
