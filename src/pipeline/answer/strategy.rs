//! Grader strategies and the public entry point, `check`.
//!
//! Why several graders: users of the reference code lost samples and accuracy points to
//! grader choices (a MATH-500 reproduction scored 44.8 against 48.6 because two extractors
//! disagreed), so every output names the grader that judged it (`"grader": "tokenskip-v1"`)
//! and the grader is selectable. The `-v1` suffix changes whenever a grader's verdicts
//! change, so numbers from different versions are never silently compared.

use super::equiv::{equivalent, equivalent_percent};
use super::expr::Dialect;
use super::extract::{extract_answer, ExtractRule};
use super::normalize::normalize;
use super::tokenskip_equal::{eval_math, split_answer};
use super::tokenskip_strip::{extract_candidates, strip_string};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Errors of the answer checker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("unknown grader strategy {given:?} (available: {available})")]
    UnknownStrategy { given: String, available: String },
    #[error("GSM8K answer has no final \"#### \" line: {snippet:?}; is this a GSM8K record?")]
    MissingGsm8kMarker { snippet: String },
    #[error("MATH solution has no closed \\boxed{{...}}: {snippet:?}")]
    NoBoxedAnswer { snippet: String },
}

/// Which grader judges a prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum GraderStrategy {
    /// The reference code's behaviour (`tokenskip-v1`), for numbers comparable with the
    /// paper, with sympy's LaTeX parser working (antlr4 4.11, DeepSeek-Math's setup).
    #[default]
    #[serde(rename = "tokenskip-v1", alias = "tokenskip")]
    TokenSkip,
    /// The reference code as its `requirements.txt` installs it (`tokenskip-nolatex-v1`):
    /// antlr4 is unpinned, so pip picks 4.13, sympy's `parse_latex` refuses to run, and the
    /// grader silently falls back to `parse_expr`: `\frac{1}{2}` no longer equals `0.5`.
    #[serde(rename = "tokenskip-nolatex-v1", alias = "tokenskip-nolatex")]
    TokenSkipNoLatex,
    /// Our extraction and normalisation, then exact string equality (`strict-v1`).
    #[serde(rename = "strict-v1", alias = "strict")]
    Strict,
    /// Our extraction and normalisation, then structural and numeric equivalence with
    /// relative tolerance 1e-3 (`numeric-v1`).
    #[serde(rename = "numeric-v1", alias = "numeric")]
    Numeric,
}

impl GraderStrategy {
    /// Every strategy, in the order listed to users.
    pub const ALL: [GraderStrategy; 4] = [
        GraderStrategy::TokenSkip,
        GraderStrategy::TokenSkipNoLatex,
        GraderStrategy::Strict,
        GraderStrategy::Numeric,
    ];

    /// The versioned name written into every output.
    pub fn name(self) -> &'static str {
        match self {
            GraderStrategy::TokenSkip => "tokenskip-v1",
            GraderStrategy::TokenSkipNoLatex => "tokenskip-nolatex-v1",
            GraderStrategy::Strict => "strict-v1",
            GraderStrategy::Numeric => "numeric-v1",
        }
    }

    /// One line for `--help` and the TUI.
    pub fn description(self) -> &'static str {
        match self {
            GraderStrategy::TokenSkip => {
                "TokenSkip/DeepSeek-Math reference grader, quirks included (default)"
            }
            GraderStrategy::TokenSkipNoLatex => {
                "reference grader as its requirements.txt installs it (no LaTeX parsing)"
            }
            GraderStrategy::Strict => "exact match after normalisation",
            GraderStrategy::Numeric => {
                "normalisation, then tuples/sets/intervals and numbers within relative 1e-3"
            }
        }
    }
}

impl fmt::Display for GraderStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for GraderStrategy {
    type Err = AnswerError;

    /// Accepts the versioned name or the bare one, in any case (`numeric`, `Numeric-v1`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        GraderStrategy::ALL
            .into_iter()
            .find(|g| g.name() == wanted || g.name().strip_suffix("-v1") == Some(wanted.as_str()))
            .ok_or_else(|| AnswerError::UnknownStrategy {
                given: s.to_string(),
                available: GraderStrategy::ALL.map(GraderStrategy::name).join(", "),
            })
    }
}

/// The judgement on one prediction, with everything needed to audit it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The grader that produced this verdict (serialised as its versioned name).
    pub grader: GraderStrategy,
    /// The extracted answer before normalisation; `None` if nothing was found.
    pub predicted: Option<String>,
    pub extracted_by: ExtractRule,
    pub normalized_pred: Option<String>,
    pub normalized_ref: String,
    pub correct: bool,
}

/// Judges `prediction_text` (a whole model output) against `reference_answer` (a GSM8K
/// reference from `reference_from_gsm8k` or a MATH `answer` field).
pub fn check(prediction_text: &str, reference_answer: &str, strategy: GraderStrategy) -> Verdict {
    check_with_question(prediction_text, reference_answer, "", strategy)
}

/// `check`, also given the question: the reference grader splits comma lists into
/// unordered answers when the question says "separated by commas" (our graders always
/// treat a bare comma list as unordered, so they ignore the question).
pub fn check_with_question(
    prediction_text: &str,
    reference_answer: &str,
    question: &str,
    strategy: GraderStrategy,
) -> Verdict {
    match strategy {
        GraderStrategy::TokenSkip => check_tokenskip(
            prediction_text,
            reference_answer,
            question,
            strategy,
            Dialect::SympyLatex,
        ),
        GraderStrategy::TokenSkipNoLatex => check_tokenskip(
            prediction_text,
            reference_answer,
            question,
            strategy,
            Dialect::SympyExpr,
        ),
        GraderStrategy::Strict | GraderStrategy::Numeric => {
            let extraction = extract_answer(prediction_text);
            let normalized_ref = normalize(reference_answer);
            let normalized_pred = extraction.answer.as_deref().map(normalize);
            let correct = normalized_pred.as_deref().is_some_and(|p| {
                !p.is_empty()
                    && if strategy == GraderStrategy::Strict {
                        p == normalized_ref
                    } else {
                        let pct = |raw: &str| raw.contains('%');
                        let pred_pct = extraction.answer.as_deref().is_some_and(pct);
                        equivalent(p, &normalized_ref)
                            || equivalent_percent(
                                p,
                                &normalized_ref,
                                pred_pct,
                                pct(reference_answer),
                            )
                    }
            });
            Verdict {
                grader: strategy,
                predicted: extraction.answer,
                extracted_by: extraction.rule,
                normalized_pred,
                normalized_ref,
                correct,
            }
        }
    }
}

/// The reference pipeline: all candidates through `strip_string`, then `eval_math`. The
/// reference answer is treated like a MATH one (the content of a box), which for GSM8K's
/// integer references is the same as the reference's GSM8K path.
fn check_tokenskip(
    prediction_text: &str,
    reference_answer: &str,
    question: &str,
    grader: GraderStrategy,
    dialect: Dialect,
) -> Verdict {
    let (candidates, rule) = extract_candidates(prediction_text);
    let stripped: Vec<String> = candidates.iter().map(|c| strip_string(c)).collect();
    let preds: Vec<String> = stripped
        .iter()
        .flat_map(|p| split_answer(p, question))
        .collect();
    // The reference's reference: every box of a solution whose last box is the answer.
    let (ref_candidates, _) = extract_candidates(&format!("\\boxed{{{reference_answer}}}"));
    let ref_stripped: Vec<String> = ref_candidates.iter().map(|r| strip_string(r)).collect();
    let refs: Vec<String> = ref_stripped
        .iter()
        .flat_map(|r| split_answer(r, question))
        .collect();
    let normalized_ref = ref_stripped.last().cloned().unwrap_or_default();
    let normalized_pred = stripped.last().cloned();
    // As in the reference, only "no candidate at all" is invalid: an answer that strips to
    // "" is compared, and equals a reference that strips to "".
    let correct = eval_math(&preds, &refs, dialect);
    Verdict {
        grader,
        predicted: candidates.last().cloned(),
        extracted_by: rule,
        normalized_pred,
        normalized_ref,
        correct,
    }
}

/// The reference answer of a GSM8K record: the text after the last `#### `, trimmed, with
/// thousands separators removed (as TokenSkip's `process_gsm8k_test` does).
pub fn reference_from_gsm8k(answer_field: &str) -> Result<String, AnswerError> {
    let (_, tail) =
        answer_field
            .rsplit_once("####")
            .ok_or_else(|| AnswerError::MissingGsm8kMarker {
                snippet: snippet(answer_field),
            })?;
    Ok(tail.trim().replace(',', ""))
}

/// The reference answer of a MATH / MATH-500 record: its `answer` field, trimmed.
pub fn reference_from_math(answer_field: &str) -> String {
    answer_field.trim().to_string()
}

/// The reference answer from a MATH `solution`: its last closed `\boxed{...}` (in MATH-500
/// this equals the `answer` field for all 500 records).
pub fn reference_from_math_solution(solution: &str) -> Result<String, AnswerError> {
    super::extract::boxed_answers(solution)
        .pop()
        .map(|b| b.trim().to_string())
        .ok_or_else(|| AnswerError::NoBoxedAnswer {
            snippet: snippet(solution),
        })
}

fn snippet(s: &str) -> String {
    let tail: Vec<char> = s.chars().rev().take(60).collect();
    tail.into_iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_names_round_trip() {
        for g in GraderStrategy::ALL {
            assert_eq!(g.name().parse::<GraderStrategy>(), Ok(g));
            let json = serde_json::to_string(&g).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", g.name()));
        }
        assert_eq!(
            "Numeric".parse::<GraderStrategy>(),
            Ok(GraderStrategy::Numeric)
        );
        let err = "sympy"
            .parse::<GraderStrategy>()
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown grader strategy \"sympy\" (available: tokenskip-v1, tokenskip-nolatex-v1, strict-v1, numeric-v1)")
        );
    }

    #[test]
    fn references() {
        assert_eq!(
            reference_from_gsm8k("a\nb\n#### 1,080"),
            Ok("1080".to_string())
        );
        assert!(reference_from_gsm8k("no marker").is_err());
        let sol = "so $\\boxed{\\frac{1}{2}}$ and finally $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$.";
        assert_eq!(
            reference_from_math_solution(sol).as_deref(),
            Ok("\\left( 3, \\frac{\\pi}{2} \\right)")
        );
    }

    #[test]
    fn verdicts() {
        let v = check(
            "So the total is \\boxed{1,080}.",
            "1080",
            GraderStrategy::Numeric,
        );
        assert!(v.correct);
        assert_eq!(v.extracted_by, ExtractRule::Boxed);
        assert_eq!(v.normalized_pred.as_deref(), Some("1080"));
        let v = check("The answer is $0.5$", "50", GraderStrategy::TokenSkip);
        assert!(v.correct, "the reference accepts ref/100");
        assert!(!check("The answer is $0.5$", "50", GraderStrategy::Numeric).correct);
        let q = "Enter all the solutions, separated by commas.";
        assert!(
            check_with_question("\\boxed{-2, 1}", "1,-2", q, GraderStrategy::TokenSkip).correct
        );
        assert!(!check("\\boxed{-2, 1}", "1,-2", GraderStrategy::TokenSkip).correct);
        let json =
            serde_json::to_value(check("5", "5", GraderStrategy::Strict)).unwrap_or_default();
        assert_eq!(json["grader"], "strict-v1");
        assert_eq!(json["extracted_by"], "last_number");
    }
}
