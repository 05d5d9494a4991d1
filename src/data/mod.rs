//! data (module root: declarations and re-exports only).

pub mod bpe;
pub mod cot_stats;
pub mod datasets;
pub mod example;
pub mod synthetic;
