//! Replays a session: a pure, clock-free `Player` that owns a TUI `State`, the timed
//! Actions and a position. Frontends (the replay TUI, the exporters, one per SSH viewer)
//! drive it with `tick(elapsed_ms)`, `step`, `seek_*`; it never reads a clock.
//!
//! Every Action is folded through `update` and the Effects it returns are DISCARDED:
//! the results of model calls and jobs are in the file, so replaying runs no command,
//! loads no model and touches no file. Seeking backwards rebuilds from the start.
//!
//! Viewer size: with `set_viewport(Some((cols, rows)))` the viewer's own size wins, and
//! the file's `Resize` actions only update the recorded size, which mouse actions are
//! then applied at (so a click on the slider still hits the slider). Screens are exact
//! at the recorded size; at another size they are the same session re-laid out.

use crate::tui::action::Action;
use crate::tui::state::State;
use crate::tui::update::update;

use super::format::{Record, Session};

/// Playback speeds, slowest first (`+`/`-` move along them).
pub const SPEEDS: [f64; 9] = [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0];

pub struct Player {
    session: Session,
    state: State,
    /// Records applied so far (`records[..pos]`).
    pos: usize,
    /// The session clock (ms): where playback is.
    clock_ms: u64,
    paused: bool,
    speed: f64,
    viewport: Option<(u16, u16)>,
    recorded_size: Option<(u16, u16)>,
    plain_marks: Option<bool>,
    discarded: usize,
}

impl Player {
    pub fn new(session: Session) -> Player {
        let state = fresh(&session);
        Player {
            session,
            state,
            pos: 0,
            clock_ms: 0,
            paused: false,
            speed: 1.0,
            viewport: None,
            recorded_size: None,
            plain_marks: None,
            discarded: 0,
        }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The replayed state at the current position (render it with `render_app`).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Records applied.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn len(&self) -> usize {
        self.session.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.session.records.is_empty()
    }

    pub fn clock_ms(&self) -> u64 {
        self.clock_ms
    }

    pub fn end_ms(&self) -> u64 {
        self.session.end_ms()
    }

    /// Every record applied.
    pub fn at_end(&self) -> bool {
        self.pos >= self.len()
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn set_paused(&mut self, p: bool) {
        self.paused = p;
    }

    pub fn toggle_pause(&mut self) {
        self.paused = !self.paused;
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Any positive finite speed (others are ignored).
    pub fn set_speed(&mut self, x: f64) {
        if x.is_finite() && x > 0.0 {
            self.speed = x;
        }
    }

    pub fn faster(&mut self) {
        if let Some(&s) = SPEEDS.iter().find(|&&s| s > self.speed) {
            self.speed = s;
        }
    }

    pub fn slower(&mut self) {
        if let Some(&s) = SPEEDS.iter().rev().find(|&&s| s < self.speed) {
            self.speed = s;
        }
    }

    /// Effects `update` asked for and the player dropped (for tests and the curious).
    pub fn discarded_effects(&self) -> usize {
        self.discarded
    }

    /// The viewer's terminal size (`None`: use the file's `Resize` actions).
    pub fn set_viewport(&mut self, size: Option<(u16, u16)>) {
        self.viewport = size;
        if let Some((cols, rows)) = size {
            self.discarded += update(&mut self.state, Action::Resize { cols, rows }).len();
        } else if let Some((cols, rows)) = self.recorded_size {
            self.discarded += update(&mut self.state, Action::Resize { cols, rows }).len();
        }
    }

    /// The viewer's colour mode (`Some(true)`: drops in brackets); wins over the file's.
    pub fn set_plain_marks(&mut self, on: Option<bool>) {
        self.plain_marks = on;
        if let Some(on) = on {
            self.discarded += update(&mut self.state, Action::SetPlainMarks { on }).len();
        }
    }

    /// Wall time passed (ms): moves the clock by `elapsed * speed` unless paused.
    pub fn tick(&mut self, elapsed_ms: f64) {
        if self.paused || !(elapsed_ms.is_finite() && elapsed_ms > 0.0) {
            return;
        }
        let delta = (elapsed_ms * self.speed).min(u64::MAX as f64 / 4.0) as u64;
        self.advance_to(self.clock_ms.saturating_add(delta).min(self.end_ms()));
    }

    /// Applies every record up to `t_ms` (forward only; see `seek_ms` for backwards).
    pub fn advance_to(&mut self, t_ms: u64) {
        if t_ms < self.clock_ms {
            return self.seek_ms(t_ms);
        }
        while let Some(r) = self.session.records.get(self.pos) {
            if r.t_ms > t_ms {
                break;
            }
            self.apply_next();
        }
        self.clock_ms = t_ms;
    }

    /// Moves to session time `t_ms` (rebuilding from the start when going back).
    pub fn seek_ms(&mut self, t_ms: u64) {
        if t_ms < self.clock_ms {
            self.restart();
        }
        self.advance_to(t_ms.min(self.end_ms()));
    }

    /// Moves to just after `index` records have been applied.
    pub fn seek_index(&mut self, index: usize) {
        let index = index.min(self.len());
        if index < self.pos {
            self.restart();
        }
        while self.pos < index {
            self.apply_next();
        }
        self.clock_ms = self.clock_ms.max(self.time_of_pos());
    }

    /// Applies the next record; `false` at the end.
    pub fn step(&mut self) -> bool {
        if self.at_end() {
            return false;
        }
        self.apply_next();
        self.clock_ms = self.time_of_pos();
        true
    }

    /// Un-applies the last record (rebuilds up to one before).
    pub fn step_back(&mut self) {
        if self.pos > 0 {
            let target = self.pos - 1;
            self.restart();
            self.seek_index(target);
        }
    }

    /// Back to the start: a fresh state, nothing applied.
    pub fn restart(&mut self) {
        self.state = fresh(&self.session);
        self.pos = 0;
        self.clock_ms = 0;
        self.recorded_size = None;
        let (vp, pm) = (self.viewport, self.plain_marks);
        self.set_viewport(vp);
        self.set_plain_marks(pm);
    }

    /// Time of the last applied record (0 before the first).
    fn time_of_pos(&self) -> u64 {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.session.records.get(i))
            .map_or(0, |r| r.t_ms)
    }

    fn apply_next(&mut self) {
        let Some(Record { action, .. }) = self.session.records.get(self.pos) else {
            return;
        };
        self.pos += 1;
        let action = action.clone();
        self.apply(action);
    }

    /// Folds one Action, keeping the viewer's size and colour mode; effects dropped.
    fn apply(&mut self, action: Action) {
        match (&action, self.viewport) {
            (Action::Resize { cols, rows }, Some(_)) => {
                self.recorded_size = Some((*cols, *rows));
                return;
            }
            (Action::Resize { cols, rows }, None) => {
                self.recorded_size = Some((*cols, *rows));
            }
            (Action::SetPlainMarks { .. }, _) if self.plain_marks.is_some() => return,
            (Action::Quit, _) => return, // the viewer decides when to leave
            _ => {}
        }
        let geometric = matches!(
            action,
            Action::MouseDown { .. }
                | Action::MouseDrag { .. }
                | Action::MouseUp { .. }
                | Action::MouseMove { .. }
                | Action::MouseScroll { .. }
        );
        match (geometric, self.viewport, self.recorded_size) {
            (true, Some(view), Some(rec)) if view != rec => {
                // Hit-test at the size the click was made at, then lay out for the viewer.
                self.discarded += update(
                    &mut self.state,
                    Action::Resize {
                        cols: rec.0,
                        rows: rec.1,
                    },
                )
                .len();
                self.discarded += update(&mut self.state, action).len();
                self.discarded += update(
                    &mut self.state,
                    Action::Resize {
                        cols: view.0,
                        rows: view.1,
                    },
                )
                .len();
            }
            _ => self.discarded += update(&mut self.state, action).len(),
        }
    }
}

/// The state a recording starts from: the model and scorer in the header.
fn fresh(session: &Session) -> State {
    State::new(&session.header.model, &session.header.scorer)
}
