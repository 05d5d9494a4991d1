//! Arithmetic drills: short training records that state bare equations of the demo world.
//!
//! Session 1's demo model learned the demo world's language but only 3-5% of its `+ - /`
//! equations were right: in a word-problem CoT only a few tokens per hundred are equation
//! results, so the arithmetic gets little gradient. A drill record lists a dozen equations
//! drawn from the same distributions as the word problems (`arith::draw_operand`), and the
//! response repeats each with its result, in the exact `a op b = c` form the CoTs use. Mixed
//! into training (`train --data synthetic:N --data synthetic-drill:M`) they are the demo
//! model's "pretraining" in arithmetic; they never contain a word problem, so the held-out
//! test split stays unseen.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::arith::{draw_operand, Op, Step, MAX_VALUE, MIN_VALUE};
use super::SyntheticError;

/// The instruction of every drill record.
pub const DRILL_INSTRUCTION: &str = "Work out each equation.";
/// Equations per drill record.
pub const EQUATIONS_PER_DRILL: usize = 12;
/// Drills in `synthetic-drill` without a count.
pub const DEFAULT_DRILL_SIZE: usize = 20_000;
/// Seed of the drill stream (independent of the word problems' `DEFAULT_SEED`).
const DRILL_SEED: u64 = 0xd1_11_5eed;

/// One drill: the bare left-hand sides (the prompt) and the equations with results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drill {
    pub problems: String,
    pub solution: String,
}

/// Parses `synthetic-drill[:N]`; `None` when `spec` names another dataset.
pub fn parse_drill_spec(spec: &str) -> Option<Result<usize, SyntheticError>> {
    let rest = spec.trim().strip_prefix("synthetic-drill")?;
    let invalid = |reason: &str| SyntheticError::InvalidSpec {
        spec: spec.to_string(),
        reason: reason.to_string(),
    };
    Some(match rest.strip_prefix(':') {
        None if rest.is_empty() => Ok(DEFAULT_DRILL_SIZE),
        None => Err(invalid("unknown synthetic dataset")),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(0) => Err(invalid("the count must be at least 1")),
            Ok(n) if text.trim().chars().all(|c| c.is_ascii_digit()) => Ok(n),
            _ => Err(invalid("the count is not a positive integer")),
        },
    })
}

/// The first `n` drills of the fixed drill stream (the first `k` of `drills(n)` are `drills(k)`).
pub fn drills(n: usize) -> Vec<Drill> {
    let mut rng = ChaCha8Rng::seed_from_u64(DRILL_SEED);
    (0..n)
        .map(|_| {
            let steps: Vec<Step> = (0..EQUATIONS_PER_DRILL)
                .map(|_| draw_step(&mut rng))
                .collect();
            let problems = steps
                .iter()
                .map(|s| format!("{} {} {}", s.lhs, s.op.symbol(), s.rhs))
                .collect::<Vec<_>>()
                .join("\n");
            let solution = steps
                .iter()
                .map(Step::equation)
                .collect::<Vec<_>>()
                .join("\n");
            Drill { problems, solution }
        })
        .collect()
}

/// One equation: `+` and `-` (about 380 distinct facts each) are drawn more often than
/// `*` and `/` (about 35 each); products are written either way round, as CoTs do.
fn draw_step<R: Rng>(rng: &mut R) -> Step {
    loop {
        let op = match rng.random_range(0..10) {
            0..=3 => Op::Add,
            4..=7 => Op::Sub,
            8 => Op::Mul,
            _ => Op::Div,
        };
        let lhs = rng.random_range(MIN_VALUE..=MAX_VALUE);
        let Some(rhs) = draw_operand(rng, op, lhs) else {
            continue;
        };
        let Some(result) = op.apply(lhs, rhs) else {
            continue;
        };
        let (lhs, rhs) = if op == Op::Mul && rng.random_bool(0.5) {
            (rhs, lhs)
        } else {
            (lhs, rhs)
        };
        return Step {
            lhs,
            op,
            rhs,
            result,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drills_are_correct_in_bounds_and_prefix_stable() {
        let d = drills(50);
        assert_eq!(drills(7), d[..7].to_vec());
        for drill in &d {
            let lines: Vec<&str> = drill.solution.lines().collect();
            assert_eq!(lines.len(), EQUATIONS_PER_DRILL);
            for (line, problem) in lines.iter().zip(drill.problems.lines()) {
                let (lhs, result) = line.split_once(" = ").unwrap();
                assert_eq!(lhs, problem);
                let parts: Vec<&str> = lhs.split(' ').collect();
                let (a, b): (i64, i64) = (parts[0].parse().unwrap(), parts[2].parse().unwrap());
                let want = match parts[1] {
                    "+" => a + b,
                    "-" => a - b,
                    "*" => a * b,
                    "/" => {
                        assert_eq!(a % b, 0, "{line}");
                        a / b
                    }
                    other => panic!("operator {other}"),
                };
                assert_eq!(result.parse::<i64>().unwrap(), want, "{line}");
                assert!((MIN_VALUE..=MAX_VALUE).contains(&want), "{line}");
            }
        }
    }

    #[test]
    fn drill_spec_parses_and_rejects() {
        assert_eq!(
            parse_drill_spec("synthetic-drill").unwrap(),
            Ok(DEFAULT_DRILL_SIZE)
        );
        assert_eq!(parse_drill_spec("synthetic-drill:12").unwrap(), Ok(12));
        assert!(parse_drill_spec("synthetic-drill:0").unwrap().is_err());
        assert!(parse_drill_spec("synthetic-drill:x").unwrap().is_err());
        assert!(parse_drill_spec("synthetic-drills").unwrap().is_err());
        assert!(parse_drill_spec("synthetic:5").is_none());
    }
}
