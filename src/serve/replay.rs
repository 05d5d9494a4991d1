//! A viewer on a recorded session (`serve --session FILE`: replayed at its own pace,
//! each viewer from the start) or on the presenter's live one (`serve --live FILE`:
//! the file `tui --record FILE` is writing, caught up at once, then followed).
//!
//! Read-only: the recorded Actions are folded through `update` and every Effect is
//! discarded (the results are in the file); the viewer's keys only scroll, move the
//! token cursor, open help, or quit, in the viewer's own copy of the state. Nothing
//! is ever sent to the presenter. The recording's `Resize` and colour Actions are
//! skipped: the viewer's terminal decides both.

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use ratatui::Frame;

use super::app::{allowed_read_only, ViewerApp};
use super::recording::RecordingReader;
use crate::session::format::{Header, Record};
use crate::tui::keymap::{self, Key};
use crate::tui::theme::Theme;
use crate::tui::view::render_app;
use crate::tui::{update, Action, State};

/// How often a live viewer looks for new lines.
const FOLLOW: Duration = Duration::from_millis(200);
/// Replays wait at most this long between two Actions (a recorded coffee break
/// is not replayed).
const MAX_GAP_MS: u64 = 2_000;

pub struct SessionViewer {
    reader: RecordingReader,
    live: bool,
    state: State,
    theme: Theme,
    size: (u16, u16),
    /// Replay: records not yet shown, and when the next one is due.
    queue: VecDeque<Record>,
    next_at: Option<Instant>,
    last_t_ms: u64,
    next_poll: Instant,
    finished: bool,
}

impl SessionViewer {
    /// Opens `path`; a replay reads it whole now, a live viewer polls it.
    pub fn new(
        path: &Path,
        live: bool,
        theme: Theme,
        cols: u16,
        rows: u16,
    ) -> Result<Self, String> {
        let mut v = SessionViewer {
            reader: RecordingReader::new(path),
            live,
            state: State::new("none", "rules"),
            theme,
            size: (cols, rows),
            queue: VecDeque::new(),
            next_at: None,
            last_t_ms: 0,
            next_poll: Instant::now(),
            finished: false,
        };
        v.restart(None);
        v.poll(Instant::now())?;
        if v.reader.header().is_none() {
            if live {
                v.notice(format!(
                    "waiting for the presenter's recording {} (tui --record FILE)",
                    path.display()
                ));
            } else {
                return Err(format!(
                    "{}: empty, not a session recording",
                    path.display()
                ));
            }
        }
        Ok(v)
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    fn restart(&mut self, header: Option<&Header>) {
        let (model, scorer) =
            header.map_or(("none", "rules"), |h| (h.model.as_str(), h.scorer.as_str()));
        self.state = State::new(model, scorer);
        self.queue.clear();
        self.next_at = None;
        self.last_t_ms = 0;
        self.finished = false;
        let (cols, rows) = self.size;
        update(&mut self.state, Action::Resize { cols, rows });
        let plain = self.theme.depth == crate::tui::color::ColorDepth::Never;
        update(&mut self.state, Action::SetPlainMarks { on: plain });
    }

    fn notice(&mut self, text: String) {
        update(&mut self.state, Action::Notice { text });
    }

    /// Folds one recorded Action (effects discarded; size, colour and quit are the viewer's).
    fn play(&mut self, a: Action) {
        match a {
            Action::Resize { .. } | Action::SetPlainMarks { .. } => {}
            Action::Quit => self.notice("the presenter quit".into()),
            a => {
                let _effects = update(&mut self.state, a);
            }
        }
    }

    /// Reads new lines; true if something changed.
    fn poll(&mut self, now: Instant) -> Result<bool, String> {
        self.next_poll = now + FOLLOW;
        let polled = self.reader.poll()?;
        let mut changed = false;
        if let Some(h) = &polled.restart {
            self.restart(Some(h));
            changed = true;
        }
        for p in polled.problems {
            tracing::warn!("recording: skipped {p}");
        }
        if self.live {
            for r in polled.records {
                self.play(r.action);
                changed = true;
            }
        } else {
            self.queue.extend(polled.records);
            if self.next_at.is_none() && !self.queue.is_empty() {
                self.next_at = Some(now);
            }
        }
        Ok(changed)
    }

    /// Replay: shows every record that is due; true if something changed.
    fn play_due(&mut self, now: Instant) -> bool {
        let mut changed = false;
        while let Some(at) = self.next_at {
            if at > now {
                break;
            }
            let Some(r) = self.queue.pop_front() else {
                self.next_at = None;
                break;
            };
            self.last_t_ms = r.t_ms;
            self.play(r.action);
            changed = true;
            self.next_at = self.queue.front().map(|next| {
                let gap = next.t_ms.saturating_sub(self.last_t_ms).min(MAX_GAP_MS);
                at + Duration::from_millis(gap)
            });
        }
        if !self.live && self.queue.is_empty() && !self.finished && self.reader.header().is_some() {
            self.finished = true;
            self.notice("end of the recording: q leaves".into());
            changed = true;
        }
        changed
    }
}

impl ViewerApp for SessionViewer {
    fn on_key(&mut self, key: Key) -> bool {
        match keymap::action_for(&self.state, key) {
            Some(Action::Quit) => true,
            Some(a) if allowed_read_only(&a) => {
                let _effects = update(&mut self.state, a);
                false
            }
            _ => false,
        }
    }

    fn on_resize(&mut self, cols: u16, rows: u16) {
        self.size = (cols, rows);
        update(&mut self.state, Action::Resize { cols, rows });
    }

    fn render(&mut self, frame: &mut Frame) {
        render_app(&self.state, &self.theme, frame);
    }

    /// No clock of its own: the spinner turns with the recorded `Tick`s, so a stalled
    /// presenter costs the viewer's link nothing.
    fn next_deadline(&self) -> Option<Instant> {
        if self.live {
            Some(self.next_poll)
        } else {
            self.next_at
        }
    }

    fn on_tick(&mut self, now: Instant) -> bool {
        let mut changed = false;
        if self.live && now >= self.next_poll {
            match self.poll(now) {
                Ok(c) => changed |= c,
                Err(e) => {
                    tracing::warn!("live recording: {e}");
                    self.notice(e);
                    self.next_poll = now + Duration::from_secs(2);
                    changed = true;
                }
            }
        }
        changed |= self.play_due(now);
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::color::ColorDepth;
    use std::io::Write;

    const HEADER: &str = r#"{"format":"tokenskip-session","version":1,"created":"2026-11-23T17:00:00Z","app":"0.1.0","model":"none","scorer":"rules"}"#;

    fn line(t_ms: u64, a: &Action) -> String {
        format!(
            "{{\"t_ms\":{t_ms},\"action\":{}}}\n",
            serde_json::to_string(a).unwrap()
        )
    }

    fn examples() -> Action {
        Action::ExamplesLoaded {
            source: "rec".into(),
            examples: crate::tui::examples::builtin(),
            note: None,
        }
    }

    fn no_model() -> Action {
        Action::ModelFailed {
            name: "none".into(),
            message: "recorded without a model".into(),
        }
    }

    #[test]
    fn replay_follows_the_recorded_pace_and_keeps_the_viewer_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        let mut text = format!("{HEADER}\n");
        text += &line(
            0,
            &Action::Resize {
                cols: 200,
                rows: 60,
            },
        );
        text += &line(0, &examples());
        text += &line(0, &no_model());
        text += &line(50, &Action::SelectNext);
        text += &line(60_000, &Action::SetRatio { steps: 10 });
        std::fs::write(&path, text).unwrap();
        let theme = Theme::fallback(ColorDepth::Ansi256);
        let mut v = SessionViewer::new(&path, false, theme, 100, 30).unwrap();
        let t0 = Instant::now();
        assert!(v.on_tick(t0));
        assert_eq!(v.state().examples.len(), 12);
        assert_eq!(
            (v.state().cols, v.state().rows),
            (100, 30),
            "the viewer's size"
        );
        assert_eq!(v.state().selected, 0, "not due yet");
        assert!(v.on_tick(t0 + Duration::from_millis(50)));
        assert_eq!(v.state().selected, 1);
        // A one-minute pause in the recording is replayed as 2 s.
        v.on_tick(t0 + Duration::from_millis(1_000));
        assert_eq!(v.state().ratio_steps, 12, "not yet");
        assert!(v.on_tick(t0 + Duration::from_millis(2_050)));
        assert_eq!(v.state().ratio_steps, 10);
        assert!(v.finished);
        // Keys: scrolling yes, changing the session no.
        assert!(!v.on_key(Key::Char('j')));
        assert_eq!(v.state().selected, 1);
        assert!(v.on_key(Key::Char('q')));
    }

    #[test]
    fn live_viewers_catch_up_then_follow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.jsonl");
        let theme = Theme::fallback(ColorDepth::Ansi16);
        let mut v = SessionViewer::new(&path, true, theme, 120, 40).unwrap();
        let waiting = v
            .state()
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default();
        assert!(waiting.contains("waiting for the presenter"), "{waiting}");

        let mut f = std::fs::File::create(&path).unwrap();
        write!(
            f,
            "{HEADER}\n{}{}",
            line(0, &examples()),
            line(0, &no_model())
        )
        .unwrap();
        f.flush().unwrap();
        assert!(v.next_deadline().is_some(), "a live viewer keeps polling");
        let mut t = Instant::now() + FOLLOW * 2;
        assert!(v.on_tick(t));
        assert_eq!(v.state().examples.len(), 12);

        write!(
            f,
            "{}{}",
            line(10, &Action::SelectNext),
            line(20, &Action::Quit)
        )
        .unwrap();
        f.flush().unwrap();
        t += FOLLOW * 2;
        assert!(v.on_tick(t));
        assert_eq!(v.state().selected, 1);
        let status = v
            .state()
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default();
        assert!(status.contains("presenter quit"), "{status}");
        assert!(!v.on_key(Key::Char('3')), "read-only");
        assert_ne!(v.state().ratio_steps, 6);
    }
}
