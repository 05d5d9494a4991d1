//! The real binary in a pseudo-terminal: it starts on the tiny model, takes keys, and
//! on SIGTERM leaves the alternate screen and raw mode (the user's shell works again).
//!
//! Uses `libc::openpty` directly (libc is already a dependency), so no pty crate.

#![cfg(unix)]

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::pty::{open_pty, Pty};

/// Starts the TUI on the tiny model in `pty`, as a terminal emulator would.
fn spawn(pty: &Pty, envs: &[(&str, &str)]) -> std::process::Child {
    spawn_with(pty, envs, &[])
}

/// `spawn` with more `tui` arguments.
fn spawn_with(pty: &Pty, envs: &[(&str, &str)], extra: &[&str]) -> std::process::Child {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-qwen2");
    let log = std::env::temp_dir().join("tss-pty-test.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"));
    cmd.arg("--log-file")
        .arg(&log)
        .args(["tui", "--model"])
        .arg(&fixture)
        .args(extra)
        .env("TERM", "xterm-256color")
        .env("HF_HUB_OFFLINE", "1")
        .env_remove("NO_COLOR")
        .stdin(Stdio::from(pty.slave.try_clone().unwrap()))
        .stdout(Stdio::from(pty.slave.try_clone().unwrap()))
        .stderr(Stdio::from(pty.slave.try_clone().unwrap()))
        .envs(envs.iter().copied());
    // SAFETY: setsid and ioctl are async-signal-safe; they make the pty the child's
    // controlling terminal, as a terminal emulator would.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    cmd.spawn().expect("start tokenskip-studio")
}

/// Raw mode is off: canonical input and echo are back on the terminal.
fn assert_cooked(pty: &Pty) {
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr fills `t` from a valid fd.
    let rc = unsafe { libc::tcgetattr(std::os::fd::AsRawFd::as_raw_fd(&pty.slave), &mut t) };
    assert_eq!(rc, 0);
    assert!(t.c_lflag & libc::ICANON != 0, "terminal left in raw mode");
    assert!(t.c_lflag & libc::ECHO != 0, "echo left off");
}

fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_restores_the_terminal() {
    let pty = open_pty(100, 30);
    let mut child = spawn(&pty, &[]);

    let up = pty.wait_for("TokenSkip Studio", 0, Duration::from_secs(30));
    assert!(up, "no first frame; output so far: {:?}", pty.text());
    assert!(
        pty.text().contains("\x1b[?1049h"),
        "alternate screen not entered"
    );
    assert!(
        pty.wait_for("loaded", 0, Duration::from_secs(30)),
        "model never loaded"
    );

    // Keys: two questions down, ratio up twice (0.70), word granularity.
    let mark = pty.len();
    (&pty.master).write_all(b"jj>>w").unwrap();
    assert!(
        pty.wait_for("0.70", mark, Duration::from_secs(10)),
        "keys had no effect: {:?}",
        pty.text()
    );

    // SAFETY: plain kill(2) on our child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = wait_exit(&mut child);
    assert!(status.success(), "exit status {status:?}");
    std::thread::sleep(Duration::from_millis(200));
    let out = pty.text();
    assert!(
        out.contains("\x1b[?1049l"),
        "alternate screen not left: {:?}",
        &out[out.len().saturating_sub(400)..]
    );
    assert!(!out.contains("panicked"), "{out}");

    assert_cooked(&pty);
}

#[test]
fn a_panic_restores_the_terminal_and_says_why() {
    let pty = open_pty(80, 24);
    let mut child = spawn(&pty, &[("TOKENSKIP_TUI_TEST_PANIC", "1")]);
    let status = wait_exit(&mut child);
    assert_eq!(status.code(), Some(101), "a panic exits with 101");
    std::thread::sleep(Duration::from_millis(200));
    let out = pty.text();
    assert!(
        out.contains("\x1b[?1049h"),
        "never entered the alternate screen"
    );
    let left = out.find("\x1b[?1049l").expect("alternate screen not left");
    let msg = out
        .rfind("panicking after the first frame")
        .expect("panic message lost");
    assert!(
        left < msg,
        "the message must be printed on the restored screen"
    );
    assert_cooked(&pty);
}

/// Piped into another program, the TUI refuses in one line instead of drawing escapes
/// into the pipe (and never touches the terminal it may still have).
#[test]
fn without_a_terminal_it_says_so_in_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"))
        .arg("--log-file")
        .arg(std::env::temp_dir().join("tss-pty-test.log"))
        .args(["tui", "--no-model"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "wrote to the pipe: {:?}", out.stdout);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("stdout is not a terminal"), "{err}");
}

/// The real runtime end to end: `:chart PATH` reads the file off the UI thread and the
/// pane draws it; a bad file is a status message; with the model loaded the inspector
/// shows the token's log-prob.
#[test]
fn chart_command_loads_a_trainer_log_and_inspector_shows_logp() {
    let dir = tempfile::tempdir().unwrap();
    let log: String = (1..=20)
        .map(|i| {
            format!(
                "{{\"step\":{i},\"loss\":{},\"lr\":0.001}}\n",
                3.0 / i as f64
            )
        })
        .collect();
    let good = dir.path().join("trainer_log.jsonl");
    std::fs::write(&good, log).unwrap();
    let bad = dir.path().join("summary.json");
    std::fs::write(&bad, "{not json").unwrap();

    let pty = open_pty(120, 40);
    let mut child = spawn(&pty, &[]);
    assert!(
        pty.wait_for("loaded", 0, Duration::from_secs(30)),
        "model never loaded: {:?}",
        pty.text()
    );
    // `l` moves the inspector only once the CoT is scored; under a loaded machine the
    // scoring can finish after the model loads.
    assert!(
        pty.wait_screen(
            |screen| screen.contains("token 1/"),
            Duration::from_secs(30)
        ),
        "the CoT was never scored: {:?}",
        pty.text()
    );
    (&pty.master).write_all(b"l").unwrap();
    assert!(
        pty.wait_screen(
            |screen| screen.split("logp ").skip(1).any(|rest| rest
                .trim_start_matches('-')
                .starts_with(|c: char| c.is_ascii_digit())),
            Duration::from_secs(10)
        ),
        "no log-prob in the inspector: {:?}",
        pty.text()
    );

    let mark = pty.len();
    let cmd = format!(":chart {}\r", good.display());
    (&pty.master).write_all(cmd.as_bytes()).unwrap();
    assert!(
        pty.wait_for("Training", mark, Duration::from_secs(10)),
        "no chart: {:?}",
        pty.text()
    );
    let mark = pty.len();
    let cmd = format!(":chart {}\r", bad.display());
    (&pty.master).write_all(cmd.as_bytes()).unwrap();
    assert!(
        pty.wait_for("no chart", mark, Duration::from_secs(10)),
        "bad file not reported: {:?}",
        pty.text()
    );

    (&pty.master).write_all(b"q").unwrap();
    let status = wait_exit(&mut child);
    assert!(status.success(), "exit status {status:?}");
    assert!(!pty.text().contains("panicked"));
}

/// `--record` writes every Action as it happens (model results included) and `:save`
/// writes the same prefix; the recording replays, with no model, to the state the live
/// TUI was in.
#[test]
fn record_and_save_write_a_session_that_replays() {
    use tokenskip_studio::session::format::{read_file, ReadOptions};
    use tokenskip_studio::session::Player;
    use tokenskip_studio::tui::action::Action;

    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.jsonl");
    let saved = dir.path().join("saved.jsonl");
    let pty = open_pty(120, 40);
    let mut child = spawn_with(&pty, &[], &["--record", rec.to_str().unwrap()]);
    assert!(
        pty.wait_for("loaded", 0, Duration::from_secs(30)),
        "model never loaded: {:?}",
        pty.text()
    );
    let mark = pty.len();
    (&pty.master).write_all(b"j<<").unwrap();
    let cmd = format!(":save {}\r", saved.display());
    (&pty.master).write_all(cmd.as_bytes()).unwrap();
    // (The screen is diffed, so the status text may arrive in pieces: watch the file,
    // which appears whole, by rename.)
    let start = Instant::now();
    while !saved.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no save: {:?}",
            pty.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = mark;
    std::thread::sleep(Duration::from_millis(300));
    (&pty.master).write_all(b"q").unwrap();
    assert!(wait_exit(&mut child).success());

    let live = read_file(&rec, ReadOptions::default()).unwrap().session;
    let kinds: Vec<String> = live
        .records
        .iter()
        .map(|r| {
            serde_json::to_value(&r.action).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for k in [
        "resize",
        "examples_loaded",
        "model_loaded",
        "select_next",
        "ratio_down",
        "session_saved",
    ] {
        assert!(kinds.iter().any(|x| x == k), "no {k} in {kinds:?}");
    }
    assert_eq!(live.records.last().unwrap().action, Action::Quit);
    let part = read_file(&saved, ReadOptions::default()).unwrap().session;
    assert_eq!(part.header, live.header);
    assert_eq!(part.records[..], live.records[..part.records.len()]);

    let mut p = Player::new(live);
    p.seek_index(usize::MAX);
    assert_eq!(p.state().selected, 1);
    assert_eq!(p.state().ratio_steps, 10);
    // (Whether question 2's scores arrived before `q` depends on timing: not asserted.)
    assert!(
        p.discarded_effects() > 0,
        "the replay asked for analyses and dropped them"
    );
}
