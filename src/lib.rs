//! TokenSkip Studio: a terminal workbench for controllable chain-of-thought compression.
//!
//! The binary (`src/main.rs`) is a thin CLI over this library; every module here is usable
//! headless, from tests and from the TUI alike. See `../shared/DESIGN.md` for the layout.

pub mod compress;
pub mod data;
pub mod importance;
pub mod jobs;
pub mod logging;
pub mod model;
pub mod pipeline;
pub mod serve;
pub mod session;
pub mod tui;
