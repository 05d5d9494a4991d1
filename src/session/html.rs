//! `replay FILE --export html`: one self-contained page (inline CSS, no script) with the
//! session's CoT (at its end, or `--at`) compressed at chosen gammas, side by side with
//! the full CoT: tokens coloured by importance with the theme's heat colours, dropped
//! tokens struck through, a legend and per-gamma stats. For papers and slides.

use std::fmt::Write as _;

use crate::compress::Granularity;
use crate::tui::state::{Analysis, State};
use crate::tui::theme::{Rgb, Theme};

use super::format::Header;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HtmlError {
    #[error("no scored CoT at {at}: the session has no analyzed CoT by then (try a later --at, or replay it to see what it holds)")]
    NoCot { at: String },
    #[error("gamma {0} is outside (0, 1]: use values such as 1.0,0.8,0.6")]
    BadGamma(f64),
    #[error("cannot compress at gamma {gamma}: {message}")]
    Compress { gamma: f64, message: String },
}

pub struct HtmlOptions<'a> {
    pub gammas: &'a [f64],
    /// Where in the session the page is taken ("the end", "12.5 s").
    pub at: String,
    /// Shown in the footer (the session file's name).
    pub source: String,
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn hex((r, g, b): Rgb) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn luma((r, g, b): Rgb) -> f32 {
    0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b)
}

/// Black or white, whichever reads better on `bg`.
fn ink(bg: Rgb) -> &'static str {
    if luma(bg) > 140.0 {
        "#000"
    } else {
        "#fff"
    }
}

/// A token as a coloured span; `title` carries its score for hovering readers.
/// Leading whitespace stays outside the coloured box (BPE tokens carry their space), and
/// a token of whitespace only (a newline) is written plain.
fn token(out: &mut String, text: &str, a: &Analysis, theme: &Theme, i: usize, dropped: bool) {
    let body = text.trim_start();
    out.push_str(&escape(&text[..text.len() - body.len()]));
    if body.is_empty() {
        return;
    }
    let text = body;
    let bg = theme.heat_rgb(a.heat(i));
    let score = a.importance.scores.get(i).copied().unwrap_or(0.0);
    let class = if dropped { "t d" } else { "t" };
    let _ = write!(
        out,
        "<span class=\"{class}\" style=\"background:{};color:{}\" title=\"score {score:.3}\">{}</span>",
        hex(bg),
        ink(bg),
        escape(text)
    );
}

/// The full CoT with the tokens dropped at `mask` struck through.
fn full_pane(text: &str, a: &Analysis, theme: &Theme, mask: &[bool]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for (i, t) in a.tokens.iter().enumerate() {
        if t.start > at {
            out.push_str(&escape(text.get(at..t.start).unwrap_or("")));
        }
        let kept = mask.get(i).copied().unwrap_or(false);
        token(&mut out, t.text(text), a, theme, i, !kept);
        at = at.max(t.end);
    }
    out.push_str(&escape(text.get(at..).unwrap_or("")));
    out
}

/// Only the kept tokens: the original gap between two neighbours kept together, else
/// one space where the dropped run held whitespace.
fn compressed_pane(text: &str, a: &Analysis, theme: &Theme, mask: &[bool]) -> String {
    let mut out = String::new();
    let mut last: Option<(usize, usize)> = None; // (index, end) of the last kept token
    for (i, t) in a.tokens.iter().enumerate() {
        if !mask.get(i).copied().unwrap_or(false) {
            continue;
        }
        if let Some((j, end)) = last {
            let between = text.get(end.min(t.start)..t.start).unwrap_or("");
            if j + 1 == i {
                out.push_str(&escape(between));
            } else if between.chars().any(char::is_whitespace)
                && !t.text(text).starts_with(char::is_whitespace)
                && !out.ends_with(char::is_whitespace)
            {
                out.push(' ');
            }
        }
        token(&mut out, t.text(text), a, theme, i, false);
        last = Some((i, t.end));
    }
    out
}

const CSS: &str = "body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:1400px;padding:0 1em}\
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.1em;margin:1.4em 0 .4em}\
.meta{opacity:.8}.q{font-style:italic;margin:.6em 0}\
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}\
.pane{border:1px solid #8884;border-radius:6px;padding:.6em .8em;white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;line-height:1.7}\
.pane h3{font:600 12px system-ui,sans-serif;margin:0 0 .4em;opacity:.8}\
.t{border-radius:2px;padding:0 1px}.d{opacity:.45;text-decoration:line-through}\
.legend span{display:inline-block;width:2.2em;height:1em;vertical-align:middle}\
table{border-collapse:collapse}td,th{padding:.15em .8em;text-align:right;border-bottom:1px solid #8883}\
th:first-child,td:first-child{text-align:left}footer{margin-top:2em;font-size:12px;opacity:.7}";

/// The page for `state`'s CoT.
pub fn render_html(
    header: &Header,
    state: &State,
    theme: &Theme,
    opts: &HtmlOptions,
) -> Result<String, HtmlError> {
    let Some(a) = state.doc.analysis.as_ref() else {
        return Err(HtmlError::NoCot {
            at: opts.at.clone(),
        });
    };
    let text = &state.doc.text;
    let mut sections = Vec::new();
    for &g in opts.gammas {
        if !(g > 0.0 && g <= 1.0) {
            return Err(HtmlError::BadGamma(g));
        }
        let kept = a.compressor.at(g).map_err(|e| HtmlError::Compress {
            gamma: g,
            message: e.to_string(),
        })?;
        sections.push((g, kept));
    }
    let fg = theme.ui_rgb("text").unwrap_or((216, 222, 233));
    let (bg, page_fg) = if luma(fg) > 140.0 {
        ((32, 36, 44), fg)
    } else {
        ((255, 255, 255), fg)
    };
    let gran = match a.compressor.granularity() {
        Granularity::Token => "token",
        Granularity::Word => "word",
    };
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>TokenSkip: {}</title><style>{CSS}body{{background:{};color:{}}}</style></head><body>\n",
        escape(&state.doc.question),
        hex(bg),
        hex(page_fg)
    );
    let _ = write!(
        o,
        "<h1>TokenSkip compression</h1>\n<p class=\"meta\">model <b>{}</b> · scorer <b>{}</b> · {gran} granularity · {} tokens · theme {}</p>\n",
        escape(&header.model),
        escape(&a.importance.scorer),
        a.tokens.len(),
        escape(&theme.name)
    );
    let _ = writeln!(o, "<p class=\"q\">{}</p>", escape(&state.doc.question));
    // Legend: low -> high importance, with the score range of this CoT.
    o.push_str("<p class=\"legend\">importance: low ");
    let n = theme.heat_levels().max(2);
    for i in 0..n {
        let v = i as f32 / (n - 1) as f32;
        let _ = write!(
            o,
            "<span style=\"background:{}\"></span>",
            hex(theme.heat_rgb(v))
        );
    }
    let _ = writeln!(
        o,
        " high &nbsp;(scores {:.3} .. {:.3}) · <span class=\"t d\" style=\"width:auto;height:auto\">struck</span> = dropped</p>",
        a.min_score, a.max_score
    );
    // Stats table.
    o.push_str(
        "<table><tr><th>gamma</th><th>tokens kept</th><th>actual ratio</th><th>forced</th></tr>\n",
    );
    for (g, k) in &sections {
        let _ = writeln!(
            o,
            "<tr><td>{g:.2}</td><td>{} / {}</td><td>{:.3}</td><td>{}</td></tr>",
            k.kept,
            k.total,
            k.ratio(),
            k.forced
        );
    }
    o.push_str("</table>\n");
    for (g, k) in &sections {
        let _ = writeln!(
            o,
            "<h2>γ = {g:.2}: {} of {} tokens kept ({:.0}%)</h2>\n<div class=\"grid\">\
<div class=\"pane\"><h3>full CoT (struck: dropped at γ = {g:.2})</h3>{}</div>\
<div class=\"pane\"><h3>compressed at γ = {g:.2}</h3>{}</div></div>",
            k.kept,
            k.total,
            k.ratio() * 100.0,
            full_pane(text, a, theme, &k.mask),
            compressed_pane(text, a, theme, &k.mask)
        );
    }
    if let Some(m) = &state.doc.model_at {
        let _ = writeln!(
            o,
            "<h2>the model's own CoT at γ = {:.2}</h2><div class=\"pane\">{}</div>",
            m.gamma,
            escape(&m.text)
        );
    }
    let _ = writeln!(
        o,
        "<footer>tokenskip-studio {} · session {} (recorded {} by tokenskip-studio {}) · at {}</footer>\n</body></html>",
        env!("CARGO_PKG_VERSION"),
        escape(&opts.source),
        escape(&header.created),
        escape(&header.app),
        escape(&opts.at)
    );
    Ok(o)
}
