//! Parsing the dataset spec `synthetic[:N]` used by `prune`, `train` and `eval`.
//!
//! Grammar: `synthetic[:N]` and `synthetic-train[:N]` mean the first N train problems
//! (default `DEFAULT_TRAIN_SIZE`); `synthetic-test[:N]` the first N test problems
//! (default `DEFAULT_TEST_SIZE`, the canonical held-out set). The seed is always
//! `DEFAULT_SEED`, so a spec names the same problems on every machine.

use super::{generate, Problem, Split, SyntheticError, DEFAULT_SEED};

/// Problems in `synthetic` without a count: enough for several epochs of the demo
/// model's training budget (about 3.5M tokens per pass).
pub const DEFAULT_TRAIN_SIZE: usize = 20_000;
/// The canonical held-out set: the first 500 test problems with `DEFAULT_SEED`.
pub const DEFAULT_TEST_SIZE: usize = 500;

/// A parsed `synthetic...` dataset spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntheticSpec {
    pub split: Split,
    pub n: usize,
    pub seed: u64,
}

impl SyntheticSpec {
    pub fn generate(&self) -> Result<Vec<Problem>, SyntheticError> {
        generate(self.split, self.n, self.seed)
    }
}

/// Parses `synthetic[:N]`, `synthetic-train[:N]` or `synthetic-test[:N]`.
pub fn parse_synthetic_spec(spec: &str) -> Result<SyntheticSpec, SyntheticError> {
    let invalid = |reason: String| SyntheticError::InvalidSpec {
        spec: spec.to_string(),
        reason,
    };
    let (name, count) = match spec.split_once(':') {
        Some((name, count)) => (name, Some(count)),
        None => (spec, None),
    };
    let split = match name.trim() {
        "synthetic" | "synthetic-train" => Split::Train,
        "synthetic-test" => Split::Test,
        other => return Err(invalid(format!("unknown synthetic dataset {other:?}"))),
    };
    let n = match count.map(str::trim) {
        None => match split {
            Split::Train => DEFAULT_TRAIN_SIZE,
            Split::Test => DEFAULT_TEST_SIZE,
        },
        Some(text) => match text.parse::<usize>() {
            Ok(0) => return Err(invalid("the count must be at least 1".to_string())),
            Ok(n) if text.chars().all(|c| c.is_ascii_digit()) => n,
            _ => {
                return Err(invalid(format!(
                    "the count {text:?} is not a positive integer"
                )))
            }
        },
    };
    Ok(SyntheticSpec {
        split,
        n,
        seed: DEFAULT_SEED,
    })
}
