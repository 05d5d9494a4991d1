//! Re-threshold + text rebuild of a 4,096-token CoT at a new gamma (issue 5 goal: at
//! most 200 microseconds). The TUI ratio slider does exactly this on every move.
//!
//! Run: `cargo bench --bench compress`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use regex::Regex;
use tokenskip_studio::compress::{CompressOptions, Compressor, Granularity, Kept};
use tokenskip_studio::importance::{RulesScorer, Scorer, TokenSpan};

const LINES: [&str; 6] = [
    "Let's think about this step by step.",
    "Step 1: Natalia sold 48 clips in April, and in May she sold half as many.",
    "So we now know that she sold 48 / 2 = 24 clips in May.",
    "In other words, basically the total is 48 + 24 = 72 clips altogether.",
    "",
    "Therefore, the final answer is \\boxed{72}.",
];

/// A synthetic math CoT of exactly `n` tokens, split like a byte-level BPE (words with
/// their leading space, single digits, punctuation with its line breaks).
fn synthetic_cot(n: usize) -> Result<(String, Vec<TokenSpan>), regex::Error> {
    let pattern = Regex::new(r" ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]+\n*|\n+| +")?;
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
    let end = tokens.last().map_or(0, |t| t.end);
    text.truncate(end);
    Ok((text, tokens))
}

fn bench(c: &mut Criterion) {
    let Ok((text, tokens)) = synthetic_cot(4096) else {
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
