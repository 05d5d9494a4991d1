//! The `rules` scorer: importance from the shape of math CoTs, no model, instant.
//!
//! It gives the TUI and the pipeline a scorer that works anywhere (no weights, no GPU)
//! and a transparent baseline for the model-based scorers. Scores are graded, so that
//! compression drops the least useful words first rather than at random:
//!
//! | what                                              | score       |
//! |---------------------------------------------------|-------------|
//! | inside `\boxed{..}`, tokens with a digit          | 1.00        |
//! | equations (`48 / 2 = 24`, `x=y`, `\frac{a}{b}`)   | 0.95        |
//! | step markers (`Step 1:`), final-answer phrase     | 0.90        |
//! | number words (`two`, `half`, `dozen`)             | 0.90        |
//! | units and currencies (`dollars`, `km`, `%`)       | 0.85        |
//! | operation words (`total`, `each`, `left`), negations | 0.80     |
//! | other content words, by length (IDF-like)         | 0.525-0.70  |
//! | pronouns, prepositions, auxiliaries               | 0.30        |
//! | `.` `:` `?` `!` after a word                      | 0.30        |
//! | articles, connectives (`the`, `so`, `then`)       | 0.20        |
//! | other punctuation after a word (`,` `;` quotes)   | 0.15        |
//! | whitespace-only tokens                            | 0.10        |
//! | filler (`let's think about`, `first of all`, `basically`) | 0.05 |
//!
//! The first matching row wins, in the order above. A token takes the class of its
//! word (see `words`); punctuation tokens after a plain word take the punctuation rows.
//! Digits and line breaks are forced through the shared `ForcePolicy`.

use std::ops::Range;

use super::lexicon::{
    ANSWER_PHRASES, CONNECTIVES, FILLER_PHRASES, FUNCTION_WORDS, MATH_WORDS, NEGATIONS,
    NUMBER_WORDS, UNITS,
};
use super::scorer::{check_input, ForcePolicy, Importance, ScoreError, Scorer};
use super::span::TokenSpan;
use super::words::map_words;

pub const BOXED: f32 = 1.0;
pub const DIGIT: f32 = 1.0;
pub const EQUATION: f32 = 0.95;
pub const STEP: f32 = 0.9;
pub const ANSWER: f32 = 0.9;
pub const NUMBER_WORD: f32 = 0.9;
pub const UNIT: f32 = 0.85;
pub const MATH_WORD: f32 = 0.8;
pub const NEGATION: f32 = 0.8;
pub const FUNCTION_WORD: f32 = 0.3;
pub const SENTENCE_PUNCT: f32 = 0.3;
pub const CONNECTIVE: f32 = 0.2;
pub const OTHER_PUNCT: f32 = 0.15;
pub const SPACE: f32 = 0.1;
pub const FILLER: f32 = 0.05;

/// Score of a content word of `chars` letters: longer words tend to be rarer and to
/// carry more (names, objects), and the grading spreads ties so the ranking is stable.
pub fn content_score(chars: usize) -> f32 {
    0.5 + 0.025 * chars.min(8) as f32
}

/// The zero-model scorer. See the module doc for its rules.
#[derive(Debug, Clone, Default)]
pub struct RulesScorer {
    policy: ForcePolicy,
}

impl RulesScorer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_policy(policy: ForcePolicy) -> Self {
        Self { policy }
    }
}

impl Scorer for RulesScorer {
    fn name(&self) -> String {
        "rules".to_string()
    }

    fn score(&self, text: &str, tokens: &[TokenSpan]) -> Result<Importance, ScoreError> {
        check_input(text, tokens)?;
        let map = map_words(text, tokens);
        let words: Vec<&str> = map.words.iter().map(|w| &text[w.start..w.end]).collect();
        let classes = classify_words(&words);
        let boxed = boxed_ranges(text);
        let steps = step_marker_ranges(text);
        let scores = tokens
            .iter()
            .zip(&map.token_word)
            .map(|(t, word)| {
                let visible = t.text(text).trim();
                if overlaps(&boxed, t) {
                    BOXED
                } else if visible.chars().any(|c| c.is_numeric()) {
                    DIGIT
                } else if overlaps(&steps, t) {
                    STEP
                } else if visible.is_empty() {
                    SPACE
                } else {
                    match word.map(|w| classes[w]) {
                        Some(class)
                            if !class.is_lexical()
                                || class == WordClass::Unit
                                || visible.chars().any(char::is_alphanumeric) =>
                        {
                            class.score()
                        }
                        _ => punct_score(visible),
                    }
                }
            })
            .collect();
        Importance::new(self.name(), text, tokens, scores, &self.policy)
    }
}

/// What a word is, for scoring.
#[derive(Debug, Clone, Copy, PartialEq)]
enum WordClass {
    Equation,
    Answer,
    Filler,
    NumberWord,
    Unit,
    MathWord,
    Negation,
    Content(usize),
    Function,
    Connective,
}

impl WordClass {
    fn score(self) -> f32 {
        match self {
            Self::Equation => EQUATION,
            Self::Answer => ANSWER,
            Self::NumberWord => NUMBER_WORD,
            Self::Unit => UNIT,
            Self::MathWord => MATH_WORD,
            Self::Negation => NEGATION,
            Self::Content(chars) => content_score(chars),
            Self::Function => FUNCTION_WORD,
            Self::Connective => CONNECTIVE,
            Self::Filler => FILLER,
        }
    }

    /// Lexical words are prose: their punctuation is scored as punctuation.
    fn is_lexical(self) -> bool {
        !matches!(self, Self::Equation | Self::Answer)
    }
}

fn punct_score(visible: &str) -> f32 {
    if visible.chars().any(|c| matches!(c, '.' | ':' | '?' | '!')) {
        SENTENCE_PUNCT
    } else {
        OTHER_PUNCT
    }
}

/// Lower case, `’` as `'`, surrounding punctuation stripped (`"Let’s,"` -> `let's`).
/// A word that is all punctuation (`$`, `%`) is kept as it is.
fn normalize(word: &str) -> String {
    let lower = word.to_lowercase().replace('’', "'");
    let trimmed = lower.trim_matches(|c: char| !c.is_alphanumeric());
    if trimmed.is_empty() {
        lower
    } else {
        trimmed.to_string()
    }
}

fn is_equation(word: &str) -> bool {
    let has_digit = word.chars().any(char::is_numeric);
    let latex = word
        .char_indices()
        .any(|(i, c)| c == '\\' && word[i + 1..].starts_with(char::is_alphabetic));
    let operator = word.chars().any(|c| "=+*/^<>×÷−·≤≥≠≈".contains(c));
    let longest_letter_run = word
        .split(|c: char| !c.is_alphabetic())
        .map(|run| run.chars().count())
        .max()
        .unwrap_or(0);
    has_digit || latex || (operator && longest_letter_run <= 1)
}

/// Classifies every word, matching answer and filler phrases (longest first) before
/// single words.
fn classify_words(words: &[&str]) -> Vec<WordClass> {
    let norm: Vec<String> = words.iter().map(|w| normalize(w)).collect();
    let mut classes: Vec<Option<WordClass>> = words
        .iter()
        .map(|w| is_equation(w).then_some(WordClass::Equation))
        .collect();
    let mut i = 0;
    while i < words.len() {
        let matched = [
            (ANSWER_PHRASES, WordClass::Answer),
            (FILLER_PHRASES, WordClass::Filler),
        ]
        .into_iter()
        .flat_map(|(phrases, class)| phrases.iter().map(move |p| (*p, class)))
        .filter(|(p, _)| {
            p.len() <= norm.len() - i
                && p.iter().zip(&norm[i..]).all(|(a, b)| *a == b.as_str())
                && classes[i..i + p.len()].iter().all(Option::is_none)
        })
        .max_by_key(|(p, class)| (p.len(), *class == WordClass::Answer));
        match matched {
            Some((p, class)) => {
                classes[i..i + p.len()].fill(Some(class));
                i += p.len();
            }
            None => i += 1,
        }
    }
    classes
        .into_iter()
        .zip(&norm)
        .map(|(c, w)| c.unwrap_or_else(|| lexical_class(w)))
        .collect()
}

fn lexical_class(w: &str) -> WordClass {
    if NUMBER_WORDS.contains(&w) {
        WordClass::NumberWord
    } else if UNITS.contains(&w) {
        WordClass::Unit
    } else if MATH_WORDS.contains(&w) {
        WordClass::MathWord
    } else if NEGATIONS.contains(&w) || w.ends_with("n't") {
        WordClass::Negation
    } else if CONNECTIVES.contains(&w) {
        WordClass::Connective
    } else if FUNCTION_WORDS.contains(&w) {
        WordClass::Function
    } else {
        WordClass::Content(w.chars().filter(|c| c.is_alphabetic()).count())
    }
}

fn overlaps(ranges: &[Range<usize>], t: &TokenSpan) -> bool {
    ranges.iter().any(|r| r.start < t.end && t.start < r.end)
}

/// Byte ranges of `\boxed{...}`, braces matched (nested braces allowed; an unclosed one
/// runs to the end of the text).
fn boxed_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = text[from..].find("\\boxed{") {
        let start = from + pos;
        let body = start + "\\boxed{".len();
        let mut depth = 1usize;
        let mut end = text.len();
        for (i, c) in text[body..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = body + i + 1;
                break;
            }
        }
        out.push(start..end);
        from = end;
    }
    out
}

/// Byte ranges of step markers at the start of a line: `Step 3:`, `**Step 3.**`,
/// `- step 2)` (case-insensitive; bullets, `#` and `*` before it allowed).
fn step_marker_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let lead = line.len()
            - line
                .trim_start_matches([' ', '\t', '#', '*', '-', '>'])
                .len();
        let rest = &line[lead..];
        if let Some(after) = rest
            .get(..4)
            .filter(|w| w.eq_ignore_ascii_case("step"))
            .and_then(|_| rest.get(4..))
        {
            let after = after.trim_start_matches([' ', '\t']);
            let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                // Spaces after the number belong to the marker only if `:`, `.` or `)`
                // (or a closing `**`) follows them; `Step 1 we` marks `Step 1` alone.
                let after_digits = &after[digits..];
                let spaced = after_digits.trim_start_matches([' ', '\t']);
                let bold = spaced.strip_prefix("**");
                let inner = bold.unwrap_or(spaced);
                let tail = match inner.strip_prefix([':', '.', ')']) {
                    Some(t) => t.strip_prefix("**").unwrap_or(t),
                    None if bold.is_some() => inner,
                    None => after_digits,
                };
                out.push(line_start + lead..line_start + line.len() - tail.len());
            }
        }
        line_start += line.len();
    }
    out
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
