//! The charts pane: Actions fed directly (as a replay would), snapshots at 120x40 of
//! the empty pane, a loss chart and an eval chart; jobs that finish ask for their chart.

use super::{apply, keys, render, started};
use crate::tui::action::Action;
use crate::tui::chart::{parse_summary, parse_trainer_log, ChartData};
use crate::tui::color::ColorDepth;
use crate::tui::effect::Effect;
use crate::tui::theme::Theme;
use crate::tui::update;

fn loss() -> ChartData {
    let log: String = (1..=40)
        .map(|i| {
            let loss = 2.5 * (-(i as f64) / 12.0).exp() + 0.4;
            format!("{{\"step\":{i},\"loss\":{loss:.4},\"lr\":0.0002}}\n")
        })
        .collect();
    parse_trainer_log(&log, "out/lora/trainer_log.jsonl").expect("log")
}

fn eval() -> ChartData {
    let sum = r#"{"rows":[
        {"method":"tokenskip","gamma":1.0,"accuracy":0.86,"mean_tokens":210.0},
        {"method":"tokenskip","gamma":0.7,"accuracy":0.84,"mean_tokens":150.0},
        {"method":"tokenskip","gamma":0.5,"accuracy":0.8,"mean_tokens":120.0},
        {"method":"truncation","gamma":0.7,"accuracy":0.6,"mean_tokens":147.0},
        {"method":"truncation","gamma":0.5,"accuracy":0.41,"mean_tokens":105.0}]}"#;
    parse_summary(sum, "out/eval/summary.json").expect("summary")
}

fn screen(s: &crate::tui::State) -> String {
    let t = render(s, &Theme::fallback(ColorDepth::TrueColor));
    let b = t.backend().buffer();
    b.content
        .chunks(b.area.width as usize)
        .map(|row| {
            row.iter()
                .map(|c| c.symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn empty_pane_says_how_to_get_data() {
    let mut s = started(120, 40, ColorDepth::TrueColor);
    keys(&mut s, "c");
    assert!(s.charts_view);
    let text = screen(&s);
    assert!(
        text.contains("run :train or :eval, or :chart PATH"),
        "{text}"
    );
    insta::assert_snapshot!("charts_empty_120x40", text);
    keys(&mut s, "<esc>");
    assert!(!s.charts_view);
    keys(&mut s, ":charts<enter>");
    assert!(s.charts_view);
}

#[test]
fn loss_and_eval_charts() {
    let mut s = started(120, 40, ColorDepth::TrueColor);
    apply(
        &mut s,
        Action::ChartLoaded {
            job: Some(1),
            chart: loss(),
        },
    );
    assert!(
        !s.charts_view,
        "a job's chart does not take over the screen"
    );
    keys(&mut s, "c");
    insta::assert_snapshot!("charts_loss_120x40", screen(&s));
    apply(
        &mut s,
        Action::ChartLoaded {
            job: None,
            chart: eval(),
        },
    );
    let text = screen(&s);
    assert!(text.contains("Accuracy vs CoT tokens") && text.contains("truncation"));
    insta::assert_snapshot!("charts_loss_eval_120x40", text);
}

#[test]
fn palette_and_finished_jobs_ask_the_runtime_for_charts() {
    use crate::jobs::progress::Event;
    let mut s = started(120, 40, ColorDepth::TrueColor);
    let fx = update(&mut s, Action::OpenPalette);
    assert!(fx.is_empty());
    for c in "chart out/e/summary.json".chars() {
        update(&mut s, Action::InputChar { c });
    }
    assert_eq!(
        update(&mut s, Action::SubmitPrompt),
        vec![Effect::LoadChart {
            job: None,
            path: "out/e/summary.json".into()
        }]
    );
    keys(&mut s, ":eval --out out/e<enter>");
    let id = s.last_job;
    update(
        &mut s,
        Action::JobEvent {
            id,
            event: Event::Done {
                outputs: vec!["out/e/samples.jsonl".into(), "out/e/summary.json".into()],
            },
            at_ms: 10,
        },
    );
    let fx = update(
        &mut s,
        Action::JobExited {
            id,
            code: Some(0),
            at_ms: 11,
        },
    );
    assert_eq!(
        fx,
        vec![Effect::LoadChart {
            job: Some(id),
            path: "out/e/summary.json".into()
        }]
    );
    update(
        &mut s,
        Action::ChartFailed {
            job: Some(id),
            message: "cannot read out/e/summary.json".into(),
        },
    );
    let st = s
        .status
        .as_ref()
        .map(|x| x.text.clone())
        .unwrap_or_default();
    assert!(st.contains("no chart for job"), "{st}");
}

/// Found by `hunt_busy_loop`: a chart whose x range is near f64::MAX made rendering spin.
#[test]
fn a_chart_with_a_huge_range_renders_in_bounded_time() {
    use crate::tui::chart::{ChartData, ChartKind, Series};
    let mut s = super::started(60, 16, ColorDepth::TrueColor);
    super::apply(
        &mut s,
        Action::ChartLoaded {
            job: None,
            chart: ChartData {
                kind: ChartKind::Accuracy,
                source: "x".into(),
                series: vec![Series {
                    name: "s".into(),
                    points: vec![(-0.0, 0.0), (3.377302694543619e307, 0.0)],
                }],
            },
        },
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        super::render(&s, &Theme::fallback(ColorDepth::TrueColor));
        let _ = tx.send(());
    });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("rendering the chart did not finish in 10 s");
}
