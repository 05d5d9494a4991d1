//! Long jobs: the JSON-lines progress protocol they speak (DESIGN.md), shared by the CLI,
//! scripts and the TUI's job panes.

pub mod cancel;
pub mod jsonl;
pub mod progress;
