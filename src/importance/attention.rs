//! The `attention` scorer: how much attention each token receives from the tokens after it.
//!
//! A token that later tokens keep looking at is one the model uses; one nobody attends
//! to can go. From one forward pass with attention probabilities `A[l][h][i][j]` (layer
//! `l` of `L`, head `h` of `H`, query `i`, key `j`, over a sequence of `n` tokens):
//!
//! ```text
//! score(j) = 1 / (L * H * (n - 1 - j)) * sum_l sum_h sum_{i = j+1}^{n-1} A[l][h][i][j]
//! ```
//!
//! the attention token `j` receives from LATER queries, averaged over layers and heads,
//! and divided by the number of later queries `n - 1 - j`, so that it is a mean
//! probability per query. Without that division the first tokens would win just by
//! being visible to more queries. A token's attention to itself is left out: it says
//! nothing about whether the rest of the text uses it. The last token has no later
//! query and gets the mean of the others. Scores lie in [0, 1]. (Attention sinks, the
//! huge mass many models put on the very first token, are not corrected: that token
//! is usually BOS or part of the context, not the text.)
//!
//! With a context (question) first, queries in the context do not count for text keys
//! (they come before them) and the text's tokens are scored in the full sequence. A
//! sequence longer than the window (the model's context, at most [`MAX_WINDOW`] tokens,
//! because attention maps take `L * H * n^2` floats) is split into consecutive windows
//! scored apart; that is logged. Other tokenizers are handled as in `surprisal`
//! (mean over a character's byte tokens, then projection onto the target tokens).

use std::sync::Arc;

use candle_core::{DType, Device, Tensor};

use super::causal::{backend, causal_scorer, encode, group_scores, CausalBase};
use super::projection::project_scores;
use super::scorer::{check_input, Importance, ScoreError, Scorer};
use super::span::TokenSpan;
use crate::model::{score, LoadedModel};

/// Longest window scored in one pass (memory: `L * H * n^2` attention floats).
pub const MAX_WINDOW: usize = 2048;

/// Attention mass received, per token. Cheap to clone (the model is shared).
#[derive(Clone)]
pub struct AttentionScorer {
    base: CausalBase,
}

causal_scorer!(AttentionScorer, "attention");

impl AttentionScorer {
    pub fn new(model: Arc<LoadedModel>) -> Self {
        Self {
            base: CausalBase::new(model),
        }
    }

    /// The module doc's score for every token of `ids`, window by window.
    pub fn token_attention(&self, ids: &[u32]) -> Result<Vec<f32>, ScoreError> {
        let name = self.name();
        let window = self
            .base
            .model
            .decoder
            .cfg
            .max_position_embeddings
            .clamp(2, MAX_WINDOW);
        if ids.len() > window {
            tracing::info!(
                scorer = %name,
                tokens = ids.len(),
                window,
                "text longer than the attention window: scoring it in consecutive windows"
            );
        }
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(window) {
            let maps =
                score::attention_maps(&self.base.model.decoder, chunk).map_err(backend(&name))?;
            out.extend(received_attention(&maps).map_err(backend(&name))?);
        }
        Ok(out)
    }

    fn score_with(
        &self,
        context: Option<&str>,
        text: &str,
        tokens: &[TokenSpan],
    ) -> Result<Importance, ScoreError> {
        check_input(text, tokens)?;
        let name = self.name();
        let enc = encode(&self.base.model, &name, context, text)?;
        let all = self.token_attention(&enc.ids)?;
        let spans = group_scores(&enc.groups, &all[enc.text_start..], |g| {
            g.iter().sum::<f32>() / g.len() as f32
        });
        let scores = project_scores(&spans, tokens);
        Importance::new(name, text, tokens, scores, &self.base.policy)
    }
}

/// The module doc's formula for one window, from per-layer maps `[H, n, n]` (any float
/// dtype). Public so that it can be checked by hand.
pub fn received_attention(maps: &[Tensor]) -> candle_core::Result<Vec<f32>> {
    let Some(first) = maps.first() else {
        candle_core::bail!("no attention maps (a model without layers?)");
    };
    let (heads, n, n2) = first.dims3()?;
    if n != n2 {
        candle_core::bail!("attention map is {n}x{n2}, expected square");
    }
    // later[i][j] = 1 when query i comes after key j.
    let later: Vec<f32> = (0..n)
        .flat_map(|i| (0..n).map(move |j| f32::from(u8::from(i > j))))
        .collect();
    let later = Tensor::from_vec(later, (n, n), first.device())?;
    let mut received = Tensor::zeros(n, DType::F32, first.device())?;
    for m in maps {
        let per_key = m.to_dtype(DType::F32)?.sum(0)?.mul(&later)?.sum(0)?;
        received = (received + per_key)?;
    }
    let received = received.to_device(&Device::Cpu)?.to_vec1::<f32>()?;
    let denom = (maps.len() * heads) as f32;
    let mut scores: Vec<Option<f32>> = received
        .iter()
        .enumerate()
        .map(|(j, r)| (j + 1 < n).then(|| r / (denom * (n - 1 - j) as f32)))
        .collect();
    if n == 1 {
        scores[0] = Some(0.0);
    }
    Ok(super::causal::fill_with_mean(&scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_three_tokens() {
        // One layer, two heads, causal rows summing to 1.
        let h0 = [[1.0, 0.0, 0.0], [0.6, 0.4, 0.0], [0.2, 0.3, 0.5]];
        let h1 = [[1.0, 0.0, 0.0], [0.2, 0.8, 0.0], [0.4, 0.4, 0.2]];
        let flat: Vec<f32> = h0.iter().chain(&h1).flatten().copied().collect();
        let maps = [Tensor::from_vec(flat, (2, 3, 3), &Device::Cpu).unwrap()];
        let s = received_attention(&maps).unwrap();
        // key 0: later queries 1 and 2 -> (0.6 + 0.2 + 0.2 + 0.4) / (2 heads * 2 queries)
        assert!((s[0] - 1.4 / 4.0).abs() < 1e-6, "{s:?}");
        // key 1: later query 2 -> (0.3 + 0.4) / (2 * 1)
        assert!((s[1] - 0.35).abs() < 1e-6, "{s:?}");
        // key 2: no later query -> mean of the others
        assert!((s[2] - (0.35 + 0.35) / 2.0).abs() < 1e-6, "{s:?}");
    }

    #[test]
    fn layers_are_averaged() {
        let a = Tensor::from_vec(vec![1f32, 0.0, 1.0, 0.0], (1, 2, 2), &Device::Cpu).unwrap();
        let b = Tensor::from_vec(vec![1f32, 0.0, 0.0, 1.0], (1, 2, 2), &Device::Cpu).unwrap();
        let s = received_attention(&[a, b]).unwrap();
        assert!((s[0] - 0.5).abs() < 1e-6, "{s:?}");
    }
}
