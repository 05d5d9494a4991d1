//! `tokenskip-studio serve --ssh` with the real OpenSSH client (Debian package
//! openssh-client), on 127.0.0.1 only: the viewer's screen arrives over the client's
//! pty and `q` ends it; a wrong key, a password attempt, an exec request and a remote
//! port forward are refused (and nothing is executed); a viewer over `--max-viewers`
//! gets a one-line message. Skips, saying so, when `ssh` or `ssh-keygen` is missing.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Kills the process when dropped (the server must not outlive the test).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen failed");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the server and waits (bounded) for it to say it listens.
fn start_server(dir: &Path, port: u16, extra: &[&str]) -> Killed {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"))
        .arg("--log-file")
        .arg(dir.join("server.log"))
        .args(["serve", "--ssh", &format!("127.0.0.1:{port}")])
        .arg("--authorized-keys")
        .arg(dir.join("viewer.pub"))
        .arg("--host-key")
        .arg(dir.join("host_key"))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let server = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.contains("serving the TUI over SSH") => return server,
            Ok(line) => seen.push(line),
            Err(_) => {}
        }
    }
    panic!("the server did not start: {seen:?}");
}

/// `ssh` with options that keep the user's config, agent and known_hosts out.
/// A server started with `extra` and one ssh viewer on it, once the viewer's screen shows the
/// recording's first question ("Zorblax ...").
fn viewer_of(d: &Path, key: &Path, extra: &[&str]) -> (Killed, Pty, Killed) {
    let port = free_port();
    let server = start_server(d, port, extra);
    let pty = open_pty(120, 40);
    let viewer = pty.spawn({
        let mut c = ssh(port, key);
        c.arg("viewer@127.0.0.1");
        c
    });
    assert!(
        pty.wait_for("Zorblax", 0, Duration::from_secs(30)),
        "{extra:?}: the recording never reached the viewer: {:?}",
        pty.text()
    );
    (server, pty, viewer)
}

fn ssh(port: u16, key: &Path) -> Command {
    let mut c = Command::new("ssh");
    c.args(["-F", "/dev/null", "-p", &port.to_string(), "-i"])
        .arg(key)
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
            "-o",
            "ConnectTimeout=10",
            "-o",
            "LogLevel=ERROR",
        ]);
    c
}

/// Runs a command with stdin closed and a time limit.
fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

mod common;
use common::pty::{open_pty, Pty};

/// Runs ssh on a pty.
trait SpawnSsh {
    fn spawn(&self, cmd: Command) -> Killed;
}

impl SpawnSsh for Pty {
    /// `ssh -tt` on this pty (a 120x40 terminal, TERM=xterm-256color).
    fn spawn(&self, mut cmd: Command) -> Killed {
        cmd.arg("-tt")
            .env("TERM", "xterm-256color")
            .stdin(Stdio::from(self.slave.try_clone().unwrap()))
            .stdout(Stdio::from(self.slave.try_clone().unwrap()))
            .stderr(Stdio::from(self.slave.try_clone().unwrap()));
        Killed(cmd.spawn().expect("start ssh"))
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A temp dir holding a key pair per name, or `None` (the test is skipped, and says so)
/// without the OpenSSH client tools.
fn dir_with_keys(names: &[&str]) -> Option<tempfile::TempDir> {
    if !have("ssh", "-V") || !have("ssh-keygen", "-?") {
        eprintln!(
            "skipped: `ssh` / `ssh-keygen` not found (Debian: apt-get install openssh-client)"
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        keygen(&dir.path().join(name));
    }
    Some(dir)
}

#[test]
fn viewers_get_the_tui_and_everything_else_is_refused() {
    let Some(dir) = dir_with_keys(&["viewer", "stranger"]) else {
        return;
    };
    let d = dir.path();
    let port = free_port();
    let _server = start_server(d, port, &["--max-viewers", "1", "--idle-timeout", "60"]);
    let key: PathBuf = d.join("viewer");

    // 1. The screen arrives; `q` ends the session cleanly.
    let pty = open_pty(120, 40);
    let mut first = pty.spawn({
        let mut c = ssh(port, &key);
        c.arg("viewer@127.0.0.1");
        c
    });
    assert!(
        pty.wait_for("TokenSkip Studio", 0, Duration::from_secs(30)),
        "no screen: {:?}",
        pty.text()
    );
    assert!(
        pty.wait_for("Questions", 0, Duration::from_secs(5)),
        "{:?}",
        pty.text()
    );
    assert!(pty.text().contains("\x1b[?1049h"), "alternate screen");
    // A 256-colour escape (TERM=xterm-256color, no COLORTERM): `38;5;N`.
    assert!(pty.text().contains("38;5;"), "256-colour escapes expected");

    // 2. Over the limit (1 viewer): a one-line message, then the door closes.
    let out = {
        let mut c = ssh(port, &key);
        c.args(["-tt", "viewer@127.0.0.1"]);
        run_bounded(c, Duration::from_secs(20))
    };
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        said.contains("the limit"),
        "{said:?} / {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success());

    // The first viewer still works, and quits on `q`.
    (&pty.master).write_all(b"q").unwrap();
    let status =
        wait_exit(&mut first.0, Duration::from_secs(15)).expect("ssh did not exit after q");
    assert!(status.success(), "{status:?}: {:?}", pty.text());
    assert!(pty.text().contains("\x1b[?1049l"), "alternate screen left");

    // 3. A key that is not in authorized_keys.
    let out = {
        let mut c = ssh(port, &d.join("stranger"));
        c.args(["viewer@127.0.0.1", "true"]);
        run_bounded(c, Duration::from_secs(20))
    };
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(err.contains("Permission denied (publickey)"), "{err}");

    // 4. A password attempt: the server offers public keys only.
    let out = {
        let mut c = ssh(port, &key);
        c.args([
            "-o",
            "PreferredAuthentications=password,keyboard-interactive",
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "NumberOfPasswordPrompts=0",
            "viewer@127.0.0.1",
            "true",
        ]);
        run_bounded(c, Duration::from_secs(20))
    };
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(err.contains("Permission denied (publickey)"), "{err}");

    // 5. exec: refused, and nothing runs.
    let marker = d.join("executed");
    let out = {
        let mut c = ssh(port, &key);
        c.arg("viewer@127.0.0.1")
            .arg(format!("touch {}", marker.display()));
        run_bounded(c, Duration::from_secs(20))
    };
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "exec must fail: {err}");
    assert!(!marker.exists(), "the command ran");

    // 6. Remote port forwarding: refused.
    let out = {
        let mut c = ssh(port, &key);
        c.args([
            "-N",
            "-o",
            "ExitOnForwardFailure=yes",
            "-R",
            "127.0.0.1:0:127.0.0.1:9",
            "viewer@127.0.0.1",
        ]);
        run_bounded(c, Duration::from_secs(20))
    };
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "forwarding must fail: {err}");
    assert!(err.contains("forwarding failed"), "{err}");

    // The log says what was refused; nothing of it reached a screen.
    let log = std::fs::read_to_string(d.join("server.log")).unwrap_or_default();
    assert!(log.contains("refused"), "{log}");
}

/// One recorded Action line of the session format (DESIGN.md).
fn record(t_ms: u64, action: &str) -> String {
    format!("{{\"t_ms\":{t_ms},\"action\":{action}}}\n")
}

fn examples_action(question: &str) -> String {
    format!(
        r#"{{"type":"examples_loaded","source":"rec","examples":[{{"id":"a","question":"{question}","answer":"7","cot":"Seven marbles.\n\nThe final answer is 7."}}],"note":null}}"#
    )
}

const HEADER: &str = r#"{"format":"tokenskip-session","version":1,"created":"2026-11-23T17:00:00Z","app":"0.1.0","model":"none","scorer":"rules"}"#;

#[test]
fn recorded_and_live_sessions_reach_viewers_read_only() {
    let Some(dir) = dir_with_keys(&["viewer"]) else {
        return;
    };
    let d = dir.path();
    let key = d.join("viewer");

    // --session: the recording is replayed to the viewer.
    let rec = d.join("talk.jsonl");
    std::fs::write(
        &rec,
        format!(
            "{HEADER}\n{}{}",
            record(0, r#"{"type":"resize","cols":200,"rows":60}"#),
            record(5, &examples_action("Zorblax has 7 marbles"))
        ),
    )
    .unwrap();
    let (server, pty, mut viewer) = viewer_of(d, &key, &["--session", rec.to_str().unwrap()]);
    (&pty.master).write_all(b"q").unwrap();
    let status = wait_exit(&mut viewer.0, Duration::from_secs(15)).expect("ssh did not exit");
    assert!(status.success());
    drop(server);

    // --live: the file grows while the viewer watches.
    let live = d.join("live.jsonl");
    std::fs::write(
        &live,
        format!(
            "{HEADER}\n{}",
            record(0, &examples_action("Zorblax has 7 marbles"))
        ),
    )
    .unwrap();
    let (_server, pty, mut viewer) = viewer_of(d, &key, &["--live", live.to_str().unwrap()]);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&live)
        .unwrap();
    f.write_all(record(900, &examples_action("Quuxly bakes 9 pies")).as_bytes())
        .unwrap();
    f.flush().unwrap();
    assert!(
        pty.wait_for("bakes 9 pies", 0, Duration::from_secs(10)),
        "the live view did not follow the file: {:?}",
        pty.text()
    );
    // Keys never reach the presenter: the recording is unchanged by a viewer typing.
    let before = std::fs::read_to_string(&live).unwrap();
    (&pty.master).write_all(b"j3:quit").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(std::fs::read_to_string(&live).unwrap(), before);
    (&pty.master).write_all(b"\x03").unwrap();
    let status = wait_exit(&mut viewer.0, Duration::from_secs(15)).expect("ssh did not exit");
    assert!(status.success());
}
