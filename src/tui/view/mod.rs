//! Views: `render_*` functions that draw the state into a ratatui frame. They only read
//! the state (STYLE.md), and take the layout from `tui::layout` so that the mouse
//! hit-testing in `update` agrees with what is drawn.

mod app;
mod bottom;
mod charts;
mod help;
mod jobs;
mod list;
mod panes;

pub use app::render_app;
