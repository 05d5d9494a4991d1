//! The whole screen: size check, header, then each region.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::widgets::Widget;
use ratatui::Frame;

use super::{bottom, charts, help, jobs, list, panes};
use crate::compress::Granularity;
use crate::tui::layout::{regions, split_model, Area};
use crate::tui::state::{ModelStatus, State, MIN_COLS, MIN_ROWS};
use crate::tui::theme::Theme;

pub(super) fn rect(a: Area) -> Rect {
    Rect::new(a.x, a.y, a.w, a.h)
}

/// Writes `text` at (x, y), at most `w` cells, control characters as spaces.
pub(super) fn put(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    text: &str,
    w: u16,
    style: ratatui::style::Style,
) -> u16 {
    if w == 0 {
        return x;
    }
    if text.chars().any(char::is_control) {
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        buf.set_stringn(x, y, clean, w as usize, style).0
    } else {
        buf.set_stringn(x, y, text, w as usize, style).0
    }
}

/// A text field being edited: the end of `text` that fits in `w` cells, then a bar cursor.
pub(super) fn put_input(buf: &mut Buffer, x: u16, y: u16, text: &str, w: u16, theme: &Theme) {
    let chars: Vec<char> = text.chars().collect();
    let keep = (w as usize).saturating_sub(1);
    let shown: String = chars[chars.len().saturating_sub(keep)..].iter().collect();
    let end = put(buf, x, y, &shown, w, theme.fg("text"));
    put(
        buf,
        end,
        y,
        "▏",
        w.saturating_sub(end - x),
        theme.fg("accent"),
    );
}

/// A bordered pane with `title` in the accent colour.
pub(super) fn frame(theme: &Theme, buf: &mut Buffer, a: Area, title: String) {
    ratatui::widgets::Block::default()
        .borders(ratatui::widgets::Borders::ALL)
        .border_style(theme.fg("border"))
        .title(title)
        .title_style(theme.fg("accent"))
        .render(rect(a), buf);
}

/// Draws the state. Below `MIN_COLS` x `MIN_ROWS` it draws one line saying so.
pub fn render_app(s: &State, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    buf.set_style(area, theme.base());
    if area.width < MIN_COLS || area.height < MIN_ROWS {
        let (w, h) = (area.width, area.height);
        let mut msg = format!("terminal too small: need {MIN_COLS}x{MIN_ROWS}, have {w}x{h}");
        if msg.len() > usize::from(w) {
            msg = format!("too small: need {MIN_COLS}x{MIN_ROWS}, have {w}x{h}");
        }
        if area.height > 0 {
            put(buf, area.x, area.y, &msg, area.width, theme.fg("text"));
        }
        return;
    }
    let mut r = regions(area.width, area.height);
    if s.doc.model_at.is_some() {
        r = split_model(r);
    }
    render_header(s, theme, buf, r.header);
    list::render_list(s, theme, buf, r.list);
    list::render_prompt(s, theme, buf, r.prompt);
    panes::render_panes(s, theme, buf, &r);
    bottom::render_legend(s, theme, buf, r.legend);
    bottom::render_slider(s, theme, buf, r.slider);
    bottom::render_stats(s, theme, buf, r.stats);
    bottom::render_inspector(s, theme, buf, r.inspector);
    bottom::render_status(s, theme, buf, r.status);
    let panes = Area {
        w: r.full.w + r.compressed.w,
        h: r.full.h.max(r.compressed.h + r.model.h),
        ..r.full
    };
    if s.jobs_view {
        jobs::render_jobs(s, theme, buf, panes);
    }
    if s.charts_view {
        charts::render_charts(s, theme, buf, panes);
    }
    jobs::render_palette(s, theme, buf, r.status);
    if s.help {
        help::render_help(theme, frame, area);
    }
}

/// `TokenSkip Studio │ model … │ scorer … │ token │ ? help`
fn render_header(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    let model = match &s.model {
        ModelStatus::Loading { name } => format!("model {name}: loading {}", s.spinner()),
        ModelStatus::Ready { name, .. } => format!("model {name}"),
        ModelStatus::Failed { name, .. } => format!("model {name}: not loaded"),
    };
    let busy = if s.pending_generation.is_some() {
        format!(" │ generating {}", s.spinner())
    } else if s.pending_analysis.is_some() {
        format!(" │ scoring {}", s.spinner())
    } else {
        String::new()
    };
    let gran = match s.granularity {
        Granularity::Token => "token",
        Granularity::Word => "word",
    };
    let title_style = theme.fg("title").add_modifier(Modifier::BOLD);
    let x = put(buf, a.x, a.y, " TokenSkip Studio ", a.w, title_style);
    let rest = format!("│ {model} │ scorer {} │ {gran}{busy} │ ? help", s.scorer);
    put(
        buf,
        x,
        a.y,
        &rest,
        a.w.saturating_sub(x - a.x),
        theme.muted(),
    );
}
