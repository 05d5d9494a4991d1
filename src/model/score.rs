//! All-position scoring: per-token surprisal (-log p) and attention weights, for the
//! importance scorers. Long sequences are scored in overlapping windows of the context size.

use super::decoder::{Decoder, ForwardArgs, Logits};
use candle_core::{DType, Result, Tensor, D};

/// `-log p(ids[t] | ids[..t])` for every `t >= 1`; the first token has no context (`None`).
/// Sequences longer than the context window are scored in windows that overlap by half, so
/// each token after the first window still sees at least half a window of context.
pub fn token_nll(model: &Decoder, ids: &[u32]) -> Result<Vec<Option<f32>>> {
    let n = ids.len();
    let mut out = vec![None; n];
    if n < 2 {
        return Ok(out);
    }
    let window = model.cfg.max_position_embeddings.max(2);
    let stride = (window / 2).max(1);
    let mut start = 0;
    loop {
        let end = (start + window).min(n);
        // Tokens already scored by an earlier window keep their (longer-context) value.
        let first_new = if start == 0 {
            1
        } else {
            start + (window - stride)
        };
        if end > start + 1 {
            if start > 0 {
                tracing::info!(
                    tokens = n,
                    window,
                    start,
                    "scoring a long sequence in windows"
                );
            }
            let chunk = &ids[start..end];
            let input = Tensor::new(chunk, model.device())?.unsqueeze(0)?;
            let logits = model
                .forward(
                    &input,
                    None,
                    &ForwardArgs {
                        logits: Logits::All,
                        ..Default::default()
                    },
                )?
                .logits
                .squeeze(0)?;
            let logp = candle_nn::ops::log_softmax(&logits.to_dtype(DType::F32)?, D::Minus1)?;
            let targets = Tensor::new(&chunk[1..], model.device())?;
            let picked = logp
                .narrow(0, 0, chunk.len() - 1)?
                .gather(&targets.unsqueeze(1)?, 1)?
                .squeeze(1)?
                .to_vec1::<f32>()?;
            for (k, lp) in picked.into_iter().enumerate() {
                let t = start + k + 1;
                if t >= first_new {
                    out[t] = Some(-lp);
                }
            }
        }
        if end == n {
            break;
        }
        start += stride;
    }
    Ok(out)
}

/// Per-layer attention probabilities `[heads, n, n]` for one sequence within the context.
pub fn attention_maps(model: &Decoder, ids: &[u32]) -> Result<Vec<Tensor>> {
    if ids.len() > model.cfg.max_position_embeddings {
        candle_core::bail!(
            "{} tokens exceed the context window of {} for attention maps",
            ids.len(),
            model.cfg.max_position_embeddings
        );
    }
    let input = Tensor::new(ids, model.device())?.unsqueeze(0)?;
    let args = ForwardArgs {
        logits: Logits::Last,
        attention: true,
        ..Default::default()
    };
    model
        .forward(&input, None, &args)?
        .attention
        .into_iter()
        .map(|a| a.squeeze(0))
        .collect()
}
