//! Bytes on the wire (issue 10, "Over SSH"): the real TUI (a scored 4,096-token CoT,
//! the real views and theme) drawn through ratatui's crossterm backend into a counting
//! writer, so the figures are the escape sequences a terminal (or an ssh link) receives.
//!
//! - a slider step: one `SetRatio` through `update`, then one frame (ratatui sends only
//!   the cells that changed since the previous frame);
//! - idle: the loop logic of the runtime (block on the input channel, draw only when the
//!   [`FrameGate`] says so) with no input, for a while.
//!
//! Printed by `tokenskip-studio bench-tty`; the `benches/tui.rs` timing bench builds its
//! state with the same helpers.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use regex::Regex;
use serde::Serialize;

use crate::data::example::Example;
use crate::importance::{RulesScorer, Scorer, TokenSpan};

use super::action::Action;
use super::color::ColorDepth;
use super::fps::{FrameGate, DEFAULT_FPS};
use super::state::State;
use super::theme::Theme;
use super::update::update;
use super::view::render_app;

const LINES: [&str; 6] = [
    "Let's think about this step by step.",
    "Step 1: Natalia sold 48 clips in April, and in May she sold half as many.",
    "So we now know that she sold 48 / 2 = 24 clips in May.",
    "In other words, basically the total is 48 + 24 = 72 clips altogether.",
    "",
    "Therefore, the final answer is \\boxed{72}.",
];

/// A math CoT of exactly `n` tokens, split like a byte-level BPE.
pub fn synthetic_cot(n: usize) -> Option<(String, Vec<TokenSpan>)> {
    let pattern = Regex::new(r" ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]+\n*|\n+| +").ok()?;
    let mut text = String::new();
    while pattern.find_iter(&text).count() < n {
        for line in LINES {
            text.push_str(line);
            text.push('\n');
        }
    }
    let tokens: Vec<TokenSpan> = pattern
        .find_iter(&text)
        .take(n)
        .enumerate()
        .map(|(i, m)| TokenSpan::new(i as u32, m.start(), m.end()))
        .collect();
    text.truncate(tokens.last()?.end);
    Some((text, tokens))
}

/// A `cols`x`rows` TUI showing the CoT, scored with `rules` and ranked.
pub fn loaded_state(text: String, tokens: Vec<TokenSpan>, cols: u16, rows: u16) -> Option<State> {
    let importance = RulesScorer::new().score(&text, &tokens).ok()?;
    let mut s = State::new("demo", "rules");
    update(&mut s, Action::Resize { cols, rows });
    update(
        &mut s,
        Action::ExamplesLoaded {
            source: "bench".into(),
            examples: vec![Example {
                id: "bench".into(),
                question: "How many clips?".into(),
                answer: "72".into(),
                cot: Some(text),
            }],
            note: None,
        },
    );
    let req = s.pending_analysis?;
    update(
        &mut s,
        Action::Analyzed {
            req,
            tokens,
            importance,
            logprobs: None,
        },
    );
    s.doc.analysis.as_ref()?;
    Some(s)
}

/// Counts the bytes written (and drops them); clones share the count.
#[derive(Debug, Default, Clone)]
pub struct CountingWriter {
    bytes: Arc<AtomicU64>,
}

impl CountingWriter {
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The figures, printed as one JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct TtyReport {
    pub bench: &'static str,
    pub cols: u16,
    pub rows: u16,
    pub tokens: usize,
    pub depth: ColorDepth,
    /// The first frame: every cell.
    pub full_frame_bytes: u64,
    /// Mean over the sweep 1.0 -> 0.5 -> 1.0 in 0.05 steps (20 steps).
    pub bytes_per_step: f64,
    pub max_step_bytes: u64,
    pub steps: usize,
    /// A frame drawn although nothing changed (what a loop that redraws blindly costs).
    pub unchanged_frame_bytes: u64,
    pub idle_secs: f64,
    pub idle_frames: u64,
    pub idle_bytes_per_s: f64,
}

type CountingTerminal = Terminal<CrosstermBackend<CountingWriter>>;

/// Measures a `cols`x`rows` screen with a `tokens`-token CoT at `depth`, idling `idle`.
pub fn run(
    cols: u16,
    rows: u16,
    tokens: usize,
    depth: ColorDepth,
    idle: Duration,
) -> Result<TtyReport, String> {
    let (text, spans) = synthetic_cot(tokens).ok_or("cannot build the synthetic CoT")?;
    let n_tokens = spans.len();
    let mut s = loaded_state(text, spans, cols, rows).ok_or("the CoT did not score")?;
    let theme = Theme::fallback(depth);
    let counter = CountingWriter::default();
    let written = |_: &CountingTerminal| counter.bytes();
    let backend = CrosstermBackend::new(counter.clone());
    let viewport = Viewport::Fixed(Rect::new(0, 0, cols, rows));
    let mut term = Terminal::with_options(backend, TerminalOptions { viewport })
        .map_err(|e| format!("terminal: {e}"))?;
    let draw = |term: &mut CountingTerminal, s: &State| -> Result<u64, String> {
        let before = written(term);
        term.draw(|f| render_app(s, &theme, f))
            .map_err(|e| format!("draw: {e}"))?;
        Ok(written(term) - before)
    };

    update(&mut s, Action::SetRatio { steps: 20 });
    let full_frame_bytes = draw(&mut term, &s)?;
    let unchanged_frame_bytes = draw(&mut term, &s)?;

    // 1.0 -> 0.5 and back, one frame per key press (as the loop draws them).
    let sweep: Vec<u8> = (10..20).rev().chain(11..=20).collect();
    let mut step_bytes = Vec::with_capacity(sweep.len());
    for steps in &sweep {
        update(&mut s, Action::SetRatio { steps: *steps });
        step_bytes.push(draw(&mut term, &s)?);
    }
    let total: u64 = step_bytes.iter().sum();

    // Idle: the runtime's loop shape with an input channel that stays silent.
    let (_tx, rx) = mpsc::channel::<Action>();
    let mut gate = FrameGate::new(DEFAULT_FPS);
    gate.drawn(Instant::now());
    let before = written(&term);
    let start = Instant::now();
    let mut idle_frames = 0u64;
    loop {
        let now = Instant::now();
        let left = idle.saturating_sub(now - start);
        if left.is_zero() {
            break;
        }
        let timeout = gate.wait(now).unwrap_or(left).min(left);
        match rx.recv_timeout(timeout) {
            Ok(a) => {
                update(&mut s, a);
                gate.mark();
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if gate.ready(Instant::now()) {
            draw(&mut term, &s)?;
            gate.drawn(Instant::now());
            idle_frames += 1;
        }
    }
    let idle_secs = start.elapsed().as_secs_f64();
    let idle_bytes = written(&term) - before;

    Ok(TtyReport {
        bench: "tty",
        cols,
        rows,
        tokens: n_tokens,
        depth,
        full_frame_bytes,
        bytes_per_step: total as f64 / step_bytes.len() as f64,
        max_step_bytes: step_bytes.iter().copied().max().unwrap_or(0),
        steps: step_bytes.len(),
        unchanged_frame_bytes,
        idle_secs,
        idle_frames,
        idle_bytes_per_s: idle_bytes as f64 / idle_secs.max(1e-9),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Idle writes nothing; a slider step writes far less than a full redraw.
    #[test]
    fn idle_is_silent_and_a_step_is_a_small_diff() {
        let r = run(
            200,
            60,
            4096,
            ColorDepth::TrueColor,
            Duration::from_millis(300),
        )
        .unwrap();
        assert_eq!(r.tokens, 4096);
        assert_eq!(r.idle_frames, 0, "{r:?}");
        assert_eq!(r.idle_bytes_per_s, 0.0, "{r:?}");
        assert!(r.full_frame_bytes > 20_000, "{r:?}");
        assert!(
            r.bytes_per_step * 4.0 < r.full_frame_bytes as f64,
            "a step should send a fraction of the screen: {r:?}"
        );
        assert!(r.unchanged_frame_bytes < 100, "{r:?}");
    }
}
