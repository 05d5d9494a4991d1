//! The effect runtime: terminal setup and restore, the event loop, the input thread
//! and the model worker. The only part of the TUI that touches the terminal, threads,
//! signals and the clock.
//!
//! Loop (after yazi): block until something arrives (no busy loop when idle; a 100 ms
//! tick only while the spinner turns), fold the whole batch through `update`, run the
//! effects, then draw at most once per frame (`--fps`, 30 by default), and only when an Action
//! arrived (nothing is written while idle). The terminal is restored on
//! every exit path: normal quit, error return (a drop guard), panic (ratatui's hook,
//! plus ours for mouse capture), Ctrl-C (a key in raw mode) and SIGTERM/SIGINT/SIGHUP
//! (flags polled by the input thread, which then asks the loop to quit).

use std::io::stdout;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyCode, KeyEventKind, KeyModifiers,
    MouseButton, MouseEventKind,
};
use ratatui::crossterm::execute;
use thiserror::Error;

use super::action::Action;
use super::chart;
use super::color::ColorDepth;
use super::config;
use super::effect::Effect;
use super::examples;
use super::fps::FrameGate;
use super::job_runner::JobRunner;
use super::keymap::{self, Key};
use super::state::State;
use super::update::update;
use super::view::render_app;
use super::worker::{Loader, Worker};
use crate::session::format::{self, Header};
use crate::session::Recorder;

/// Re-exported for the CLI: what loads the model in the worker.
pub type LoaderFn = Loader;

/// Spinner tick while something runs.
const TICK: Duration = Duration::from_millis(100);
/// Set (to anything) to panic right after the first frame (tests the panic hook).
pub const PANIC_HOOK_VAR: &str = "TOKENSKIP_TUI_TEST_PANIC";
/// How often the input thread checks the signal flags.
const POLL: Duration = Duration::from_millis(100);

/// What the TUI is started with (from `tokenskip-studio tui ...`).
pub struct Options {
    /// The model's name as given (`demo`, a path, a hub id).
    pub model: String,
    /// Loads it in the worker; `None` runs without a model.
    pub loader: Option<Loader>,
    pub scorer: String,
    pub dataset: Option<String>,
    pub theme: Option<String>,
    pub color: Option<ColorDepth>,
    /// Frame cap (`--fps`, 1 to 120): at most this many frames a second.
    pub fps: u32,
    /// Quit after the first frame that shows the first CoT scored (startup benchmark).
    pub exit_after_first_frame: bool,
    /// `--record FILE`: append every Action to this session file as it happens.
    pub record: Option<std::path::PathBuf>,
}

#[derive(Debug, Error)]
pub enum RuntimeError {
    /// The source (the OS error) follows in the error chain.
    #[error("cannot use the terminal (the TUI needs an interactive terminal; the other subcommands run headless)")]
    Terminal(#[from] std::io::Error),
    #[error("cannot record the session to {path}: {source}")]
    Record {
        path: String,
        source: std::io::Error,
    },
    #[error("stdout is not a terminal: the TUI draws on a terminal (for scripts, use the headless subcommands, e.g. `tokenskip-studio generate`)")]
    NotATerminal,
}

/// What the loop receives: a key (mapped to an Action with the state's mode) or an Action.
enum Msg {
    Key(Key),
    Action(Action),
}

/// Restores the terminal when dropped, so every return path leaves a usable shell.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = execute!(stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

/// The first Actions: colour mode, the question list, config warnings.
fn startup_actions(opts: &Options, depth: ColorDepth, warnings: Vec<String>) -> Vec<Action> {
    let mut out = vec![Action::SetPlainMarks {
        on: depth == ColorDepth::Never,
    }];
    let (source, list, note) = match &opts.dataset {
        None => ("built-in".to_string(), examples::builtin(), None),
        Some(spec) => match examples::load_dataset(spec) {
            Ok(list) => (spec.clone(), list, None),
            Err(e) => (
                "built-in".to_string(),
                examples::builtin(),
                Some(format!("{e}; showing the built-in examples")),
            ),
        },
    };
    out.push(Action::ExamplesLoaded {
        source,
        examples: list,
        note,
    });
    out.extend(warnings.into_iter().map(|text| Action::Notice { text }));
    out
}

/// Runs the TUI until the user quits or a signal arrives.
pub fn run(opts: Options) -> Result<(), RuntimeError> {
    let started = Instant::now();
    if !std::io::IsTerminal::is_terminal(&stdout()) {
        return Err(RuntimeError::NotATerminal);
    }
    let cfg_dir = config::config_dir();
    let look = config::resolve(opts.theme.as_deref(), opts.color, cfg_dir.as_deref(), |k| {
        std::env::var(k).ok()
    });
    let theme = look.theme;
    tracing::info!(theme = %theme.name, depth = ?theme.depth, "starting the TUI");
    let initial = startup_actions(&opts, theme.depth, look.warnings);
    // Every Action folded below is recorded (in memory for `:save`, and to the
    // `--record` file line by line). Ticks are kept: they turn the spinner, so the
    // replayed screens match frame for frame.
    let header = Header::new(&opts.model, &opts.scorer, format::now_rfc3339());
    let mut recorder = match &opts.record {
        Some(path) => Recorder::to_file(&header, path).map_err(|source| RuntimeError::Record {
            path: path.display().to_string(),
            source,
        })?,
        None => Recorder::in_memory(&header),
    };

    let (tx, rx) = mpsc::channel::<Msg>();
    let (action_tx, action_rx) = mpsc::channel::<Action>();
    forward(action_rx, tx.clone())?;
    let program = std::env::current_exe().unwrap_or_else(|_| "tokenskip-studio".into());
    let jobs = JobRunner::new(program, action_tx.clone(), started);
    let chart_tx = action_tx.clone();
    let worker = Worker::spawn(opts.model.clone(), opts.loader, action_tx)?;

    let term_signal = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&term_signal))?;
    }

    let mut terminal = ratatui::try_init()?;
    let _guard = TerminalGuard;
    execute!(stdout(), EnableMouseCapture)?;
    let ratatui_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(stdout(), DisableMouseCapture);
        ratatui_hook(info);
    }));

    let stop = Arc::new(AtomicBool::new(false));
    spawn_input(tx, Arc::clone(&stop), term_signal)?;

    let mut state = State::new(&opts.model, &opts.scorer);
    let size = terminal.size()?;
    let mut pending: Vec<Msg> = vec![Msg::Action(Action::Resize {
        cols: size.width,
        rows: size.height,
    })];
    pending.extend(initial.into_iter().map(Msg::Action));
    let mut gate = FrameGate::new(opts.fps);
    let mut frames = 0u64;
    let mut reported_ready = false;
    'outer: loop {
        for m in pending.drain(..) {
            // Keys map in the mode left by the Action before them (`i` then text).
            let Some(a) = to_action(&state, m) else {
                continue;
            };
            tracing::trace!(?a, "action");
            if let Err(text) = recorder.record(started.elapsed().as_millis() as u64, &a) {
                tracing::error!("{text}");
                let _ = chart_tx.send(Action::Notice { text });
            }
            for e in update(&mut state, a) {
                match e {
                    Effect::Quit => break 'outer,
                    Effect::SaveSession { path } => {
                        let a = match recorder.save_as(std::path::Path::new(&path)) {
                            Ok(actions) => Action::SessionSaved { path, actions },
                            Err(e) => Action::SessionSaveFailed {
                                path,
                                message: e.to_string(),
                            },
                        };
                        let _ = chart_tx.send(a);
                    }
                    Effect::StartJob { id, args } => jobs.start(id, args),
                    Effect::CancelJob { id } => jobs.cancel(id),
                    Effect::LoadChart { job, path } => load_chart(job, path, chart_tx.clone()),
                    other => {
                        tracing::debug!(?other, "effect");
                        worker.send(other);
                    }
                }
            }
            gate.mark();
        }
        if gate.ready(Instant::now()) {
            terminal.draw(|f| render_app(&state, &theme, f))?;
            gate.drawn(Instant::now());
            frames += 1;
            let ms = started.elapsed().as_millis() as u64;
            if frames == 1 {
                tracing::info!(ms, "first frame");
                // Hidden hook for the pty test: the panic path must restore the terminal.
                if std::env::var_os(PANIC_HOOK_VAR).is_some() {
                    panic!("{PANIC_HOOK_VAR} is set: panicking after the first frame");
                }
            }
            // "Ready" = the first CoT is scored on screen (or there is nothing to score).
            let ready =
                state.doc.analysis.is_some() || !state.busy() && state.pending_analysis.is_none();
            if ready && !reported_ready {
                reported_ready = true;
                tracing::info!(ms, frames, "first scored frame");
                if opts.exit_after_first_frame {
                    break;
                }
            }
        }
        let timeout = if let Some(due) = gate.wait(Instant::now()) {
            due
        } else if state.busy() {
            TICK
        } else {
            Duration::from_secs(3600)
        };
        match rx.recv_timeout(timeout) {
            Ok(m) => {
                pending.push(m);
                pending.extend(rx.try_iter());
            }
            Err(RecvTimeoutError::Timeout) => {
                if state.busy() {
                    pending.push(Msg::Action(Action::Tick {
                        now_ms: started.elapsed().as_millis() as u64,
                    }));
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    stop.store(true, Ordering::Relaxed);
    jobs.cancel_all();
    worker.shutdown();
    tracing::info!(frames, recorded = recorder.len(), path = ?recorder.path(), "TUI closed");
    Ok(())
}

/// Reads a chart file on its own thread (a long trainer log must not stall the
/// frame); the answer comes back as `ChartLoaded` or `ChartFailed`.
fn load_chart(job: Option<u64>, path: String, tx: Sender<Action>) {
    let spawned = std::thread::Builder::new()
        .name("chart-loader".into())
        .spawn(move || {
            let a = match chart::load(&path) {
                Ok(chart) => Action::ChartLoaded { job, chart },
                Err(message) => Action::ChartFailed { job, message },
            };
            let _ = tx.send(a);
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the chart loader: {e}");
    }
}

/// Keys become Actions here, one at a time, in the mode of the current state.
fn to_action(state: &State, m: Msg) -> Option<Action> {
    match m {
        Msg::Key(k) => keymap::action_for(state, k),
        Msg::Action(a) => Some(a),
    }
}

/// Moves worker results into the loop's channel.
fn forward(rx: mpsc::Receiver<Action>, tx: Sender<Msg>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("worker-results".into())
        .spawn(move || {
            while let Ok(a) = rx.recv() {
                if tx.send(Msg::Action(a)).is_err() {
                    return;
                }
            }
        })
        .map(|_| ())
}

/// Reads terminal events (and the signal flag) and sends them to the loop.
fn spawn_input(
    tx: Sender<Msg>,
    stop: Arc<AtomicBool>,
    signal: Arc<AtomicBool>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("terminal-input".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if signal.load(Ordering::Relaxed) {
                    tracing::info!("signal received: quitting");
                    let _ = tx.send(Msg::Action(Action::Quit));
                    return;
                }
                match event::poll(POLL) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::error!("terminal input failed: {e}");
                        let _ = tx.send(Msg::Action(Action::Quit));
                        return;
                    }
                }
                let msg = match event::read() {
                    Ok(ev) => convert(ev),
                    Err(e) => {
                        tracing::error!("terminal input failed: {e}");
                        continue;
                    }
                };
                if let Some(m) = msg {
                    if tx.send(m).is_err() {
                        return;
                    }
                }
            }
        })
        .map(|_| ())
}

fn convert(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            let key = match k.code {
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Key::CtrlC,
                KeyCode::Char(c) => Key::Char(c),
                KeyCode::Enter => Key::Enter,
                KeyCode::Esc => Key::Esc,
                KeyCode::Backspace => Key::Backspace,
                KeyCode::Tab => Key::Tab,
                KeyCode::Left => Key::Left,
                KeyCode::Right => Key::Right,
                KeyCode::Up => Key::Up,
                KeyCode::Down => Key::Down,
                KeyCode::PageUp => Key::PageUp,
                KeyCode::PageDown => Key::PageDown,
                KeyCode::Home => Key::Home,
                KeyCode::End => Key::End,
                _ => return None,
            };
            Some(Msg::Key(key))
        }
        Event::Mouse(m) => {
            let (col, row) = (m.column, m.row);
            let a = match m.kind {
                MouseEventKind::Down(MouseButton::Left) => Action::MouseDown { col, row },
                MouseEventKind::Drag(MouseButton::Left) => Action::MouseDrag { col, row },
                MouseEventKind::Up(MouseButton::Left) => Action::MouseUp { col, row },
                MouseEventKind::Moved => Action::MouseMove { col, row },
                MouseEventKind::ScrollUp => Action::MouseScroll {
                    col,
                    row,
                    lines: -3,
                },
                MouseEventKind::ScrollDown => Action::MouseScroll { col, row, lines: 3 },
                _ => return None,
            };
            Some(Msg::Action(a))
        }
        Event::Resize(cols, rows) => Some(Msg::Action(Action::Resize { cols, rows })),
        _ => None,
    }
}
