//! The command palette and the jobs pane through `update`: commands as data, job
//! lifecycle from progress events, cancel.

use super::{keys, started};
use crate::tui::action::Action;
use crate::tui::color::ColorDepth;
use crate::tui::effect::Effect;
use crate::tui::state::Level;
use crate::tui::update;

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
