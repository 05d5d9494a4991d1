//! The command palette and the jobs half of `update`: running palette commands, job
//! lifecycle from progress events, cancel. Pure, like `update`: the runtime starts and
//! stops the processes (`Effect::StartJob` / `CancelJob`) and reports back as Actions.

use crate::compress::Granularity;
use crate::importance::parse_scorer_spec;
use crate::jobs::progress::Event;

use super::action::Action;
use super::chart::chart_path;
use super::effect::Effect;
use super::palette::{self, Command};
use super::state::{Job, JobStatus, Level, State, Status, JOB_LOG_LINES};
use super::update::update;
use super::update_doc as doc;

fn status(s: &mut State, level: Level, text: impl Into<String>) {
    s.status = Some(Status {
        level,
        text: text.into(),
    });
}

/// Enter in the palette: parse and run the command line; a bad one keeps the text open
/// for fixing, with the reason in the status bar.
pub fn run_palette(s: &mut State) -> Vec<Effect> {
    let Some(line) = s.palette.clone() else {
        return vec![];
    };
    let cmd = match palette::parse(&line) {
        Ok(c) => c,
        Err(e) => {
            status(s, Level::Error, e);
            return vec![];
        }
    };
    s.palette = None;
    match cmd {
        Command::Ratio(steps) => update(s, Action::SetRatio { steps }),
        Command::Scorer(spec) => match parse_scorer_spec(&spec) {
            Ok(_) => {
                s.scorer = spec.trim().to_string();
                if !s.scorers.contains(&s.scorer) {
                    s.scorers.push(s.scorer.clone());
                }
                doc::request_analysis(s)
            }
            Err(e) => {
                status(s, Level::Error, e.to_string());
                vec![]
            }
        },
        Command::Word | Command::Token => {
            let want = if cmd == Command::Word {
                Granularity::Word
            } else {
                Granularity::Token
            };
            if s.granularity != want {
                return doc::toggle_granularity(s);
            }
            vec![]
        }
        Command::Generate { at_ratio } => update(s, Action::Generate { at_ratio }),
        Command::Jobs => update(s, Action::ToggleJobs),
        Command::Charts => update(s, Action::ToggleCharts),
        Command::Chart(path) => super::update_charts::load_path(s, path),
        Command::Run(args) => start_job(s, args),
        Command::Cancel(id) => {
            let id = id.or_else(|| s.jobs.get(s.job_selected).map(|j| j.id));
            cancel(s, id)
        }
        Command::Save(path) => {
            status(s, Level::Info, format!("saving the session to {path}"));
            vec![Effect::SaveSession { path }]
        }
        Command::Help => update(s, Action::ToggleHelp),
        Command::Quit => update(s, Action::Quit),
    }
}

fn start_job(s: &mut State, args: Vec<String>) -> Vec<Effect> {
    s.last_job += 1;
    let id = s.last_job;
    let name = args.first().cloned().unwrap_or_default();
    s.jobs.push(Job {
        id,
        args: args.clone(),
        name,
        status: JobStatus::Running,
        done: 0,
        total: 0,
        metrics: Default::default(),
        log: Default::default(),
        outputs: Vec::new(),
        started_ms: s.now_ms,
        last_ms: s.now_ms,
    });
    s.job_selected = s.jobs.len() - 1;
    s.jobs_view = true;
    s.charts_view = false;
    status(
        s,
        Level::Info,
        format!("job #{id} started: {}", args.join(" ")),
    );
    vec![Effect::StartJob { id, args }]
}

fn cancel(s: &mut State, id: Option<u64>) -> Vec<Effect> {
    let Some(job) = id.and_then(|id| s.jobs.iter_mut().find(|j| j.id == id)) else {
        status(s, Level::Info, "no such job");
        return vec![];
    };
    if job.status != JobStatus::Running {
        let text = format!("job #{} is not running", job.id);
        status(s, Level::Info, text);
        return vec![];
    }
    job.status = JobStatus::Cancelled;
    let id = job.id;
    status(s, Level::Info, format!("job #{id}: cancelling"));
    vec![Effect::CancelJob { id }]
}

pub fn cancel_selected(s: &mut State) -> Vec<Effect> {
    let id = s.jobs.get(s.job_selected).map(|j| j.id);
    cancel(s, id)
}

pub fn select_job(s: &mut State, delta: i64) -> Vec<Effect> {
    if !s.jobs.is_empty() {
        let last = s.jobs.len() as i64 - 1;
        s.job_selected = (s.job_selected as i64).saturating_add(delta).clamp(0, last) as usize;
    }
    vec![]
}

fn push_log(job: &mut Job, level: Level, line: String) {
    if job.log.len() >= JOB_LOG_LINES {
        job.log.pop_front();
    }
    job.log.push_back((level, line));
}

/// Folds a job's result Action into its entry. Unknown ids (a stale session, a job of
/// an earlier run) are ignored.
pub fn job_action(s: &mut State, a: Action) -> Vec<Effect> {
    let id = match &a {
        Action::JobStarted { id, .. }
        | Action::JobEvent { id, .. }
        | Action::JobLog { id, .. }
        | Action::JobExited { id, .. }
        | Action::JobSpawnFailed { id, .. } => *id,
        _ => return vec![],
    };
    let Some(job) = s.jobs.iter_mut().find(|j| j.id == id) else {
        return vec![];
    };
    let mut notice: Option<(Level, String)> = None;
    let mut effects = Vec::new();
    match a {
        Action::JobStarted { at_ms, .. } => {
            job.started_ms = at_ms;
            job.last_ms = at_ms;
        }
        Action::JobEvent { event, at_ms, .. } => {
            job.last_ms = at_ms;
            match event {
                Event::Start { job: name, total } => {
                    job.name = name;
                    job.total = total;
                }
                Event::Progress {
                    done,
                    total,
                    metrics,
                } => {
                    job.done = done;
                    job.total = total;
                    job.metrics = metrics;
                }
                Event::Log { level, message } => {
                    let l = match level.as_str() {
                        "warn" | "warning" => Level::Warn,
                        "error" => Level::Error,
                        _ => Level::Info,
                    };
                    push_log(job, l, message);
                }
                Event::Done { outputs } => {
                    job.done = job.total.max(job.done);
                    job.outputs = outputs;
                }
                Event::Error { message } => {
                    push_log(job, Level::Error, message.clone());
                    job.status = JobStatus::Failed;
                    notice = Some((Level::Error, format!("job #{id} {}: {message}", job.name)));
                }
            }
        }
        Action::JobLog { level, line, .. } => push_log(job, level, line),
        Action::JobExited { code, at_ms, .. } => {
            job.last_ms = at_ms;
            let last_err = job.log.back().map(|(_, l)| l.clone()).unwrap_or_default();
            match (job.status, code) {
                (JobStatus::Running, Some(0)) => {
                    job.status = JobStatus::Done;
                    let out = if job.outputs.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", job.outputs.join(", "))
                    };
                    notice = Some((Level::Info, format!("job #{id} {} done{out}", job.name)));
                    if let Some(path) = chart_path(&job.name, &job.outputs) {
                        effects.push(Effect::LoadChart {
                            job: Some(id),
                            path,
                        });
                    }
                }
                (JobStatus::Running, code) => {
                    job.status = JobStatus::Failed;
                    let how = code.map_or("was killed".to_string(), |c| format!("exited with {c}"));
                    push_log(job, Level::Error, format!("the process {how}"));
                    notice = Some((
                        Level::Error,
                        format!("job #{id} {} failed ({how}): {last_err}", job.name),
                    ));
                }
                (JobStatus::Cancelled, _) => {
                    notice = Some((Level::Info, format!("job #{id} {} cancelled", job.name)));
                }
                _ => {}
            }
        }
        Action::JobSpawnFailed { message, .. } => {
            job.status = JobStatus::Failed;
            push_log(job, Level::Error, message.clone());
            notice = Some((Level::Error, format!("job #{id} did not start: {message}")));
        }
        _ => {}
    }
    if let Some((level, text)) = notice {
        status(s, level, text);
    }
    effects
}
