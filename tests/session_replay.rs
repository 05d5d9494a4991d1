//! Golden tests for sessions (issue 10): the bundled demo session replays to the same
//! screens every time; old format versions fail naming the version; the asciicast export
//! reproduces the final screen in a terminal emulator; the HTML export is stable.
//!
//! After re-recording `sessions/demo.jsonl` (scripts/record-demo-session.sh), regenerate
//! the snapshots with `INSTA_UPDATE=always cargo test --release --test session_replay`
//! and review the diff of tests/snapshots/.

use std::path::Path;

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tokenskip_studio::session::cast::{export_cast, CastOptions};
use tokenskip_studio::session::format::ReadFileError;
use tokenskip_studio::session::format::{read_file, ReadOptions, SessionError, VERSION};
use tokenskip_studio::session::html::{render_html, HtmlOptions};
use tokenskip_studio::session::{Player, Session};
use tokenskip_studio::tui::color::ColorDepth;
use tokenskip_studio::tui::theme::Theme;
use tokenskip_studio::tui::view::render_app;

const DEMO: &str = "sessions/demo.jsonl";
const SMALL: &str = "tests/fixtures/sessions/small-v1.jsonl";

fn load(path: &str) -> Session {
    let got = read_file(Path::new(path), ReadOptions::default()).expect("session reads");
    assert!(got.warning.is_none());
    got.session
}

fn theme() -> Theme {
    Theme::fallback(ColorDepth::TrueColor)
}

fn screen(p: &Player) -> TestBackend {
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| render_app(p.state(), &theme(), f)).unwrap();
    t.backend().clone()
}

/// Record index just after the `nth` (0-based) action of type `kind`.
fn after(s: &Session, kind: &str, nth: usize) -> usize {
    s.records
        .iter()
        .enumerate()
        .filter(|(_, r)| serde_json::to_value(&r.action).unwrap()["type"].as_str() == Some(kind))
        .nth(nth)
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("the demo session has no {kind} #{nth}"))
}

#[test]
fn demo_session_is_small_and_current() {
    let bytes = std::fs::metadata(DEMO).unwrap().len();
    assert!(
        bytes < 1 << 20,
        "{DEMO} is {bytes} bytes; keep it under 1 MB"
    );
    let s = load(DEMO);
    assert_eq!(s.header.version, VERSION);
    assert_eq!(s.header.model, "demo");
}

#[test]
fn demo_session_replays_to_the_same_screens() {
    let s = load(DEMO);
    let points = [
        ("01_first_scored", after(&s, "analyzed", 0)),
        ("02_third_question", after(&s, "analyzed", 2)),
        ("03_ratio_050", after(&s, "ratio_down", 9)),
        ("04_model_scorer", after(&s, "analyzed", 4)),
        ("05_word_granularity", after(&s, "toggle_granularity", 0)),
        ("06_inspector", after(&s, "move_cursor", 5)),
        ("07_generated_at_gamma", after(&s, "cot_generated", 0)),
        ("08_help", after(&s, "toggle_help", 0)),
        ("09_end", s.records.len()),
    ];
    let mut p = Player::new(s.clone());
    let mut forward = Vec::new();
    for (name, at) in points {
        p.seek_index(at);
        let b = screen(&p);
        insta::assert_snapshot!(format!("demo_{name}"), b);
        forward.push(b);
    }
    // Seeking backwards (a rebuild) and a fresh player give the very same buffers,
    // styles included.
    for (i, (_, at)) in points.iter().enumerate().rev() {
        p.seek_index(*at);
        assert_eq!(
            screen(&p).buffer(),
            forward[i].buffer(),
            "seek back to {at}"
        );
        let mut fresh = Player::new(s.clone());
        fresh.seek_index(*at);
        assert_eq!(screen(&fresh).buffer(), forward[i].buffer());
    }
}

#[test]
fn an_old_format_version_fails_naming_the_version() {
    let e = read_file(
        Path::new("tests/fixtures/sessions/old-v0.jsonl"),
        ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        },
    )
    .unwrap_err();
    let ReadFileError::Session { source, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(*source, SessionError::OldVersion { found: 0 });
    let msg = e.to_string();
    assert!(msg.contains("old-v0.jsonl"), "{msg}");
    assert!(msg.contains("version 0"), "{msg}");
    assert!(msg.contains(&format!("version {VERSION}")), "{msg}");
}

/// The cast holds what a terminal would receive: fed through a VT parser, its final
/// screen is the final TestBackend buffer.
#[test]
fn the_cast_replays_to_the_final_screen_in_a_terminal_emulator() {
    let s = load(DEMO);
    let mut out = Vec::new();
    let stats = export_cast(
        &s,
        &theme(),
        &CastOptions {
            cols: 120,
            rows: 40,
            speed: 1.0,
            title: Some("demo".into()),
        },
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    assert_eq!(header["width"], 120);
    assert_eq!(header["height"], 40);
    let mut vt = vt100::Parser::new(40.try_into().unwrap(), 120.try_into().unwrap(), 0);
    let mut last = 0.0;
    let mut events = 0;
    for l in lines {
        let ev: (f64, String, String) = serde_json::from_str(l).unwrap();
        assert!(ev.0 >= last, "event times go back: {} after {last}", ev.0);
        assert_eq!(ev.1, "o");
        last = ev.0;
        events += 1;
        vt.process(ev.2.as_bytes());
    }
    assert_eq!(events, stats.events);
    assert!((last - s.end_ms() as f64 / 1e3).abs() < 0.01);

    let mut p = Player::new(s);
    p.seek_index(usize::MAX);
    let b = screen(&p);
    let want: Vec<String> = (0..40)
        .map(|y| {
            (0..120)
                .map(|x| b.buffer()[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect();
    let got: Vec<String> = vt
        .screen()
        .rows(0, 120)
        .map(|r| r.trim_end().to_string())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn html_export_is_stable_and_escaped() {
    let s = load(SMALL);
    let mut p = Player::new(s.clone());
    p.seek_index(usize::MAX);
    let page = render_html(
        &s.header,
        p.state(),
        &theme(),
        &HtmlOptions {
            gammas: &[1.0, 0.8, 0.6],
            at: "the end".into(),
            source: "small-v1.jsonl".into(),
        },
    )
    .unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!page.contains("<script"));
    assert!(page.contains("γ = 0.60"));
    insta::assert_snapshot!("small_html", page);

    // Before any CoT is scored there is nothing to show: a clear error.
    let mut p = Player::new(s.clone());
    p.seek_index(1);
    let e = render_html(
        &s.header,
        p.state(),
        &theme(),
        &HtmlOptions {
            gammas: &[1.0],
            at: "0.1 s".into(),
            source: "x".into(),
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("no scored CoT at 0.1 s"), "{e}");
}

#[test]
fn html_escapes_hostile_text() {
    use tokenskip_studio::session::html::escape;
    assert_eq!(
        escape("<script>alert('x')</script> & \"q\""),
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
    );
}
