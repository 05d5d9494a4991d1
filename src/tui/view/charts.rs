//! The charts pane (`c`): training loss per step and eval accuracy against mean CoT
//! tokens, as ratatui `Chart`s over the two CoT panes. Reads `State::loss_chart` and
//! `State::eval_chart` only; with neither it says how to get one.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{
    Axis, Block, Borders, Chart, Clear, Dataset, GraphType, LegendPosition, Widget,
};

use super::app::{put, rect};
use crate::tui::chart::{ChartData, ChartKind};
use crate::tui::layout::Area;
use crate::tui::state::State;
use crate::tui::theme::Theme;

/// Series colours (theme `[ui]` keys) and markers, so series differ without colour too.
const STYLES: [(&str, Marker); 4] = [
    ("accent", Marker::Braille),
    ("status.warn", Marker::Dot),
    ("status.info", Marker::Block),
    ("status.error", Marker::Bar),
];

fn label(v: f64) -> String {
    if v.abs() >= 100.0 || v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn render_chart(c: &ChartData, theme: &Theme, buf: &mut Buffer, r: Rect) {
    let (title, x_title, y_title) = match c.kind {
        ChartKind::Loss => (" Training loss ", "step", "loss"),
        ChartKind::Accuracy => (" Accuracy vs CoT tokens ", "mean tokens", "accuracy %"),
    };
    let (xb, yb) = c.bounds();
    // Non-finite or huge points (a garbled recording) are left out rather than drawn.
    let finite: Vec<Vec<(f64, f64)>> = c
        .series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .copied()
                .filter(crate::tui::chart::plottable)
                .collect()
        })
        .collect();
    let datasets: Vec<Dataset> = c
        .series
        .iter()
        .zip(&finite)
        .enumerate()
        .map(|(i, (s, points))| {
            let (key, marker) = STYLES[i % STYLES.len()];
            Dataset::default()
                .name(s.name.clone())
                .marker(marker)
                .graph_type(GraphType::Line)
                .style(theme.fg(key))
                .data(points)
        })
        .collect();
    let axis = |t: &'static str, b: [f64; 2]| {
        let mid = (b[0] + b[1]) / 2.0;
        Axis::default()
            .title(Span::styled(t, theme.muted()))
            .style(theme.muted())
            .bounds(b)
            .labels([label(b[0]), label(mid), label(b[1])])
    };
    let legend = if c.series.len() > 1 {
        Some(LegendPosition::BottomRight)
    } else {
        None
    };
    Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.fg("border"))
                .title(format!("{title}· {} ", c.source))
                .title_style(theme.fg("title")),
        )
        .style(theme.base())
        .x_axis(axis(x_title, xb))
        .y_axis(axis(y_title, yb))
        .legend_position(legend)
        .hidden_legend_constraints((
            ratatui::layout::Constraint::Percentage(50),
            ratatui::layout::Constraint::Percentage(50),
        ))
        .render(r, buf);
}

pub fn render_charts(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    if a.w < 20 || a.h < 6 {
        return;
    }
    let r = rect(a);
    Clear.render(r, buf);
    buf.set_style(r, theme.base());
    let charts: Vec<&ChartData> = [&s.loss_chart, &s.eval_chart]
        .into_iter()
        .flatten()
        .collect();
    if charts.is_empty() {
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme.fg("border"))
            .title(" Charts · c or Esc closes ")
            .title_style(theme.fg("accent"))
            .render(r, buf);
        let inner = a.inner();
        let help = [
            "No chart data yet. To get some, run :train or :eval, or :chart PATH.",
            "A finished train job charts its loss per step (OUT/trainer_log.jsonl);",
            "a finished eval job charts accuracy against mean CoT tokens (OUT/summary.json).",
            "  :chart out/lora/trainer_log.jsonl",
            "  :chart out/eval/summary.json",
        ];
        for (i, l) in help.iter().enumerate().take(inner.h as usize) {
            put(buf, inner.x, inner.y + i as u16, l, inner.w, theme.muted());
        }
        return;
    }
    let h = r.height / charts.len() as u16;
    for (i, c) in charts.iter().enumerate() {
        let y = r.y + h * i as u16;
        let hh = if i + 1 == charts.len() {
            r.height - h * i as u16
        } else {
            h
        };
        render_chart(c, theme, buf, Rect::new(r.x, y, r.width, hh));
    }
    let hint = " c or Esc closes ";
    let w = hint.chars().count() as u16;
    if r.width > w + 2 {
        put(
            buf,
            r.x + r.width - w - 1,
            r.y,
            hint,
            w,
            Style::default().patch(theme.fg("accent")),
        );
    }
}
