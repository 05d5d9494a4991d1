//! What every importance scorer shares: the `Scorer` trait, its result `Importance`,
//! forced tokens and the errors.
//!
//! Scores live on the TARGET model's tokens (see `span`), so that TokenSkip's ratio is
//! counted where it matters; a scorer with its own tokenizer projects onto them with
//! `projection::project_scores`. Higher score = more important. Scales differ between
//! scorers (probabilities, surprisal in nats, attention mass): only the order within one
//! CoT matters to the compressor, so no scorer has to normalise.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::span::{validate_spans, SpanError, TokenSpan};
use super::words::{map_words, Word};

/// Scorer names accepted by `--scorer NAME[:MODEL]`.
pub const KNOWN_SCORERS: [&str; 5] = [
    "rules",
    "surprisal",
    "attention",
    "counterfactual",
    "llmlingua2",
];

/// Why a token is kept whatever its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForceReason {
    /// The token holds a digit: TokenSkip (after LLMLingua-2) never drops numbers.
    Digit,
    /// The token is one of the policy's force tokens (TokenSkip forces `Step` and `:` for
    /// LLaMA).
    ForcedToken,
    /// The token holds a line break: keeping them keeps the CoT's line structure, which
    /// the reference code loses.
    Newline,
    /// The token is part of the final-answer line (`The final answer is: $\boxed{..}$`),
    /// which the counterfactual scorer measures everything against, so it never goes.
    Answer,
}

/// Which tokens a scorer forces. Shared by all scorers so that they agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForcePolicy {
    pub digits: bool,
    pub newlines: bool,
    /// Token texts (compared with surrounding whitespace trimmed) that are always kept.
    pub tokens: Vec<String>,
}

impl Default for ForcePolicy {
    /// Digits and line breaks, no force tokens.
    fn default() -> Self {
        Self {
            digits: true,
            newlines: true,
            tokens: Vec::new(),
        }
    }
}

impl ForcePolicy {
    /// TokenSkip's LLaMA setting: digits, `Step` and `:` forced (plus line breaks here).
    pub fn tokenskip_llama() -> Self {
        Self {
            tokens: vec!["Step".to_string(), ":".to_string()],
            ..Self::default()
        }
    }

    /// The reason a token with this text is forced, if any. Digits win over force tokens,
    /// which win over line breaks, so the reported reason is the strongest one.
    pub fn reason(&self, piece: &str) -> Option<ForceReason> {
        if self.digits && piece.chars().any(|c| c.is_ascii_digit()) {
            Some(ForceReason::Digit)
        } else if self.tokens.iter().any(|t| t == piece.trim()) {
            Some(ForceReason::ForcedToken)
        } else if self.newlines && piece.contains('\n') {
            Some(ForceReason::Newline)
        } else {
            None
        }
    }
}

/// The result of scoring one text: everything the compressor and the views need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    /// The scorer that produced this, as `--scorer` spells it (`surprisal:demo`).
    pub scorer: String,
    /// One score per target token; higher = more important.
    pub scores: Vec<f32>,
    /// One entry per target token: why it is always kept, or `None`.
    pub forced: Vec<Option<ForceReason>>,
    /// The words of the text (see `words`), each with its token range.
    pub words: Vec<Word>,
    /// Mean score of each word's tokens, as LLMLingua-2 averages subwords into words.
    pub word_scores: Vec<f32>,
}

impl Importance {
    /// Validates the tokens and scores, applies `policy` and computes the words and their
    /// scores. Every scorer builds its result through here.
    pub fn new(
        scorer: impl Into<String>,
        text: &str,
        tokens: &[TokenSpan],
        scores: Vec<f32>,
        policy: &ForcePolicy,
    ) -> Result<Self, ScoreError> {
        check_input(text, tokens)?;
        if scores.len() != tokens.len() {
            return Err(ScoreError::ScoreCount {
                tokens: tokens.len(),
                scores: scores.len(),
            });
        }
        if let Some(index) = scores.iter().position(|s| !s.is_finite()) {
            return Err(ScoreError::NonFinite {
                index,
                value: scores[index],
            });
        }
        let forced = tokens.iter().map(|t| policy.reason(t.text(text))).collect();
        let words = map_words(text, tokens).words;
        let word_scores = words
            .iter()
            .map(|w| {
                let s = &scores[w.tokens.clone()];
                s.iter().sum::<f32>() / s.len() as f32
            })
            .collect();
        Ok(Self {
            scorer: scorer.into(),
            scores,
            forced,
            words,
            word_scores,
        })
    }

    /// Number of target tokens.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
}

/// Checks what every scorer needs before doing any work: some text, and tokens that fit it.
pub fn check_input(text: &str, tokens: &[TokenSpan]) -> Result<(), ScoreError> {
    if text.trim().is_empty() {
        return Err(ScoreError::EmptyText);
    }
    if tokens.is_empty() {
        return Err(ScoreError::NoTokens);
    }
    validate_spans(text, tokens)?;
    Ok(())
}

/// Why scoring failed. Messages say what to do about it.
#[derive(Debug, Error)]
pub enum ScoreError {
    #[error("nothing to score: the text is empty or only whitespace")]
    EmptyText,
    #[error("nothing to score: the text has no target tokens (was it tokenized?)")]
    NoTokens,
    #[error("bad target tokens: {0}")]
    Span(#[from] SpanError),
    #[error("scorer returned {scores} scores for {tokens} target tokens")]
    ScoreCount { tokens: usize, scores: usize },
    #[error("scorer returned a non-finite score ({value}) for token {index}")]
    NonFinite { index: usize, value: f32 },
    #[error("unknown scorer {name:?} (known: {})", KNOWN_SCORERS.join(", "))]
    UnknownScorer { name: String },
    #[error(
        "bad scorer spec {spec:?}: {reason} (expected NAME or NAME:MODEL, e.g. surprisal:demo)"
    )]
    BadSpec { spec: String, reason: String },
    #[error("scorer {scorer}: model {model:?} not found ({detail})")]
    ModelMissing {
        scorer: String,
        model: String,
        detail: String,
    },
    #[error("scorer {scorer} failed: {message}")]
    Backend { scorer: String, message: String },
    #[error("cannot tokenize the text for scorer {scorer}: {message}")]
    Tokenizer { scorer: String, message: String },
    #[error(
        "scorer {scorer}: no answer to condition on: the text has no final line like \
         `The final answer is: $\\boxed{{42}}$` and no number"
    )]
    NoAnswer { scorer: String },
}

/// Scores the target tokens of a text. Implemented by `rules` here and by the model-based
/// scorers (surprisal, attention, counterfactual, llmlingua2).
///
/// `Send + Sync` so that one scorer can live in the model worker thread and be shared by
/// job threads. A scorer with its own tokenizer scores its own spans, then maps them onto
/// `tokens` with `project_scores` and builds the result with `Importance::new`.
pub trait Scorer: Send + Sync {
    /// The name as `--scorer` spells it, model included (`surprisal:demo`).
    fn name(&self) -> String;
    /// Scores `tokens` (target-model tokens of `text`, in order).
    fn score(&self, text: &str, tokens: &[TokenSpan]) -> Result<Importance, ScoreError>;

    /// Scores `text` as the continuation of `context` (the question, or a whole prompt):
    /// causal scorers read the context but score only `text`. Scorers that look at the
    /// text alone (rules, LLMLingua-2's classifier) ignore it, which is this default.
    fn score_in_context(
        &self,
        context: &str,
        text: &str,
        tokens: &[TokenSpan],
    ) -> Result<Importance, ScoreError> {
        let _ = context;
        self.score(text, tokens)
    }
}

/// Splits `--scorer NAME[:MODEL]` into the scorer name and its model.
///
/// Only the first `:` splits, so models may hold colons (`llmlingua2:C:\models\x`).
/// Names are case-insensitive and returned in lower case. `rules` takes no model.
pub fn parse_scorer_spec(spec: &str) -> Result<(String, Option<String>), ScoreError> {
    let bad = |reason: &str| ScoreError::BadSpec {
        spec: spec.to_string(),
        reason: reason.to_string(),
    };
    let (name, model) = match spec.trim().split_once(':') {
        Some((name, model)) => (name.trim(), Some(model.trim())),
        None => (spec.trim(), None),
    };
    if name.is_empty() {
        return Err(bad("the scorer name is empty"));
    }
    let name = name.to_ascii_lowercase();
    if !KNOWN_SCORERS.contains(&name.as_str()) {
        return Err(ScoreError::UnknownScorer { name });
    }
    match model {
        Some("") => Err(bad("the model after ':' is empty")),
        Some(_) if name == "rules" => Err(bad("the rules scorer takes no model")),
        _ => Ok((name, model.map(str::to_string))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::importance::testkit::toy_tokenize;

    #[test]
    fn spec_with_and_without_model() {
        let (name, model) = parse_scorer_spec("surprisal:demo").unwrap();
        assert_eq!(
            (name.as_str(), model.as_deref()),
            ("surprisal", Some("demo"))
        );
        let (name, model) = parse_scorer_spec(" Rules ").unwrap();
        assert_eq!((name.as_str(), model), ("rules", None));
        let (_, model) = parse_scorer_spec("llmlingua2:C:\\models\\x").unwrap();
        assert_eq!(model.as_deref(), Some("C:\\models\\x"));
        let (_, model) = parse_scorer_spec("surprisal:Qwen/Qwen2.5-7B-Instruct").unwrap();
        assert_eq!(model.as_deref(), Some("Qwen/Qwen2.5-7B-Instruct"));
    }

    #[test]
    fn unknown_scorer_lists_the_known_ones() {
        let err = parse_scorer_spec("perplexity:demo").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown scorer \"perplexity\" (known: rules, surprisal, attention, \
             counterfactual, llmlingua2)"
        );
    }

    #[test]
    fn malformed_specs_are_rejected() {
        for spec in ["", ":demo", "surprisal:", "rules:demo"] {
            let err = parse_scorer_spec(spec).unwrap_err();
            assert!(matches!(err, ScoreError::BadSpec { .. }), "{spec:?}: {err}");
        }
    }

    #[test]
    fn force_policy_reasons() {
        let p = ForcePolicy::tokenskip_llama();
        assert_eq!(p.reason(" 4"), Some(ForceReason::Digit));
        assert_eq!(p.reason(" Step"), Some(ForceReason::ForcedToken));
        assert_eq!(p.reason(":"), Some(ForceReason::ForcedToken));
        assert_eq!(p.reason(".\n\n"), Some(ForceReason::Newline));
        assert_eq!(p.reason("3\n"), Some(ForceReason::Digit));
        assert_eq!(p.reason(" steps"), None);
        let off = ForcePolicy {
            digits: false,
            newlines: false,
            tokens: vec![],
        };
        assert_eq!(off.reason("4\n"), None);
    }

    #[test]
    fn importance_averages_tokens_into_words() {
        let text = "We have 48 apples";
        let tokens = toy_tokenize(text); // "We", " have", " ", "4", "8", " apples"
        let scores = vec![0.1, 0.2, 0.3, 1.0, 0.5, 0.6];
        let imp = Importance::new("rules", text, &tokens, scores, &ForcePolicy::default()).unwrap();
        assert_eq!(imp.word_scores, vec![0.1, 0.2, 0.75, 0.6]);
        assert_eq!(
            imp.forced,
            vec![
                None,
                None,
                None,
                Some(ForceReason::Digit),
                Some(ForceReason::Digit),
                None
            ]
        );
    }

    #[test]
    fn bad_scores_and_inputs_are_errors() {
        let text = "a b";
        let tokens = toy_tokenize(text);
        let p = ForcePolicy::default();
        assert!(matches!(
            Importance::new("x", text, &tokens, vec![0.0], &p),
            Err(ScoreError::ScoreCount {
                tokens: 2,
                scores: 1
            })
        ));
        assert!(matches!(
            Importance::new("x", text, &tokens, vec![0.0, f32::NAN], &p),
            Err(ScoreError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            Importance::new("x", " \n ", &[], vec![], &p),
            Err(ScoreError::EmptyText)
        ));
        assert!(matches!(
            Importance::new("x", text, &[], vec![], &p),
            Err(ScoreError::NoTokens)
        ));
        let overlapping = [TokenSpan::new(0, 0, 2), TokenSpan::new(1, 1, 3)];
        let err = Importance::new("x", text, &overlapping, vec![0.0, 0.0], &p).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("bad target tokens: token 1 starts"),
            "{err}"
        );
    }
}
