//! Jobs as child processes of this binary (`tokenskip-studio ARGS --progress json`), so
//! a crash or OOM in a job never takes the TUI down (DESIGN.md). Runtime side: spawns,
//! reads stdout as the progress protocol and stderr as log lines, reports the exit,
//! cancels with SIGTERM. Everything it learns goes back as Actions.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::jobs::progress::Event;

use super::action::Action;
use super::state::Level;

/// One stdout line of a job: a progress event, or why it is not one. Blank lines are
/// `Ok(None)`.
pub fn parse_line(line: &str) -> Result<Option<Event>, String> {
    let t = line.trim();
    if t.is_empty() {
        return Ok(None);
    }
    serde_json::from_str::<Event>(t)
        .map(Some)
        .map_err(|e| format!("not a progress event ({e}): {}", truncate(t, 120)))
}

fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Lines of `r`, invalid UTF-8 replaced (a job printing binary must not stop the reader).
fn lines(r: impl Read) -> impl Iterator<Item = String> {
    let mut r = BufReader::new(r);
    std::iter::from_fn(move || {
        let mut buf = Vec::new();
        match r.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(
                String::from_utf8_lossy(&buf)
                    .trim_end_matches(['\n', '\r'])
                    .to_string(),
            ),
        }
    })
}

/// Starts, tracks and stops job processes.
pub struct JobRunner {
    program: PathBuf,
    out: Sender<Action>,
    started: Instant,
    /// Running jobs and their pids, so cancel never signals a recycled pid.
    running: Arc<Mutex<HashSet<(u64, u32)>>>,
}

impl JobRunner {
    /// Jobs run `program` (normally this binary, `std::env::current_exe()`).
    pub fn new(program: PathBuf, out: Sender<Action>, started: Instant) -> Self {
        JobRunner {
            program,
            out,
            started,
            running: Arc::default(),
        }
    }

    fn now_ms(started: Instant) -> u64 {
        started.elapsed().as_millis() as u64
    }

    /// Runs `program ARGS --progress json` (the flag is added unless ARGS has one).
    pub fn start(&self, id: u64, mut args: Vec<String>) {
        if !args
            .iter()
            .any(|a| a == "--progress" || a.starts_with("--progress="))
        {
            args.extend(["--progress".to_string(), "json".to_string()]);
        }
        let mut cmd = Command::new(&self.program);
        // Its own process group, so cancel reaches anything the job started too (and a
        // Ctrl-C meant for the TUI does not reach the job).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let spawned = cmd
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                let message = format!("cannot start {}: {e}", self.program.display());
                let _ = self.out.send(Action::JobSpawnFailed { id, message });
                return;
            }
        };
        let pid = child.id();
        tracing::info!(id, pid, ?args, "job started");
        if let Ok(mut set) = self.running.lock() {
            set.insert((id, pid));
        }
        let at_ms = Self::now_ms(self.started);
        let _ = self.out.send(Action::JobStarted { id, args, at_ms });
        let stderr = child.stderr.take();
        let stdout = child.stdout.take();
        let out = self.out.clone();
        let err_reader = std::thread::Builder::new()
            .name(format!("job-{id}-stderr"))
            .spawn(move || {
                for line in stderr.into_iter().flat_map(lines) {
                    let level = Level::Info;
                    if out.send(Action::JobLog { id, level, line }).is_err() {
                        return;
                    }
                }
            });
        let out = self.out.clone();
        let running = Arc::clone(&self.running);
        let started = self.started;
        let _ = std::thread::Builder::new()
            .name(format!("job-{id}-stdout"))
            .spawn(move || {
                for line in stdout.into_iter().flat_map(lines) {
                    let at_ms = Self::now_ms(started);
                    let a = match parse_line(&line) {
                        Ok(None) => continue,
                        Ok(Some(event)) => Action::JobEvent { id, event, at_ms },
                        Err(line) => Action::JobLog {
                            id,
                            level: Level::Warn,
                            line,
                        },
                    };
                    let _ = out.send(a);
                }
                let code = child.wait().ok().and_then(|s| s.code());
                // All of stderr is in the log before the exit is reported.
                if let Ok(h) = err_reader {
                    let _ = h.join();
                }
                if let Ok(mut set) = running.lock() {
                    set.remove(&(id, pid));
                }
                tracing::info!(id, ?code, "job exited");
                let at_ms = Self::now_ms(started);
                let _ = out.send(Action::JobExited { id, code, at_ms });
            });
    }

    /// Sends SIGTERM to job `id`'s process group if it is still running.
    pub fn cancel(&self, id: u64) {
        let pid = self
            .running
            .lock()
            .ok()
            .and_then(|set| set.iter().find(|(i, _)| *i == id).map(|&(_, p)| p));
        if let Some(pid) = pid {
            tracing::info!(id, pid, "cancelling job");
            // SAFETY: kill(2) on the process group of a child we spawned (its pid is the
            // group id) and have not reaped yet.
            unsafe {
                libc::kill(-(pid as libc::pid_t), libc::SIGTERM);
            }
        }
    }

    /// Stops every running job (the TUI is quitting: jobs are its children).
    pub fn cancel_all(&self) {
        let ids: Vec<u64> = self
            .running
            .lock()
            .map(|set| set.iter().map(|&(i, _)| i).collect())
            .unwrap_or_default();
        for id in ids {
            self.cancel(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn lines_are_events_or_warnings() {
        assert!(matches!(
            parse_line(r#"{"event":"progress","done":1,"total":4}"#),
            Ok(Some(Event::Progress {
                done: 1,
                total: 4,
                ..
            }))
        ));
        assert_eq!(parse_line("  "), Ok(None));
        let e = parse_line("Loading weights... {oops").unwrap_err();
        assert!(
            e.starts_with("not a progress event") && e.contains("Loading weights"),
            "{e}"
        );
    }

    /// A job that prints garbage and progress, then fails: the TUI gets a warning, the
    /// events and the exit code, and nothing panics.
    #[test]
    fn a_garbage_printing_crashing_job_is_reported() {
        let (tx, rx) = std::sync::mpsc::channel();
        let runner = JobRunner::new("/bin/sh".into(), tx, Instant::now());
        let script = r#"echo 'garbage'; printf '\377\n'; echo '{"event":"start","job":"fake","total":2}'; echo '{"event":"progress","done":1,"total":2}'; echo oops >&2; exit 3"#;
        // `sh -c SCRIPT --progress json`: the extra words become $0 and $1, unused.
        runner.start(7, vec!["-c".into(), script.into()]);
        let mut got = Vec::new();
        while let Ok(a) = rx.recv_timeout(Duration::from_secs(10)) {
            let end = matches!(a, Action::JobExited { .. });
            got.push(a);
            if end {
                break;
            }
        }
        assert!(matches!(got[0], Action::JobStarted { id: 7, .. }));
        let warns = got
            .iter()
            .filter(|a| {
                matches!(
                    a,
                    Action::JobLog {
                        level: Level::Warn,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(warns, 2, "{got:?}");
        assert!(got.iter().any(|a| matches!(
            a,
            Action::JobEvent {
                event: Event::Progress { done: 1, .. },
                ..
            }
        )));
        assert!(got.iter().any(
            |a| matches!(a, Action::JobLog { level: Level::Info, line, .. } if line == "oops")
        ));
        assert!(matches!(
            got.last(),
            Some(Action::JobExited {
                id: 7,
                code: Some(3),
                ..
            })
        ));
    }

    #[test]
    fn cancel_stops_a_running_job() {
        let (tx, rx) = std::sync::mpsc::channel();
        let runner = JobRunner::new("/bin/sh".into(), tx, Instant::now());
        // `sleep` is a grandchild holding stdout open: cancel must reach it too.
        runner.start(1, vec!["-c".into(), "sleep 30; echo done".into()]);
        assert!(matches!(
            rx.recv_timeout(Duration::from_secs(5)),
            Ok(Action::JobStarted { .. })
        ));
        runner.cancel_all();
        let exit = rx.recv_timeout(Duration::from_secs(5));
        assert!(
            matches!(
                exit,
                Ok(Action::JobExited {
                    id: 1,
                    code: None,
                    ..
                })
            ),
            "{exit:?}"
        );
    }

    #[test]
    fn a_missing_program_is_a_spawn_failure() {
        let (tx, rx) = std::sync::mpsc::channel();
        JobRunner::new("/nonexistent/tss".into(), tx, Instant::now()).start(2, vec![]);
        let a = rx.recv_timeout(Duration::from_secs(5));
        assert!(
            matches!(&a, Ok(Action::JobSpawnFailed { id: 2, message }) if message.contains("/nonexistent/tss")),
            "{a:?}"
        );
    }
}
