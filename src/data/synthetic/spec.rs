//! Parsing the dataset spec `synthetic[:N]` used by `prune`, `train` and `eval`.
//!
//! Grammar: `synthetic[:N]` and `synthetic-train[:N]` mean the first N train problems
//! (default `DEFAULT_TRAIN_SIZE`); `synthetic-test[:N]` the first N test problems
//! (default `DEFAULT_TEST_SIZE`, the canonical held-out set); `synthetic-dev[:N]` the N
//! test-split problems that come after the canonical set (default `DEFAULT_DEV_SIZE`).
//! The dev set is what training choices (which checkpoint, which stage) are made on: its
//! chains are distinct from the canonical test set's (the generator never repeats a chain
//! within a split) and from train's (they hash into test buckets), so the reported test
//! accuracy is never tuned. The seed is always `DEFAULT_SEED`, so a spec names the same
//! problems on every machine.

use super::{generate, Problem, Split, SyntheticError, DEFAULT_SEED};

/// Problems in `synthetic` without a count: enough for several epochs of the demo
/// model's training budget (about 3.5M tokens per pass).
pub const DEFAULT_TRAIN_SIZE: usize = 20_000;
/// The canonical held-out set: the first 500 test problems with `DEFAULT_SEED`.
pub const DEFAULT_TEST_SIZE: usize = 500;
/// Problems in `synthetic-dev` without a count.
pub const DEFAULT_DEV_SIZE: usize = 500;

/// A parsed `synthetic...` dataset spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntheticSpec {
    pub split: Split,
    /// Problems of the split skipped before the first one taken (`DEFAULT_TEST_SIZE` for
    /// `synthetic-dev`, else 0).
    pub skip: usize,
    pub n: usize,
    pub seed: u64,
}

impl SyntheticSpec {
    /// Problems `skip..skip + n` of the split; ids keep their index in the split.
    pub fn generate(&self) -> Result<Vec<Problem>, SyntheticError> {
        let mut problems = generate(self.split, self.skip + self.n, self.seed)?;
        problems.drain(..self.skip);
        Ok(problems)
    }
}

/// Parses `synthetic[:N]`, `synthetic-train[:N]`, `synthetic-test[:N]` or `synthetic-dev[:N]`.
pub fn parse_synthetic_spec(spec: &str) -> Result<SyntheticSpec, SyntheticError> {
    let invalid = |reason: String| SyntheticError::InvalidSpec {
        spec: spec.to_string(),
        reason,
    };
    let (name, count) = match spec.split_once(':') {
        Some((name, count)) => (name, Some(count)),
        None => (spec, None),
    };
    let (split, skip, default_n) = match name.trim() {
        "synthetic" | "synthetic-train" => (Split::Train, 0, DEFAULT_TRAIN_SIZE),
        "synthetic-test" => (Split::Test, 0, DEFAULT_TEST_SIZE),
        "synthetic-dev" => (Split::Test, DEFAULT_TEST_SIZE, DEFAULT_DEV_SIZE),
        other => return Err(invalid(format!("unknown synthetic dataset {other:?}"))),
    };
    let n = match count.map(str::trim) {
        None => default_n,
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
        skip,
        n,
        seed: DEFAULT_SEED,
    })
}
