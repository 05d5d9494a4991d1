//! Rebuilding readable text from a kept mask, line breaks included.
//!
//! TokenSkip's reference code joins the kept words with single spaces, which loses every
//! line break of the CoT. Here the text is the kept tokens' own text, and only where
//! tokens were dropped (a "join") is whitespace adjusted:
//!
//! 1. A run of tokens with nothing dropped inside is copied verbatim (spacing, indents
//!    and any bytes between the tokens included).
//! 2. Nothing before the first visible character: leading whitespace is dropped.
//! 3. At a join, if either side holds a line break (the text so far ends with one, or
//!    the next token starts with one), the output gets as many line breaks as the side
//!    with more, never the sum: a line whose content was all dropped leaves no blank
//!    line. A space token moved to the start of a line loses its space.
//! 4. Otherwise, closing punctuation that was attached to a dropped word (`.` of
//!    `April.`) attaches to the new word on its left: `48.`, not `48 .`. Else, if there
//!    was any whitespace on either side or in the dropped text, the join is exactly one
//!    space (no double spaces, no trailing space before a word).
//! 5. Otherwise (a drop inside a word), the pieces are glued, except that two letters or
//!    digits never touch if they did not touch in the original: `48` + `2` is `48 2`,
//!    never `482`.
//! 6. A kept line-break token that starts with punctuation (`".\n\n"`), reached at the
//!    start of a line whose content was all dropped, keeps only its line break: no lone
//!    `.` lines.
//! 7. If the text ends in a drop, trailing spaces and tabs are trimmed.
//!
//! With [`TextLayout::keep_word_spaces`] rules 2 and 3 keep the spaces in front of a word
//! (` divide` at the start of a line stays ` divide`): less tidy to read, but the text then
//! re-tokenizes into the tokens the mask kept, since BPE vocabularies hold `Ġdivide` and
//! often not `divide` (the demo tokenizer splits it into four). Training data wants that:
//! measured on the demo model's CoTs pruned to 0.6 by the rules scorer, the tidy text
//! re-tokenized to 0.81 of the original tokens, so a model trained on it learned to stop
//! near 0.8 whatever gamma asked.
//!
//! Line breaks survive because scorers force tokens that hold one (`ForcePolicy`); a
//! dropped line break (a policy without that) becomes a space, since the text only
//! holds what the mask kept. Rules 2, 3, 6 and 7 can leave a kept token with no byte in
//! the text; `elided` counts those (the mask, and so the ratio, still counts them). It is
//! a close count, not an exact one: the indentation of a dropped line, replaced at the
//! next join, is not counted.

use crate::importance::{validate_spans, SpanError, TokenSpan};

/// Per-token facts precomputed once so that rendering does no scanning of the text.
#[derive(Debug, Clone)]
pub struct TextLayout {
    text: String,
    spans: Vec<(u32, u32)>,
    /// Whitespace bytes in `text[..start]` and `text[..end]` of each token.
    ws_before_start: Vec<u32>,
    ws_before_end: Vec<u32>,
    /// Byte length of each token's leading whitespace.
    lead_ws: Vec<u32>,
    /// The token has a non-whitespace character.
    visible: Vec<bool>,
    /// For `".\n\n"`-like tokens (punctuation, then whitespace holding a line break):
    /// the offset of that whitespace in the token; `u32::MAX` otherwise.
    punct_break: Vec<u32>,
    /// Rules 2 and 3 keep a word's leading spaces (see the module doc).
    keep_word_spaces: bool,
}

/// Compressed text and how many kept tokens left no byte in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub elided: usize,
}

const NO_BREAK: u32 = u32::MAX;

/// Punctuation that attaches to the word on its left.
fn is_closing(c: char) -> bool {
    matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | ')' | ']' | '}' | '%')
}

fn is_alnum_end(s: &str) -> bool {
    s.chars().next_back().is_some_and(char::is_alphanumeric)
}

fn is_alnum_start(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_alphanumeric)
}

/// Byte length of the trailing whitespace of `s` and the line breaks in it.
fn trailing_ws(s: &str) -> (usize, usize) {
    let body = s.trim_end();
    let tail = &s[body.len()..];
    (tail.len(), tail.matches('\n').count())
}

impl TextLayout {
    /// Precomputes the layout of `tokens` (checked with `validate_spans`) over `text`.
    pub fn new(text: &str, tokens: &[TokenSpan]) -> Result<Self, SpanError> {
        validate_spans(text, tokens)?;
        let mut ws_prefix = Vec::with_capacity(text.len() + 1);
        let mut count = 0u32;
        ws_prefix.push(0);
        for c in text.chars() {
            if c.is_whitespace() {
                count += c.len_utf8() as u32;
            }
            for _ in 0..c.len_utf8() {
                ws_prefix.push(count);
            }
        }
        let n = tokens.len();
        let mut layout = Self {
            text: text.to_string(),
            spans: Vec::with_capacity(n),
            ws_before_start: Vec::with_capacity(n),
            ws_before_end: Vec::with_capacity(n),
            lead_ws: Vec::with_capacity(n),
            visible: Vec::with_capacity(n),
            punct_break: Vec::with_capacity(n),
            keep_word_spaces: false,
        };
        for t in tokens {
            let piece = t.text(text);
            let core = piece.trim_start();
            let lead = piece.len() - core.len();
            let visible_part = core.trim_end();
            let after = &core[visible_part.len()..];
            let punct_only =
                !visible_part.is_empty() && !visible_part.chars().any(char::is_alphanumeric);
            layout.spans.push((t.start as u32, t.end as u32));
            layout.ws_before_start.push(ws_prefix[t.start]);
            layout.ws_before_end.push(ws_prefix[t.end]);
            layout.lead_ws.push(lead as u32);
            layout.visible.push(!core.is_empty());
            layout
                .punct_break
                .push(if punct_only && after.contains('\n') {
                    (lead + visible_part.len()) as u32
                } else {
                    NO_BREAK
                });
        }
        Ok(layout)
    }

    /// Keep the spaces before a word at the start of the text or of a line (rules 2 and 3),
    /// so the text re-tokenizes as it was kept.
    pub fn keep_word_spaces(mut self, on: bool) -> Self {
        self.keep_word_spaces = on;
        self
    }

    /// Token `t` is a word led by spaces or tabs only, whose lead `keep_word_spaces` keeps.
    fn keeps_lead(&self, t: usize) -> bool {
        let (start, lead) = (self.spans[t].0 as usize, self.lead_ws[t] as usize);
        self.keep_word_spaces
            && lead > 0
            && self.visible[t]
            && self.text[start..start + lead]
                .bytes()
                .all(|b| b == b' ' || b == b'\t')
    }

    /// Writes the text of the tokens kept in `mask` into `out` (cleared first) following
    /// the module rules; returns the number of elided kept tokens. O(n + output).
    /// Tokens past the end of a short mask count as dropped.
    pub fn render_into(&self, mask: &[bool], out: &mut String) -> usize {
        out.clear();
        out.reserve(self.text.len());
        let text = self.text.as_str();
        let mut elided = 0usize;
        let mut content = false; // `out` holds a visible character
        let mut blank_kept = 0usize; // kept tokens written while `!content`
        let mut prev: Option<usize> = None; // last kept token
        let mut gap = false; // a dropped token since `prev` (or before the first)
        let mut last_wrote = false; // the last kept token wrote a byte
        let mut stripping = false; // rule 2 applies until the first visible character
        for t in 0..self.spans.len() {
            if !mask.get(t).copied().unwrap_or(false) {
                gap = true;
                continue;
            }
            let (start, end) = (self.spans[t].0 as usize, self.spans[t].1 as usize);
            let emit = if !content && (gap || stripping) {
                // Rule 2: nothing visible yet, so drop the whitespace written so far.
                stripping = true;
                elided += blank_kept;
                blank_kept = 0;
                out.clear();
                let core = match self.punct_break[t] {
                    NO_BREAK if self.keeps_lead(t) => &text[start..end],
                    NO_BREAK => &text[start + self.lead_ws[t] as usize..end],
                    _ => "",
                };
                out.push_str(core);
                Emit {
                    wrote: !core.is_empty(),
                    shows: !core.is_empty(),
                }
            } else if !gap {
                let from = prev.map_or(0, |p| self.spans[p].1 as usize);
                out.push_str(&text[from..end]);
                Emit {
                    wrote: true,
                    shows: self.visible[t],
                }
            } else {
                let gap_ws = self.ws_before_start[t] > prev.map_or(0, |p| self.ws_before_end[p]);
                self.join(t, gap_ws, out)
            };
            if !emit.wrote {
                elided += 1;
            } else if !content && !emit.shows {
                blank_kept += 1;
            }
            content |= emit.shows;
            last_wrote = emit.wrote;
            prev = Some(t);
            gap = false;
        }
        match prev {
            Some(p) if !gap => out.push_str(&text[self.spans[p].1 as usize..]),
            Some(p) => {
                // Rule 7. A last kept token made of spaces loses all it wrote.
                let (s, e) = (self.spans[p].0 as usize, self.spans[p].1 as usize);
                if last_wrote && text[s..e].chars().all(|c| c == ' ' || c == '\t') {
                    elided += 1;
                }
                let body = out.trim_end_matches([' ', '\t']).len();
                out.truncate(body);
            }
            None => {}
        }
        elided
    }

    /// Appends kept token `t` after a drop, when `out` already has content (rules 3-6).
    fn join(&self, t: usize, gap_ws: bool, out: &mut String) -> Emit {
        let (start, end) = (self.spans[t].0 as usize, self.spans[t].1 as usize);
        let piece = &self.text[start..end];
        let (tail_len, tail_breaks) = trailing_ws(out);
        let (lead, core) = match self.punct_break[t] {
            b if b != NO_BREAK && tail_breaks > 0 => (&piece[b as usize..], ""),
            _ => piece.split_at(self.lead_ws[t] as usize),
        };
        let lead_breaks = lead.matches('\n').count();
        let mut wrote = false;
        if lead_breaks > 0 {
            // Keep the line breaks already written; add the missing ones from `lead`,
            // and take the new line's indentation from `lead` (the text so far may end
            // in the indentation of a line whose content was dropped).
            let body = out.trim_end_matches([' ', '\t']).len();
            out.truncate(body);
            let skip = match lead.match_indices('\n').nth(tail_breaks.saturating_sub(1)) {
                _ if tail_breaks == 0 => 0,
                Some((i, _)) if lead_breaks > tail_breaks => i + 1,
                _ => lead.rfind('\n').map_or(0, |i| i + 1),
            };
            out.push_str(&lead[skip..]);
            wrote = skip < lead.len();
        } else if tail_breaks > 0 {
            // At the start of a line: a space token moved here loses its space, unless
            // the word's spaces are kept.
            if self.keeps_lead(t) {
                out.push_str(lead);
                wrote = true;
            }
        } else if lead.is_empty() && core.starts_with(is_closing) {
            // `April.` with `April` dropped: the `.` follows the new left word directly.
            out.truncate(out.len() - tail_len);
        } else if tail_len > 0 || !lead.is_empty() || gap_ws {
            out.truncate(out.len() - tail_len);
            out.push(' ');
            wrote = !lead.is_empty();
        } else if is_alnum_end(out) && is_alnum_start(core) {
            out.push(' ');
        }
        out.push_str(core);
        Emit {
            wrote: wrote || !core.is_empty(),
            shows: !core.is_empty(),
        }
    }
}

/// What one kept token left in the text.
struct Emit {
    /// Some byte of it was written.
    wrote: bool,
    /// A visible character of it was written.
    shows: bool,
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
