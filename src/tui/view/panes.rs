//! The two CoT panes: the full CoT (dropped tokens dimmed and struck through, or in
//! brackets without colour) and the compressed CoT, both coloured by importance and
//! scrolled together (the compressed pane follows the full pane's top line).

use ratatui::buffer::Buffer;
use ratatui::style::Style;

use super::app::{frame, put};
use crate::tui::layout::{Area, Regions};
use crate::tui::state::{Analysis, Origin, State};
use crate::tui::theme::Theme;
use crate::tui::wrap::{self, Wrapped, NO_TOKEN};

pub fn render_panes(s: &State, theme: &Theme, buf: &mut Buffer, r: &Regions) {
    if r.full.w < 3 || r.full.h < 3 {
        return;
    }
    let a = s.doc.analysis.as_ref();
    let origin = match s.doc.origin {
        Origin::Empty => "",
        Origin::Reference => "reference",
        Origin::Typed => "typed",
        Origin::Streaming { .. } => "model, streaming",
        Origin::Generated { gamma: None } => "model",
        Origin::Generated { gamma: Some(_) } => "model at γ",
    };
    let full_title = match a {
        Some(a) => format!(" Full CoT · {} tokens · {origin} ", a.tokens.len()),
        None => format!(" Full CoT · {origin} "),
    };
    let comp_title = match a {
        Some(a) => format!(" Pruned at {:.2} · {} tokens ", s.gamma(), a.kept.kept),
        None => " Pruned ".to_string(),
    };
    frame(theme, buf, r.full, full_title);
    frame(theme, buf, r.compressed, comp_title);
    let (fi, ci) = (r.full.inner(), r.compressed.inner());
    let n = a.map_or(0, |a| a.tokens.len());
    let pieces = wrap::full_pieces(&s.doc, s.plain_marks);
    let full = wrap::wrap(pieces.into_iter(), fi.w, n);
    if s.doc.text.is_empty() {
        let msg = match s.doc.origin {
            Origin::Streaming { .. } => format!("waiting for the model {}", s.spinner()),
            _ => "no CoT: pick a question (j/k) or press g to generate".to_string(),
        };
        put(buf, fi.x, fi.y, &msg, fi.w, theme.muted());
        return;
    }
    draw_lines(s, theme, buf, fi, &full, s.scroll, a, true);
    render_model_pane(s, theme, buf, r.model);
    match a {
        Some(a) => {
            let pieces = wrap::compressed_pieces(&s.doc.text, a);
            let comp = wrap::wrap(pieces.into_iter(), ci.w, n);
            let top = wrap::aligned_top(&full, &comp, a, s.scroll);
            draw_lines(s, theme, buf, ci, &comp, top, Some(a), false);
        }
        None => {
            let msg = if s.pending_analysis.is_some() {
                format!("scoring with {} {}", s.scorer, s.spinner())
            } else {
                "not scored".to_string()
            };
            put(buf, ci.x, ci.y, &msg, ci.w, theme.muted());
        }
    }
}

/// The model's own CoT at gamma (`G`): plain text, to compare with the pruned one.
fn render_model_pane(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    let Some(m) = &s.doc.model_at else {
        return;
    };
    if a.w < 3 || a.h < 3 {
        return;
    }
    let title = match (m.tokens, s.pending_side.is_some()) {
        (_, true) => format!(" Model at {:.2} · writing {} ", m.gamma, s.spinner()),
        (Some(n), false) => format!(" Model at {:.2} · {n} tokens ", m.gamma),
        (None, false) => format!(" Model at {:.2} ", m.gamma),
    };
    frame(theme, buf, a, title);
    let inner = a.inner();
    let w = wrap::wrap(std::iter::once((NO_TOKEN, m.text.as_str())), inner.w, 0);
    // Follow the end while it streams; otherwise start at the top.
    let top = if s.pending_side.is_some() {
        w.lines.len().saturating_sub(inner.h as usize)
    } else {
        0
    };
    for row in 0..inner.h as usize {
        for seg in w.line(top + row) {
            let x = inner.x + seg.col;
            put(
                buf,
                x,
                inner.y + row as u16,
                seg.text,
                inner.w.saturating_sub(seg.col),
                theme.fg("text"),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_lines(
    s: &State,
    theme: &Theme,
    buf: &mut Buffer,
    area: Area,
    w: &Wrapped,
    top: usize,
    a: Option<&Analysis>,
    full_pane: bool,
) {
    let text_style = theme.fg("text");
    let cursor = theme.highlight("cursor.bg");
    for row in 0..area.h as usize {
        let y = area.y + row as u16;
        for seg in w.line(top + row) {
            let style: Style = match (a, seg.token) {
                (Some(a), t) if t != NO_TOKEN => {
                    let t = t as usize;
                    if t == s.cursor {
                        cursor
                    } else {
                        theme.heat(a.heat(t), full_pane && !a.is_kept(t))
                    }
                }
                (Some(_), _) => theme.muted(),
                (None, _) => text_style,
            };
            let x = area.x + seg.col;
            put(buf, x, y, seg.text, area.w.saturating_sub(seg.col), style);
        }
    }
}
