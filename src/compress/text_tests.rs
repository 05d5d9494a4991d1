//! Tests of the text rebuild: one per spacing rule, golden CoTs and a no-panic property.

use proptest::prelude::*;

use super::*;
use crate::compress::{CompressOptions, Compressor, Granularity};
use crate::importance::testkit::toy_tokenize;
use crate::importance::{RulesScorer, Scorer, TokenSpan};

/// Renders `text`, split by the toy tokenizer, keeping the tokens whose text is NOT in
/// `drop` (every occurrence).
fn render_dropping(text: &str, drop: &[&str]) -> Rendered {
    let tokens = toy_tokenize(text);
    let mask: Vec<bool> = tokens
        .iter()
        .map(|t| !drop.contains(&t.text(text)))
        .collect();
    render(text, &tokens, &mask)
}

fn render(text: &str, tokens: &[TokenSpan], mask: &[bool]) -> Rendered {
    let layout = TextLayout::new(text, tokens).expect("valid spans");
    let mut out = String::new();
    let elided = layout.render_into(mask, &mut out);
    Rendered { text: out, elided }
}

#[test]
fn everything_kept_is_the_original() {
    let text = "  Step 1: 48 / 2 = 24.\n\n\tSo  she has\r\n24 left. ";
    assert_eq!(render_dropping(text, &[]).text, text);
    // Also with bytes no token covers.
    let tokens = [TokenSpan::new(0, 1, 3), TokenSpan::new(1, 4, 6)];
    assert_eq!(render(" ab cd ", &tokens, &[true, true]).text, " ab cd ");
}

#[test]
fn keep_word_spaces_keeps_the_space_of_a_word_that_starts_the_text_or_a_line() {
    let text = "First, we add 3.\nThen we divide by 2.";
    let tokens = toy_tokenize(text);
    let drop = ["First", ","];
    let mask: Vec<bool> = tokens
        .iter()
        .map(|t| !drop.contains(&t.text(text)))
        .collect();
    assert_eq!(
        render(text, &tokens, &mask).text,
        "we add 3.\nThen we divide by 2."
    );
    let layout = TextLayout::new(text, &tokens)
        .unwrap()
        .keep_word_spaces(true);
    let mut out = String::new();
    layout.render_into(&mask, &mut out);
    assert_eq!(out, " we add 3.\nThen we divide by 2.");
    // A line break that is kept: the next line's first kept word keeps its space too.
    let text = "So we add 3.\nThen we divide.";
    let tokens = toy_tokenize(text);
    let mask: Vec<bool> = tokens.iter().map(|t| t.text(text) != "Then").collect();
    let layout = TextLayout::new(text, &tokens).unwrap();
    layout.render_into(&mask, &mut out);
    assert_eq!(out, "So we add 3.\nwe divide.");
    layout.keep_word_spaces(true).render_into(&mask, &mut out);
    assert_eq!(out, "So we add 3.\n we divide.");
}

#[test]
fn dropping_a_middle_word_leaves_one_space() {
    assert_eq!(
        render_dropping("She has three apples", &[" three"]).text,
        "She has apples"
    );
}

#[test]
fn dropping_the_first_word_leaves_no_leading_space() {
    assert_eq!(
        render_dropping("She has three apples", &["She"]).text,
        "has three apples"
    );
}

#[test]
fn no_double_spaces_around_a_drop() {
    // The lone " " token before a digit stays, the word after it is dropped.
    assert_eq!(
        render_dropping("she has 3 apples", &[" has"]).text,
        "she 3 apples"
    );
    assert_eq!(render_dropping("a  b c", &[" b"]).text, "a c");
}

#[test]
fn a_dropped_line_leaves_no_blank_line() {
    let text = "First 1.\nSo basically\nThen 2.";
    let got = render_dropping(text, &["So", " basically"]);
    assert_eq!(got.text, "First 1.\nThen 2.");
    assert_eq!(got.elided, 1); // the kept "\n" of the dropped line
}

#[test]
fn blank_lines_keep_the_larger_break() {
    let text = "A 1.\n\nfiller words\n\nB 2.";
    assert_eq!(
        render_dropping(text, &["filler", " words"]).text,
        "A 1.\n\nB 2."
    );
}

#[test]
fn a_lone_period_line_is_not_left_behind() {
    let text = "A 1.\nfiller words.\nB 2.";
    let got = render_dropping(text, &["filler", " words"]);
    assert_eq!(got.text, "A 1.\nB 2.");
    assert_eq!(got.elided, 1);
}

#[test]
fn digits_are_never_glued() {
    assert_eq!(render_dropping("48/2=24", &["/"]).text, "48 2=24");
}

#[test]
fn a_drop_inside_a_word_glues_unless_both_sides_are_alphanumeric() {
    let text = "un-real";
    let tokens = [
        TokenSpan::new(0, 0, 2),
        TokenSpan::new(1, 2, 3),
        TokenSpan::new(2, 3, 7),
    ];
    assert_eq!(render(text, &tokens, &[true, false, true]).text, "un real");
    let text = "(x)";
    let tokens = [
        TokenSpan::new(0, 0, 1),
        TokenSpan::new(1, 1, 2),
        TokenSpan::new(2, 2, 3),
    ];
    assert_eq!(render(text, &tokens, &[true, false, true]).text, "()");
}

#[test]
fn indentation_of_a_kept_line_start_survives() {
    let text = "Plan:\n  filler\n  - take 3";
    // Toy tokens: "Plan", ":\n", " ", " filler", "\n", " ", " -", " take", " ", "3"
    let got = render_dropping(text, &[" filler"]);
    assert_eq!(got.text, "Plan:\n  - take 3");
}

#[test]
fn a_word_moved_to_a_line_start_loses_its_space() {
    assert_eq!(
        render_dropping("A 1.\nSo we add", &["So"]).text,
        "A 1.\nwe add"
    );
}

#[test]
fn a_trailing_drop_leaves_no_trailing_space() {
    let text = "keep 3 drop";
    assert_eq!(render_dropping(text, &[" drop"]).text, "keep 3");
    // A kept space token at the very end is trimmed and counted as elided.
    let got = render_dropping("keep it 3", &[" it", "3"]);
    assert_eq!((got.text.as_str(), got.elided), ("keep", 1));
}

#[test]
fn a_dropped_line_break_becomes_a_space() {
    let text = "one\ntwo";
    let tokens = [
        TokenSpan::new(0, 0, 3),
        TokenSpan::new(1, 3, 4),
        TokenSpan::new(2, 4, 7),
    ];
    assert_eq!(render(text, &tokens, &[true, false, true]).text, "one two");
}

#[test]
fn leading_breaks_of_a_dropped_first_line_are_dropped() {
    let got = render_dropping("Okay so\n\nStep 1: add 2", &["Okay", " so"]);
    assert_eq!((got.text.as_str(), got.elided), ("Step 1: add 2", 1));
    let got = render_dropping("Okay.\nStep 1", &["Okay"]);
    assert_eq!((got.text.as_str(), got.elided), ("Step 1", 1));
}

#[test]
fn crlf_lines_keep_their_breaks() {
    let text = "A 1\r\nfiller\r\nB 2";
    let tokens = toy_tokenize(text);
    let mask: Vec<bool> = tokens.iter().map(|t| t.text(text) != "filler").collect();
    assert_eq!(render(text, &tokens, &mask).text, "A 1\r\nB 2");
}

#[test]
fn a_short_mask_drops_the_rest() {
    let text = "a b c";
    let tokens = toy_tokenize(text);
    assert_eq!(render(text, &tokens, &[true]).text, "a");
}

#[test]
fn invalid_spans_are_rejected() {
    let err = TextLayout::new("ab", &[TokenSpan::new(0, 0, 5)]).unwrap_err();
    assert!(matches!(
        err,
        crate::importance::SpanError::OutOfBounds { .. }
    ));
}

#[test]
fn nothing_kept_is_empty() {
    assert_eq!(render_dropping("a b", &["a", " b"]).text, "");
}

/// Golden compressions of CoTs with the rules scorer (toy tokenizer): text plus counts.
fn golden(text: &str, gamma: f64, granularity: Granularity) -> String {
    let tokens = toy_tokenize(text);
    let imp = RulesScorer::new().score(text, &tokens).expect("scores");
    let c = Compressor::new(text, &imp, &tokens, granularity, CompressOptions::default())
        .expect("compressor");
    let out = c.compress(gamma).expect("gamma");
    format!(
        "gamma {gamma} {granularity:?}: budget {} kept {}/{} (ratio {:.3}, forced {}, elided {})\n---\n{}",
        out.kept.budget,
        out.kept.kept,
        out.kept.total,
        out.kept.ratio(),
        out.kept.forced,
        out.elided,
        out.text
    )
}

const GSM8K_COT: &str = "Let's think about this step by step.\n\
Step 1: Natalia sold 48 clips in April.\n\
Step 2: In May she sold half as many, so 48 / 2 = 24 clips.\n\
Step 3: So we now know that in total she sold 48 + 24 = 72 clips.\n\
\n\
The answer is \\boxed{72}.";

const WORDY_COT: &str = "Okay, first of all, we need to figure out how much money Betty has.\n\
In other words, basically she has half of the $100 she needs, which is $50.\n\
\n\
Her parents give her $15, and her grandparents give her twice that, so 15 * 2 = $30.\n\
We can see that she still needs 100 - 50 - 15 - 30 = $5 more.\n\
Therefore, the final answer is 5.";

#[test]
fn golden_gsm8k_cot() {
    insta::assert_snapshot!(golden(GSM8K_COT, 0.5, Granularity::Token));
    insta::assert_snapshot!(golden(GSM8K_COT, 0.7, Granularity::Word));
}

#[test]
fn golden_wordy_cot() {
    insta::assert_snapshot!(golden(WORDY_COT, 0.5, Granularity::Word));
    insta::assert_snapshot!(golden(WORDY_COT, 0.6, Granularity::Token));
}

/// Text from a small alphabet of awkward characters, cut into tokens at random char
/// boundaries, with a random mask.
fn split_text() -> impl Strategy<Value = (String, Vec<TokenSpan>, Vec<bool>)> {
    let ch = prop_oneof![
        Just('a'),
        Just('Z'),
        Just('7'),
        Just(' '),
        Just(' '),
        Just('\n'),
        Just('\t'),
        Just('\r'),
        Just('.'),
        Just('='),
        Just('é'),
        Just('中'),
        Just('\u{a0}'),
        Just('🙂')
    ];
    (prop::collection::vec((ch, any::<bool>(), any::<bool>()), 1..120)).prop_map(|cs| {
        let text: String = cs.iter().map(|(c, _, _)| *c).collect();
        let mut tokens = Vec::new();
        let mut mask = Vec::new();
        let mut start = 0;
        let mut byte = 0;
        for (i, (c, cut, keep)) in cs.iter().enumerate() {
            byte += c.len_utf8();
            if *cut || i + 1 == cs.len() {
                tokens.push(TokenSpan::new(tokens.len() as u32, start, byte));
                mask.push(*keep);
                start = byte;
            }
        }
        (text, tokens, mask)
    })
}

fn visible(s: &str) -> Vec<char> {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn rendering_never_panics_and_keeps_only_kept_text((text, tokens, mask) in split_text()) {
        let got = render(&text, &tokens, &mask);
        // Every visible character comes from a kept token, in order; only punctuation
        // of `".\n"`-like tokens may be left out.
        let kept: Vec<char> = tokens.iter().zip(&mask).filter(|(_, &m)| m)
            .flat_map(|(t, _)| visible(t.text(&text))).collect();
        let out = visible(&got.text);
        let mut it = kept.iter();
        for c in &out {
            prop_assert!(it.any(|k| k == c), "{:?} not from kept text", c);
        }
        let missing = kept.len() - out.len();
        prop_assert!(kept.iter().filter(|c| !c.is_alphanumeric()).count() >= missing);
        prop_assert!(got.elided <= mask.iter().filter(|&&m| m).count());
        // Line breaks only come from kept tokens, never more than they hold.
        let kept_breaks: usize = tokens.iter().zip(&mask).filter(|(_, &m)| m)
            .map(|(t, _)| t.text(&text).matches('\n').count()).sum();
        prop_assert!(got.text.matches('\n').count() <= kept_breaks);
        if mask.iter().all(|&m| m) {
            prop_assert_eq!(&got.text, &text);
        }
        if !mask[0] {
            prop_assert!(!got.text.starts_with(char::is_whitespace));
        }
    }
}
