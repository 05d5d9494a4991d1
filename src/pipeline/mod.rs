//! Headless jobs: answer checking, training (and, as they land, generate, prune, eval).

pub mod answer;
pub mod collect;
pub mod eval;
pub mod prune;
pub mod report;
pub mod train;
