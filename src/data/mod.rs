//! data (module root: declarations and re-exports only).

pub mod example;
pub mod synthetic;
