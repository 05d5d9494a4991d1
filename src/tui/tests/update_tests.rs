//! `update` as data: effects asserted directly, results matched by request id.

use super::{apply, keys, started};
use crate::importance::{ForcePolicy, Importance, TokenSpan};
use crate::tui::action::Action;
use crate::tui::color::ColorDepth;
use crate::tui::effect::Effect;
use crate::tui::state::{Level, Origin, State};
use crate::tui::update;

fn loaded() -> State {
    let mut s = State::new("demo", "rules");
    update(
        &mut s,
        Action::Resize {
            cols: 100,
            rows: 30,
        },
    );
    s
}

fn examples() -> Action {
    Action::ExamplesLoaded {
        source: "built-in".into(),
        examples: crate::tui::examples::builtin(),
        note: None,
    }
}

#[test]
fn selecting_asks_for_analysis_and_latest_wins() {
    let mut s = loaded();
    let e1 = update(&mut s, examples());
    assert!(matches!(&e1[..], [Effect::Analyze { req: 1, scorer, .. }] if scorer == "rules"));
    let e2 = update(&mut s, Action::SelectNext);
    assert!(matches!(&e2[..], [Effect::Analyze { req: 2, .. }]));
    // The stale answer to request 1 is ignored.
    let text = "a b";
    let tokens = vec![TokenSpan::new(0, 0, 1), TokenSpan::new(0, 1, 3)];
    let imp = Importance::new(
        "rules",
        text,
        &tokens,
        vec![0.1, 0.9],
        &ForcePolicy::default(),
    )
    .unwrap();
    update(
        &mut s,
        Action::Analyzed {
            req: 1,
            tokens,
            importance: imp,
        },
    );
    assert!(s.doc.analysis.is_none());
    assert_eq!(s.pending_analysis, Some(2));
}

#[test]
fn ratio_keys_rethreshold_without_effects() {
    let mut s = started(100, 30, ColorDepth::TrueColor);
    let total = s.doc.analysis.as_ref().unwrap().kept.total;
    keys(&mut s, "5");
    let a = s.doc.analysis.as_ref().unwrap();
    assert_eq!(a.kept.gamma, 0.5);
    assert!(a.kept.kept >= (total as f64 * 0.5).round() as usize);
    keys(&mut s, "0");
    assert_eq!(s.doc.analysis.as_ref().unwrap().kept.kept, total);
    keys(&mut s, ">>>>");
    assert_eq!(s.ratio_steps, 20);
    keys(&mut s, "<<<<<<<<<<<<<<<<<<<<<<<<<");
    assert_eq!(s.ratio_steps, 1);
}

#[test]
fn scorer_and_generate_without_model_explain_themselves() {
    let mut s = started(100, 30, ColorDepth::TrueColor);
    assert!(keys(&mut s, "s").len() == 1);
    assert!(s
        .status
        .as_ref()
        .unwrap()
        .text
        .contains("need a loaded model"));
    keys(&mut s, "g");
    let st = s.status.clone().unwrap();
    assert_eq!(st.level, Level::Warn);
    assert!(st.text.contains("no model to generate with"), "{}", st.text);
}

#[test]
fn generation_streams_then_gets_scored() {
    let mut s = started(100, 30, ColorDepth::TrueColor);
    update(
        &mut s,
        Action::ModelLoaded {
            name: "tiny".into(),
            decode_tokens_per_s: Some(100.0),
            scorers: vec!["rules".into(), "surprisal:tiny".into()],
        },
    );
    let e = update(&mut s, Action::Generate { at_ratio: false });
    let [Effect::Generate {
        req, gamma: None, ..
    }] = &e[..]
    else {
        panic!("{e:?}")
    };
    let req = *req;
    update(
        &mut s,
        Action::CotChunk {
            req,
            piece: "Tom has".into(),
        },
    );
    update(
        &mut s,
        Action::CotChunk {
            req: req + 7,
            piece: " stale".into(),
        },
    );
    assert_eq!(s.doc.text, "Tom has");
    assert_eq!(s.doc.origin, Origin::Streaming { gamma: None });
    let e = update(
        &mut s,
        Action::CotGenerated {
            req,
            text: "Tom has 3 apples.".into(),
            new_tokens: Some(6),
            decode_tokens_per_s: Some(50.0),
        },
    );
    assert!(matches!(&e[..], [Effect::Analyze { text, .. }] if text == "Tom has 3 apples."));
    assert_eq!(s.tokens_per_s(), Some(50.0));
    // The scorer switch now cycles through the model's scorers.
    let e = update(&mut s, Action::CycleScorer);
    assert!(matches!(&e[..], [Effect::Analyze { scorer, .. }] if scorer == "surprisal:tiny"));
}

#[test]
fn typing_keeps_text_and_quit_is_an_effect() {
    let mut s = started(100, 30, ColorDepth::TrueColor);
    keys(&mut s, "iabc<bs>d<esc>");
    assert_eq!(s.prompt, "abd");
    assert!(!s.prompt_focused);
    keys(&mut s, "/<enter>");
    assert_eq!(s.doc.origin, Origin::Typed);
    assert_eq!(s.doc.text, "abd");
    assert_eq!(update(&mut s, Action::Quit), vec![Effect::Quit]);
}

#[test]
fn mouse_drives_slider_list_and_inspector() {
    let mut s = started(120, 40, ColorDepth::TrueColor);
    let r = crate::tui::layout::regions(120, 40);
    let track = crate::tui::layout::slider_track(r.slider);
    apply(
        &mut s,
        Action::MouseDown {
            col: track.x,
            row: r.slider.y,
        },
    );
    assert_eq!(s.ratio_steps, 1);
    apply(
        &mut s,
        Action::MouseDrag {
            col: track.x + track.w - 1,
            row: r.slider.y,
        },
    );
    assert_eq!(s.ratio_steps, 20);
    apply(&mut s, Action::MouseUp { col: 0, row: 0 });
    apply(
        &mut s,
        Action::MouseDown {
            col: 3,
            row: r.list.y + 3,
        },
    );
    assert_eq!(s.selected, 2);
    let fi = r.full.inner();
    apply(
        &mut s,
        Action::MouseMove {
            col: fi.x + 6,
            row: fi.y,
        },
    );
    assert!(s.cursor > 0);
}

#[test]
fn page_down_scrolls_both_panes_and_cursor_follows_view() {
    let mut s = started(60, 16, ColorDepth::TrueColor);
    keys(&mut s, "<pgdn>");
    assert!(s.scroll > 0);
    keys(&mut s, "<home>");
    assert_eq!(s.scroll, 0);
    let n = s.doc.analysis.as_ref().unwrap().tokens.len() as i64;
    update(&mut s, Action::MoveCursor { delta: n });
    assert!(s.scroll > 0, "cursor at the end scrolls the pane");
}

#[test]
fn generate_at_ratio_shows_the_models_cot_under_the_pruned_one() {
    let mut s = started(120, 40, ColorDepth::TrueColor);
    update(
        &mut s,
        Action::ModelLoaded {
            name: "tiny".into(),
            decode_tokens_per_s: None,
            scorers: vec![],
        },
    );
    let before = s.doc.text.clone();
    let e = update(&mut s, Action::Generate { at_ratio: true });
    let [Effect::Generate {
        req,
        gamma: Some(g),
        question,
    }] = &e[..]
    else {
        panic!("{e:?}")
    };
    assert_eq!((*g, question.as_str()), (0.6, s.doc.question.as_str()));
    let req = *req;
    update(
        &mut s,
        Action::CotChunk {
            req,
            piece: "4 + 5 = 9".into(),
        },
    );
    assert_eq!(s.doc.text, before, "the pruned CoT stays");
    assert_eq!(s.doc.model_at.as_ref().unwrap().text, "4 + 5 = 9");
    update(
        &mut s,
        Action::CotGenerated {
            req,
            text: "4 + 5 = 9.".into(),
            new_tokens: Some(7),
            decode_tokens_per_s: None,
        },
    );
    assert_eq!(s.doc.model_at.as_ref().unwrap().tokens, Some(7));
    let screen = format!(
        "{}",
        super::render(
            &s,
            &crate::tui::theme::Theme::fallback(ColorDepth::TrueColor)
        )
        .backend()
    );
    assert!(screen.contains("Model at 0.60 · 7 tokens"), "{screen}");
    // Moving to another question cancels nothing (done) and clears the model pane.
    let e = update(&mut s, Action::SelectNext);
    assert!(matches!(&e[..], [Effect::Analyze { .. }]), "{e:?}");
    assert!(s.doc.model_at.is_none());
    // A running one is cancelled when the user moves on.
    let e = update(&mut s, Action::Generate { at_ratio: true });
    let [Effect::Generate { req, .. }] = &e[..] else {
        panic!()
    };
    let req = *req;
    let e = update(&mut s, Action::SelectNext);
    assert_eq!(e[0], Effect::Cancel { req });
}

#[test]
fn palette_runs_commands_and_keeps_bad_ones_open() {
    let mut s = started(100, 30, ColorDepth::TrueColor);
    keys(&mut s, ":ratio 0.35<enter>");
    assert_eq!((s.ratio_steps, s.palette.is_none()), (7, true));
    keys(&mut s, ":word<enter>");
    assert_eq!(s.granularity, crate::compress::Granularity::Word);
    keys(&mut s, ":frobnicate<enter>");
    assert_eq!(
        s.palette.as_deref(),
        Some("frobnicate"),
        "a bad command stays for fixing"
    );
    assert!(s.status.as_ref().unwrap().text.contains("unknown command"));
    keys(&mut s, "<esc>");
    assert!(s.palette.is_none());
    let log = keys(&mut s, ":scorer nonsense<enter>");
    assert!(log.iter().all(|a| !matches!(a, Action::Analyzed { .. })));
    assert!(s.status.as_ref().unwrap().text.contains("unknown scorer"));
}

#[test]
fn jobs_follow_their_progress_events_and_report_failures() {
    use crate::jobs::progress::Event;
    let mut s = started(100, 30, ColorDepth::TrueColor);
    let mut effects = Vec::new();
    for a in keys(&mut s, ":train --data d.json --out o<enter>") {
        let _ = a;
    }
    assert!(s.jobs_view);
    assert_eq!(s.jobs.len(), 1);
    effects.extend(update(
        &mut s,
        Action::JobStarted {
            id: 1,
            args: vec![],
            at_ms: 1000,
        },
    ));
    let ev = |event| Action::JobEvent {
        id: 1,
        event,
        at_ms: 3000,
    };
    update(
        &mut s,
        ev(Event::Start {
            job: "train".into(),
            total: 10,
        }),
    );
    update(
        &mut s,
        ev(Event::Progress {
            done: 4,
            total: 10,
            metrics: [("loss".to_string(), 2.5)].into(),
        }),
    );
    update(
        &mut s,
        Action::JobLog {
            id: 1,
            level: Level::Warn,
            line: "not a progress event: garbage".into(),
        },
    );
    update(
        &mut s,
        Action::JobLog {
            id: 99,
            level: Level::Warn,
            line: "unknown job".into(),
        },
    );
    let j = &s.jobs[0];
    assert_eq!((j.done, j.total, j.log.len()), (4, 10, 1));
    assert_eq!(j.eta_s(), Some(3.0)); // 2 s for 4 steps, 6 to go
    update(
        &mut s,
        Action::JobLog {
            id: 1,
            level: Level::Info,
            line: "out of memory".into(),
        },
    );
    update(
        &mut s,
        Action::JobExited {
            id: 1,
            code: Some(137),
            at_ms: 4000,
        },
    );
    assert_eq!(s.jobs[0].status, crate::tui::state::JobStatus::Failed);
    let st = s.status.clone().unwrap();
    assert!(
        st.text.contains("exited with 137") && st.text.contains("out of memory"),
        "{}",
        st.text
    );
    assert!(effects.is_empty());
    let screen = format!(
        "{}",
        super::render(&s, &crate::tui::theme::Theme::fallback(ColorDepth::Never)).backend()
    );
    assert!(
        screen.contains("#1  train") && screen.contains("FAILED"),
        "{screen}"
    );
}

#[test]
fn jobs_pane_keys_select_and_cancel() {
    let mut s = started(100, 30, ColorDepth::TrueColor);
    let log = keys(&mut s, ":run bench-generate<enter>:run train<enter>");
    assert_eq!(s.jobs.len(), 2);
    let _ = log;
    keys(&mut s, "k");
    assert_eq!(s.job_selected, 0);
    let e = update(&mut s, Action::CancelSelectedJob);
    assert_eq!(e, vec![Effect::CancelJob { id: 1 }]);
    update(
        &mut s,
        Action::JobExited {
            id: 1,
            code: None,
            at_ms: 5,
        },
    );
    assert_eq!(s.jobs[0].status, crate::tui::state::JobStatus::Cancelled);
    assert!(s.status.as_ref().unwrap().text.contains("cancelled"));
    keys(&mut s, "J");
    assert!(!s.jobs_view);
    keys(&mut s, "j");
    assert_eq!(s.selected, 1, "j moves the question list again");
}
