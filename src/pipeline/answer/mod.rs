//! Answer checking: extract a final answer from a chain of thought, normalise it, and judge
//! it against a reference with a named, selectable grader (see `strategy.rs`).
//!
//! Used by `generate`/`prune` (keep only CoTs whose answer is correct) and by `eval`.

#[macro_use]
mod lazy_re;
mod equiv;
mod expr;
mod expr_lex;
mod expr_parse;
mod extract;
mod normalize;
mod strategy;
mod tokenskip_equal;
mod tokenskip_strip;

#[cfg(test)]
mod tests;

pub use equiv::RELATIVE_TOLERANCE;
pub use extract::{boxed_answers, extract_answer, ExtractRule, Extraction};
pub use normalize::normalize;
pub use strategy::{
    check, check_with_question, reference_from_gsm8k, reference_from_math,
    reference_from_math_solution, AnswerError, GraderStrategy, Verdict,
};
pub use tokenskip_strip::strip_string;
