//! Slider step to finished frame (issue 6 goal: at most 4 ms): a 4,096-token CoT pair
//! at 200x60, one `SetRatio` through `update` (re-threshold) plus a full draw into a
//! `TestBackend` (wrap both panes, colour every token, diff the buffers).
//!
//! Run: `cargo bench --bench tui`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use regex::Regex;
use tokenskip_studio::data::example::Example;
use tokenskip_studio::importance::{RulesScorer, Scorer, TokenSpan};
use tokenskip_studio::tui::color::ColorDepth;
use tokenskip_studio::tui::theme::Theme;
use tokenskip_studio::tui::view::render_app;
use tokenskip_studio::tui::{update, Action, State};

const LINES: [&str; 6] = [
    "Let's think about this step by step.",
    "Step 1: Natalia sold 48 clips in April, and in May she sold half as many.",
    "So we now know that she sold 48 / 2 = 24 clips in May.",
    "In other words, basically the total is 48 + 24 = 72 clips altogether.",
    "",
    "Therefore, the final answer is \\boxed{72}.",
];

/// A math CoT of exactly `n` tokens, split like a byte-level BPE.
fn synthetic_cot(n: usize) -> Option<(String, Vec<TokenSpan>)> {
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

/// A 200x60 TUI showing the CoT, scored and ranked.
fn loaded_state(text: String, tokens: Vec<TokenSpan>) -> Option<State> {
    let importance = RulesScorer::new().score(&text, &tokens).ok()?;
    let mut s = State::new("demo", "rules");
    update(
        &mut s,
        Action::Resize {
            cols: 200,
            rows: 60,
        },
    );
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

fn bench(c: &mut Criterion) {
    let Some((text, tokens)) = synthetic_cot(4096) else {
        return;
    };
    assert_eq!(tokens.len(), 4096);
    let Some(mut s) = loaded_state(text, tokens) else {
        return;
    };
    for depth in [ColorDepth::TrueColor, ColorDepth::Never] {
        let theme = Theme::fallback(depth);
        let Ok(mut term) = Terminal::new(TestBackend::new(200, 60));
        let mut step = 10u8;
        c.bench_function(
            &format!("slider step to frame, 4096 tokens, 200x60, {depth:?}"),
            |b| {
                b.iter(|| {
                    step = if step >= 19 { 10 } else { step + 1 };
                    black_box(update(&mut s, Action::SetRatio { steps: step }));
                    let _ = term.draw(|f| render_app(&s, &theme, f));
                })
            },
        );
    }
    // The same with the panes scrolled to the end (the wrap still starts at the top).
    update(
        &mut s,
        Action::Scroll {
            lines: i64::MAX / 2,
        },
    );
    let theme = Theme::fallback(ColorDepth::TrueColor);
    let Ok(mut term) = Terminal::new(TestBackend::new(200, 60));
    let mut step = 10u8;
    c.bench_function(
        "slider step to frame, 4096 tokens, 200x60, scrolled to end",
        |b| {
            b.iter(|| {
                step = if step >= 19 { 10 } else { step + 1 };
                black_box(update(&mut s, Action::SetRatio { steps: step }));
                let _ = term.draw(|f| render_app(&s, &theme, f));
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
