//! Screens after scripted keys, at 80x24, 120x40 and 40x12, in truecolor, 16-colour
//! and no-colour modes. Text is snapshotted (the colour modes share one snapshot: they
//! must draw the same text); a few cell styles are asserted per mode.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use super::{keys, render, started};
use crate::tui::color::ColorDepth;
use crate::tui::theme::Theme;

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (40, 12)];

/// (name, keys): what a person would try first.
const SCRIPTS: [(&str, &str); 5] = [
    ("start", ""),
    ("next_ratio_word", "jj>>w"),
    ("cursor_low_ratio", "lllll3"),
    ("help", "?"),
    (
        "typed_question",
        "iTom has 3 apples and buys 4 more, so 3 + 4 = 7.<enter>",
    ),
];

fn screen(script: &str, cols: u16, rows: u16, depth: ColorDepth) -> Buffer {
    let mut s = started(cols, rows, depth);
    keys(&mut s, script);
    let theme = Theme::fallback(depth);
    render(&s, &theme).backend().buffer().clone()
}

fn text(b: &Buffer) -> String {
    let w = b.area.width as usize;
    b.content
        .chunks(w.max(1))
        .map(|row| {
            let mut line = String::new();
            let mut skip = 0;
            for c in row {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                line.push_str(c.symbol());
                skip = unicode_width::UnicodeWidthStr::width(c.symbol()).saturating_sub(1);
            }
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn scripted_screens() {
    for (name, script) in SCRIPTS {
        for (cols, rows) in SIZES {
            let color = screen(script, cols, rows, ColorDepth::TrueColor);
            let sixteen = screen(script, cols, rows, ColorDepth::Ansi16);
            assert_eq!(
                text(&color),
                text(&sixteen),
                "{name} {cols}x{rows}: 16-colour text differs"
            );
            insta::assert_snapshot!(format!("{name}_{cols}x{rows}_color"), text(&color));
            let plain = screen(script, cols, rows, ColorDepth::Never);
            insta::assert_snapshot!(format!("{name}_{cols}x{rows}_nocolor"), text(&plain));
        }
    }
}

/// Cells of the full pane (inside its border) with the given modifier.
fn cells_with(b: &Buffer, m: Modifier) -> Vec<(u16, u16)> {
    let r = crate::tui::layout::regions(b.area.width, b.area.height)
        .full
        .inner();
    let mut out = Vec::new();
    for y in r.y..r.y + r.h {
        for x in r.x..r.x + r.w {
            if b[(x, y)].modifier.contains(m) {
                out.push((x, y));
            }
        }
    }
    out
}

#[test]
fn truecolor_cells_carry_heat_and_strike() {
    let b = screen("", 120, 40, ColorDepth::TrueColor);
    let struck = cells_with(&b, Modifier::CROSSED_OUT);
    assert!(
        !struck.is_empty(),
        "no dropped token is struck through at 0.6"
    );
    assert!(struck
        .iter()
        .all(|&p| b[p].modifier.contains(Modifier::DIM)));
    let rgb_bg = |p: (u16, u16)| matches!(b[p].bg, Color::Rgb(..));
    assert!(struck.iter().all(|&p| rgb_bg(p)));
    // The hottest heat colour (#d73027) is used for forced digits.
    let hot = Color::Rgb(0xd7, 0x30, 0x27);
    assert!(b.content.iter().any(|c| c.bg == hot));
}

#[test]
fn sixteen_colour_cells_use_only_ansi_colours() {
    let b = screen("jj>>w", 80, 24, ColorDepth::Ansi16);
    for c in &b.content {
        for col in [c.fg, c.bg] {
            assert!(
                !matches!(col, Color::Rgb(..) | Color::Indexed(_)),
                "{col:?}"
            );
        }
    }
    assert!(!cells_with(&b, Modifier::CROSSED_OUT).is_empty());
}

#[test]
fn no_colour_heat_is_readable_without_colour() {
    let b = screen("", 80, 24, ColorDepth::Never);
    assert!(b
        .content
        .iter()
        .all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
    assert!(
        !cells_with(&b, Modifier::BOLD).is_empty(),
        "no bold (important) tokens"
    );
    assert!(text(&b).contains('['), "dropped runs are not bracketed");
    // The selected question and the cursor stay visible as reverse video.
    assert!(b
        .content
        .iter()
        .any(|c| c.modifier.contains(Modifier::REVERSED)));
}

#[test]
fn too_small_says_what_it_needs() {
    let b = screen("", 59, 30, ColorDepth::TrueColor);
    assert_eq!(
        text(&b).lines().next(),
        Some("terminal too small: need 60x16, have 59x30")
    );
    let b = screen("", 40, 12, ColorDepth::TrueColor);
    assert_eq!(
        text(&b).lines().next(),
        Some("too small: need 60x16, have 40x12")
    );
}

/// The model's own CoT at the ratio under the pruned one, then the jobs pane with a
/// job that printed a garbage line and failed.
#[test]
fn model_pane_and_jobs_pane() {
    use crate::jobs::progress::Event;
    use crate::tui::action::Action;
    use crate::tui::state::Level;
    for (cols, rows) in [(80, 24), (120, 40)] {
        let mut s = started(cols, rows, ColorDepth::Never);
        super::apply(
            &mut s,
            Action::ModelLoaded {
                name: "tiny".into(),
                decode_tokens_per_s: Some(40.0),
                scorers: vec![],
            },
        );
        keys(&mut s, "5G");
        let req = s.pending_side.unwrap();
        for a in [
            Action::CotChunk {
                req,
                piece: "66 - 53 = 13. 13 + 27 = 40. 40 / 4 = 10.\n".into(),
            },
            Action::CotGenerated {
                req,
                text:
                    "66 - 53 = 13. 13 + 27 = 40. 40 / 4 = 10.\nThe final answer is: $\\boxed{10}$"
                        .into(),
                new_tokens: Some(41),
                decode_tokens_per_s: Some(40.0),
            },
        ] {
            super::apply(&mut s, a);
        }
        let theme = Theme::fallback(ColorDepth::Never);
        let model = text(render(&s, &theme).backend().buffer());
        insta::assert_snapshot!(format!("model_pane_{cols}x{rows}"), model);

        keys(&mut s, ":train --data synthetic:40 --out /tmp/x<enter>");
        for a in [
            Action::JobStarted {
                id: 1,
                args: vec!["train".into()],
                at_ms: 0,
            },
            Action::JobEvent {
                id: 1,
                event: Event::Start {
                    job: "train".into(),
                    total: 30,
                },
                at_ms: 10,
            },
            Action::JobEvent {
                id: 1,
                event: Event::Progress {
                    done: 12,
                    total: 30,
                    metrics: [("loss".to_string(), 2.25)].into(),
                },
                at_ms: 6010,
            },
            Action::JobLog {
                id: 1,
                level: Level::Warn,
                line: "not a progress event (expected value at line 1 column 1): Loading...".into(),
            },
            Action::JobLog {
                id: 1,
                level: Level::Info,
                line: "thread 'main' panicked: out of memory".into(),
            },
            Action::JobExited {
                id: 1,
                code: Some(101),
                at_ms: 7000,
            },
        ] {
            super::apply(&mut s, a);
        }
        let jobs = text(render(&s, &theme).backend().buffer());
        insta::assert_snapshot!(format!("jobs_pane_{cols}x{rows}"), jobs);
    }
}
