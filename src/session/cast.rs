//! `replay FILE --export cast`: an asciicast v2 file (plays in asciinema).
//!
//! The Player is driven through the session and each state is drawn by ratatui's
//! `Terminal` over a `CrosstermBackend` writing into memory, so every event holds exactly
//! what a terminal would have received: the changed cells only.

use std::io::{self, Write};

use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use serde::Serialize;

use crate::tui::color::ColorDepth;
use crate::tui::theme::Theme;
use crate::tui::view::render_app;

use super::format::Session;
use super::player::Player;

pub struct CastOptions {
    pub cols: u16,
    pub rows: u16,
    /// Playback speed: event times are divided by it.
    pub speed: f64,
    pub title: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CastStats {
    /// Output events written (frames that changed something).
    pub events: usize,
    /// Bytes of terminal output in them.
    pub bytes: usize,
    pub duration_s: f64,
}

#[derive(Serialize)]
struct CastHeader<'a> {
    version: u8,
    width: u16,
    height: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    env: CastEnv,
}

#[derive(Serialize)]
struct CastEnv {
    #[serde(rename = "TERM")]
    term: &'static str,
    #[serde(rename = "SHELL")]
    shell: &'static str,
}

/// Writes the whole session as asciicast v2 to `out`.
pub fn export_cast(
    session: &Session,
    theme: &Theme,
    opts: &CastOptions,
    out: &mut impl Write,
) -> io::Result<CastStats> {
    let (cols, rows) = (opts.cols.max(1), opts.rows.max(1));
    let speed = if opts.speed.is_finite() && opts.speed > 0.0 {
        opts.speed
    } else {
        1.0
    };
    let header = CastHeader {
        version: 2,
        width: cols,
        height: rows,
        title: opts.title.as_deref(),
        env: CastEnv {
            term: if theme.depth == ColorDepth::TrueColor {
                "xterm-direct"
            } else {
                "xterm-256color"
            },
            shell: "/bin/sh",
        },
    };
    writeln!(out, "{}", serde_json::to_string(&header)?)?;

    let mut player = Player::new(session.clone());
    player.set_viewport(Some((cols, rows)));
    player.set_plain_marks(Some(theme.depth == ColorDepth::Never));
    let sink = Shared::default();
    let backend = CrosstermBackend::new(sink.clone());
    let mut term = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, cols, rows)),
        },
    )?;
    let mut stats = CastStats {
        events: 0,
        bytes: 0,
        duration_s: 0.0,
    };
    let mut emit = |t_ms: u64, data: &[u8], out: &mut dyn Write| -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let t = t_ms as f64 / 1e3 / speed;
        let text = String::from_utf8_lossy(data);
        writeln!(out, "[{t:.3},\"o\",{}]", serde_json::to_string(&text)?)?;
        stats.events += 1;
        stats.bytes += data.len();
        stats.duration_s = t;
        Ok(())
    };
    // Start from a clean screen, as a terminal that just opened the alternate screen.
    emit(0, b"\x1b[H\x1b[2J", out)?;
    let records = &session.records;
    let mut i = 0;
    loop {
        // All records at one time form one frame (as the runtime draws once per batch).
        let t_ms = records.get(i).map_or(0, |r| r.t_ms);
        while i < records.len() && records[i].t_ms == t_ms {
            player.step();
            i += 1;
        }
        term.draw(|f| render_app(player.state(), theme, f))?;
        let data = std::mem::take(&mut *sink.0.borrow_mut());
        emit(t_ms, &data, out)?;
        if i >= records.len() {
            break;
        }
    }
    out.flush()?;
    Ok(stats)
}

/// What the backend writes, readable from outside (the backend owns its writer).
#[derive(Clone, Default)]
struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
