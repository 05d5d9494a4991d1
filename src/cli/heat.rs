//! Heat-coloured text for `score`: each token's background shows its importance.
//!
//! Colour follows the token's RANK among the text's scores, not the raw score: scorers
//! have different scales (nats, probabilities, attention mass) and long tails (one very
//! surprising token would wash every other one out under min-max scaling). Forced tokens
//! are bold. Colours never run across a line break, so a terminal does not paint the rest
//! of a line.
//!
//! Without colour (`NO_COLOR`, `--color never`, or stdout not a terminal) the text is
//! printed with the tokens that compression at gamma 0.5 would drop in `[brackets]`, so
//! the output still shows what the scorer thinks is least important.

use std::io::IsTerminal;

use clap::ValueEnum;
use tokenskip_studio::compress::{CompressOptions, Compressor, Granularity};
use tokenskip_studio::importance::{Importance, TokenSpan};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// How the terminal gets colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    TrueColor,
    Ansi256,
    Plain,
}

/// The palette for stdout under `choice`, `NO_COLOR` and `COLORTERM`.
pub fn palette(choice: ColorChoice) -> Palette {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let on = match choice {
        ColorChoice::Never => false,
        ColorChoice::Always => true,
        ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
    };
    if !on {
        return Palette::Plain;
    }
    let colorterm = std::env::var("COLORTERM").unwrap_or_default();
    if colorterm.contains("truecolor") || colorterm.contains("24bit") {
        Palette::TrueColor
    } else {
        Palette::Ansi256
    }
}

/// Rank of each score in [0, 1] (0 = least important; ties share the lower rank).
fn ranks(scores: &[f32]) -> Vec<f32> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut out = vec![0f32; scores.len()];
    let denom = (scores.len().saturating_sub(1)).max(1) as f32;
    let mut prev: Option<(f32, f32)> = None;
    for (r, &i) in order.iter().enumerate() {
        let rank = match prev {
            Some((s, pr)) if s == scores[i] => pr,
            _ => r as f32 / denom,
        };
        out[i] = rank;
        prev = Some((scores[i], rank));
    }
    out
}

/// Background colour for rank `r`: cold dark blue, through purple, to hot orange-red.
fn heat_rgb(r: f32) -> (u8, u8, u8) {
    let lerp = |a: f32, b: f32, t: f32| (a + (b - a) * t).round() as u8;
    if r < 0.5 {
        let t = r * 2.0;
        (
            lerp(25.0, 110.0, t),
            lerp(30.0, 40.0, t),
            lerp(70.0, 120.0, t),
        )
    } else {
        let t = (r - 0.5) * 2.0;
        (
            lerp(110.0, 230.0, t),
            lerp(40.0, 90.0, t),
            lerp(120.0, 30.0, t),
        )
    }
}

fn bg(p: Palette, (r, g, b): (u8, u8, u8)) -> String {
    match p {
        Palette::TrueColor => format!("\x1b[48;2;{r};{g};{b}m"),
        // The 6x6x6 cube of the 256-colour palette.
        _ => {
            let q = |c: u8| (u16::from(c) * 5 + 127) / 255;
            format!("\x1b[48;5;{}m", 16 + 36 * q(r) + 6 * q(g) + q(b))
        }
    }
}

/// The coloured (or bracketed) text. `tokens` and `imp` must belong to `text`.
pub fn render(text: &str, tokens: &[TokenSpan], imp: &Importance, p: Palette) -> String {
    if p == Palette::Plain {
        return bracketed(text, tokens, imp);
    }
    let rank = ranks(&imp.scores);
    let mut out = String::with_capacity(text.len() * 8);
    let mut pos = 0;
    for (i, t) in tokens.iter().enumerate() {
        out.push_str(&text[pos..t.start]);
        let style = format!(
            "{}{}\x1b[38;2;240;240;240m",
            bg(p, heat_rgb(rank[i])),
            if imp.forced[i].is_some() {
                "\x1b[1m"
            } else {
                ""
            }
        );
        // Colour each line's part of the token; line breaks stay uncoloured.
        for (k, part) in t.text(text).split('\n').enumerate() {
            if k > 0 {
                out.push('\n');
            }
            if !part.is_empty() {
                out.push_str(&style);
                out.push_str(part);
                out.push_str("\x1b[0m");
            }
        }
        pos = t.end;
    }
    out.push_str(&text[pos..]);
    out
}

/// Plain text with the tokens dropped at gamma 0.5 in brackets (adjacent ones share a
/// pair; line breaks stay outside brackets).
fn bracketed(text: &str, tokens: &[TokenSpan], imp: &Importance) -> String {
    let mask = Compressor::new(
        text,
        imp,
        tokens,
        Granularity::Token,
        CompressOptions::default(),
    )
    .and_then(|c| c.at(0.5))
    .map(|k| k.mask)
    .unwrap_or_else(|_| vec![true; tokens.len()]);
    let mut out = String::with_capacity(text.len() + tokens.len());
    let mut open = false;
    let mut pos = 0;
    for (t, &kept) in tokens.iter().zip(&mask) {
        let piece = t.text(text);
        out.push_str(&text[pos..t.start]);
        pos = t.end;
        let visible = piece.trim_start();
        if kept || piece.contains('\n') {
            if open {
                close(&mut out);
                open = false;
            }
            out.push_str(piece);
        } else if open || visible.is_empty() {
            // Inside a bracket, or a lone space that is not worth a bracket of its own.
            out.push_str(piece);
        } else {
            // Leading whitespace stays outside: "a [b c] d", not "a[ b c] d".
            out.push_str(&piece[..piece.len() - visible.len()]);
            out.push('[');
            out.push_str(visible);
            open = true;
        }
    }
    if open {
        close(&mut out);
    }
    out.push_str(&text[pos..]);
    out
}

/// Closes a bracket before any trailing spaces: "[a b] c", not "[a b ]c".
fn close(out: &mut String) {
    let at = out.trim_end_matches([' ', '\t']).len();
    out.insert(at, ']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenskip_studio::importance::{ForcePolicy, Importance};

    fn toy() -> (&'static str, Vec<TokenSpan>, Importance) {
        let text = "so we add 3\nok";
        let tokens = vec![
            TokenSpan::new(0, 0, 2),
            TokenSpan::new(1, 2, 5),
            TokenSpan::new(2, 5, 9),
            TokenSpan::new(3, 9, 11),
            TokenSpan::new(4, 11, 12),
            TokenSpan::new(5, 12, 14),
        ];
        let scores = vec![0.1, 0.2, 0.9, 1.0, 0.0, 0.8];
        let imp = Importance::new("t", text, &tokens, scores, &ForcePolicy::default()).unwrap();
        (text, tokens, imp)
    }

    #[test]
    fn brackets_group_the_dropped_tokens() {
        let (text, tokens, imp) = toy();
        // 6 tokens, gamma 0.5 keeps 3: "3" and "\n" are forced, then " add".
        assert_eq!(
            render(text, &tokens, &imp, Palette::Plain),
            "[so we] add 3\n[ok]"
        );
    }

    #[test]
    fn colour_never_spans_a_line_break() {
        let (text, tokens, imp) = toy();
        let s = render(text, &tokens, &imp, Palette::TrueColor);
        assert!(s.contains("\x1b[48;2;"));
        for line in s.split('\n') {
            assert!(line.is_empty() || line.ends_with("\x1b[0m"), "{line:?}");
        }
        let plain: String = s
            .split('\x1b')
            .map(|p| p.split_once('m').map_or(p, |x| x.1))
            .collect();
        assert_eq!(plain, text);
    }

    #[test]
    fn ranks_share_ties() {
        assert_eq!(
            ranks(&[0.5, 0.1, 0.5, 0.9]),
            vec![1.0 / 3.0, 0.0, 1.0 / 3.0, 1.0]
        );
    }
}
