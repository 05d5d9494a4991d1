//! The arithmetic skeleton of a synthetic problem: a short chain of integer steps.
//!
//! Difficulty is calibrated for a tiny model trained on 2 CPU cores (issue 4): a measured
//! trial with operands up to 99 and products up to 9,999 stayed near 0% accuracy, so every
//! value here stays in `MIN_VALUE..=MAX_VALUE`, every multiplier and divisor is a single
//! digit `2..=9`, and every division is exact. `MAX_VALUE` was 99 at first; after ~5M
//! training tokens (3.4M of word problems, then 1.2M mixed with drills) the 3.4M-parameter
//! demo model still got only 2-3% of its `+`/`-` facts right (about 8,600 distinct facts up
//! to 99), so the range is now 30 (about 830 facts), which the demo model can learn on 2
//! CPU cores within the time of one working session.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::Split;

/// Largest value any operand, intermediate total or answer may take.
///
/// Small enough that every `+ - * /` fact in range (about 830) is learnable by the demo
/// model on 2 CPU cores (see the module docs for the measurement that moved it from 99).
pub const MAX_VALUE: i64 = 30;
/// Smallest value any operand or total may take: 0 and 1 read unnaturally
/// ("gives away 1 stickers") and make trivial steps.
pub const MIN_VALUE: i64 = 2;
/// Multipliers and divisors are single digits in `MIN_VALUE..=MAX_FACTOR`.
pub const MAX_FACTOR: i64 = 9;
/// Largest addend, so that additions stay "a few more" rather than doubling the total.
const MAX_ADDEND: i64 = 50;
/// Share of problems that open with a product ("3 boxes with 8 pencils in each").
const PRODUCT_START_P: f64 = 0.3;
/// Buckets of the split hash that belong to the test split (out of `SPLIT_BUCKETS`).
const TEST_BUCKETS: u64 = 100;
const SPLIT_BUCKETS: u64 = 1000;

/// One of the four arithmetic operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    /// All operations, in a fixed order (drawing uses it, so never reorder).
    pub const ALL: [Op; 4] = [Op::Add, Op::Sub, Op::Mul, Op::Div];

    /// The ASCII symbol written in equations (`*` and `/`, as in GSM8K solutions).
    pub fn symbol(self) -> char {
        match self {
            Op::Add => '+',
            Op::Sub => '-',
            Op::Mul => '*',
            Op::Div => '/',
        }
    }

    /// `lhs op rhs`, or `None` when the result is not an integer or overflows.
    pub fn apply(self, lhs: i64, rhs: i64) -> Option<i64> {
        match self {
            Op::Add => lhs.checked_add(rhs),
            Op::Sub => lhs.checked_sub(rhs),
            Op::Mul => lhs.checked_mul(rhs),
            Op::Div => {
                if rhs != 0 && lhs % rhs == 0 {
                    lhs.checked_div(rhs)
                } else {
                    None
                }
            }
        }
    }
}

/// One equation of the reference CoT: `lhs op rhs = result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Step {
    pub lhs: i64,
    pub op: Op,
    pub rhs: i64,
    pub result: i64,
}

impl Step {
    /// The equation exactly as it appears in the CoT, e.g. `12 + 7 = 19`.
    pub fn equation(&self) -> String {
        format!(
            "{} {} {} = {}",
            self.lhs,
            self.op.symbol(),
            self.rhs,
            self.result
        )
    }
}

/// How the first quantity enters the story.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// The story states the starting amount; `steps[0].lhs` is that amount.
    Given,
    /// The story gives `a` containers of `b` items; `steps[0]` is `a * b`.
    Product,
}

/// The arithmetic of one problem: every step's `lhs` is the previous step's `result`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Chain {
    pub start: Start,
    pub steps: Vec<Step>,
}

impl Chain {
    /// A stable text key naming the arithmetic problem (start kind, numbers, ops).
    ///
    /// The train/test split hashes this key, so a chain lands in one split whatever
    /// story is wrapped around it: no test arithmetic is ever seen in training.
    pub fn canonical_key(&self) -> String {
        let mut key = String::from(match self.start {
            Start::Given => "g",
            Start::Product => "p",
        });
        if let Some(first) = self.steps.first() {
            key.push_str(&format!(":{}", first.lhs));
        }
        for step in &self.steps {
            key.push_str(&format!("{}{}", step.op.symbol(), step.rhs));
        }
        key
    }

    pub fn answer(&self) -> i64 {
        self.steps.last().map_or(0, |s| s.result)
    }
}

/// The split a canonical key belongs to: about 10% of keys are test keys.
pub fn split_of_key(key: &str) -> Split {
    if stable_hash(key) % SPLIT_BUCKETS < TEST_BUCKETS {
        Split::Test
    } else {
        Split::Train
    }
}

/// FNV-1a followed by the splitmix64 finaliser: stable across platforms and Rust
/// versions (unlike `DefaultHasher`), so splits never move.
fn stable_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Draws a chain of `n_steps` steps (including a product opening, if drawn).
///
/// The operation sequence is drawn first and uniformly, then numbers are tried until
/// they fit the bounds, so hard sequences (three multiplications) are not starved.
pub(crate) fn draw_chain<R: Rng>(rng: &mut R, n_steps: usize) -> Chain {
    let n_steps = n_steps.max(1);
    loop {
        let start = if rng.random_bool(PRODUCT_START_P) {
            Start::Product
        } else {
            Start::Given
        };
        let n_ops = match start {
            Start::Product => n_steps - 1,
            Start::Given => n_steps,
        };
        let ops: Vec<Op> = (0..n_ops)
            .map(|_| Op::ALL[rng.random_range(0..Op::ALL.len())])
            .collect();
        for _attempt in 0..200 {
            if let Some(steps) = try_numbers(rng, start, &ops) {
                return Chain { start, steps };
            }
        }
    }
}

fn try_numbers<R: Rng>(rng: &mut R, start: Start, ops: &[Op]) -> Option<Vec<Step>> {
    let mut steps = Vec::with_capacity(ops.len() + 1);
    let mut total = match start {
        Start::Given => rng.random_range(MIN_VALUE..=MAX_VALUE),
        Start::Product => {
            let a = rng.random_range(MIN_VALUE..=MAX_FACTOR);
            let b = rng.random_range(MIN_VALUE..=MAX_VALUE / a);
            let step = Step {
                lhs: a,
                op: Op::Mul,
                rhs: b,
                result: a * b,
            };
            steps.push(step);
            step.result
        }
    };
    for &op in ops {
        let rhs = draw_operand(rng, op, total)?;
        let result = op.apply(total, rhs)?;
        steps.push(Step {
            lhs: total,
            op,
            rhs,
            result,
        });
        total = result;
    }
    Some(steps)
}

/// A random right-hand operand for `total op _` that keeps the result in bounds.
pub(crate) fn draw_operand<R: Rng>(rng: &mut R, op: Op, total: i64) -> Option<i64> {
    match op {
        Op::Add => {
            let hi = MAX_ADDEND.min(MAX_VALUE - total);
            (hi >= MIN_VALUE).then(|| rng.random_range(MIN_VALUE..=hi))
        }
        Op::Sub => {
            let hi = total - MIN_VALUE;
            (hi >= MIN_VALUE).then(|| rng.random_range(MIN_VALUE..=hi))
        }
        Op::Mul => {
            let hi = MAX_FACTOR.min(MAX_VALUE / total);
            (hi >= MIN_VALUE).then(|| rng.random_range(MIN_VALUE..=hi))
        }
        Op::Div => {
            let divisors: Vec<i64> = (MIN_VALUE..=MAX_FACTOR)
                .filter(|d| total % d == 0 && total / d >= MIN_VALUE)
                .collect();
            if divisors.is_empty() {
                None
            } else {
                Some(divisors[rng.random_range(0..divisors.len())])
            }
        }
    }
}
