//! Drawing a replay: the normal TUI view, plus (in the replay TUI) a one-line replay bar
//! at the bottom: position, time, speed, paused, and the reader's warning if any.

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::{Frame, Terminal};

use crate::tui::theme::Theme;
use crate::tui::view::render_app;

use super::player::Player;

/// `▶ 12/340  0:04.2 / 1:10.5  x2  │ space pause · . step · , back · [ ] seek · + - speed · q quit`
pub fn bar_text(p: &Player, warning: Option<&str>) -> String {
    let state = if p.at_end() && !p.is_empty() {
        "■ end"
    } else if p.paused() {
        "❚❚ paused"
    } else {
        "▶ playing"
    };
    let speed = if p.speed() >= 1.0 {
        format!("x{}", p.speed())
    } else {
        format!("x{:.3}", p.speed())
            .trim_end_matches('0')
            .to_string()
    };
    let mut s = format!(
        " replay {state}  {}/{}  {} / {}  {speed}",
        p.position(),
        p.len(),
        clock(p.clock_ms()),
        clock(p.end_ms()),
    );
    match warning {
        Some(w) => s.push_str(&format!("  │ ⚠ {w}")),
        None => s.push_str("  │ space pause · . , step · [ ] ±5s · + - speed · g G ends · q quit"),
    }
    s
}

/// `m:ss.d`
pub fn clock(ms: u64) -> String {
    format!("{}:{:02}.{}", ms / 60_000, ms / 1000 % 60, ms / 100 % 10)
}

/// The replayed app in all but the last row, the replay bar in the last row. The
/// player's viewport should be (width, height - 1).
pub fn render_replay(p: &Player, theme: &Theme, warning: Option<&str>, frame: &mut Frame) {
    let area = frame.area();
    if area.height == 0 || area.width == 0 {
        return;
    }
    let app_h = area.height - 1;
    if app_h > 0 {
        let app = render_offscreen(p, theme, area.width, app_h);
        let buf = frame.buffer_mut();
        for y in 0..app_h {
            for x in 0..area.width {
                if let (Some(dst), Some(src)) = (buf.cell_mut((x, y)), app.cell((x, y))) {
                    *dst = src.clone();
                }
            }
        }
    }
    let bar = Rect::new(area.x, area.y + app_h, area.width, 1);
    let style = theme.highlight("selection.bg").add_modifier(Modifier::BOLD);
    let buf = frame.buffer_mut();
    buf.set_style(bar, style);
    buf.set_stringn(
        bar.x,
        bar.y,
        bar_text(p, warning),
        bar.width as usize,
        style,
    );
}

/// The replayed state drawn at `cols` x `rows`.
pub fn render_offscreen(p: &Player, theme: &Theme, cols: u16, rows: u16) -> Buffer {
    let mut t = match Terminal::new(TestBackend::new(cols, rows)) {
        Ok(t) => t,
        Err(_) => return Buffer::empty(Rect::new(0, 0, cols, rows)),
    };
    let _ = t.draw(|f| render_app(p.state(), theme, f));
    t.backend().buffer().clone()
}
