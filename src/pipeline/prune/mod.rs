//! Prune: score each CoT once, compress it at every ratio, write TokenSkip training data.

pub mod outputs;
pub mod run;
