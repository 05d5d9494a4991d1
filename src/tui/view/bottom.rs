//! The rows under the panes: heat legend, ratio slider, stats, token inspector, status.

use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

use super::app::put;
use crate::compress::Granularity;
use crate::importance::ForceReason;
use crate::tui::color::ColorDepth;
use crate::tui::layout::{knob_col, slider_track, Area};
use crate::tui::state::{Level, State};
use crate::tui::theme::Theme;

pub fn render_legend(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    let mut x = put(buf, a.x, a.y, " importance low ", a.w, theme.muted());
    let end = a.x + a.w;
    if theme.depth == ColorDepth::Never {
        for (label, m) in [
            ("dim", Modifier::DIM),
            ("normal", Modifier::empty()),
            ("bold", Modifier::BOLD),
        ] {
            x = put(
                buf,
                x,
                a.y,
                label,
                end.saturating_sub(x),
                ratatui::style::Style::default().add_modifier(m),
            );
            x = put(buf, x, a.y, " ", end.saturating_sub(x), theme.base());
        }
    } else {
        for i in 0..theme.heat_levels() {
            x = put(
                buf,
                x,
                a.y,
                "  ",
                end.saturating_sub(x),
                theme.heat_level(i),
            );
        }
        x = put(buf, x, a.y, " ", end.saturating_sub(x), theme.base());
    }
    x = put(buf, x, a.y, "high", end.saturating_sub(x), theme.muted());
    if let Some(an) = &s.doc.analysis {
        let range = format!(" ({:.2}..{:.2})", an.min_score, an.max_score);
        x = put(buf, x, a.y, &range, end.saturating_sub(x), theme.muted());
    }
    x = put(buf, x, a.y, " · ", end.saturating_sub(x), theme.muted());
    let dropped = if s.plain_marks {
        "[dropped]"
    } else {
        "dropped"
    };
    put(
        buf,
        x,
        a.y,
        dropped,
        end.saturating_sub(x),
        theme.heat(0.5, true),
    );
}

pub fn render_slider(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    let track = slider_track(a);
    put(buf, a.x, a.y, " ratio 0.05", a.w, theme.muted());
    let knob = knob_col(track, s.ratio_steps);
    let fill = if theme.depth == ColorDepth::Never {
        theme.fg("slider").add_modifier(Modifier::BOLD)
    } else {
        theme.fg("slider")
    };
    for x in track.x..track.x + track.w {
        let (sym, style) = if x == knob {
            ("●", theme.fg("accent").add_modifier(Modifier::BOLD))
        } else if x < knob {
            ("━", fill)
        } else {
            ("─", theme.muted())
        };
        put(buf, x, a.y, sym, 1, style);
    }
    let after = track.x + track.w;
    let x = put(
        buf,
        after,
        a.y,
        " 1.00  ",
        (a.x + a.w).saturating_sub(after),
        theme.muted(),
    );
    let value = format!("{:.2}", s.gamma());
    put(
        buf,
        x,
        a.y,
        &value,
        (a.x + a.w).saturating_sub(x),
        theme.fg("accent").add_modifier(Modifier::BOLD),
    );
}

pub fn render_stats(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    let Some(an) = &s.doc.analysis else {
        put(buf, a.x, a.y, " kept -/- tokens", a.w, theme.muted());
        return;
    };
    let k = &an.kept;
    let dropped = k.total.saturating_sub(k.kept);
    let saved = match s.tokens_per_s() {
        Some(tps) if tps > 0.0 => format!("saves ~{:.1} s at {tps:.0} tok/s", dropped as f64 / tps),
        _ => "saves n/a (no model)".to_string(),
    };
    let unit = match s.granularity {
        Granularity::Token => "tokens",
        Granularity::Word => "tokens, whole words",
    };
    let line = format!(
        " kept {}/{} {unit} · target {:.2} actual {:.3} · forced {} · {saved}",
        k.kept,
        k.total,
        k.gamma,
        k.ratio(),
        k.forced
    );
    put(buf, a.x, a.y, &line, a.w, theme.fg("text"));
}

/// Makes whitespace visible: `\n` as ⏎, tabs as →.
fn visible(t: &str) -> String {
    t.replace('\n', "⏎").replace('\t', "→")
}

pub fn render_inspector(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    let Some(an) = &s.doc.analysis else {
        put(
            buf,
            a.x,
            a.y,
            " inspector: h/l or the mouse picks a token",
            a.w,
            theme.muted(),
        );
        return;
    };
    let t = s.cursor.min(an.tokens.len().saturating_sub(1));
    let Some(span) = an.tokens.get(t) else {
        return;
    };
    let text = span.text(&s.doc.text);
    let word = an
        .importance
        .words
        .iter()
        .find(|w| w.tokens.contains(&t))
        .map_or("-".to_string(), |w| {
            format!(
                "'{}'",
                visible(s.doc.text.get(w.start..w.end).unwrap_or(""))
            )
        });
    let score = an.importance.scores.get(t).copied().unwrap_or(0.0);
    let rank = an.compressor.token_rank().get(t).copied().unwrap_or(0) + 1;
    let forced = match an.importance.forced.get(t).copied().flatten() {
        Some(ForceReason::Digit) => " · forced: digit",
        Some(ForceReason::ForcedToken) => " · forced: force token",
        Some(ForceReason::Newline) => " · forced: line break",
        // Reasons added by newer scorers still show that the token is forced.
        #[allow(unreachable_patterns)]
        Some(_) => " · forced",
        None => "",
    };
    let kept = if an.is_kept(t) { "kept" } else { "dropped" };
    let logp = match an.logprobs.as_ref().map(|l| l.get(t).copied().flatten()) {
        Some(Some(lp)) => format!(" · logp {lp:.2}"),
        Some(None) => " · logp -".to_string(),
        None => String::new(),
    };
    let line = format!(
        " token {}/{} '{}' (id {}) · word {word} · score {score:.3}{logp} · rank {rank}/{} · {kept}{forced}",
        t + 1,
        an.tokens.len(),
        visible(text),
        span.id,
        an.units
    );
    put(buf, a.x, a.y, &line, a.w, theme.fg("accent"));
}

pub fn render_status(s: &State, theme: &Theme, buf: &mut Buffer, a: Area) {
    match &s.status {
        Some(st) => {
            let key = match st.level {
                Level::Info => "status.info",
                Level::Warn => "status.warn",
                Level::Error => "status.error",
            };
            let mut style = theme.fg(key);
            if st.level != Level::Info {
                style = style.add_modifier(Modifier::BOLD);
            }
            put(buf, a.x, a.y, &format!(" {}", st.text), a.w, style);
        }
        None => {
            let hints = if s.prompt_focused {
                " type a question · Enter ask · Esc leave"
            } else {
                " j/k question · ←/→ ratio · h/l token · s scorer · w word · g generate · i ask · ? help · q quit"
            };
            put(buf, a.x, a.y, hints, a.w, theme.muted());
        }
    }
}
