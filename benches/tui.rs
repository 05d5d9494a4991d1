//! Slider step to finished frame (issue 6 goal: at most 4 ms): a 4,096-token CoT pair
//! at 200x60, one `SetRatio` through `update` (re-threshold) plus a full draw into a
//! `TestBackend` (wrap both panes, colour every token, diff the buffers).
//!
//! Run: `cargo bench --bench tui`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use tokenskip_studio::tui::color::ColorDepth;
use tokenskip_studio::tui::theme::Theme;
use tokenskip_studio::tui::tty_bench::{loaded_state, synthetic_cot};
use tokenskip_studio::tui::view::render_app;
use tokenskip_studio::tui::{update, Action};

fn bench(c: &mut Criterion) {
    let Some((text, tokens)) = synthetic_cot(4096) else {
        return;
    };
    assert_eq!(tokens.len(), 4096);
    let Some(mut s) = loaded_state(text, tokens, 200, 60) else {
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
