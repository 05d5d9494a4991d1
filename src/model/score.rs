//! All-position scoring: per-token surprisal (-log p) and attention weights, for the
//! importance scorers. Long sequences are scored in overlapping windows of the context size.

use super::decoder::{Decoder, ForwardArgs, Logits};
use candle_core::{Result, Tensor};

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
            let nll = picked_nll(&logits, &chunk[1..])?;
            for (k, v) in nll.into_iter().enumerate() {
                let t = start + k + 1;
                if t >= first_new {
                    out[t] = Some(v);
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

/// `-log softmax(logits[t])[targets[t]]` for each row `t < targets.len()`: the trainer's
/// token cross-entropy ([`super::xent`]), which on the CPU reads each row of logits once
/// (its log-sum-exp and the target's logit) instead of materialising the `rows x vocab`
/// log-softmax and gathering from it.
pub fn picked_nll(logits: &Tensor, targets: &[u32]) -> Result<Vec<f32>> {
    let logits = logits.narrow(0, 0, targets.len())?;
    super::xent::token_cross_entropy(&logits, targets)?.to_vec1::<f32>()
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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, D};

    #[test]
    fn picked_nll_matches_log_softmax_and_gather() {
        let (rows, vocab) = (37, 1000);
        // Deterministic logits with a wide range (large values test the max shift); one
        // row more than targets, as for a window whose last logit predicts nothing.
        let data: Vec<f32> = (0..(rows + 1) * vocab)
            .map(|i| ((i * 7919 % 10007) as f32 / 10007.0 - 0.5) * 60.0)
            .collect();
        let logits = Tensor::from_vec(data, (rows + 1, vocab), &Device::Cpu).unwrap();
        let targets: Vec<u32> = (0..rows as u32).map(|t| t * 131 % vocab as u32).collect();
        let got = picked_nll(&logits, &targets).unwrap();
        let logp = candle_nn::ops::log_softmax(&logits, D::Minus1).unwrap();
        let want = logp.to_vec2::<f32>().unwrap();
        assert_eq!(got.len(), rows);
        for (t, (g, &id)) in got.iter().zip(&targets).enumerate() {
            let w = -want[t][id as usize];
            assert!(
                (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                "row {t}: {g} vs {w}"
            );
        }
        let err = picked_nll(&logits, &[vocab as u32])
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside the vocabulary"), "{err}");
    }
}
