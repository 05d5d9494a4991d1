//! Re-threshold + text rebuild of a 4,096-token CoT at a new gamma (issue 5 goal: at
//! most 200 microseconds). The TUI ratio slider does exactly this on every move.
//!
//! Run: `cargo bench --bench compress`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use tokenskip_studio::compress::{CompressOptions, Compressor, Granularity, Kept};
use tokenskip_studio::importance::{RulesScorer, Scorer};
use tokenskip_studio::tui::tty_bench::synthetic_cot;

fn bench(c: &mut Criterion) {
    let Some((text, tokens)) = synthetic_cot(4096) else {
        return;
    };
    assert_eq!(tokens.len(), 4096);
    let Ok(importance) = RulesScorer::new().score(&text, &tokens) else {
        return;
    };
    let gammas = [0.5, 0.6, 0.7, 0.8, 0.9, 0.55, 0.65, 0.75, 0.85, 0.95];
    for granularity in [Granularity::Token, Granularity::Word] {
        let build = || {
            Compressor::new(
                &text,
                &importance,
                &tokens,
                granularity,
                CompressOptions::default(),
            )
        };
        let Ok(compressor) = build() else {
            return;
        };
        c.bench_function(
            &format!("rank once (new), 4096 tokens, {granularity:?}"),
            |b| b.iter(|| black_box(build())),
        );
        let mut kept = Kept::default();
        let mut out = String::new();
        let mut i = 0usize;
        c.bench_function(
            &format!("new gamma: at_into + render_into, 4096 tokens, {granularity:?}"),
            |b| {
                b.iter(|| {
                    i = (i + 1) % gammas.len();
                    let _ = compressor.at_into(black_box(gammas[i]), &mut kept);
                    black_box(compressor.render_into(&kept, &mut out));
                })
            },
        );
        c.bench_function(
            &format!("new gamma: compress (allocating, + alignment), 4096 tokens, {granularity:?}"),
            |b| {
                b.iter(|| {
                    i = (i + 1) % gammas.len();
                    black_box(compressor.compress(black_box(gammas[i])))
                })
            },
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
