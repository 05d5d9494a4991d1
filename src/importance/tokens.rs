//! From a tokenizer's `(id, start, end)` offsets to spans that tile the text cleanly.
//!
//! Tokenizer offsets are not always valid [`TokenSpan`]s. A byte-level BPE splits a
//! character it has no token for (`😀`, a rare accent) into several byte tokens, and
//! each of them reports the whole character as its offsets (or a range inside it, not on
//! a character boundary); special tokens report an empty range. Such tokens are grouped:
//! a group is a run of tokens whose ranges overlap (after widening each range to the
//! characters it touches), and empty tokens join their neighbour. Each group is one
//! span. For target tokens this means a character split into several byte tokens counts
//! once in the ratio; math CoTs almost never contain one, and the alternative (spans
//! inside a character) cannot be rendered as text.

use std::ops::Range;

use super::scorer::ScoreError;
use super::span::TokenSpan;
use crate::model::ChatTokenizer;

/// Consecutive tokens that cover one byte range of the text together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetGroup {
    pub start: usize,
    pub end: usize,
    /// Indices into the offsets the group was built from.
    pub tokens: Range<usize>,
}

/// Groups `offsets` (in token order, byte offsets into `text`) as the module doc says.
/// Every token lands in exactly one group; groups are non-empty, sorted, do not overlap
/// and lie on character boundaries. Empty tokens before the first non-empty one join the
/// first group; if no token covers any text there are no groups.
pub fn group_offsets(text: &str, offsets: &[(u32, usize, usize)]) -> Vec<OffsetGroup> {
    let mut groups: Vec<OffsetGroup> = Vec::new();
    let mut pending_from: Option<usize> = None;
    for (i, &(_, s, e)) in offsets.iter().enumerate() {
        let (s, e) = (floor_char(text, s), ceil_char(text, e));
        if s >= e {
            match groups.last_mut() {
                Some(g) => g.tokens.end = i + 1,
                None => {
                    pending_from.get_or_insert(i);
                }
            }
            continue;
        }
        match groups.last_mut() {
            Some(g) if s < g.end => {
                g.end = g.end.max(e);
                g.tokens.end = i + 1;
            }
            _ => groups.push(OffsetGroup {
                start: s,
                end: e,
                tokens: pending_from.take().unwrap_or(i)..i + 1,
            }),
        }
    }
    groups
}

fn floor_char(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Spans of the groups, each with the id of its first token.
pub fn group_spans(offsets: &[(u32, usize, usize)], groups: &[OffsetGroup]) -> Vec<TokenSpan> {
    groups
        .iter()
        .map(|g| TokenSpan::new(offsets[g.tokens.start].0, g.start, g.end))
        .collect()
}

/// The target-model tokens of `text` as spans, ready for any scorer and the compressor.
/// No BOS or other special token is added: the CoT text alone is what gets compressed.
pub fn target_tokens(tokenizer: &ChatTokenizer, text: &str) -> Result<Vec<TokenSpan>, ScoreError> {
    let offsets = tokenizer
        .encode_with_offsets(text)
        .map_err(|e| ScoreError::Tokenizer {
            scorer: "target".into(),
            message: e.to_string(),
        })?;
    Ok(group_spans(&offsets, &group_offsets(text, &offsets)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::importance::validate_spans;

    #[test]
    fn clean_offsets_pass_through() {
        let text = "ab cd";
        let offs = [(7, 0, 2), (8, 2, 5)];
        let g = group_offsets(text, &offs);
        assert_eq!(
            group_spans(&offs, &g),
            vec![TokenSpan::new(7, 0, 2), TokenSpan::new(8, 2, 5)]
        );
    }

    #[test]
    fn byte_tokens_of_one_character_become_one_span() {
        let text = "a 😀 b"; // the emoji is bytes 2..6
        let offs = [
            (1, 0, 1),
            (2, 1, 2),
            (3, 2, 6),
            (4, 2, 6),
            (5, 3, 4), // inside the character: widened to it
            (6, 2, 6),
            (7, 6, 8),
        ];
        let g = group_offsets(text, &offs);
        assert_eq!(g.len(), 4);
        assert_eq!((g[2].start, g[2].end, g[2].tokens.clone()), (2, 6, 2..6));
        let spans = group_spans(&offs, &g);
        assert_eq!(validate_spans(text, &spans), Ok(()));
    }

    #[test]
    fn empty_tokens_join_a_neighbour() {
        let text = "ab";
        let offs = [(0, 0, 0), (1, 0, 1), (2, 1, 2), (3, 2, 2)];
        let g = group_offsets(text, &offs);
        assert_eq!(g[0].tokens, 0..2);
        assert_eq!(g[1].tokens, 2..4);
        assert!(group_offsets(text, &[(0, 0, 0)]).is_empty());
    }
}
