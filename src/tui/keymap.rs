//! Keys: a terminal-independent key type, the `"jj>>w<enter>"` notation used by tests
//! and docs, and the mapping from a key (in the current input mode) to an Action.
//!
//! The mapping reads the state only to know the mode (prompt focused, help open), so a
//! scripted key sequence gives the same Actions as a person typing it.

use super::action::Action;
use super::state::State;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Char(char),
    Enter,
    Esc,
    Backspace,
    Tab,
    Left,
    Right,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    /// Ctrl+C: quits from any mode.
    CtrlC,
}

/// Every binding, for the help overlay (and the README): (keys, what they do).
pub const BINDINGS: &[(&str, &str)] = &[
    ("j / k, Down / Up", "next / previous question"),
    ("i or /", "type a question (Enter asks it, Esc leaves)"),
    ("g", "generate the CoT with the loaded model"),
    ("G", "generate a compressed CoT at the current ratio"),
    ("Left / Right, < / >", "ratio -/+ 0.05"),
    ("1 .. 9, 0", "ratio 0.1 .. 0.9, 1.0"),
    ("h / l", "token cursor left / right"),
    ("PgUp / PgDn, wheel", "scroll both panes"),
    ("s", "next scorer"),
    ("w", "token / word granularity"),
    (
        "mouse",
        "click a question or the slider, drag it, hover tokens",
    ),
    (
        ":",
        "command palette (ratio 0.35, scorer S, train ARGS, ...)",
    ),
    ("J", "jobs pane (j/k select, x cancel, J or Esc close)"),
    ("c", "charts pane: loss, accuracy vs tokens (:chart PATH)"),
    ("?", "this help"),
    ("Esc", "close help or message"),
    ("q, Ctrl-C", "quit"),
];

/// The Action for `key` in the state's current mode, if it means anything there.
pub fn action_for(state: &State, key: Key) -> Option<Action> {
    if key == Key::CtrlC {
        return Some(Action::Quit);
    }
    if state.palette.is_some() || state.prompt_focused {
        return match key {
            Key::Char(c) => Some(Action::InputChar { c }),
            Key::Backspace => Some(Action::InputBackspace),
            Key::Enter => Some(Action::SubmitPrompt),
            Key::Esc => Some(Action::Escape),
            _ => None,
        };
    }
    if state.help {
        return match key {
            Key::Char('q') => Some(Action::Quit),
            Key::Char('?') | Key::Esc | Key::Enter => Some(Action::ToggleHelp),
            _ => None,
        };
    }
    if state.charts_view && matches!(key, Key::Esc | Key::Char('c')) {
        return Some(Action::ToggleCharts);
    }
    if state.jobs_view {
        match key {
            Key::Char('j') | Key::Down => return Some(Action::SelectJob { delta: 1 }),
            Key::Char('k') | Key::Up => return Some(Action::SelectJob { delta: -1 }),
            Key::Char('x') => return Some(Action::CancelSelectedJob),
            Key::Char('J') | Key::Esc => return Some(Action::ToggleJobs),
            _ => {}
        }
    }
    Some(match key {
        Key::Char('q') => Action::Quit,
        Key::Char(':') => Action::OpenPalette,
        Key::Char('J') => Action::ToggleJobs,
        Key::Char('c') => Action::ToggleCharts,
        Key::Char('?') => Action::ToggleHelp,
        Key::Esc => Action::Escape,
        Key::Char('j') | Key::Down => Action::SelectNext,
        Key::Char('k') | Key::Up => Action::SelectPrev,
        Key::Char('i') | Key::Char('/') => Action::FocusPrompt,
        Key::Char('g') => Action::Generate { at_ratio: false },
        Key::Char('G') => Action::Generate { at_ratio: true },
        Key::Left | Key::Char('<') | Key::Char(',') => Action::RatioDown,
        Key::Right | Key::Char('>') | Key::Char('.') => Action::RatioUp,
        Key::Char('0') => Action::SetRatio { steps: 20 },
        Key::Char(c @ '1'..='9') => Action::SetRatio {
            steps: (c as u8 - b'0') * 2,
        },
        Key::Char('h') => Action::MoveCursor { delta: -1 },
        Key::Char('l') => Action::MoveCursor { delta: 1 },
        Key::PageUp => Action::PageUp,
        Key::PageDown => Action::PageDown,
        Key::Home => Action::Scroll {
            lines: i64::MIN / 2,
        },
        Key::End => Action::Scroll {
            lines: i64::MAX / 2,
        },
        Key::Char('s') => Action::CycleScorer,
        Key::Char('w') => Action::ToggleGranularity,
        _ => return None,
    })
}

/// Parses key notation: characters stand for themselves, `<name>` for special keys
/// (`<enter> <esc> <bs> <tab> <left> <right> <up> <down> <pgup> <pgdn> <home> <end>
/// <c-c> <lt>`). A `<` that does not start a known name is the `<` key.
pub fn parse_keys(notation: &str) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut rest = notation;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            if let Some(end) = rest.find('>') {
                if let Some(k) = named(&rest[1..end]) {
                    keys.push(k);
                    rest = &rest[end + 1..];
                    continue;
                }
            }
        }
        keys.push(Key::Char(c));
        rest = &rest[c.len_utf8()..];
    }
    keys
}

fn named(name: &str) -> Option<Key> {
    Some(match name.to_ascii_lowercase().as_str() {
        "enter" | "cr" => Key::Enter,
        "esc" => Key::Esc,
        "bs" | "backspace" => Key::Backspace,
        "tab" => Key::Tab,
        "left" => Key::Left,
        "right" => Key::Right,
        "up" => Key::Up,
        "down" => Key::Down,
        "pgup" => Key::PageUp,
        "pgdn" => Key::PageDown,
        "home" => Key::Home,
        "end" => Key::End,
        "c-c" => Key::CtrlC,
        "lt" => Key::Char('<'),
        "space" => Key::Char(' '),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notation_parses_names_and_literal_angles() {
        assert_eq!(
            parse_keys("j<enter>>< x<lt>"),
            vec![
                Key::Char('j'),
                Key::Enter,
                Key::Char('>'),
                Key::Char('<'),
                Key::Char(' '),
                Key::Char('x'),
                Key::Char('<'),
            ]
        );
    }

    #[test]
    fn digits_set_the_ratio_and_prompt_mode_types() {
        let mut s = State::new("demo", "rules");
        assert_eq!(
            action_for(&s, Key::Char('6')),
            Some(Action::SetRatio { steps: 12 })
        );
        assert_eq!(
            action_for(&s, Key::Char('0')),
            Some(Action::SetRatio { steps: 20 })
        );
        s.prompt_focused = true;
        assert_eq!(
            action_for(&s, Key::Char('q')),
            Some(Action::InputChar { c: 'q' })
        );
        assert_eq!(action_for(&s, Key::CtrlC), Some(Action::Quit));
    }
}
