//! Sessions (issue 10): record what a TUI run did as JSONL, replay it with no model,
//! export it (asciicast, HTML). See docs/tui.md, "Sessions".

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
