//! `tokenskip-studio bench-generate`: prefill and decode throughput, for
//! `scripts/bench/generate.sh`, which runs PyTorch on the same model and threads.

use super::ModelArgs;
use clap::Args;
use std::time::Instant;
use tokenskip_studio::model::{Decoder, ForwardArgs, KvCache, Logits, Positions};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Prompt length for the prefill measurement.
    #[arg(long, default_value_t = 512)]
    pub prompt_len: usize,
    /// Tokens decoded one at a time with the KV cache.
    #[arg(long, default_value_t = 128)]
    pub new_tokens: usize,
    /// Timed repetitions after one warm-up; the best is reported.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
}

/// One prefill of `prompt` then `n` greedy decode steps; returns (prefill s, decode s).
fn run_once(m: &Decoder, prompt: &[u32], n: usize) -> anyhow::Result<(f64, f64)> {
    let dev = m.device();
    let mut cache = KvCache::new(m.cfg.num_hidden_layers);
    let t0 = Instant::now();
    let input = candle_core::Tensor::new(prompt, dev)?.unsqueeze(0)?;
    let args = ForwardArgs {
        logits: Logits::Last,
        ..Default::default()
    };
    let mut next = Decoder::argmax_last(&m.forward(&input, Some(&mut cache), &args)?.logits)?[0];
    let prefill = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    for i in 0..n {
        let input = candle_core::Tensor::new(&[next], dev)?.unsqueeze(0)?;
        let args = ForwardArgs {
            positions: Positions::Offset(prompt.len() + i),
            logits: Logits::Last,
            ..Default::default()
        };
        next = Decoder::argmax_last(&m.forward(&input, Some(&mut cache), &args)?.logits)?[0];
    }
    Ok((prefill, t1.elapsed().as_secs_f64()))
}

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    let m = a.model.load()?;
    let d = &m.decoder;
    if a.prompt_len + a.new_tokens > d.cfg.max_position_embeddings {
        anyhow::bail!(
            "--prompt-len {} + --new-tokens {} exceed the model's context window of {}",
            a.prompt_len,
            a.new_tokens,
            d.cfg.max_position_embeddings
        );
    }
    // Deterministic pseudo-random prompt ids (an LCG), away from special tokens at the start.
    let vocab = d.cfg.vocab_size as u64;
    let mut x: u64 = 12345;
    let prompt: Vec<u32> = (0..a.prompt_len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (16 + (x >> 33) % (vocab - 16)) as u32
        })
        .collect();
    run_once(d, &prompt, a.new_tokens.min(8))?; // warm-up
    let (mut best_p, mut best_d) = (f64::MAX, f64::MAX);
    for _ in 0..a.repeats.max(1) {
        let (p, dd) = run_once(d, &prompt, a.new_tokens)?;
        best_p = best_p.min(p);
        best_d = best_d.min(dd);
    }
    let threads = candle_core::utils::get_num_threads();
    println!(
        "{}",
        serde_json::json!({
            "prefill_tok_s": a.prompt_len as f64 / best_p,
            "decode_tok_s": a.new_tokens as f64 / best_d,
            "prompt_len": a.prompt_len, "new_tokens": a.new_tokens, "threads": threads,
            "model": m.name, "dtype": format!("{:?}", d.dtype()),
        })
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct BenchScoreArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The text to score (UTF-8), e.g. a long CoT. Scored as plain text, like `score`.
    #[arg(long, value_name = "FILE")]
    pub text_file: std::path::PathBuf,
    /// Timed repetitions after one warm-up; the best is reported.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
}

/// Surprisal scoring throughput, end to end (tokenize, forward, log-softmax, projection),
/// for `scripts/bench/score.sh`, which runs PyTorch on the same text, model and threads.
pub fn run_score(a: BenchScoreArgs) -> anyhow::Result<()> {
    use tokenskip_studio::importance::{target_tokens, Scorer, SurprisalScorer};
    let text = std::fs::read_to_string(&a.text_file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", a.text_file.display()))?;
    let m = std::sync::Arc::new(a.model.load()?);
    let scorer = SurprisalScorer::new(m.clone());
    let once = || -> anyhow::Result<(f64, usize, f64)> {
        let t0 = Instant::now();
        let tokens = target_tokens(&m.tokenizer, &text)?;
        let imp = scorer.score(&text, &tokens)?;
        let secs = t0.elapsed().as_secs_f64();
        let sum: f64 = imp.scores.iter().skip(1).map(|&s| f64::from(s)).sum();
        Ok((secs, tokens.len(), sum))
    };
    let (_, n, sum_nll) = once()?; // warm-up
    let mut best = f64::MAX;
    for _ in 0..a.repeats.max(1) {
        best = best.min(once()?.0);
    }
    println!(
        "{}",
        serde_json::json!({
            "tok_s": n as f64 / best, "tokens": n, "best_s": best, "sum_nll": sum_nll,
            "threads": candle_core::utils::get_num_threads(), "model": m.name,
            "window": m.decoder.cfg.max_position_embeddings,
        })
    );
    Ok(())
}
