//! Tests of the `rules` scorer: one per row of its table, plus determinism.

use super::*;
use crate::importance::scorer::ForceReason;
use crate::importance::testkit::{pieces, toy_tokenize};

/// Scores `text` with the toy tokenizer; returns (token text, score, forced) triples.
fn scored(text: &str) -> Vec<(String, f32, Option<ForceReason>)> {
    let tokens = toy_tokenize(text);
    let imp = RulesScorer::new().score(text, &tokens).expect("scores");
    pieces(text, &tokens)
        .into_iter()
        .zip(imp.scores.iter().zip(&imp.forced))
        .map(|(p, (s, f))| (p.to_string(), *s, *f))
        .collect()
}

/// Score of the first token whose text is `piece`.
fn score_of(text: &str, piece: &str) -> f32 {
    scored(text)
        .into_iter()
        .find(|(p, _, _)| p == piece)
        .map(|(_, s, _)| s)
        .unwrap_or_else(|| panic!("no token {piece:?} in {text:?}"))
}

#[test]
fn digits_are_top_and_forced() {
    let toks = scored("She has 12 apples");
    let digits: Vec<_> = toks
        .iter()
        .filter(|(p, _, _)| p == "1" || p == "2")
        .collect();
    assert_eq!(digits.len(), 2);
    for (_, s, f) in digits {
        assert_eq!(*s, DIGIT);
        assert_eq!(*f, Some(ForceReason::Digit));
    }
}

#[test]
fn boxed_answer_is_top_even_for_its_words() {
    let text = "So the result is \\boxed{24 apples} today";
    assert_eq!(score_of(text, " apples"), BOXED);
    assert_eq!(score_of(text, "}"), BOXED);
    assert!(score_of(text, " today") < BOXED);
}

#[test]
fn equation_operators_are_high() {
    let text = "She has 48 / 2 = 24 cookies";
    assert_eq!(score_of(text, " /"), EQUATION);
    assert_eq!(score_of(text, " ="), EQUATION);
    assert_eq!(score_of("if x=y then", "="), EQUATION);
    // A hyphenated word is not an equation.
    assert!(score_of("a well-known fact", "-") < 0.5);
}

#[test]
fn step_markers_are_high() {
    let text = "Step 1: Find the total.\n**Step 2.** Divide";
    assert_eq!(score_of(text, "Step"), STEP);
    assert_eq!(score_of(text, ":"), STEP);
    // "Step" in prose is not a marker.
    let prose = "The next step is easy";
    assert!(score_of(prose, " step") < STEP);
}

#[test]
fn step_marker_without_colon_stops_after_the_number() {
    let text = "Step 1 we add";
    assert_eq!(score_of(text, "Step"), STEP);
    assert_eq!(score_of(text, " we"), FUNCTION_WORD);
}

#[test]
fn final_answer_phrase_is_high() {
    let text = "Therefore, the answer is 7.";
    assert_eq!(score_of(text, " the"), ANSWER);
    assert_eq!(score_of(text, " answer"), ANSWER);
    assert_eq!(score_of(text, " is"), ANSWER);
    assert_eq!(score_of(text, "Therefore"), CONNECTIVE);
}

#[test]
fn number_words_units_math_words_and_negations() {
    assert_eq!(score_of("she ate half of it", " half"), NUMBER_WORD);
    assert_eq!(score_of("it costs 5 dollars", " dollars"), UNIT);
    assert_eq!(score_of("it costs $ 5", " $"), UNIT);
    assert_eq!(score_of("how many are left", " left"), MATH_WORD);
    assert_eq!(score_of("he did not pay", " not"), NEGATION);
}

#[test]
fn content_words_are_mid_and_graded_by_length() {
    let text = "Natalia sold clips";
    let (long, short) = (score_of(text, "Natalia"), score_of(text, " sold"));
    assert_eq!(long, content_score(7));
    assert_eq!(short, content_score(4));
    assert!(long > short && short > FUNCTION_WORD && long < UNIT);
}

#[test]
fn function_words_and_connectives_are_low() {
    let text = "So we give the book to him";
    assert_eq!(score_of(text, "So"), CONNECTIVE);
    assert_eq!(score_of(text, " the"), CONNECTIVE);
    assert_eq!(score_of(text, " we"), FUNCTION_WORD);
    assert_eq!(score_of(text, " to"), FUNCTION_WORD);
}

#[test]
fn math_cot_filler_is_lowest() {
    for (text, piece) in [
        ("Let's think about the apples", " about"),
        ("so we now know that she has", " know"),
        ("First of all, count", " all"),
        ("In other words, it doubles", " other"),
        ("We can see that it is", " see"),
        ("It is basically done", " basically"),
        ("Let’s add them", "Let"),
        ("Solve it step by step.", " by"),
    ] {
        assert_eq!(score_of(text, piece), FILLER, "{piece:?} in {text:?}");
    }
    // Only the phrase is filler: the words after it keep their class.
    assert_eq!(
        score_of("we can see that apples", " apples"),
        content_score(6)
    );
}

#[test]
fn punctuation_and_whitespace() {
    let text = "apples, pears.  Done";
    assert_eq!(score_of(text, ","), OTHER_PUNCT);
    assert_eq!(score_of(text, "."), SENTENCE_PUNCT);
    assert_eq!(score_of(text, " "), SPACE);
}

#[test]
fn line_breaks_are_forced() {
    let toks = scored("First line.\n\nSecond");
    let (_, _, f) = toks.iter().find(|(p, _, _)| p == ".\n\n").expect("token");
    assert_eq!(*f, Some(ForceReason::Newline));
}

#[test]
fn scores_are_deterministic_and_named() {
    let text = "Step 1: Let's think about 3 + 4 = 7.\nThe answer is \\boxed{7}.";
    assert_eq!(scored(text), scored(text));
    let tokens = toy_tokenize(text);
    let imp = RulesScorer::new().score(text, &tokens).expect("scores");
    assert_eq!(imp.scorer, "rules");
    assert_eq!(imp.words.len(), imp.word_scores.len());
}

#[test]
fn empty_text_is_an_error() {
    let err = RulesScorer::new().score("  ", &[]).unwrap_err();
    assert!(matches!(err, ScoreError::EmptyText));
}

#[test]
fn boxed_and_step_ranges() {
    let text = "\\boxed{\\frac{1}{2}} and \\boxed{3";
    let r = boxed_ranges(text);
    assert_eq!(&text[r[0].clone()], "\\boxed{\\frac{1}{2}}");
    assert_eq!(&text[r[1].clone()], "\\boxed{3");
    let text = "intro\n  **Step 12:** go\nstep 3) x\nStepping";
    let r: Vec<&str> = step_marker_ranges(text)
        .into_iter()
        .map(|r| &text[r])
        .collect();
    assert_eq!(r, vec!["Step 12:**", "step 3)"]);
}
