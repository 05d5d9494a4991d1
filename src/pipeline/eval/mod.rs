//! Evaluation runs: accuracy, CoT length, ActRatio and latency per gamma and method.

pub mod chart;
pub mod endpoint;
pub mod run;
pub mod summary;
