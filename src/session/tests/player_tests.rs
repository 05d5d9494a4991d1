//! The player: replays to the live screen, seeks both ways, never runs an effect.

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use super::{record_live, small_session};
use crate::session::player::Player;
use crate::tui::action::Action;
use crate::tui::color::ColorDepth;
use crate::tui::state::State;
use crate::tui::theme::Theme;
use crate::tui::update::update;
use crate::tui::view::render_app;

pub fn screen(s: &State, cols: u16, rows: u16) -> String {
    let theme = Theme::fallback(ColorDepth::TrueColor);
    let mut t = Terminal::new(TestBackend::new(cols, rows)).unwrap();
    t.draw(|f| render_app(s, &theme, f)).unwrap();
    format!("{}", t.backend())
}

/// The screen after folding the first `n` records directly.
fn direct(n: usize) -> String {
    let sess = small_session();
    let mut s = State::new(&sess.header.model, &sess.header.scorer);
    for r in &sess.records[..n] {
        update(&mut s, r.action.clone());
    }
    screen(&s, 120, 40)
}

#[test]
fn every_position_matches_folding_the_prefix_whichever_way_it_is_reached() {
    let sess = small_session();
    let n = sess.records.len();
    let mut p = Player::new(sess);
    for i in 0..=n {
        p.seek_index(i);
        assert_eq!(screen(p.state(), 120, 40), direct(i), "forward to {i}");
    }
    for i in (0..=n).rev() {
        p.seek_index(i);
        assert_eq!(screen(p.state(), 120, 40), direct(i), "back to {i}");
    }
    p.seek_index(3);
    p.step();
    assert_eq!(p.position(), 4);
    p.step_back();
    p.step_back();
    assert_eq!(p.position(), 2);
    assert_eq!(screen(p.state(), 120, 40), direct(2));
}

#[test]
fn time_moves_with_speed_and_stops_when_paused() {
    let sess = small_session();
    let end = sess.end_ms();
    let mut p = Player::new(sess);
    p.tick(250.0);
    assert_eq!(p.clock_ms(), 250);
    assert_eq!(p.position(), 3); // t = 0, 100, 200
    p.set_paused(true);
    p.tick(10_000.0);
    assert_eq!(p.position(), 3);
    p.set_paused(false);
    p.faster();
    assert_eq!(p.speed(), 2.0);
    p.tick(100.0);
    assert_eq!(p.clock_ms(), 450);
    p.slower();
    p.slower();
    assert_eq!(p.speed(), 0.5);
    p.tick(f64::NAN);
    p.tick(-5.0);
    assert_eq!(p.clock_ms(), 450);
    p.tick(1e300);
    assert!(p.at_end());
    assert_eq!(p.clock_ms(), end);
    p.seek_ms(150);
    assert_eq!(p.position(), 2);
    p.advance_to(0);
    assert_eq!(p.position(), 1);
}

/// Replaying a session that asked for a generation, a job, a chart and a save runs none
/// of them: the effects are dropped, nothing is written, nothing is started.
#[test]
fn replay_runs_no_effect() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("saved.jsonl");
    let mut actions = vec![
        Action::Resize {
            cols: 120,
            rows: 40,
        },
        Action::ModelLoaded {
            name: "demo".into(),
            decode_tokens_per_s: None,
            scorers: vec!["rules".into(), "surprisal:demo".into()],
        },
        Action::ExamplesLoaded {
            source: "built-in".into(),
            examples: crate::tui::examples::builtin(),
            note: None,
        },
        Action::Generate { at_ratio: true },
        Action::OpenPalette,
    ];
    let cmd = format!("save {}", out.display());
    actions.extend(cmd.chars().map(|c| Action::InputChar { c }));
    actions.push(Action::SubmitPrompt);
    actions.push(Action::OpenPalette);
    actions.extend(
        "train --model demo"
            .chars()
            .map(|c| Action::InputChar { c }),
    );
    actions.push(Action::SubmitPrompt);
    actions.push(Action::Quit);
    let sess = record_live("demo", actions);
    let mut p = Player::new(sess);
    p.seek_index(usize::MAX);
    assert!(p.at_end());
    // Generate, StartJob, SaveSession and Quit were asked for, and dropped.
    assert!(p.discarded_effects() >= 4, "{}", p.discarded_effects());
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert_eq!(p.state().jobs.len(), 1);
}

#[test]
fn the_viewers_size_wins_over_the_files() {
    let sess = small_session();
    let mut p = Player::new(sess);
    p.set_viewport(Some((90, 30)));
    p.seek_index(usize::MAX);
    assert_eq!((p.state().cols, p.state().rows), (90, 30));
    p.step_back();
    assert_eq!((p.state().cols, p.state().rows), (90, 30));
    p.set_viewport(None);
    assert_eq!((p.state().cols, p.state().rows), (120, 40));
}

#[test]
fn replay_keys_drive_the_player_and_the_bar_says_where_it_is() {
    use crate::session::controls::{apply, control_for, Control};
    use crate::session::view::{bar_text, render_replay};
    use crate::tui::keymap::Key;
    let mut p = Player::new(small_session());
    p.set_viewport(Some((120, 39)));
    assert!(apply(&mut p, control_for(Key::Char('.')).unwrap()));
    assert!(p.paused());
    assert_eq!(p.position(), 1);
    apply(&mut p, Control::End);
    assert!(p.at_end());
    apply(&mut p, control_for(Key::Char(',')).unwrap());
    assert_eq!(p.position(), p.len() - 1);
    apply(&mut p, control_for(Key::Char('[')).unwrap());
    apply(&mut p, control_for(Key::Char('+')).unwrap());
    assert_eq!(p.speed(), 2.0);
    apply(&mut p, control_for(Key::Char('g')).unwrap());
    assert_eq!(p.position(), 0);
    assert!(!apply(&mut p, control_for(Key::Char('q')).unwrap()));
    assert_eq!(control_for(Key::Char('z')), None);

    p.seek_index(3);
    let bar = bar_text(&p, None);
    assert!(bar.contains("paused  3/"), "{bar}");
    let theme = Theme::fallback(ColorDepth::TrueColor);
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| render_replay(&p, &theme, Some("damaged at line 9"), f))
        .unwrap();
    let text = format!("{}", t.backend());
    let last = text.lines().last().unwrap().to_string();
    assert!(
        last.contains("replay") && last.contains("damaged at line 9"),
        "{last}"
    );
    // Above the bar: the app at 120x39, exactly as the TUI draws it.
    let app = screen(p.state(), 120, 39);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[..39].join("\n"),
        app.lines().collect::<Vec<_>>().join("\n")
    );
}
