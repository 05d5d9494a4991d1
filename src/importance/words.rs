//! Words of a CoT and which target tokens make them up.
//!
//! Word scores (LLMLingua-2 averages its subwords into words) and word-granularity
//! compression both need one shared notion of "word" that does not depend on any
//! tokenizer. A word is a maximal run of non-whitespace characters, with one extension
//! for math CoTs: runs joined by an arithmetic operator on the same line form ONE word,
//! so `48 / 2 = 24` is a single word just like `48/2=24`. Keeping or dropping half an
//! equation (`48 / 2 =` without `24`) produces false arithmetic, which is worse for the
//! trained model than either keeping or dropping all of it. Line breaks always end a word.
//!
//! The join rule, between two neighbouring runs `a` and `b` on one line: both are
//! "mathy" and `a` ends with an operator or `b` starts with one. A run is mathy when it
//! holds a digit, or has no letters but an operator or bracket (`=`, `(`, `$`), or is a
//! single-letter variable (`x`, `(y`), or is a LaTeX command (`\times`, `\frac{a}{b}`).
//! Operators: `= + - * / ^ < >` and `× ÷ − · ≤ ≥ ≠ ≈`; a LaTeX command such as `\times`
//! or `\cdot` also counts as one. So `total = 5` stays two words (`total`, `= 5`): prose
//! beside an operator is not an equation.

use std::ops::Range;

use super::span::TokenSpan;

/// One word: its byte range and the target tokens anchored in it (a contiguous range).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub tokens: Range<usize>,
}

/// Words of a text together with the token -> word mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WordMap {
    /// Words in text order; every word has at least one token.
    pub words: Vec<Word>,
    /// For each token, the word it belongs to; `None` for whitespace-only tokens.
    pub token_word: Vec<Option<usize>>,
}

fn is_operator(c: char) -> bool {
    matches!(
        c,
        '=' | '+'
            | '-'
            | '*'
            | '/'
            | '^'
            | '<'
            | '>'
            | '×'
            | '÷'
            | '−'
            | '·'
            | '≤'
            | '≥'
            | '≠'
            | '≈'
    )
}

fn is_latex_command(run: &str) -> bool {
    let mut chars = run.chars();
    chars.next() == Some('\\') && chars.next().is_some_and(char::is_alphabetic)
}

fn is_mathy(run: &str) -> bool {
    if run.chars().any(char::is_numeric) || is_latex_command(run) {
        return true;
    }
    let letters = run.chars().filter(|c| c.is_alphabetic()).count();
    if letters == 0 {
        return run
            .chars()
            .any(|c| is_operator(c) || matches!(c, '(' | ')' | '[' | ']' | '{' | '}' | '$'));
    }
    letters == 1
        && run
            .chars()
            .all(|c| c.is_alphabetic() || !c.is_alphanumeric())
}

fn ends_with_operator(run: &str) -> bool {
    run.chars().next_back().is_some_and(is_operator) || is_latex_command(run)
}

fn starts_with_operator(run: &str) -> bool {
    run.chars().next().is_some_and(is_operator) || is_latex_command(run)
}

/// Byte ranges of maximal non-whitespace runs.
fn runs(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..text.len());
    }
    out
}

/// Splits `text` into words (byte ranges), joining equation pieces as the module doc says.
pub fn segment_words(text: &str) -> Vec<Range<usize>> {
    let mut words: Vec<Range<usize>> = Vec::new();
    let mut last_run: Option<Range<usize>> = None;
    for run in runs(text) {
        let joins = last_run.as_ref().is_some_and(|prev| {
            let (a, b) = (&text[prev.clone()], &text[run.clone()]);
            !text[prev.end..run.start].contains('\n')
                && is_mathy(a)
                && is_mathy(b)
                && (ends_with_operator(a) || starts_with_operator(b))
        });
        match words.last_mut() {
            Some(word) if joins => word.end = run.end,
            _ => words.push(run.clone()),
        }
        last_run = Some(run);
    }
    words
}

/// Maps target tokens onto words.
///
/// A token belongs to the word holding its first non-whitespace byte (`" the"` belongs
/// to `the`); whitespace-only tokens (`" "`, `"\n\n"`) belong to no word, unless they
/// lie inside one (a space token within `48 / 2`). Tokens are in
/// text order, so each word's tokens are a contiguous range. If one token reaches across
/// a word boundary (`"a b"` as one token), the words it joins become one word, so every
/// word keeps at least one token; text no token covers is in no word.
/// `tokens` must have passed `validate_spans`.
pub fn map_words(text: &str, tokens: &[TokenSpan]) -> WordMap {
    let raw = segment_words(text);
    // Pass 1: the raw word each token is anchored in.
    let mut anchored: Vec<Option<usize>> = Vec::with_capacity(tokens.len());
    let mut w = 0usize;
    for t in tokens {
        let piece = t.text(text);
        let visible = piece
            .char_indices()
            .find(|(_, c)| !c.is_whitespace())
            .map(|(i, _)| t.start + i);
        // A whitespace-only token counts only when it lies inside a word (the spaces of
        // `48 / 2`), so that each word's tokens stay contiguous.
        let (anchor, inside_only) = match visible {
            Some(a) => (a, false),
            None => (t.start, true),
        };
        while w < raw.len() && raw[w].end <= anchor {
            w += 1;
        }
        let hit = w < raw.len() && raw[w].start <= anchor && (!inside_only || t.end <= raw[w].end);
        anchored.push(hit.then_some(w));
    }
    // Pass 2: build words with token ranges, folding token-less words into the word whose
    // last token reaches over them.
    let mut words: Vec<Word> = Vec::with_capacity(raw.len());
    let mut raw_to_word: Vec<Option<usize>> = vec![None; raw.len()];
    let mut ti = 0usize;
    for (ri, r) in raw.iter().enumerate() {
        while ti < tokens.len() && anchored[ti].is_none_or(|a| a < ri) {
            ti += 1;
        }
        let first = ti;
        while ti < tokens.len() && anchored[ti] == Some(ri) {
            ti += 1;
        }
        if ti > first {
            raw_to_word[ri] = Some(words.len());
            words.push(Word {
                start: r.start,
                end: r.end,
                tokens: first..ti,
            });
        } else if let Some(last) = words.last_mut() {
            if tokens[last.tokens.end - 1].end > r.start {
                last.end = r.end;
            }
        }
    }
    let token_word = anchored
        .iter()
        .map(|a| a.and_then(|ri| raw_to_word[ri]))
        .collect();
    WordMap { words, token_word }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::importance::testkit::toy_tokenize;

    fn words_of(text: &str) -> Vec<&str> {
        segment_words(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn words_are_whitespace_runs() {
        assert_eq!(
            words_of("  She has\t3 apples,\nthen more. "),
            vec!["She", "has", "3", "apples,", "then", "more."]
        );
    }

    #[test]
    fn compact_equation_is_one_word() {
        assert_eq!(
            words_of("so 48/2=24 cookies"),
            vec!["so", "48/2=24", "cookies"]
        );
    }

    #[test]
    fn spaced_equation_is_one_word() {
        assert_eq!(
            words_of("She has 48 / 2 = 24 cookies left."),
            vec!["She", "has", "48 / 2 = 24", "cookies", "left."]
        );
        assert_eq!(words_of("$x + y = 10$"), vec!["$x + y = 10$"]);
        assert_eq!(
            words_of("so 12 \\times 4 = 48."),
            vec!["so", "12 \\times 4 = 48."]
        );
    }

    #[test]
    fn prose_beside_an_operator_is_not_an_equation() {
        assert_eq!(words_of("total = 5"), vec!["total", "= 5"]);
        assert_eq!(words_of("apples - many"), vec!["apples", "-", "many"]);
        // A single letter reads as a variable, so a dash before an article joins it: an
        // accepted cost of keeping `x - a` whole.
        assert_eq!(words_of("apples - a lot"), vec!["apples", "- a", "lot"]);
        assert_eq!(
            words_of("3 apples and 4 pears"),
            vec!["3", "apples", "and", "4", "pears"]
        );
    }

    #[test]
    fn a_line_break_ends_an_equation() {
        assert_eq!(words_of("2 + 3\n= 5"), vec!["2 + 3", "= 5"]);
    }

    #[test]
    fn tokens_map_to_the_word_of_their_first_visible_byte() {
        let text = "We have 48 / 2 = 24.\n\nDone";
        let tokens = toy_tokenize(text);
        let map = map_words(text, &tokens);
        let words: Vec<&str> = map.words.iter().map(|w| &text[w.start..w.end]).collect();
        assert_eq!(words, vec!["We", "have", "48 / 2 = 24.", "Done"]);
        for (i, (t, w)) in tokens.iter().zip(&map.token_word).enumerate() {
            let piece = t.text(text);
            match w {
                None => assert!(piece.trim().is_empty(), "{piece:?} has no word"),
                Some(w) => assert!(map.words[*w].tokens.contains(&i), "{piece:?}"),
            }
        }
        // Word token ranges tile the tokens that have a word, in order.
        let mut next = 0;
        for word in &map.words {
            assert!(word.tokens.start >= next && !word.tokens.is_empty());
            next = word.tokens.end;
        }
    }

    #[test]
    fn a_token_spanning_two_words_merges_them() {
        let text = "ab cd ef";
        let tokens = [TokenSpan::new(0, 0, 5), TokenSpan::new(1, 5, 8)];
        let map = map_words(text, &tokens);
        let spans: Vec<(usize, usize)> = map.words.iter().map(|w| (w.start, w.end)).collect();
        assert_eq!(spans, vec![(0, 5), (6, 8)]);
        assert_eq!(map.token_word, vec![Some(0), Some(1)]);
    }

    #[test]
    fn a_space_token_inside_an_equation_stays_in_it() {
        let text = "x  = 5 ok";
        // "x", " ", " =", " 5", " ok": the lone space lies inside the word `x  = 5`.
        let tokens = [
            TokenSpan::new(0, 0, 1),
            TokenSpan::new(1, 1, 2),
            TokenSpan::new(2, 2, 4),
            TokenSpan::new(3, 4, 6),
            TokenSpan::new(4, 6, 9),
        ];
        let map = map_words(text, &tokens);
        assert_eq!(
            map.token_word,
            vec![Some(0), Some(0), Some(0), Some(0), Some(1)]
        );
        assert_eq!(map.words[0].tokens, 0..4);
    }

    #[test]
    fn uncovered_words_are_left_out() {
        let text = "ab cd";
        let tokens = [TokenSpan::new(0, 3, 5)];
        let map = map_words(text, &tokens);
        assert_eq!(map.words.len(), 1);
        assert_eq!((map.words[0].start, map.words[0].end), (3, 5));
        assert_eq!(map.token_word, vec![Some(0)]);
    }
}
