//! The charts half of `update`: toggling the pane, asking the runtime to read a chart
//! file (`Effect::LoadChart`) and folding the answer in. Pure: the file is read in the
//! runtime and arrives as plain data in `ChartLoaded`.

use super::action::Action;
use super::chart::{ChartData, ChartKind};
use super::effect::Effect;
use super::state::{Level, State, Status};

fn status(s: &mut State, level: Level, text: String) {
    s.status = Some(Status { level, text });
}

pub fn toggle(s: &mut State) -> Vec<Effect> {
    s.charts_view = !s.charts_view;
    if s.charts_view {
        s.jobs_view = false;
    }
    vec![]
}

/// `:chart PATH`.
pub fn load_path(s: &mut State, path: String) -> Vec<Effect> {
    status(s, Level::Info, format!("loading chart {path}"));
    vec![Effect::LoadChart { job: None, path }]
}

fn store(s: &mut State, chart: ChartData) {
    match chart.kind {
        ChartKind::Loss => s.loss_chart = Some(chart),
        ChartKind::Accuracy => s.eval_chart = Some(chart),
    }
}

pub fn chart_action(s: &mut State, a: Action) -> Vec<Effect> {
    match a {
        Action::ChartLoaded { job, chart } => {
            let what = match chart.kind {
                ChartKind::Loss => "loss",
                ChartKind::Accuracy => "accuracy",
            };
            let from = job.map_or(String::new(), |id| format!(" of job #{id}"));
            let text = format!(
                "{what} chart{from} loaded from {}: c shows it",
                chart.source
            );
            store(s, chart);
            // A job's chart does not take over the screen; `:chart PATH` shows it.
            if job.is_none() {
                s.charts_view = true;
                s.jobs_view = false;
            }
            status(s, Level::Info, text);
        }
        Action::ChartFailed { job, message } => {
            let from = job.map_or(String::new(), |id| format!(" for job #{id}"));
            status(s, Level::Warn, format!("no chart{from}: {message}"));
        }
        _ => {}
    }
    vec![]
}
