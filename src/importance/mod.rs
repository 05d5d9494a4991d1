//! importance (module root: declarations and re-exports only).

pub mod attention;
pub mod build;
mod causal;
pub mod counterfactual;
pub mod lexicon;
pub mod llmlingua2;
pub mod projection;
pub mod rules;
pub mod scorer;
pub mod span;
pub mod surprisal;
#[cfg(test)]
pub(crate) mod testkit;
pub mod tokens;
pub mod words;
pub mod xlmr;

pub use attention::AttentionScorer;
pub use build::{build_scorer, build_scorer_with_policy, CachedLoader, ModelLoader};
pub use counterfactual::{Ablation, CounterfactualScorer};
pub use llmlingua2::Llmlingua2Scorer;
pub use projection::{project_scores, ScoredSpan};
pub use rules::RulesScorer;
pub use scorer::{
    check_input, parse_scorer_spec, ForcePolicy, ForceReason, Importance, ScoreError, Scorer,
    KNOWN_SCORERS,
};
pub use span::{validate_spans, SpanError, TokenSpan};
pub use surprisal::SurprisalScorer;
pub use tokens::{group_offsets, target_tokens, OffsetGroup};
pub use words::{map_words, segment_words, Word, WordMap};
