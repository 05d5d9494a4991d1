//! Bytes from the viewer's terminal (the SSH channel's data) to [`Key`]s: printable
//! characters (UTF-8), Enter, Esc, Backspace, Tab, Ctrl-C, arrows, PgUp/PgDn, Home/End,
//! in the encodings xterm-like terminals send (`ESC [ A`, `ESC O A`, `ESC [ 5 ~`, ...).
//!
//! A lone Esc is ambiguous with the start of a sequence; an SSH packet normally carries a
//! whole key, so an Esc at the end of a chunk is taken as the Esc key. Unknown
//! sequences are skipped whole. Mouse reports are not asked for, so none arrive.

use crate::tui::keymap::Key;

/// Parses one chunk of input into keys.
pub fn parse(bytes: &[u8]) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            0x1b => {
                let (key, used) = escape(&bytes[i + 1..]);
                keys.extend(key);
                i += 1 + used;
            }
            b'\r' | b'\n' => {
                keys.push(Key::Enter);
                // CR LF is one Enter.
                i += if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
            }
            0x7f | 0x08 => {
                keys.push(Key::Backspace);
                i += 1;
            }
            b'\t' => {
                keys.push(Key::Tab);
                i += 1;
            }
            0x03 => {
                keys.push(Key::CtrlC);
                i += 1;
            }
            0x00..=0x1f => i += 1, // other control keys mean nothing to the TUI
            _ => {
                let len = utf8_len(b);
                // A broken or split character is dropped.
                if let Some(s) = bytes
                    .get(i..i + len)
                    .and_then(|s| std::str::from_utf8(s).ok())
                {
                    keys.extend(s.chars().next().map(Key::Char));
                }
                i += len.max(1);
            }
        }
    }
    keys
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

/// The key after an ESC, and how many bytes after the ESC it took.
fn escape(rest: &[u8]) -> (Option<Key>, usize) {
    match rest.first() {
        None => (Some(Key::Esc), 0),
        Some(b'[') => csi(&rest[1..]),
        Some(b'O') => match rest.get(1) {
            Some(&c) => (arrow(c), 2),
            None => (None, 1),
        },
        // Esc Esc: the first one is the key.
        Some(0x1b) => (Some(Key::Esc), 0),
        // Alt+key: the key.
        Some(_) => (Some(Key::Esc), 0),
    }
}

/// `ESC [` params final: arrows (`A`..`D`, also with modifiers `1;5A`), Home/End
/// (`H`/`F`, `1~`/`4~`/`7~`/`8~`), PgUp/PgDn (`5~`/`6~`).
fn csi(rest: &[u8]) -> (Option<Key>, usize) {
    let end = rest.iter().position(|b| (0x40..=0x7e).contains(b));
    let Some(end) = end else {
        return (None, 1 + rest.len()); // unterminated: drop it
    };
    let params = &rest[..end];
    let key = match rest[end] {
        b'~' => match params.split(|&b| b == b';').next() {
            Some(b"1") | Some(b"7") => Some(Key::Home),
            Some(b"4") | Some(b"8") => Some(Key::End),
            Some(b"5") => Some(Key::PageUp),
            Some(b"6") => Some(Key::PageDown),
            _ => None,
        },
        c => arrow(c),
    };
    (key, 1 + end + 1)
}

fn arrow(c: u8) -> Option<Key> {
    match c {
        b'A' => Some(Key::Up),
        b'B' => Some(Key::Down),
        b'C' => Some(Key::Right),
        b'D' => Some(Key::Left),
        b'H' => Some(Key::Home),
        b'F' => Some(Key::End),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_the_tui_uses() {
        use Key::*;
        assert_eq!(parse(b"jq?"), vec![Char('j'), Char('q'), Char('?')]);
        assert_eq!(
            parse(b"\r\n\r\x7f\t\x03"),
            vec![Enter, Enter, Backspace, Tab, CtrlC]
        );
        assert_eq!(
            parse(b"\x1b[A\x1b[B\x1b[C\x1b[D\x1bOA\x1b[1;5C"),
            vec![Up, Down, Right, Left, Up, Right]
        );
        assert_eq!(
            parse(b"\x1b[5~\x1b[6~\x1b[H\x1b[F\x1b[1~\x1b[4~"),
            vec![PageUp, PageDown, Home, End, Home, End]
        );
        assert_eq!(parse(b"\x1b"), vec![Esc]);
        assert_eq!(parse(b"\x1b\x1b[A"), vec![Esc, Up]);
        assert_eq!(parse("é→".as_bytes()), vec![Char('é'), Char('→')]);
        // Unknown sequences vanish whole; other control bytes are ignored.
        assert_eq!(parse(b"\x1b[200~x\x1b[?1;2c\x01"), vec![Char('x')]);
    }

    proptest! {
        /// Any bytes parse without panicking, and printable ASCII maps one to one.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn printable_ascii_is_itself(s in "[ -~]{0,40}") {
            let keys = parse(s.as_bytes());
            prop_assert_eq!(keys, s.chars().map(Key::Char).collect::<Vec<_>>());
        }
    }
}
