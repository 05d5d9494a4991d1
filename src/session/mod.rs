//! Sessions (issue 10): record what a TUI run did as JSONL, replay it with no model,
//! export it (asciicast, HTML). See README, "Sessions", and docs/tui.md.
//!
//! For a replay frontend (the local replay TUI, one SSH viewer each): read with
//! `format::read_file`, make a `Player`, `set_viewport` to the viewer's size (minus one
//! row for the bar), map keys with `controls::control_for` + `controls::apply`, call
//! `Player::tick(elapsed_ms)` from your own clock, draw with `view::render_replay`.

pub mod cast;
pub mod controls;
pub mod format;
pub mod html;
pub mod player;
pub mod recorder;
pub mod replay_ui;
pub mod view;

#[cfg(test)]
mod tests;

pub use format::{Header, Loaded, ReadOptions, Record, Session, SessionError};
pub use player::Player;
pub use recorder::Recorder;
