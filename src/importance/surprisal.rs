//! The `surprisal` scorer: self-information `-log p(token | everything before it)` under a
//! causal model, as Selective Context does (TokenSkip's ablation scorer).
//!
//! A token the model could not predict carries information; one it predicts with
//! certainty can go. Scores are in nats, unnormalised (only the order matters to the
//! compressor).
//!
//! * **Context.** By default the text (the CoT) is scored as plain text: only the BOS,
//!   if the model has one, precedes it. [`SurprisalScorer::with_prefix`] (or
//!   `score_in_context`) puts a context first, typically the question or the whole
//!   prompt: its tokens are read, not scored, and the CoT's first tokens are then
//!   judged against the question rather than against nothing.
//! * **First token.** With nothing before it a token has no surprisal; it gets the mean
//!   of the other tokens (see `causal::fill_with_mean`).
//! * **Long texts.** One forward pass per window: `model::score::token_nll` runs texts
//!   longer than the context window in windows that overlap by half and logs it.
//! * **Other tokenizers.** The scorer tokenizes with its own model; a character its
//!   tokenizer splits into byte tokens is one span whose score is the SUM of their
//!   surprisals (the information of the character), and the spans are projected onto
//!   the target tokens by byte offsets. With the target model's own tokenizer that
//!   projection is the identity.

use std::sync::Arc;

use super::causal::{backend, causal_scorer, encode, fill_with_mean, group_scores, CausalBase};
use super::projection::project_scores;
use super::scorer::{check_input, Importance, ScoreError, Scorer};
use super::span::TokenSpan;
use crate::model::{score, LoadedModel};

/// `-log p` of each token under a causal model. Cheap to clone (the model is shared).
#[derive(Clone)]
pub struct SurprisalScorer {
    base: CausalBase,
}

causal_scorer!(SurprisalScorer, "surprisal");

impl SurprisalScorer {
    pub fn new(model: Arc<LoadedModel>) -> Self {
        Self {
            base: CausalBase::new(model),
        }
    }

    /// Surprisal of `ids[scored_from..]` given everything before, one value per token.
    /// A token at position 0 has no context and gets the mean of the others.
    pub fn token_surprisal(&self, ids: &[u32], scored_from: usize) -> Result<Vec<f32>, ScoreError> {
        let name = self.name();
        let nll = score::token_nll(&self.base.model.decoder, ids).map_err(backend(&name))?;
        Ok(fill_with_mean(&nll[scored_from.min(nll.len())..]))
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
        let started = std::time::Instant::now();
        let s = self.token_surprisal(&enc.ids, enc.text_start)?;
        tracing::debug!(
            scorer = %name,
            tokens = enc.ids.len(),
            secs = started.elapsed().as_secs_f64(),
            "surprisal scored"
        );
        let spans = group_scores(&enc.groups, &s, |g| g.iter().sum());
        let scores = project_scores(&spans, tokens);
        Importance::new(name, text, tokens, scores, &self.base.policy)
    }
}
