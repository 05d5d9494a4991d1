//! The jobs pane (`J`): one line per job with a progress bar, ETA and metrics, then the
//! selected job's log tail and outputs. Drawn over the two CoT panes.

use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use ratatui::widgets::{Block, Borders, Clear, Widget};

use super::app::{put, put_input, rect};
use crate::jobs::progress::duration;
use crate::tui::layout::Area;
use crate::tui::state::{Job, JobStatus, Level, State};
use crate::tui::theme::Theme;

fn line_of(j: &Job, bar_w: usize) -> String {
    let filled = (j.fraction() * bar_w as f64).round() as usize;
    let bar = format!(
        "{}{}",
        "█".repeat(filled),
        "·".repeat(bar_w.saturating_sub(filled))
    );
    let state = match j.status {
        JobStatus::Running => "running",
        JobStatus::Done => "done",
        JobStatus::Failed => "FAILED",
        JobStatus::Cancelled => "cancelled",
    };
    let eta = j
        .eta_s()
        .map_or(String::new(), |s| format!(" ETA {}", duration(s)));
    let metrics: Vec<String> = j
        .metrics
        .iter()
        .take(3)
        .map(|(k, v)| format!("{k} {v:.3}"))
        .collect();
    format!(
        "#{:<2} {:<9} {:<9} {bar} {:>5.1}% {}/{}{eta} {}",
        j.id,
        j.name,
        state,
        j.fraction() * 100.0,
        j.done,
        j.total,
        metrics.join(" ")
    )
}

pub fn render_jobs(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    if a.w < 10 || a.h < 4 {
        return;
    }
    Clear.render(rect(a), buf);
    buf.set_style(rect(a), theme.base());
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.fg("border"))
        .title(" Jobs · j/k select · x cancel · J close · :train ARGS starts one ")
        .title_style(theme.fg("accent"))
        .render(rect(a), buf);
    let inner = a.inner();
    if s.jobs.is_empty() {
        let help = [
            "No jobs yet. Jobs run as child processes of this binary with --progress json.",
            "Start one from the command palette, for example:",
            "  :train --model demo --data out/train_llamafactory.json --out out/lora",
            "  :run <subcommand> <args>",
        ];
        for (i, l) in help.iter().enumerate().take(inner.h as usize) {
            put(buf, inner.x, inner.y + i as u16, l, inner.w, theme.muted());
        }
        return;
    }
    let list_h = (s.jobs.len() as u16).min(inner.h / 2).max(1);
    let first = (s.job_selected + 1).saturating_sub(list_h as usize);
    for (row, j) in s.jobs.iter().enumerate().skip(first).take(list_h as usize) {
        let y = inner.y + (row - first) as u16;
        let style = if row == s.job_selected {
            theme.highlight("selection.bg")
        } else if j.status == JobStatus::Failed {
            theme.fg("status.error")
        } else {
            theme.fg("text")
        };
        put(buf, inner.x, y, &line_of(j, 20), inner.w, style);
    }
    let Some(j) = s.jobs.get(s.job_selected) else {
        return;
    };
    let y0 = inner.y + list_h + 1;
    let head = format!("log of #{}: {}", j.id, j.args.join(" "));
    put(
        buf,
        inner.x,
        y0 - 1,
        &head,
        inner.w,
        theme.fg("title").add_modifier(Modifier::BOLD),
    );
    let mut lines: Vec<(Level, String)> = j.log.iter().cloned().collect();
    lines.extend(
        j.outputs
            .iter()
            .map(|o| (Level::Info, format!("output: {o}"))),
    );
    let room = (inner.y + inner.h).saturating_sub(y0) as usize;
    for (i, (level, l)) in lines
        .iter()
        .skip(lines.len().saturating_sub(room))
        .enumerate()
    {
        let style = match level {
            Level::Info => theme.fg("text"),
            Level::Warn => theme.fg("status.warn"),
            Level::Error => theme.fg("status.error"),
        };
        put(buf, inner.x, y0 + i as u16, l, inner.w, style);
    }
}

/// The `:` command line, over the status row.
pub fn render_palette(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    let Some(text) = &s.palette else {
        return;
    };
    buf.set_style(rect(a), theme.base());
    let blank = " ".repeat(a.w as usize);
    put(buf, a.x, a.y, &blank, a.w, theme.base());
    let x = put(buf, a.x, a.y, " :", a.w, theme.fg("accent"));
    let w = a.w.saturating_sub(x - a.x);
    put_input(buf, x, a.y, text, w, theme);
}
