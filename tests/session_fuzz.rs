//! The session reader and player on mutated sessions (truncated, bytes flipped, lines
//! swapped or duplicated, huge lines, invalid UTF-8, unknown actions, other versions):
//! they never panic and always finish. Each case runs on a thread with a deadline, so a
//! hang fails the test instead of stalling CI. 1,024 cases per run (README: Sessions).

use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tokenskip_studio::session::format::{read, ReadOptions};
use tokenskip_studio::session::Player;
use tokenskip_studio::tui::color::ColorDepth;
use tokenskip_studio::tui::theme::Theme;
use tokenskip_studio::tui::view::render_app;

/// Cases per run; `SESSION_FUZZ_CASES=20000` for a longer hunt.
const CASES: u32 = 1024;

fn cases() -> u32 {
    std::env::var("SESSION_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(CASES)
}
/// Small, so that "a huge line" is cheap to make.
const MAX_LINE: usize = 64 << 10;

fn bases() -> [Vec<u8>; 2] {
    [
        std::fs::read("tests/fixtures/sessions/small-v1.jsonl").unwrap(),
        std::fs::read("sessions/demo.jsonl").unwrap(),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    FlipByte(usize, u8),
    SwapLines(usize, usize),
    DuplicateLine(usize),
    DeleteLine(usize),
    HugeLine(usize),
    InvalidUtf8(usize),
    UnknownAction(usize),
    Version(u32),
    /// A valid record with a hostile value (huge sizes, indexes, deltas).
    Hostile(usize, u8, u64),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        at.prop_map(Mutation::Truncate),
        (at, any::<u8>()).prop_map(|(i, b)| Mutation::FlipByte(i, b)),
        (at, at).prop_map(|(i, j)| Mutation::SwapLines(i, j)),
        at.prop_map(Mutation::DuplicateLine),
        at.prop_map(Mutation::DeleteLine),
        at.prop_map(Mutation::HugeLine),
        at.prop_map(Mutation::InvalidUtf8),
        at.prop_map(Mutation::UnknownAction),
        prop_oneof![Just(0u32), Just(2), any::<u32>()].prop_map(Mutation::Version),
        (at, any::<u8>(), any::<u64>()).prop_map(|(i, k, v)| Mutation::Hostile(i, k, v)),
    ]
}

fn lines(b: &[u8]) -> Vec<Vec<u8>> {
    b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect()
}

fn join(l: Vec<Vec<u8>>) -> Vec<u8> {
    l.join(&b'\n')
}

fn mutate(mut b: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let n = b.len().max(1);
    match *m {
        Mutation::Truncate(i) => {
            b.truncate(i % n);
            b
        }
        Mutation::FlipByte(i, x) => {
            if !b.is_empty() {
                b[i % n] ^= x | 1;
            }
            b
        }
        Mutation::SwapLines(i, j) => {
            let mut l = lines(&b);
            let k = l.len();
            l.swap(i % k, j % k);
            join(l)
        }
        Mutation::DuplicateLine(i) => {
            let mut l = lines(&b);
            let k = l.len();
            let d = l[i % k].clone();
            l.insert(i % k, d);
            join(l)
        }
        Mutation::DeleteLine(i) => {
            let mut l = lines(&b);
            let k = l.len();
            l.remove(i % k);
            join(l)
        }
        Mutation::HugeLine(i) => {
            let mut l = lines(&b);
            let k = l.len();
            l.insert(i % k, vec![b'{'; MAX_LINE * 2]);
            join(l)
        }
        Mutation::InvalidUtf8(i) => {
            let mut l = lines(&b);
            let k = l.len();
            l.insert(
                i % k,
                b"{\"t_ms\":1,\"action\":{\"type\":\"notice\",\"text\":\"\xff\xfe\xc3\"}}".to_vec(),
            );
            join(l)
        }
        Mutation::UnknownAction(i) => {
            let mut l = lines(&b);
            let k = l.len();
            l.insert(
                i % k,
                b"{\"t_ms\":999999999,\"action\":{\"type\":\"self_destruct\"}}".to_vec(),
            );
            join(l)
        }
        Mutation::Version(v) => {
            let s = String::from_utf8_lossy(&b).replacen(
                "\"version\":1",
                &format!("\"version\":{v}"),
                1,
            );
            s.into_bytes()
        }
        Mutation::Hostile(i, kind, v) => {
            let action = match kind % 9 {
                0 => format!("{{\"type\":\"resize\",\"cols\":{},\"rows\":{}}}", v as u16, (v >> 16) as u16),
                1 => format!("{{\"type\":\"select\",\"index\":{v}}}"),
                2 => format!("{{\"type\":\"scroll\",\"lines\":{}}}", v as i64),
                3 => format!("{{\"type\":\"move_cursor\",\"delta\":{}}}", v as i64),
                4 => format!("{{\"type\":\"set_ratio\",\"steps\":{}}}", v as u8),
                5 => format!("{{\"type\":\"tick\",\"now_ms\":{v}}}"),
                6 => format!("{{\"type\":\"mouse_down\",\"col\":{},\"row\":{}}}", v as u16, (v >> 16) as u16),
                7 => format!("{{\"type\":\"cot_chunk\",\"req\":{},\"piece\":\"x\"}}", v % 16),
                // A chart spanning nearly all of f64 (this once hung the charts pane).
                _ => format!(
                    "{{\"type\":\"chart_loaded\",\"job\":null,\"chart\":{{\"kind\":\"accuracy\",\"source\":\"x\",\"series\":[{{\"name\":\"s\",\"points\":[[-0.0,0.0],[{:e},{}]]}}]}}}}",
                    f64::from_bits(v) , (v % 100) as f64
                ),
            };
            let mut l = lines(&b);
            let k = l.len();
            let at = 1 + i % k.max(2).saturating_sub(1);
            l.insert(
                at.min(k),
                format!("{{\"t_ms\":0,\"action\":{action}}}").into_bytes(),
            );
            join(l)
        }
    }
}

/// Reads (strict and lenient), then replays what was read: to the end, back to the
/// middle, one step back, drawn at two sizes. Must not panic.
fn exercise(bytes: Vec<u8>, viewport: Option<(u16, u16)>) {
    let theme = Theme::fallback(ColorDepth::TrueColor);
    for lenient in [false, true] {
        let got = read(
            &bytes[..],
            ReadOptions {
                lenient,
                max_line_bytes: MAX_LINE,
            },
        );
        let Ok(loaded) = got else { continue };
        if !lenient {
            assert!(loaded.warning.is_none());
        }
        let mut p = Player::new(loaded.session);
        p.set_viewport(viewport);
        p.seek_index(usize::MAX);
        let mid = p.len() / 2;
        p.seek_index(mid);
        p.step_back();
        p.tick(1e9);
        for (w, h) in [(120, 40), (61, 17)] {
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| render_app(p.state(), &theme, f)).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_sessions_never_panic_or_hang(
        base in 0usize..2,
        muts in prop::collection::vec(arb_mutation(), 1..4),
        viewport in prop::option::of((1u16..300, 1u16..100)),
    ) {
        let mut bytes = bases()[base].clone();
        for m in &muts {
            bytes = mutate(bytes, m);
        }
        let (tx, rx) = mpsc::channel();
        let worker = std::thread::spawn(move || {
            exercise(bytes, viewport);
            let _ = tx.send(());
        });
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(()) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("reading or replaying did not finish in 20 s: {muts:?}, viewport {viewport:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let e = worker.join().unwrap_err();
                let msg = e.downcast_ref::<String>().cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
                panic!("panicked on {muts:?}: {msg:?}");
            }
        }
    }
}
