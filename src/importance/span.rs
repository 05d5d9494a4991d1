//! Target-model tokens as byte ranges into the scored text.
//!
//! Every scorer reports its scores on the tokens of the TARGET model (the model that will
//! be trained on the compressed CoTs), because TokenSkip's ratio gamma is counted in those
//! tokens. Byte offsets are the common ground between tokenizers: a scorer with its own
//! tokenizer projects onto these spans (see `projection`), the compressor keeps or drops
//! them, and the text is rebuilt from them.

use thiserror::Error;

/// One target-model token: its id and the byte range `start..end` it covers in the text.
///
/// Byte-level BPE tokens usually carry their leading whitespace (`" the"`, `"\n\n"`,
/// `".\n\n"`), so the spans of such a tokenizer tile the text. Gaps between spans are
/// allowed (tokenizers whose offsets skip spaces); overlaps are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TokenSpan {
    pub id: u32,
    pub start: usize,
    pub end: usize,
}

impl TokenSpan {
    pub fn new(id: u32, start: usize, end: usize) -> Self {
        Self { id, start, end }
    }

    /// The text this token covers. Call only on spans that passed [`validate_spans`].
    pub fn text<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.start..self.end).unwrap_or("")
    }
}

/// A token list that does not fit its text. The index names the offending token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpanError {
    #[error("token {index} covers bytes {start}..{end}, outside the text ({len} bytes)")]
    OutOfBounds {
        index: usize,
        start: usize,
        end: usize,
        len: usize,
    },
    #[error("token {index} covers bytes {start}..{end}, which is empty or reversed")]
    Empty {
        index: usize,
        start: usize,
        end: usize,
    },
    #[error("token {index} ({start}..{end}) does not start and end on UTF-8 character boundaries")]
    NotCharBoundary {
        index: usize,
        start: usize,
        end: usize,
    },
    #[error(
        "token {index} starts at byte {start}, before the end of token {} (byte {prev_end}): \
         tokens must be sorted and must not overlap",
        index - 1
    )]
    Overlap {
        index: usize,
        start: usize,
        prev_end: usize,
    },
}

/// Checks that `tokens` are non-empty byte ranges on character boundaries, in order and
/// without overlaps. Everything downstream (word mapping, projection, the compressor's
/// text rebuild) relies on this, so it is checked once, here, instead of panicking later.
pub fn validate_spans(text: &str, tokens: &[TokenSpan]) -> Result<(), SpanError> {
    let mut prev_end = 0usize;
    for (index, t) in tokens.iter().enumerate() {
        let (start, end) = (t.start, t.end);
        if end > text.len() {
            return Err(SpanError::OutOfBounds {
                index,
                start,
                end,
                len: text.len(),
            });
        }
        if start >= end {
            return Err(SpanError::Empty { index, start, end });
        }
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            return Err(SpanError::NotCharBoundary { index, start, end });
        }
        if index > 0 && start < prev_end {
            return Err(SpanError::Overlap {
                index,
                start,
                prev_end,
            });
        }
        prev_end = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, end: usize) -> TokenSpan {
        TokenSpan::new(0, start, end)
    }

    #[test]
    fn tiling_spans_are_valid() {
        let text = "a b\n";
        assert_eq!(
            validate_spans(text, &[span(0, 1), span(1, 3), span(3, 4)]),
            Ok(())
        );
    }

    #[test]
    fn gaps_are_allowed() {
        assert_eq!(validate_spans("a b", &[span(0, 1), span(2, 3)]), Ok(()));
    }

    #[test]
    fn each_bad_span_is_named() {
        let text = "héllo";
        assert!(matches!(
            validate_spans(text, &[span(0, 9)]),
            Err(SpanError::OutOfBounds { index: 0, .. })
        ));
        assert!(matches!(
            validate_spans(text, &[span(0, 1), span(1, 1)]),
            Err(SpanError::Empty { index: 1, .. })
        ));
        assert!(matches!(
            validate_spans(text, &[span(0, 2)]),
            Err(SpanError::NotCharBoundary { index: 0, .. })
        ));
        assert!(matches!(
            validate_spans(text, &[span(0, 3), span(1, 4)]),
            Err(SpanError::Overlap { index: 1, .. })
        ));
    }

    #[test]
    fn overlap_message_names_both_tokens() {
        let err = validate_spans("abcd", &[span(0, 3), span(2, 4)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "token 1 starts at byte 2, before the end of token 0 (byte 3): \
             tokens must be sorted and must not overlap"
        );
    }
}
