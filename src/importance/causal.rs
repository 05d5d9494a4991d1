//! What the causal-model scorers (surprisal, attention, counterfactual) share: encoding a
//! text after an optional context, grouping its tokens, and turning candle errors into
//! `ScoreError`s that name the scorer.

use super::projection::ScoredSpan;
use super::scorer::ScoreError;
use super::tokens::{group_offsets, OffsetGroup};
use crate::model::LoadedModel;

/// The settings every causal scorer holds: the shared model, an optional prefix read before
/// each text but not scored (e.g. the question), and the force policy.
#[derive(Clone)]
pub(crate) struct CausalBase {
    pub model: std::sync::Arc<LoadedModel>,
    pub prefix: Option<String>,
    pub policy: super::scorer::ForcePolicy,
}

impl CausalBase {
    pub fn new(model: std::sync::Arc<LoadedModel>) -> Self {
        CausalBase {
            model,
            prefix: None,
            policy: Default::default(),
        }
    }
}

/// `with_prefix`, `with_policy` and the `Scorer` impl for a causal scorer type with a
/// `base: CausalBase` field and a `score_with(context, text, tokens)` method; `$name` is
/// the scorer's spec name (`surprisal`, ...).
macro_rules! causal_scorer {
    ($t:ty, $name:literal) => {
        impl $crate::importance::Scorer for $t {
            fn name(&self) -> String {
                format!(concat!($name, ":{}"), self.base.model.name)
            }

            fn score(
                &self,
                text: &str,
                tokens: &[$crate::importance::TokenSpan],
            ) -> Result<$crate::importance::Importance, $crate::importance::ScoreError> {
                self.score_with(self.base.prefix.as_deref(), text, tokens)
            }

            fn score_in_context(
                &self,
                context: &str,
                text: &str,
                tokens: &[$crate::importance::TokenSpan],
            ) -> Result<$crate::importance::Importance, $crate::importance::ScoreError> {
                self.score_with(Some(context), text, tokens)
            }
        }

        impl $t {
            /// Reads `prefix` (e.g. the question) before every text; its tokens are not scored.
            pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
                self.base.prefix = Some(prefix.into());
                self
            }

            /// Which tokens are always kept (digits, line breaks, ...).
            pub fn with_policy(mut self, policy: $crate::importance::ForcePolicy) -> Self {
                self.base.policy = policy;
                self
            }
        }
    };
}
pub(crate) use causal_scorer;

/// A text encoded for a causal scorer: `ids = context ids ++ text ids`.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub ids: Vec<u32>,
    /// Index in `ids` of the text's first token.
    pub text_start: usize,
    /// Byte ranges of the text's tokens, grouped (indices relative to `text_start`).
    pub groups: Vec<OffsetGroup>,
}

impl Encoded {
    /// Number of text tokens.
    pub fn text_len(&self) -> usize {
        self.ids.len() - self.text_start
    }
}

/// Encodes `text` after `context`. The context is encoded as a prompt (BOS when the model
/// wants one); with no context only the BOS (if any) precedes the text, so a model with
/// a BOS gives the first text token real context. The two parts are tokenized apart, so
/// the text's tokens are exactly what the target tokenizer makes of the text alone.
pub(crate) fn encode(
    model: &LoadedModel,
    scorer: &str,
    context: Option<&str>,
    text: &str,
) -> Result<Encoded, ScoreError> {
    let tok_err = |e: crate::model::tokenizer::TokenizerError| ScoreError::Tokenizer {
        scorer: scorer.to_string(),
        message: e.to_string(),
    };
    let mut ids = model
        .tokenizer
        .encode(context.unwrap_or(""))
        .map_err(tok_err)?;
    let text_start = ids.len();
    let offsets = model.tokenizer.encode_with_offsets(text).map_err(tok_err)?;
    let groups = group_offsets(text, &offsets);
    ids.extend(offsets.iter().map(|&(id, _, _)| id));
    if groups.is_empty() {
        return Err(ScoreError::NoTokens);
    }
    Ok(Encoded {
        ids,
        text_start,
        groups,
    })
}

/// Maps a candle error to a `ScoreError` naming the scorer.
pub(crate) fn backend(scorer: &str) -> impl Fn(candle_core::Error) -> ScoreError + '_ {
    move |e| ScoreError::Backend {
        scorer: scorer.to_string(),
        message: e.to_string(),
    }
}

/// Replaces missing values by the mean of the present ones (0 when none is present).
/// Used for the first token of a causal scorer, which has nothing to be scored against:
/// the mean ranks it in the middle, neither kept nor dropped because of where it sits.
pub(crate) fn fill_with_mean(values: &[Option<f32>]) -> Vec<f32> {
    let present: Vec<f32> = values.iter().flatten().copied().collect();
    let mean = if present.is_empty() {
        0.0
    } else {
        present.iter().sum::<f32>() / present.len() as f32
    };
    values.iter().map(|v| v.unwrap_or(mean)).collect()
}

/// One scored span per token group, the group's score being `combine` of its tokens'.
pub(crate) fn group_scores(
    groups: &[OffsetGroup],
    token_scores: &[f32],
    combine: impl Fn(&[f32]) -> f32,
) -> Vec<ScoredSpan> {
    groups
        .iter()
        .map(|g| ScoredSpan {
            start: g.start,
            end: g.end,
            score: combine(&token_scores[g.tokens.clone()]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_take_the_mean() {
        assert_eq!(
            fill_with_mean(&[None, Some(1.0), Some(3.0)]),
            vec![2.0, 1.0, 3.0]
        );
        assert_eq!(fill_with_mean(&[None]), vec![0.0]);
    }
}
