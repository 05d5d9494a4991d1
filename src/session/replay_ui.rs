//! The replay TUI (`replay FILE`, `tui --session FILE`): a terminal, the keys of
//! `controls`, and the wall clock driving a `Player`. No model, no worker, no jobs:
//! the only side effects are drawing and reading keys.

use std::io::stdout;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use thiserror::Error;

use crate::tui::color::ColorDepth;
use crate::tui::config;
use crate::tui::keymap::Key;

use super::controls::{apply, control_for};
use super::format::Session;
use super::player::Player;
use super::view::render_replay;

/// Redraw at most this often while playing (about 30 fps).
const FRAME: Duration = Duration::from_millis(33);

pub struct ReplayOptions {
    pub theme: Option<String>,
    pub color: Option<ColorDepth>,
    pub speed: f64,
    /// Open paused at the start.
    pub paused: bool,
    /// The reader's warning (a damaged file replayed up to its last good line).
    pub warning: Option<String>,
}

#[derive(Debug, Error)]
pub enum ReplayError {
    #[error("cannot use the terminal (replay draws on an interactive terminal; for a file, use --export cast or html)")]
    Terminal(#[from] std::io::Error),
    #[error("stdout is not a terminal: replay draws on a terminal (to make a file, use --export cast --out F.cast or --export html --out F.html)")]
    NotATerminal,
}

pub fn run(session: Session, opts: ReplayOptions) -> Result<(), ReplayError> {
    if !std::io::IsTerminal::is_terminal(&stdout()) {
        return Err(ReplayError::NotATerminal);
    }
    let look = config::resolve(
        opts.theme.as_deref(),
        opts.color,
        config::config_dir().as_deref(),
        |k| std::env::var(k).ok(),
    );
    let theme = look.theme;
    let mut warning = opts.warning.or_else(|| look.warnings.first().cloned());
    let mut player = Player::new(session);
    player.set_speed(opts.speed);
    player.set_paused(opts.paused);
    player.set_plain_marks(Some(theme.depth == ColorDepth::Never));

    let mut terminal = ratatui::try_init()?;
    let _guard = Restore;
    let size = terminal.size()?;
    player.set_viewport(Some((size.width, size.height.saturating_sub(1))));
    let mut last = Instant::now();
    let mut dirty = true;
    loop {
        let now = Instant::now();
        let before = (player.position(), player.clock_ms() / 100);
        player.tick(now.duration_since(last).as_secs_f64() * 1e3);
        last = now;
        dirty |= before != (player.position(), player.clock_ms() / 100);
        if dirty {
            terminal.draw(|f| render_replay(&player, &theme, warning.as_deref(), f))?;
            dirty = false;
        }
        let playing = !player.paused() && !player.at_end();
        let timeout = if playing {
            FRAME
        } else {
            Duration::from_secs(3600)
        };
        if !event::poll(timeout)? {
            continue;
        }
        match event::read()? {
            Event::Resize(cols, rows) => {
                player.set_viewport(Some((cols, rows.saturating_sub(1))));
                dirty = true;
            }
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                let key = match k.code {
                    KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Key::CtrlC,
                    KeyCode::Char(c) => Key::Char(c),
                    KeyCode::Esc => Key::Esc,
                    KeyCode::Left => Key::Left,
                    KeyCode::Right => Key::Right,
                    KeyCode::Up => Key::Up,
                    KeyCode::Down => Key::Down,
                    KeyCode::Home => Key::Home,
                    KeyCode::End => Key::End,
                    _ => continue,
                };
                if let Some(c) = control_for(key) {
                    if !apply(&mut player, c) {
                        break;
                    }
                    // A key dismisses the reader's warning after it has been seen.
                    warning = None;
                    dirty = true;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
