//! Replay keys: what each key asks of the player. Pure, shared by every replay frontend
//! (the local replay TUI, SSH viewers).

use crate::tui::keymap::Key;

use super::player::Player;

/// How far `[` / `]` seek.
pub const SEEK_MS: u64 = 5_000;

/// One thing a viewer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    TogglePause,
    Step,
    StepBack,
    SeekBack,
    SeekForward,
    Faster,
    Slower,
    Start,
    End,
    Quit,
}

/// The keys, for the help text and docs: (keys, what they do).
pub const REPLAY_KEYS: &[(&str, &str)] = &[
    ("space", "pause / play"),
    (". or l", "step one action (pauses)"),
    (",", "step back one action (pauses)"),
    ("[ / ]", "seek -/+ 5 s"),
    ("+ / -", "faster / slower"),
    ("g / G", "start / end"),
    ("q, Esc, Ctrl-C", "quit"),
];

pub fn control_for(key: Key) -> Option<Control> {
    Some(match key {
        Key::Char(' ') => Control::TogglePause,
        Key::Char('.') | Key::Char('l') | Key::Right => Control::Step,
        Key::Char(',') | Key::Char('h') | Key::Left => Control::StepBack,
        Key::Char('[') => Control::SeekBack,
        Key::Char(']') => Control::SeekForward,
        Key::Char('+') | Key::Char('=') | Key::Up => Control::Faster,
        Key::Char('-') | Key::Down => Control::Slower,
        Key::Char('g') | Key::Home => Control::Start,
        Key::Char('G') | Key::End => Control::End,
        Key::Char('q') | Key::Esc | Key::CtrlC => Control::Quit,
        _ => return None,
    })
}

/// Applies `c` to the player; `false` means quit.
pub fn apply(p: &mut Player, c: Control) -> bool {
    match c {
        Control::TogglePause => p.toggle_pause(),
        Control::Step => {
            p.set_paused(true);
            p.step();
        }
        Control::StepBack => {
            p.set_paused(true);
            p.step_back();
        }
        Control::SeekBack => p.seek_ms(p.clock_ms().saturating_sub(SEEK_MS)),
        Control::SeekForward => p.seek_ms(p.clock_ms().saturating_add(SEEK_MS)),
        Control::Faster => p.faster(),
        Control::Slower => p.slower(),
        Control::Start => p.seek_index(0),
        Control::End => p.seek_index(usize::MAX),
        Control::Quit => return false,
    }
    true
}
