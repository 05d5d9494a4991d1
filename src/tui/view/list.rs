//! The question list and the prompt box.

use ratatui::buffer::Buffer;

use super::app::{frame, put, put_input};
use crate::tui::layout::Area;
use crate::tui::state::State;
use crate::tui::theme::Theme;
use crate::tui::update::list_offset;

pub fn render_list(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    if a.w < 3 || a.h < 3 {
        return;
    }
    let title = format!(" Questions ({}) ", s.examples.len());
    frame(theme, buf, a, title);
    let inner = a.inner();
    if s.examples.is_empty() {
        put(buf, inner.x, inner.y, "loading…", inner.w, theme.muted());
        return;
    }
    let offset = list_offset(s.selected, inner.h as usize);
    for (row, (i, ex)) in s
        .examples
        .iter()
        .enumerate()
        .skip(offset)
        .take(inner.h as usize)
        .enumerate()
    {
        let y = inner.y + row as u16;
        let style = if i == s.selected {
            theme.highlight("selection.bg")
        } else {
            theme.fg("text")
        };
        let label = format!("{:>2} {}", i + 1, ex.question);
        buf.set_style(ratatui::layout::Rect::new(inner.x, y, inner.w, 1), style);
        put(buf, inner.x, y, &label, inner.w, style);
    }
}

pub fn render_prompt(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    if a.h == 0 {
        return;
    }
    if !s.prompt_focused && !s.doc.question.is_empty() {
        // Not typing: the row shows the question of the CoT on screen, in full.
        let x = put(buf, a.x, a.y, " Q › ", a.w, theme.fg("accent"));
        let q = s.doc.question.replace('\n', " ");
        put(
            buf,
            x,
            a.y,
            &q,
            a.w.saturating_sub(x - a.x),
            theme.fg("title"),
        );
        return;
    }
    let x = put(buf, a.x, a.y, " ask › ", a.w, theme.fg("accent"));
    let w = a.w.saturating_sub(x - a.x);
    if s.prompt_focused {
        // The end of a long question, with a cursor.
        put_input(buf, x, a.y, &s.prompt, w, theme);
    } else if s.prompt.is_empty() {
        put(
            buf,
            x,
            a.y,
            "press i or / to ask your own question",
            w,
            theme.muted(),
        );
    } else {
        put(buf, x, a.y, &s.prompt, w, theme.muted());
    }
}
