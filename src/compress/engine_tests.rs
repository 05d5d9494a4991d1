//! Tests of the ranking and thresholding rules, and the property tests.

use proptest::prelude::*;

use super::*;
use crate::importance::testkit::{pieces, toy_tokenize};
use crate::importance::{ForcePolicy, Importance, RulesScorer, Scorer};

/// `n` one-letter tokens "a b c ..." (the first without a space) with the given scores,
/// nothing forced.
fn plain(scores: &[f32]) -> (String, Vec<TokenSpan>, Importance) {
    let words: Vec<String> = (0..scores.len())
        .map(|i| char::from(b'a' + (i % 26) as u8).to_string())
        .collect();
    let text = words.join(" ");
    let tokens = toy_tokenize(&text);
    let no_force = ForcePolicy {
        digits: false,
        newlines: false,
        tokens: vec![],
    };
    let imp = Importance::new("test", &text, &tokens, scores.to_vec(), &no_force).expect("valid");
    (text, tokens, imp)
}

fn compressor(text: &str, tokens: &[TokenSpan], imp: &Importance, g: Granularity) -> Compressor {
    Compressor::new(text, imp, tokens, g, CompressOptions::default()).expect("compressor")
}

fn kept_indices(k: &Kept) -> Vec<usize> {
    k.mask
        .iter()
        .enumerate()
        .filter(|(_, &m)| m)
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn keeps_exactly_round_gamma_n_highest_scores() {
    let (text, tokens, imp) = plain(&[0.1, 0.9, 0.5, 0.7, 0.3, 0.8, 0.2, 0.6, 0.4, 0.0]);
    let c = compressor(&text, &tokens, &imp, Granularity::Token);
    let k = c.at(0.4).expect("gamma");
    assert_eq!((k.budget, k.kept, k.total), (4, 4, 10));
    assert_eq!(kept_indices(&k), vec![1, 3, 5, 7]);
    assert!((k.ratio() - 0.4).abs() < 1e-12);
}

#[test]
fn rounding_is_half_up() {
    let (text, tokens, imp) = plain(&[0.5; 5]);
    let c = compressor(&text, &tokens, &imp, Granularity::Token);
    assert_eq!(c.at(0.5).expect("gamma").kept, 3); // 2.5 -> 3
    assert_eq!(c.at(0.29).expect("gamma").kept, 1); // 1.45 -> 1
    assert_eq!(c.at(0.05).expect("gamma").kept, 0); // 0.25 -> 0: nothing forced, nothing kept
}

#[test]
fn ties_go_to_the_earlier_token() {
    let (text, tokens, imp) = plain(&[0.5, 0.5, 0.9, 0.5, 0.5]);
    let c = compressor(&text, &tokens, &imp, Granularity::Token);
    assert_eq!(kept_indices(&c.at(0.6).expect("gamma")), vec![0, 1, 2]);
}

#[test]
fn forced_tokens_take_the_budget_first() {
    let (text, tokens, mut imp) = plain(&[0.9, 0.8, 0.0, 0.7, 0.0, 0.6]);
    imp.forced[2] = Some(ForceReason::Digit);
    imp.forced[4] = Some(ForceReason::ForcedToken);
    let c = compressor(&text, &tokens, &imp, Granularity::Token);
    let k = c.at(0.5).expect("gamma");
    assert_eq!(kept_indices(&k), vec![0, 2, 4]);
    assert_eq!((k.kept, k.forced), (3, 2));
}

#[test]
fn forced_tokens_beyond_the_budget_are_all_kept_and_reported() {
    let (text, tokens, mut imp) = plain(&[0.9, 0.0, 0.0, 0.0]);
    for f in &mut imp.forced[1..] {
        *f = Some(ForceReason::Digit);
    }
    let c = compressor(&text, &tokens, &imp, Granularity::Token);
    let k = c.at(0.25).expect("gamma");
    assert_eq!(kept_indices(&k), vec![1, 2, 3]);
    assert_eq!((k.budget, k.kept, k.forced), (1, 3, 3));
    assert!((k.ratio() - 0.75).abs() < 1e-12);
}

#[test]
fn gamma_outside_zero_one_is_an_error() {
    let (text, tokens, imp) = plain(&[0.5, 0.4]);
    let c = compressor(&text, &tokens, &imp, Granularity::Token);
    for g in [0.0, -0.5, 1.0000001, 2.0, f64::NAN, f64::INFINITY] {
        let err = c.at(g).unwrap_err();
        assert!(matches!(err, CompressError::InvalidGamma(_)), "{g}");
    }
    assert_eq!(
        c.at(0.0).unwrap_err().to_string(),
        "ratio gamma = 0 is outside (0, 1]: pass a ratio such as 0.5 (keep half)"
    );
    assert_eq!(c.at(1.0).expect("gamma").mask, vec![true, true]);
}

#[test]
fn masks_are_nested_and_repeatable() {
    let (text, tokens, mut imp) = plain(&[0.3, 0.9, 0.1, 0.5, 0.5, 0.8, 0.2, 0.0]);
    imp.forced[6] = Some(ForceReason::Digit);
    for g in [Granularity::Token, Granularity::Word] {
        let c = compressor(&text, &tokens, &imp, g);
        let mut prev = vec![false; 8];
        for step in 1..=20 {
            let k = c.at(f64::from(step) / 20.0).expect("gamma");
            assert!(
                prev.iter().zip(&k.mask).all(|(&p, &m)| !p || m),
                "{g:?} {step}"
            );
            let again = compressor(&text, &tokens, &imp, g).at(f64::from(step) / 20.0);
            assert_eq!(Some(&k.mask), again.as_ref().ok().map(|k| &k.mask));
            prev = k.mask;
        }
    }
}

#[test]
fn at_into_reuses_the_buffer() {
    let (text, tokens, imp) = plain(&[0.3, 0.9, 0.1, 0.5]);
    let c = compressor(&text, &tokens, &imp, Granularity::Token);
    let mut k = c.at(1.0).expect("gamma");
    let cap = k.mask.capacity();
    c.at_into(0.5, &mut k).expect("gamma");
    assert_eq!((k.mask.capacity(), k.kept, k.gamma), (cap, 2, 0.5));
    assert_eq!(k, c.at(0.5).expect("gamma"));
}

/// Word-granularity fixture, tokens split by hand: words "ab" (2 tokens), "cdef" (4),
/// "g" (1), "hi" (2).
fn words_fixture() -> (String, Vec<TokenSpan>, Importance) {
    let text = "ab cdef g hi".to_string();
    let bounds = [
        (0, 1),
        (1, 2),
        (2, 4),
        (4, 5),
        (5, 6),
        (6, 7),
        (7, 9),
        (9, 11),
        (11, 12),
    ];
    let tokens: Vec<TokenSpan> = bounds
        .iter()
        .enumerate()
        .map(|(i, &(s, e))| TokenSpan::new(i as u32, s, e))
        .collect();
    let scores = vec![0.9, 0.7, 0.6, 0.6, 0.6, 0.6, 0.2, 0.5, 0.5];
    let no_force = ForcePolicy {
        digits: false,
        newlines: false,
        tokens: vec![],
    };
    let imp = Importance::new("test", &text, &tokens, scores, &no_force).expect("valid");
    (text, tokens, imp)
}

#[test]
fn word_granularity_keeps_whole_words_closest_to_the_budget() {
    let (text, tokens, imp) = words_fixture();
    for (got, want) in imp.word_scores.iter().zip([0.8, 0.6, 0.2, 0.5]) {
        assert!((got - want).abs() < 1e-6, "{:?}", imp.word_scores);
    }
    let c = compressor(&text, &tokens, &imp, Granularity::Word);
    // Ranking: ab(2) cdef(4) hi(2) g(1); prefix token counts 0, 2, 6, 8, 9.
    let at = |g: f64| c.at(g).expect("gamma");
    assert_eq!(kept_indices(&at(2.0 / 9.0)), vec![0, 1]);
    // budget 3: 2 is closer than 6.
    assert_eq!(at(3.0 / 9.0).kept, 2);
    // budget 4: tie between 2 and 6 goes to the shorter prefix.
    assert_eq!(at(4.0 / 9.0).kept, 2);
    // budget 5: 6 is closer.
    let k = at(5.0 / 9.0);
    assert_eq!((k.budget, k.kept), (5, 6));
    assert_eq!(kept_indices(&k), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(c.text_of(&at(8.0 / 9.0)).text, "ab cdef hi");
}

#[test]
fn a_forced_line_break_does_not_force_its_word() {
    let text = "Some filler here.\n\nKeep 3 this";
    let tokens = toy_tokenize(text);
    let imp = RulesScorer::new().score(text, &tokens).expect("scores");
    let c = compressor(text, &tokens, &imp, Granularity::Word);
    let k = c.at(0.3).expect("gamma");
    let kept: Vec<&str> = pieces(text, &tokens)
        .into_iter()
        .zip(&k.mask)
        .filter(|(_, &m)| m)
        .map(|(p, _)| p)
        .collect();
    assert!(kept.contains(&".\n\n") && kept.contains(&"3"), "{kept:?}");
    assert!(!kept.contains(&" here"), "{kept:?}");
}

#[test]
fn drop_consecutive_forced_demotes_repeats_but_never_digits() {
    // "A", "\n\n", "\n", "B", ":", ":", "1", "1"
    let text = "A\n\n\nB::11";
    let bounds = [
        (0, 1),
        (1, 3),
        (3, 4),
        (4, 5),
        (5, 6),
        (6, 7),
        (7, 8),
        (8, 9),
    ];
    let tokens: Vec<TokenSpan> = bounds
        .iter()
        .enumerate()
        .map(|(i, &(s, e))| TokenSpan::new(i as u32, s, e))
        .collect();
    let policy = ForcePolicy::tokenskip_llama();
    let imp = Importance::new("t", text, &tokens, vec![0.5; 8], &policy).expect("valid");
    let build = |drop| {
        let opts = CompressOptions {
            drop_consecutive_forced: drop,
            ..CompressOptions::default()
        };
        Compressor::new(text, &imp, &tokens, Granularity::Token, opts).expect("compressor")
    };
    // Forced: both line breaks, both colons, both digits.
    assert_eq!(build(false).forced_tokens(), 6);
    // Demoted: the second line break and the second colon; the digits stay forced.
    let c = build(true);
    assert_eq!(c.forced_tokens(), 4);
    let k = c.at(0.75).expect("gamma");
    // 6 kept: 4 forced, then "A" and "B" (scored), the demoted ones last.
    assert_eq!(kept_indices(&k), vec![0, 1, 3, 4, 6, 7]);
    assert_eq!(
        kept_indices(&c.at(0.875).expect("gamma")),
        vec![0, 1, 2, 3, 4, 6, 7]
    );
}

#[test]
fn mismatched_or_bad_inputs_are_errors() {
    let (text, tokens, imp) = plain(&[0.5, 0.4, 0.3]);
    let opts = CompressOptions::default();
    let err = Compressor::new(&text, &imp, &tokens[..2], Granularity::Token, opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "importance has 3 scores but there are 2 target tokens: score the same tokens you compress"
    );
    let err = Compressor::new("", &imp, &[], Granularity::Token, opts).unwrap_err();
    assert_eq!(err, CompressError::NoTokens);
    let mut bad = tokens.clone();
    bad[2].end = 99;
    let err = Compressor::new(&text, &imp, &bad, Granularity::Token, opts).unwrap_err();
    assert!(matches!(err, CompressError::Span(_)));
    let mut imp2 = imp.clone();
    imp2.words[1].tokens = 0..3;
    let err = Compressor::new(&text, &imp2, &tokens, Granularity::Word, opts).unwrap_err();
    assert!(matches!(err, CompressError::BadWord { index: 1, .. }));
}

/// Random scores (with ties), random forced flags, random text for word granularity.
fn scored_cot() -> impl Strategy<Value = (String, Vec<TokenSpan>, Importance)> {
    let word = prop_oneof![
        Just("the"),
        Just("apples"),
        Just("48"),
        Just("/"),
        Just("="),
        Just("so"),
        Just("x"),
        Just("Step"),
        Just("1:"),
        Just("."),
        Just("\n"),
        Just("\n\n"),
        Just("she")
    ];
    (
        prop::collection::vec((word, any::<bool>()), 1..80),
        prop::collection::vec(0u8..6, 400),
        prop::collection::vec(any::<bool>(), 400),
    )
        .prop_map(|(words, scores, forced)| {
            let mut text = String::new();
            for (w, space) in words {
                text.push_str(w);
                if space {
                    text.push(' ');
                }
            }
            let text = if text.trim().is_empty() {
                format!("a{text}")
            } else {
                text
            };
            let tokens = toy_tokenize(&text);
            let scores: Vec<f32> = tokens
                .iter()
                .enumerate()
                .map(|(i, _)| f32::from(scores[i % 400]) / 5.0)
                .collect();
            let mut imp = Importance::new("p", &text, &tokens, scores, &ForcePolicy::default())
                .expect("valid");
            for (i, f) in imp.forced.iter_mut().enumerate() {
                if forced[i % 400] && i % 3 == 0 {
                    *f = Some(ForceReason::ForcedToken);
                }
            }
            (text, tokens, imp)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn token_counts_are_exact_nested_and_repeatable(
        (text, tokens, imp) in scored_cot(),
        mut gammas in prop::collection::vec(0.001f64..=1.0, 1..8),
        drop in any::<bool>(),
        keep in any::<bool>(),
    ) {
        let opts = CompressOptions { drop_consecutive_forced: drop, keep_word_spaces: keep };
        gammas.sort_by(f64::total_cmp);
        for g in [Granularity::Token, Granularity::Word] {
            let c = Compressor::new(&text, &imp, &tokens, g, opts).expect("compressor");
            let n = tokens.len();
            let mut prev: Option<Vec<bool>> = None;
            for &gamma in &gammas {
                let k = c.at(gamma).expect("gamma");
                let budget = (gamma * n as f64).round() as usize;
                prop_assert_eq!(k.budget, budget);
                prop_assert_eq!(k.mask.iter().filter(|&&m| m).count(), k.kept);
                if g == Granularity::Token && !keep {
                    prop_assert_eq!(k.kept, budget.max(c.forced_tokens()));
                }
                if c.forced_tokens() <= budget && g == Granularity::Token && !keep {
                    prop_assert_eq!(k.kept, budget);
                }
                if keep {
                    // A token of spaces is kept exactly when the token after it is (unless
                    // that one is a line break).
                    for (t, token) in tokens.iter().enumerate().take(n.saturating_sub(1)) {
                        let piece = token.text(&text);
                        let blank = !piece.is_empty() && piece.bytes().all(|b| b == b' ' || b == b'\t');
                        if blank && imp.forced[t].is_none() && imp.forced[t + 1] != Some(ForceReason::Newline) {
                            prop_assert_eq!(k.mask[t], k.mask[t + 1], "space {} not glued", t);
                        }
                    }
                }
                for (i, f) in imp.forced.iter().enumerate() {
                    // With `drop`, repeated non-digit forced tokens may be demoted.
                    let must = match f {
                        Some(ForceReason::Digit) => true,
                        Some(_) => !drop,
                        None => false,
                    };
                    prop_assert!(!must || k.mask[i], "forced token {} dropped", i);
                }
                if g == Granularity::Word {
                    for w in &imp.words {
                        let mut states = w.tokens.clone()
                            .filter(|&t| imp.forced[t] != Some(ForceReason::Newline))
                            .map(|t| k.mask[t]);
                        let first = states.next();
                        prop_assert!(states.all(|s| Some(s) == first), "word split");
                    }
                }
                if let Some(p) = &prev {
                    prop_assert!(p.iter().zip(&k.mask).all(|(&a, &b)| !a || b), "not nested");
                }
                let again = Compressor::new(&text, &imp, &tokens, g, opts).expect("c").at(gamma).expect("gamma");
                prop_assert_eq!(&again.mask, &k.mask);
                let _ = c.text_of(&k);
                prev = Some(k.mask);
            }
        }
    }
}
