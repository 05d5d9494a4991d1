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
            logprobs: None,
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
fn inspector_shows_the_models_log_prob_when_the_analysis_has_one() {
    use super::render;
    use crate::tui::theme::Theme;
    let mut s = started(120, 40, ColorDepth::TrueColor);
    let a = s.doc.analysis.clone().unwrap();
    let n = a.tokens.len();
    let inspector = |s: &crate::tui::State| {
        let t = render(s, &Theme::fallback(ColorDepth::TrueColor));
        let b = t.backend().buffer();
        let y = s.regions().inspector.y;
        (0..b.area.width)
            .map(|x| b[(x, y)].symbol().to_string())
            .collect::<String>()
    };
    assert!(!inspector(&s).contains("logp"), "no model, no log-prob");
    let answer = |logprobs| Action::Analyzed {
        req: 99,
        tokens: a.tokens.clone(),
        importance: a.importance.clone(),
        logprobs,
    };
    // Misaligned log-probs are dropped, not misread.
    s.pending_analysis = Some(99);
    update(&mut s, answer(Some(vec![Some(-1.0); n + 1])));
    assert!(s.doc.analysis.as_ref().unwrap().logprobs.is_none());
    let mut lp = vec![Some(-2.31f32); n];
    lp[0] = None;
    s.pending_analysis = Some(99);
    update(&mut s, answer(Some(lp)));
    let first = inspector(&s);
    // The first token has no context: no log-prob (its score depends on the example).
    assert!(first.contains(" · logp - · rank "), "{first}");
    keys(&mut s, "l");
    let second = inspector(&s);
    assert!(second.contains("logp -2.31"), "{second}");
    // Word granularity keeps them; the recorded Action round-trips through JSON.
    keys(&mut s, "w");
    assert!(inspector(&s).contains("logp -2.31"));
    let json = serde_json::to_string(&answer(Some(vec![None, Some(-0.5)]))).unwrap();
    assert!(json.contains("\"logprobs\":[null,-0.5]"), "{json}");
    let old = json.replace(",\"logprobs\":[null,-0.5]", "");
    let back: Action = serde_json::from_str(&old).unwrap();
    assert!(matches!(back, Action::Analyzed { logprobs: None, .. }));
}
