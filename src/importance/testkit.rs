//! Test support: a toy tokenizer shaped like the byte-level BPE pre-tokenizers of
//! Qwen2 / LLaMA-3 (`" word"`, single digits, `".\n\n"`, `"\n\n"`), so tests exercise the
//! token shapes real target models produce without loading a tokenizer.

use super::span::TokenSpan;

fn is_punct(c: char) -> bool {
    !c.is_whitespace() && !c.is_alphabetic() && !c.is_numeric()
}

/// Splits `text` into spans: `[ ]letters`, one digit, `[ ]punct+` followed by any line
/// breaks, whitespace up to its last line break, and other whitespace runs (leaving the
/// last space of a run to the word after it). Ids are a running counter.
pub(crate) fn toy_tokenize(text: &str) -> Vec<TokenSpan> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |k: usize| chars.get(k).map(|&(_, c)| c);
    let byte = |k: usize| chars.get(k).map_or(text.len(), |&(b, _)| b);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let mut j = i + 1;
        let next = at(i + 1);
        if c.is_alphabetic() || (c == ' ' && next.is_some_and(char::is_alphabetic)) {
            while at(j).is_some_and(char::is_alphabetic) {
                j += 1;
            }
        } else if c.is_numeric() {
            // one digit per token
        } else if is_punct(c) || (c == ' ' && next.is_some_and(is_punct)) {
            while at(j).is_some_and(is_punct) {
                j += 1;
            }
            while at(j).is_some_and(|c| c == '\n' || c == '\r') {
                j += 1;
            }
        } else {
            while at(j).is_some_and(char::is_whitespace) {
                j += 1;
            }
            if let Some(last_nl) = (i..j).rev().find(|&k| at(k) == Some('\n')) {
                j = last_nl + 1;
            } else if j - i >= 2 && at(j).is_some_and(|c| !c.is_whitespace()) {
                j -= 1;
            }
        }
        out.push(TokenSpan::new(out.len() as u32, byte(i), byte(j)));
        i = j;
    }
    out
}

/// The token texts, for readable assertions.
pub(crate) fn pieces<'a>(text: &'a str, tokens: &[TokenSpan]) -> Vec<&'a str> {
    tokens.iter().map(|t| t.text(text)).collect()
}

#[test]
fn toy_tokens_look_like_bpe() {
    let text = "Step 1: 48 / 2 = 24.\n\nSo  she has 24 left";
    let tokens = toy_tokenize(text);
    assert_eq!(
        pieces(text, &tokens),
        vec![
            "Step", " ", "1", ":", " ", "4", "8", " /", " ", "2", " =", " ", "2", "4", ".\n\n",
            "So", " ", " she", " has", " ", "2", "4", " left"
        ]
    );
    assert_eq!(super::span::validate_spans(text, &tokens), Ok(()));
}
