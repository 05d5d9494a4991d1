//! Text generation with a KV cache: greedy or seeded sampling, stop on EOS ids and stop
//! strings, a streaming callback per token, and batched greedy decoding for eval throughput.

use super::decoder::{Decoder, ForwardArgs, KvCache, Logits, Positions};
use super::tokenizer::{ChatTokenizer, TokenizerError};
use candle_core::{DType, Tensor};
use rand::{Rng, SeedableRng};
use std::ops::ControlFlow;
use std::time::Instant;

/// How the next token is chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Sampling {
    Greedy,
    /// Temperature and nucleus (top-p) sampling from a seeded ChaCha8 stream: the same seed
    /// gives the same text on every platform.
    Sample {
        temperature: f64,
        top_p: f64,
        seed: u64,
    },
}

/// Generation settings.
#[derive(Debug, Clone)]
pub struct GenerateParams {
    pub max_new_tokens: usize,
    pub sampling: Sampling,
    /// Generation ends when the text contains one of these (it is cut before the match).
    pub stop_strings: Vec<String>,
}

impl Default for GenerateParams {
    fn default() -> Self {
        GenerateParams {
            max_new_tokens: 512,
            sampling: Sampling::Greedy,
            stop_strings: Vec::new(),
        }
    }
}

/// Why a generation ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    Eos,
    StopString,
    MaxTokens,
    /// The model's context window is full.
    ContextFull,
    /// The streaming callback asked to stop.
    Cancelled,
}

/// One streamed token.
#[derive(Debug, Clone)]
pub struct TokenEvent<'a> {
    pub index: usize,
    pub id: u32,
    /// The text this token completed (empty while a multi-byte character is unfinished).
    pub piece: &'a str,
}

/// A finished generation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Generation {
    /// Generated ids, without the EOS that ended them.
    pub ids: Vec<u32>,
    pub text: String,
    pub stop: StopReason,
    pub prompt_tokens: usize,
    pub prefill_s: f64,
    pub decode_s: f64,
}

/// Generation failures.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(
        "the prompt has {len} tokens, more than the model's context window of {max}; shorten it"
    )]
    PromptTooLong { len: usize, max: usize },
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error("model: {0}")]
    Model(#[from] candle_core::Error),
}

fn check_prompt(model: &Decoder, len: usize) -> Result<(), GenerateError> {
    let max = model.cfg.max_position_embeddings;
    match len {
        0 => Err(GenerateError::EmptyPrompt),
        l if l > max => Err(GenerateError::PromptTooLong { len: l, max }),
        _ => Ok(()),
    }
}

/// Picks the next token from `[vocab]` f32 logits.
fn pick(logits: &[f32], sampling: &Sampling, rng: &mut rand_chacha::ChaCha8Rng) -> u32 {
    let argmax = || {
        logits
            .iter()
            .enumerate()
            .fold((0usize, f32::NEG_INFINITY), |best, (i, &v)| {
                if v > best.1 {
                    (i, v)
                } else {
                    best
                }
            })
            .0 as u32
    };
    match *sampling {
        Sampling::Greedy => argmax(),
        Sampling::Sample { temperature, .. } if temperature <= 0.0 => argmax(),
        Sampling::Sample {
            temperature, top_p, ..
        } => {
            let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let mut probs: Vec<(usize, f64)> = logits
                .iter()
                .enumerate()
                .map(|(i, &l)| (i, (((l - max) as f64) / temperature).exp()))
                .collect();
            let total: f64 = probs.iter().map(|p| p.1).sum();
            probs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            // Smallest prefix whose mass reaches top_p.
            let mut kept = 0.0;
            let mut cut = probs.len();
            for (n, p) in probs.iter().enumerate() {
                kept += p.1 / total;
                if kept >= top_p {
                    cut = n + 1;
                    break;
                }
            }
            probs.truncate(cut);
            let mass: f64 = probs.iter().map(|p| p.1).sum();
            let mut r = rng.random::<f64>() * mass;
            for (i, p) in &probs {
                r -= p;
                if r <= 0.0 {
                    return *i as u32;
                }
            }
            probs.last().map_or(0, |p| p.0 as u32)
        }
    }
}

/// Generates a continuation of `prompt` (token ids), calling `on_token` for every token.
pub fn generate(
    model: &Decoder,
    tok: &ChatTokenizer,
    prompt: &[u32],
    params: &GenerateParams,
    on_token: &mut dyn FnMut(TokenEvent) -> ControlFlow<()>,
) -> Result<Generation, GenerateError> {
    check_prompt(model, prompt.len())?;
    let max_pos = model.cfg.max_position_embeddings;
    let seed = match params.sampling {
        Sampling::Sample { seed, .. } => seed,
        Sampling::Greedy => 0,
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut cache = KvCache::new(model.cfg.num_hidden_layers);
    let started = Instant::now();
    let input = Tensor::new(prompt, model.device())?.unsqueeze(0)?;
    let args = ForwardArgs {
        logits: Logits::Last,
        ..Default::default()
    };
    let mut logits = model.forward(&input, Some(&mut cache), &args)?.logits;
    let prefill_s = started.elapsed().as_secs_f64();
    let decode_started = Instant::now();

    let mut ids: Vec<u32> = Vec::new();
    let mut text = String::new();
    let stop = loop {
        if ids.len() >= params.max_new_tokens {
            break StopReason::MaxTokens;
        }
        let row: Vec<f32> = logits.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?;
        let next = pick(&row, &params.sampling, &mut rng);
        if tok.eos_ids.contains(&next) {
            break StopReason::Eos;
        }
        ids.push(next);
        let full = tok.decode(&ids)?;
        // Hold text back while a multi-byte character is still incomplete.
        let piece = if full.ends_with('\u{FFFD}') || !full.starts_with(&text) {
            String::new()
        } else {
            full[text.len()..].to_string()
        };
        if !piece.is_empty() {
            text = full;
        }
        if let Some(cut) = params
            .stop_strings
            .iter()
            .filter_map(|s| text.find(s.as_str()))
            .min()
        {
            text.truncate(cut);
            break StopReason::StopString;
        }
        if on_token(TokenEvent {
            index: ids.len() - 1,
            id: next,
            piece: &piece,
        })
        .is_break()
        {
            break StopReason::Cancelled;
        }
        let pos = prompt.len() + ids.len() - 1;
        if pos + 1 > max_pos {
            break StopReason::ContextFull;
        }
        let input = Tensor::new(&[next], model.device())?.unsqueeze(0)?;
        let args = ForwardArgs {
            positions: Positions::Offset(pos),
            logits: Logits::Last,
            ..Default::default()
        };
        logits = model.forward(&input, Some(&mut cache), &args)?.logits;
    };
    // Final text from all ids, so nothing held back is lost.
    if stop != StopReason::StopString {
        text = tok.decode(&ids)?;
    }
    Ok(Generation {
        ids,
        text,
        stop,
        prompt_tokens: prompt.len(),
        prefill_s,
        decode_s: decode_started.elapsed().as_secs_f64(),
    })
}

/// Greedy continuations of several prompts at once (left padding + attention mask). Each row
/// stops at its first EOS (excluded) or after `max_new_tokens`. Results equal one-by-one
/// greedy decoding up to floating-point ties.
pub fn generate_batch_greedy(
    model: &Decoder,
    prompts: &[Vec<u32>],
    max_new_tokens: usize,
    eos_ids: &[u32],
) -> Result<Vec<Vec<u32>>, GenerateError> {
    if prompts.is_empty() {
        return Ok(Vec::new());
    }
    for p in prompts {
        check_prompt(model, p.len())?;
    }
    let dev = model.device();
    let b = prompts.len();
    let width = prompts.iter().map(Vec::len).max().unwrap_or(0);
    let max_new = max_new_tokens.min(model.cfg.max_position_embeddings.saturating_sub(width));
    let pad = eos_ids.first().copied().unwrap_or(0);
    let mut ids = Vec::with_capacity(b * width);
    let mut mask = Vec::with_capacity(b * width);
    let mut pos = Vec::with_capacity(b * width);
    for p in prompts {
        let n_pad = width - p.len();
        ids.extend(std::iter::repeat_n(pad, n_pad).chain(p.iter().copied()));
        mask.extend(std::iter::repeat_n(0u8, n_pad).chain(std::iter::repeat_n(1u8, p.len())));
        pos.extend(std::iter::repeat_n(0u32, n_pad).chain(0..p.len() as u32));
    }
    let mut key_mask = Tensor::from_vec(mask, (b, width), dev)?;
    let mut next_pos: Vec<u32> = prompts.iter().map(|p| p.len() as u32).collect();
    let mut cache = KvCache::new(model.cfg.num_hidden_layers);
    let mut input = Tensor::from_vec(ids, (b, width), dev)?;
    let mut positions = Positions::Rows(Tensor::from_vec(pos, (b, width), dev)?);
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); b];
    let mut done = vec![false; b];
    for _ in 0..max_new {
        let args = ForwardArgs {
            positions: positions.clone(),
            key_mask: Some(&key_mask),
            logits: Logits::Last,
            attention: false,
        };
        let logits = model.forward(&input, Some(&mut cache), &args)?.logits;
        let next = Decoder::argmax_last(&logits)?;
        for (r, &t) in next.iter().enumerate() {
            if done[r] {
                continue;
            }
            if eos_ids.contains(&t) {
                done[r] = true;
            } else {
                out[r].push(t);
            }
        }
        if done.iter().all(|d| *d) {
            break;
        }
        input = Tensor::from_vec(next, (b, 1), dev)?;
        positions = Positions::Rows(Tensor::from_vec(next_pos.clone(), (b, 1), dev)?);
        next_pos.iter_mut().for_each(|p| *p += 1);
        key_mask = Tensor::cat(&[&key_mask, &Tensor::ones((b, 1), DType::U8, dev)?], 1)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_seeded_and_top_p_restricts() {
        let logits = vec![1.0f32, 3.0, 2.0, -1.0];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        assert_eq!(pick(&logits, &Sampling::Greedy, &mut rng), 1);
        // top_p tiny: only the argmax survives.
        let s = Sampling::Sample {
            temperature: 1.0,
            top_p: 1e-6,
            seed: 0,
        };
        for _ in 0..20 {
            assert_eq!(pick(&logits, &s, &mut rng), 1);
        }
        let s = Sampling::Sample {
            temperature: 1.0,
            top_p: 1.0,
            seed: 0,
        };
        let draw = |seed| {
            let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            (0..32)
                .map(|_| pick(&logits, &s, &mut r))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert!(
            draw(3).iter().any(|&t| t != 1),
            "sampling never left the argmax"
        );
    }
}
