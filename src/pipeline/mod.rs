//! pipeline (module root: declarations and re-exports only).

pub mod answer;
