//! Corpus and property tests for the answer checker.
//!
//! The corpus (`tests/fixtures/answers/cases.jsonl`, built by
//! `scripts/make_answer_cases.py`) labels each case with the mathematically right verdict
//! (`correct`, what `numeric-v1` must say) and, where `scripts/tokenskip_grader_check.py
//! --annotate` has been run, with the verdict of TokenSkip's own Python grader
//! (`tokenskip`, what `tokenskip-v1` must reproduce; `tokenskip_nolatex` for the same
//! grader without sympy's LaTeX parser, what `tokenskip-nolatex-v1` must reproduce).

use super::*;
use proptest::prelude::*;

fn corpus() -> Vec<serde_json::Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/answers/cases.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{path}:{}: {e}", i + 1))
        })
        .collect()
}

fn field<'a>(case: &'a serde_json::Value, key: &str) -> &'a str {
    case[key].as_str().unwrap_or_default()
}

#[test]
fn corpus_verdicts_match_labels() {
    let cases = corpus();
    assert!(cases.len() >= 200, "corpus has only {} cases", cases.len());
    let mut wrong = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let (pred, reference) = (field(case, "prediction"), field(case, "reference"));
        let want = case["correct"]
            .as_bool()
            .unwrap_or_else(|| panic!("case {} has no label", i + 1));
        let mut expect = vec![(GraderStrategy::Numeric, want)];
        if let Some(t) = case["tokenskip"].as_bool() {
            expect.push((GraderStrategy::TokenSkip, t));
        }
        if let Some(t) = case["tokenskip_nolatex"].as_bool() {
            expect.push((GraderStrategy::TokenSkipNoLatex, t));
        }
        for (strategy, want) in expect {
            let v = check(pred, reference, strategy);
            if v.correct != want {
                wrong.push(format!(
                    "line {} [{strategy}] want {want}, got {}: {} | pred {:?} -> {:?} ({}) | ref {:?} -> {:?}",
                    i + 1,
                    v.correct,
                    field(case, "note"),
                    v.predicted,
                    v.normalized_pred,
                    v.extracted_by,
                    reference,
                    v.normalized_ref,
                ));
            }
        }
        // Strict is exact equality after the same normalisation: never more lenient.
        if check(pred, reference, GraderStrategy::Strict).correct && !want {
            wrong.push(format!("line {} [strict-v1] accepts a wrong answer", i + 1));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

fn with_separators(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

proptest! {
    #[test]
    fn extraction_and_checking_never_panic(text in ".{0,200}", reference in ".{0,40}") {
        let _ = extract_answer(&text);
        for strategy in GraderStrategy::ALL {
            let _ = check(&text, &reference, strategy);
        }
    }

    #[test]
    fn unbalanced_latex_never_panics(text in r"[\\{}()\[\]$boxedfrac0-9,.^_ é√−]{0,80}") {
        for strategy in GraderStrategy::ALL {
            let _ = check(&text, &text, strategy);
        }
    }

    #[test]
    fn a_number_matches_itself(n in -1_000_000i64..1_000_000, frac in 0u32..1000, with_frac: bool) {
        let x = if with_frac { format!("{n}.{frac:03}") } else { n.to_string() };
        for strategy in GraderStrategy::ALL {
            for text in [x.clone(), format!("\\boxed{{{x}}}"), format!("The answer is {x}.")] {
                let v = check(&text, &x, strategy);
                prop_assert!(v.correct, "{strategy}: {text:?} vs {x:?}: {v:?}");
            }
        }
    }

    #[test]
    fn thousands_separators_equal_the_plain_integer(n in 0u64..10_000_000_000, neg: bool) {
        let sign = if neg { "-" } else { "" };
        let plain = format!("{sign}{n}");
        let grouped = format!("{sign}{}", with_separators(n));
        for strategy in GraderStrategy::ALL {
            for text in [format!("\\boxed{{{grouped}}}"), format!("So it is {grouped} in total"), format!("The answer is {grouped}.")] {
                prop_assert!(check(&text, &plain, strategy).correct, "{strategy}: {text:?} vs {plain}");
                prop_assert!(check(&plain, &grouped, strategy).correct, "{strategy}: {plain} vs ref {grouped}");
            }
        }
    }
}

/// Developer tool, not a check: judges every case of the JSONL file `$ANSWER_CASES_IN`
/// (fields `prediction`, `reference`) with every grader and writes one JSON object per line
/// to `$ANSWER_VERDICTS_OUT` (`{"tokenskip-v1": bool, ...}`), so large generated sets can
/// be compared with TokenSkip's Python grader. Run with
/// `ANSWER_CASES_IN=.. ANSWER_VERDICTS_OUT=.. cargo test --release --lib dump_verdicts -- --ignored`.
#[test]
#[ignore]
fn dump_verdicts() {
    let (Ok(input), Ok(output)) = (
        std::env::var("ANSWER_CASES_IN"),
        std::env::var("ANSWER_VERDICTS_OUT"),
    ) else {
        panic!("set ANSWER_CASES_IN and ANSWER_VERDICTS_OUT");
    };
    let text = std::fs::read_to_string(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
    let mut out = String::new();
    for line in text.lines() {
        let case: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{input}: {e}"));
        let mut verdicts = serde_json::Map::new();
        for strategy in GraderStrategy::ALL {
            let v = check(
                field(&case, "prediction"),
                field(&case, "reference"),
                strategy,
            );
            verdicts.insert(strategy.name().to_string(), v.correct.into());
        }
        out.push_str(&serde_json::Value::Object(verdicts).to_string());
        out.push('\n');
    }
    std::fs::write(&output, out).unwrap_or_else(|e| panic!("{output}: {e}"));
}
