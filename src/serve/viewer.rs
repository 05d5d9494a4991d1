//! One viewer's loop, on its own thread: input bytes and resizes arrive on a channel,
//! the [`ViewerApp`] folds them, and a frame is drawn into the viewer's terminal (a
//! ratatui `Terminal` over a writer into the SSH channel) only when something changed
//! and at most `fps` times a second. Ratatui sends only the cells that differ from the
//! previous frame. The loop ends on quit, on the channel closing, or after `idle`
//! without input (with a message).

use std::io::Write;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::queue;
use ratatui::crossterm::terminal::{Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use super::app::ViewerApp;
use super::input;
use crate::tui::fps::FrameGate;

/// What the connection sends to its viewer.
#[derive(Debug)]
pub enum ViewerEvent {
    Input(Vec<u8>),
    Resize { cols: u16, rows: u16 },
    Close,
}

/// Why a viewer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Closed,
    Idle,
    /// Writing to the viewer failed (the connection is gone).
    Broken,
}

#[derive(Debug, Clone, Copy)]
pub struct ViewerLimits {
    pub fps: u32,
    pub idle: Duration,
}

/// Runs the viewer until it ends; `out` is the viewer's terminal.
pub fn run<W: Write>(
    app: &mut dyn ViewerApp,
    out: W,
    size: (u16, u16),
    events: &Receiver<ViewerEvent>,
    limits: ViewerLimits,
) -> Exit {
    let mut out = out;
    if queue!(out, EnterAlternateScreen, Hide, Clear(ClearType::All)).is_err() {
        return Exit::Broken;
    }
    let viewport = Viewport::Fixed(Rect::new(0, 0, size.0, size.1));
    let Ok(mut term) =
        Terminal::with_options(CrosstermBackend::new(out), TerminalOptions { viewport })
    else {
        return Exit::Broken;
    };
    let exit = event_loop(app, &mut term, events, limits);
    let out = term.backend_mut();
    let _ = queue!(out, LeaveAlternateScreen, Show);
    let _ = match exit {
        Exit::Idle => write!(
            out,
            "tokenskip-studio: no input for {} s, disconnecting.\r\n",
            limits.idle.as_secs()
        ),
        _ => Ok(()),
    };
    let _ = out.flush();
    exit
}

fn event_loop<W: Write>(
    app: &mut dyn ViewerApp,
    term: &mut Terminal<CrosstermBackend<W>>,
    events: &Receiver<ViewerEvent>,
    limits: ViewerLimits,
) -> Exit {
    let mut gate = FrameGate::new(limits.fps);
    let mut last_input = Instant::now();
    loop {
        let now = Instant::now();
        if gate.ready(now) {
            if term.draw(|f| app.render(f)).is_err() {
                return Exit::Broken;
            }
            gate.drawn(Instant::now());
        }
        let now = Instant::now();
        let idle_at = last_input + limits.idle;
        if now >= idle_at {
            return Exit::Idle;
        }
        let mut wake = idle_at;
        if let Some(d) = gate.wait(now) {
            wake = wake.min(now + d);
        }
        if let Some(t) = app.next_deadline() {
            wake = wake.min(t);
        }
        match events.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(ViewerEvent::Input(bytes)) => {
                last_input = Instant::now();
                for key in input::parse(&bytes) {
                    if app.on_key(key) {
                        return Exit::Quit;
                    }
                }
                gate.mark();
            }
            Ok(ViewerEvent::Resize { cols, rows }) => {
                if term.resize(Rect::new(0, 0, cols, rows)).is_err() {
                    return Exit::Broken;
                }
                app.on_resize(cols, rows);
                gate.mark();
            }
            Ok(ViewerEvent::Close) | Err(RecvTimeoutError::Disconnected) => return Exit::Closed,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = Instant::now();
        if app.next_deadline().is_some_and(|t| t <= now) && app.on_tick(now) {
            gate.mark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::Key;
    use ratatui::widgets::Paragraph;
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};

    /// Counts keys, draws them; quits on `q`.
    struct Counter {
        keys: usize,
        frames: Arc<Mutex<usize>>,
    }

    impl ViewerApp for Counter {
        fn on_key(&mut self, key: Key) -> bool {
            self.keys += 1;
            key == Key::Char('q')
        }
        fn on_resize(&mut self, _: u16, _: u16) {}
        fn render(&mut self, f: &mut ratatui::Frame) {
            *self.frames.lock().unwrap() += 1;
            f.render_widget(Paragraph::new(format!("keys {}", self.keys)), f.area());
        }
        fn next_deadline(&self) -> Option<Instant> {
            None
        }
        fn on_tick(&mut self, _: Instant) -> bool {
            false
        }
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn limits(idle_ms: u64) -> ViewerLimits {
        ViewerLimits {
            fps: 120,
            idle: Duration::from_millis(idle_ms),
        }
    }

    #[test]
    fn draws_on_input_only_and_quits() {
        let frames = Arc::new(Mutex::new(0));
        let mut app = Counter {
            keys: 0,
            frames: Arc::clone(&frames),
        };
        let (tx, rx) = mpsc::channel();
        let out = Shared::default();
        tx.send(ViewerEvent::Input(b"ab".to_vec())).unwrap();
        tx.send(ViewerEvent::Resize { cols: 30, rows: 5 }).unwrap();
        tx.send(ViewerEvent::Input(b"q".to_vec())).unwrap();
        let exit = run(&mut app, out.clone(), (20, 4), &rx, limits(5_000));
        assert_eq!(exit, Exit::Quit);
        assert_eq!(app.keys, 3);
        let text = String::from_utf8_lossy(&out.0.lock().unwrap()).to_string();
        assert!(text.contains("keys"), "{text:?}");
        let left = text.rfind("\x1b[?1049l").expect("alternate screen left");
        assert!(
            text[left..].contains("\x1b[?25h"),
            "cursor shown again: {text:?}"
        );
        assert!(*frames.lock().unwrap() <= 3);
    }

    #[test]
    fn idle_viewers_are_told_and_dropped_and_idle_draws_nothing() {
        let frames = Arc::new(Mutex::new(0));
        let mut app = Counter {
            keys: 0,
            frames: Arc::clone(&frames),
        };
        let (_tx, rx) = mpsc::channel();
        let out = Shared::default();
        let t = Instant::now();
        let exit = run(&mut app, out.clone(), (20, 4), &rx, limits(300));
        assert_eq!(exit, Exit::Idle);
        assert!(t.elapsed() >= Duration::from_millis(300));
        assert_eq!(*frames.lock().unwrap(), 1, "one first frame, then nothing");
        let text = String::from_utf8_lossy(&out.0.lock().unwrap()).to_string();
        assert!(text.contains("no input for 0 s, disconnecting"), "{text:?}");
    }
}
