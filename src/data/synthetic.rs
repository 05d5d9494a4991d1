//! The synthetic demo world: seeded arithmetic word problems with wordy reference CoTs.
//!
//! The embedded demo model is trained on these (issue 4), so the whole TokenSkip loop
//! (generate, score, prune, train, eval) runs offline in minutes. Difficulty is set for a
//! tiny model on 2 CPU cores: 2-3 steps, `+ - * /`, single-digit multipliers and divisors,
//! every value in `2..=30`, exact divisions. CoTs are wordy on purpose (about 65% of
//! their tokens are filler, see `data::cot_stats`) because redundancy is what TokenSkip
//! learns to remove.
//!
//! Splits: each problem's arithmetic (start kind, numbers, operations) is hashed into
//! 1,000 buckets; 100 of them are test buckets. A chain therefore belongs to exactly one
//! split, whatever story is told around it, so no test question (nor its arithmetic)
//! appears in train. Generation is sequential, so the first `k` problems of
//! `generate(split, n, seed)` are `generate(split, k, seed)`.

mod arith;
mod cot;
mod drill;
mod people;
mod places;
mod question;
mod spec;
#[cfg(test)]
mod tests;
mod text;

use std::collections::HashSet;
use std::fmt;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::example::Example;

pub use arith::{split_of_key, Op, Start, Step, MAX_FACTOR, MAX_VALUE, MIN_VALUE};
pub use cot::{essential_spans, ANSWER_SEPARATOR};
pub use drill::{drills, parse_drill_spec, Drill, DEFAULT_DRILL_SIZE, DRILL_INSTRUCTION};
pub use spec::{
    parse_synthetic_spec, SyntheticSpec, DEFAULT_DEV_SIZE, DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE,
};

/// The seed of the canonical splits (the default test set is the first 500 test
/// problems with this seed).
pub const DEFAULT_SEED: u64 = 12067;

/// Largest number of steps a config may ask for (values must still fit in `MIN_VALUE..=MAX_VALUE`).
pub const MAX_STEPS: usize = 4;

/// Which fixed split a problem comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    Test,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }

    /// Mixed into the seed so that train and test draw from independent streams.
    fn salt(self) -> u64 {
        match self {
            Split::Train => 0,
            Split::Test => 0x7e57_7e57_7e57_7e57,
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SyntheticError {
    #[error("invalid dataset spec {spec:?}: {reason} (expected synthetic[:N], synthetic-train[:N], synthetic-test[:N] or synthetic-dev[:N], e.g. synthetic:200)")]
    InvalidSpec { spec: String, reason: String },
    #[error("invalid synthetic config: {0}")]
    InvalidConfig(String),
    #[error(
        "asked for {requested} distinct {split} problems but found only {found}; ask for fewer"
    )]
    Exhausted {
        split: Split,
        requested: usize,
        found: usize,
    },
}

/// Generator settings. The defaults are the calibrated demo world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyntheticConfig {
    pub seed: u64,
    /// Fewest steps (equations) per problem, including a product opening.
    pub min_steps: usize,
    /// Most steps per problem; at most `MAX_STEPS`.
    pub max_steps: usize,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            min_steps: 2,
            max_steps: 3,
        }
    }
}

impl SyntheticConfig {
    fn validate(&self) -> Result<(), SyntheticError> {
        if self.min_steps < 1 || self.min_steps > self.max_steps || self.max_steps > MAX_STEPS {
            return Err(SyntheticError::InvalidConfig(format!(
                "steps must satisfy 1 <= min_steps ({}) <= max_steps ({}) <= {MAX_STEPS}",
                self.min_steps, self.max_steps
            )));
        }
        Ok(())
    }
}

/// One word problem with its reference CoT.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `synthetic-{split}-{index}`, unique within a split and seed.
    pub id: String,
    pub split: Split,
    /// The story frame (`stickers`, `birds`, ...), for statistics and filtering.
    pub frame: String,
    /// One line, no newline.
    pub question: String,
    /// Reasoning lines, `ANSWER_SEPARATOR`, then `answer_line(answer)`.
    pub cot: String,
    pub answer: i64,
    pub start: Start,
    /// The equations in order; each step's `lhs` is the previous step's `result`.
    pub steps: Vec<Step>,
}

impl Problem {
    /// The CoT without the trailing answer line (what TokenSkip compresses).
    pub fn reasoning(&self) -> &str {
        self.cot
            .rsplit_once(ANSWER_SEPARATOR)
            .map_or(self.cot.as_str(), |(reasoning, _)| reasoning)
    }

    /// The record shape shared by all datasets; `cot` keeps the answer line.
    pub fn to_example(&self) -> Example {
        Example {
            id: self.id.clone(),
            question: self.question.clone(),
            answer: self.answer.to_string(),
            cot: Some(self.cot.clone()),
        }
    }

    /// The key the split is derived from (start kind, numbers and operations).
    pub fn canonical_key(&self) -> String {
        arith::Chain {
            start: self.start,
            steps: self.steps.clone(),
        }
        .canonical_key()
    }
}

impl From<Problem> for Example {
    fn from(problem: Problem) -> Self {
        Example {
            id: problem.id,
            question: problem.question,
            answer: problem.answer.to_string(),
            cot: Some(problem.cot),
        }
    }
}

/// TokenSkip's answer line: `The final answer is: $\boxed{N}$`.
pub fn answer_line(n: i64) -> String {
    format!("The final answer is: $\\boxed{{{n}}}$")
}

/// The first `n` problems of `split` with the default calibration and `seed`.
pub fn generate(split: Split, n: usize, seed: u64) -> Result<Vec<Problem>, SyntheticError> {
    let config = SyntheticConfig {
        seed,
        ..SyntheticConfig::default()
    };
    generate_with(&config, split, n)
}

/// The first `n` problems of `split` under `config`; distinct arithmetic per problem.
pub fn generate_with(
    config: &SyntheticConfig,
    split: Split,
    n: usize,
) -> Result<Vec<Problem>, SyntheticError> {
    config.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ split.salt());
    let mut seen = HashSet::with_capacity(n);
    let mut problems = Vec::with_capacity(n);
    // Test keys are ~10% of draws, duplicates are rare: this bound is only reached
    // when the space of distinct chains is nearly used up.
    let max_draws = n.saturating_mul(200).saturating_add(10_000);
    let mut draws = 0usize;
    while problems.len() < n {
        if draws >= max_draws {
            return Err(SyntheticError::Exhausted {
                split,
                requested: n,
                found: problems.len(),
            });
        }
        draws += 1;
        let n_steps = rand::Rng::random_range(&mut rng, config.min_steps..=config.max_steps);
        let chain = arith::draw_chain(&mut rng, n_steps);
        let key = chain.canonical_key();
        if split_of_key(&key) != split || !seen.insert(key) {
            continue;
        }
        let scene = question::write_story(&mut rng, &chain);
        let cot = cot::write_cot(&mut rng, &chain, &scene);
        problems.push(Problem {
            id: format!("synthetic-{split}-{:05}", problems.len()),
            split,
            frame: scene.frame_id.to_string(),
            question: scene.question,
            cot,
            answer: chain.answer(),
            start: chain.start,
            steps: chain.steps,
        });
    }
    Ok(problems)
}
