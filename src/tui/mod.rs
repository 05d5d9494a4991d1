//! The terminal workbench (issue 6): side-by-side CoT heatmaps, a live ratio slider, a
//! token inspector and a scorer switcher.
//!
//! Architecture (STYLE.md): terminal events and worker results become [`Action`]s;
//! [`update`] folds them into [`State`] and returns [`Effect`]s (data); the runtime runs
//! the effects and feeds results back as Actions; views only read the state. `update`
//! and everything it calls use no ratatui, crossterm, candle or clock, so a recorded
//! Action stream replays to identical screens without a model.

pub mod action;
pub mod chart;
pub mod color;
pub mod config;
pub mod effect;
pub mod examples;
pub mod fps;
pub mod job_runner;
pub mod keymap;
pub mod layout;
pub mod palette;
pub mod runtime;
pub mod scoring;
pub mod state;
pub mod theme;
pub mod tty_bench;
pub mod update;
mod update_charts;
mod update_doc;
mod update_jobs;
pub mod view;
pub mod worker;
pub mod wrap;

#[cfg(test)]
mod tests;

pub use action::Action;
pub use effect::Effect;
pub use state::State;
pub use update::update;
