//! The `?` overlay: every key binding, from `keymap::BINDINGS`.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};
use ratatui::Frame;

use crate::tui::keymap::BINDINGS;
use crate::tui::theme::Theme;

pub fn render_help(theme: &Theme, frame: &mut Frame, area: Rect) {
    let key_w = BINDINGS
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let text_w = BINDINGS
        .iter()
        .map(|(_, d)| d.chars().count())
        .max()
        .unwrap_or(0);
    let w = ((key_w + text_w + 6) as u16).min(area.width);
    let h = ((BINDINGS.len() + 4) as u16).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let mut lines: Vec<Line> = BINDINGS
        .iter()
        .map(|(k, d)| {
            Line::from(vec![
                Span::styled(format!(" {k:<key_w$}  "), theme.fg("accent")),
                Span::styled(*d, theme.fg("text")),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::styled(" Esc or ? closes this help", theme.muted()));
    let buf = frame.buffer_mut();
    Clear.render(r, buf);
    buf.set_style(r, theme.base());
    Paragraph::new(lines)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.fg("accent"))
                .title(" Keys ")
                .title_style(theme.fg("title")),
        )
        .style(theme.base())
        .render(r, buf);
}
