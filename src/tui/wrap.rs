//! Token-aware line wrapping for the two CoT panes, shared by the views (to draw) and by
//! `update` (to hit-test the mouse and keep the cursor in view), so both agree cell for
//! cell. Pure and allocation-light: O(tokens) per call, well under a millisecond for a
//! 4,096-token CoT, so nothing needs caching.

use unicode_width::UnicodeWidthChar;

use super::state::{Analysis, Doc};

/// No token (literal text between tokens, or a bracket mark).
pub const NO_TOKEN: u32 = u32::MAX;

/// A run of text on one line, all from one token (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seg<'a> {
    pub token: u32,
    pub text: &'a str,
    pub col: u16,
    pub width: u16,
}

/// Wrapped lines: `lines[i]` is a range into `segs`.
#[derive(Debug, Clone, Default)]
pub struct Wrapped<'a> {
    pub segs: Vec<Seg<'a>>,
    pub lines: Vec<(u32, u32)>,
    /// For each line, the token being laid out when it began (`NO_TOKEN`: none yet).
    pub line_token: Vec<u32>,
    /// For each token index, the line it starts on (`u32::MAX`: not in this pane).
    pub token_line: Vec<u32>,
}

impl<'a> Wrapped<'a> {
    pub fn line(&self, i: usize) -> &[Seg<'a>] {
        match self.lines.get(i) {
            Some(&(a, b)) => &self.segs[a as usize..b as usize],
            None => &[],
        }
    }

    /// The token drawn at `col` of line `line`, if any.
    pub fn token_at(&self, line: usize, col: u16) -> Option<usize> {
        self.line(line)
            .iter()
            .find(|s| col >= s.col && col < s.col + s.width.max(1))
            .filter(|s| s.token != NO_TOKEN)
            .map(|s| s.token as usize)
    }

    pub fn line_of(&self, token: usize) -> Option<usize> {
        match self.token_line.get(token) {
            Some(&l) if l != u32::MAX => Some(l as usize),
            _ => None,
        }
    }
}

/// Cell width of a character; control characters take one cell (drawn as a space).
pub fn char_width(c: char) -> u16 {
    if c.is_control() {
        1
    } else {
        c.width().unwrap_or(0) as u16
    }
}

fn str_width(s: &str) -> usize {
    s.chars().map(|c| usize::from(char_width(c))).sum()
}

struct Wrapper<'a> {
    width: u16,
    col: u16,
    out: Wrapped<'a>,
    line_start: u32,
    current: u32,
    /// After a soft wrap: leading spaces are not drawn at the start of the new line.
    soft_start: bool,
}

impl<'a> Wrapper<'a> {
    fn new(width: u16, tokens: usize) -> Self {
        let mut out = Wrapped {
            token_line: vec![u32::MAX; tokens],
            ..Wrapped::default()
        };
        out.line_token.push(NO_TOKEN);
        Wrapper {
            width,
            col: 0,
            out,
            line_start: 0,
            current: NO_TOKEN,
            soft_start: false,
        }
    }

    fn newline(&mut self, soft: bool) {
        let end = self.out.segs.len() as u32;
        self.out.lines.push((self.line_start, end));
        self.out.line_token.push(self.current);
        self.line_start = end;
        self.col = 0;
        self.soft_start = soft;
    }

    /// Lays out `body` (no line breaks) from `token`, breaking inside it only when it
    /// is wider than what is left of the line.
    fn push_body(&mut self, token: u32, body: &'a str) {
        let mut seg_start = 0usize;
        let mut seg_col = self.col;
        for (i, c) in body.char_indices() {
            if self.soft_start && c == ' ' {
                seg_start = i + 1;
                continue;
            }
            self.soft_start = false;
            let w = char_width(c);
            if self.col + w > self.width && self.col > 0 {
                if i > seg_start {
                    self.seg(token, &body[seg_start..i], seg_col);
                }
                self.newline(false);
                seg_start = i;
                seg_col = 0;
            }
            if i == seg_start {
                seg_col = self.col;
            }
            self.col += w;
        }
        if body.len() > seg_start {
            self.seg(token, &body[seg_start..], seg_col);
        }
    }

    fn seg(&mut self, token: u32, text: &'a str, col: u16) {
        let width = self.col.saturating_sub(col);
        self.out.segs.push(Seg {
            token,
            text,
            col,
            width,
        });
    }

    /// Lays out one piece. `word` is the width of the word this piece starts (the run
    /// of pieces up to the next whitespace), or `None` when it continues a word: a word
    /// that fits on a line but not on the rest of this one moves to the next line.
    fn push(&mut self, token: u32, text: &'a str, word: Option<usize>) {
        self.current = token;
        if let Some(w) = word {
            let fits = w <= self.width as usize;
            if self.col > 0 && self.col as usize + w > self.width as usize && fits {
                self.newline(true);
            }
        }
        if let Some(slot) = self.out.token_line.get_mut(token as usize) {
            *slot = self.out.lines.len() as u32;
        }
        for part in text.split_inclusive('\n') {
            let (body, nl) = match part.strip_suffix('\n') {
                Some(b) => (b.strip_suffix('\r').unwrap_or(b), true),
                None => (part, false),
            };
            self.push_body(token, body);
            if nl {
                self.newline(false);
            }
        }
    }

    fn finish(mut self) -> Wrapped<'a> {
        if self.line_start < self.out.segs.len() as u32 || self.out.lines.is_empty() {
            self.newline(false);
        }
        self.out.line_token.truncate(self.out.lines.len());
        self.out
    }
}

/// Width of `text` up to its first line break.
fn first_line_width(text: &str) -> usize {
    str_width(text.split('\n').next().unwrap_or(""))
}

/// Wraps `pieces` (token index or `NO_TOKEN`, text) to `width` cells, at word
/// boundaries where possible (a word may span several tokens: `4`,`0`). `tokens` sizes
/// the token -> line map.
pub fn wrap<'a>(
    pieces: impl Iterator<Item = (u32, &'a str)>,
    width: u16,
    tokens: usize,
) -> Wrapped<'a> {
    let pieces: Vec<(u32, &'a str)> = pieces.collect();
    // word[i]: the width of the word piece i starts; None when it continues one.
    let mut word: Vec<Option<usize>> = vec![None; pieces.len()];
    let mut run = 0usize;
    for i in (0..pieces.len()).rev() {
        let text = pieces[i].1;
        let joins_next = pieces.get(i + 1).is_some_and(|(_, next)| {
            !text.contains('\n')
                && !text.ends_with(char::is_whitespace)
                && !next.starts_with(char::is_whitespace)
        });
        run = first_line_width(text) + if joins_next { run } else { 0 };
        let starts_word = i == 0
            || text.starts_with(char::is_whitespace)
            || pieces[i - 1].1.ends_with(char::is_whitespace);
        if starts_word {
            word[i] = Some(run);
        }
    }
    let mut w = Wrapper::new(width.max(1), tokens);
    for ((token, text), word) in pieces.into_iter().zip(word) {
        w.push(token, text, word);
    }
    w.finish()
}

/// The full pane's pieces: every token (and any text between tokens); with
/// `plain_marks`, each run of dropped tokens is wrapped in `[` `]`.
pub fn full_pieces(doc: &Doc, plain_marks: bool) -> Vec<(u32, &str)> {
    let Some(a) = &doc.analysis else {
        return vec![(NO_TOKEN, doc.text.as_str())];
    };
    let text = doc.text.as_str();
    let mut out = Vec::with_capacity(a.tokens.len() + 8);
    let mut at = 0usize;
    let mut in_drop = false;
    for (i, t) in a.tokens.iter().enumerate() {
        if t.start > at {
            out.push((NO_TOKEN, text.get(at..t.start).unwrap_or("")));
        }
        let dropped = !a.is_kept(i);
        if plain_marks && dropped != in_drop {
            out.push((NO_TOKEN, if dropped { "[" } else { "]" }));
            in_drop = dropped;
        }
        out.push((i as u32, t.text(text)));
        at = t.end;
    }
    if plain_marks && in_drop {
        out.push((NO_TOKEN, "]"));
    }
    if at < text.len() {
        out.push((NO_TOKEN, text.get(at..).unwrap_or("")));
    }
    out
}

/// The compressed pane's pieces: the kept tokens in order (token indices stay
/// full-pane indices). Where text was dropped between two kept tokens, spacing is fixed
/// as the compressor's text rebuild does: a token's leading spaces go when the text so
/// far ends in whitespace, and one space is put back when the dropped text held
/// whitespace and neither side has any (`fact 66`, not `fact66`), except before closing
/// punctuation (`48.`, not `48 .`).
pub fn compressed_pieces<'a>(text: &'a str, a: &Analysis) -> Vec<(u32, &'a str)> {
    let mut out = Vec::with_capacity(a.kept.kept + 16);
    let mut at_space = true;
    let mut prev_end: Option<usize> = None;
    for (i, t) in a.tokens.iter().enumerate() {
        if !a.is_kept(i) {
            continue;
        }
        let mut piece = t.text(text);
        if at_space {
            let trimmed = piece.trim_start_matches([' ', '\t']);
            piece = if trimmed.is_empty() && !piece.contains('\n') {
                ""
            } else {
                trimmed
            };
        } else if let Some(end) = prev_end {
            let dropped = text.get(end..t.start).unwrap_or("");
            let starts_bare = piece
                .chars()
                .next()
                .is_some_and(|c| !c.is_whitespace() && !is_closing(c));
            if starts_bare && dropped.contains(char::is_whitespace) {
                out.push((NO_TOKEN, " "));
            }
        }
        if let Some(last) = piece.chars().next_back() {
            at_space = last.is_whitespace();
        }
        prev_end = Some(t.end);
        out.push((i as u32, piece));
    }
    out
}

/// Punctuation that attaches to the word on its left.
fn is_closing(c: char) -> bool {
    matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | ')' | ']' | '}' | '%')
}

/// First line of the compressed pane that lines up with full-pane line `full_top`: the
/// line of the first kept token at or after the token that line starts with.
pub fn aligned_top(full: &Wrapped, compressed: &Wrapped, a: &Analysis, full_top: usize) -> usize {
    let start = match full.line_token.get(full_top) {
        Some(&t) if t != NO_TOKEN => t as usize,
        _ => 0,
    };
    (start..a.tokens.len())
        .find(|&t| a.is_kept(t))
        .and_then(|t| compressed.line_of(t))
        .unwrap_or(compressed.lines.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(w: &Wrapped) -> Vec<String> {
        (0..w.lines.len())
            .map(|i| w.line(i).iter().map(|s| s.text).collect())
            .collect()
    }

    #[test]
    fn wraps_at_token_boundaries_and_line_breaks() {
        let pieces = [(0, "Tom"), (1, " has"), (2, " five"), (3, ".\n"), (4, "So")];
        let w = wrap(pieces.into_iter(), 9, 5);
        assert_eq!(texts(&w), vec!["Tom has", "five.", "So"]);
        assert_eq!(w.line_of(2), Some(1));
        assert_eq!(w.token_at(1, 2), Some(2));
        assert_eq!(w.token_at(1, 4), Some(3));
        assert_eq!(w.line_token, vec![NO_TOKEN, 2, 3]);
    }

    #[test]
    fn words_made_of_several_tokens_wrap_together() {
        let pieces = [(0, "so"), (1, " 4"), (2, "0"), (3, " /"), (4, " 4")];
        let w = wrap(pieces.into_iter(), 4, 5);
        assert_eq!(texts(&w), vec!["so", "40 /", "4"]);
    }

    #[test]
    fn long_tokens_break_inside_and_tiny_widths_survive() {
        let w = wrap([(0, "abcdefgh")].into_iter(), 3, 1);
        assert_eq!(texts(&w), vec!["abc", "def", "gh"]);
        let w = wrap([(0, "日本語")].into_iter(), 1, 1);
        assert_eq!(w.lines.len(), 3);
        let w = wrap(std::iter::empty(), 10, 0);
        assert_eq!(w.lines.len(), 1);
    }
}
