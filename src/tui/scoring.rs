//! Tokenizing and scoring a text for the panes (`Effect::Analyze`): target tokens from
//! the model's tokenizer (or the demo tokenizer when no model is loaded) and a scorer
//! built from its `--scorer` spec. Run by the worker thread, and inline by tests.

use std::sync::Arc;

use crate::importance::build::ModelLoader;
use crate::importance::{parse_scorer_spec, RulesScorer, ScoreError, Scorer, TokenSpan};
use crate::model::{ChatTokenizer, LoadOptions, LoadedModel, ModelError};

use super::action::Action;

/// The demo model's tokenizer, used to count tokens when no model is loaded.
pub fn fallback_tokenizer() -> Result<ChatTokenizer, String> {
    let json = include_bytes!("../../assets/demo/tokenizer.json");
    let cfg: serde_json::Value =
        serde_json::from_slice(include_bytes!("../../assets/demo/tokenizer_config.json"))
            .map_err(|e| format!("demo tokenizer_config.json: {e}"))?;
    ChatTokenizer::from_json(json, &cfg, None, &[], "demo tokenizer").map_err(|e| e.to_string())
}

/// Target tokens of `text` as spans that always validate (the scorers' own grouping of
/// byte pieces of one character).
pub fn target_tokens(tok: &ChatTokenizer, text: &str) -> Result<Vec<TokenSpan>, String> {
    crate::importance::tokens::target_tokens(tok, text).map_err(|e| e.to_string())
}

/// Serves the model the worker already holds to the scorers (no second copy in memory).
struct Loaded<'a> {
    model: &'a Arc<LoadedModel>,
    options: LoadOptions,
}

impl ModelLoader for Loaded<'_> {
    fn default_model(&self) -> &str {
        &self.model.name
    }

    fn load_causal(&self, spec: &str) -> Result<Arc<LoadedModel>, ModelError> {
        if spec == self.model.name {
            return Ok(self.model.clone());
        }
        Ok(Arc::new(crate::model::load(&spec.parse()?, &self.options)?))
    }

    fn options(&self) -> &LoadOptions {
        &self.options
    }
}

/// The scorer for `spec`: `rules` always; model-based scorers use the loaded model.
pub fn build_scorer(
    spec: &str,
    model: Option<&Arc<LoadedModel>>,
) -> Result<Box<dyn Scorer>, ScoreError> {
    let (name, _) = parse_scorer_spec(spec)?;
    match (name.as_str(), model) {
        ("rules", _) => Ok(Box::new(RulesScorer::new())),
        (_, None) => Err(ScoreError::Backend {
            scorer: spec.to_string(),
            message: "needs a loaded model".into(),
        }),
        (_, Some(m)) => {
            let loader = Loaded {
                model: m,
                options: LoadOptions {
                    device: m.decoder.device().clone(),
                    dtype: m.decoder.dtype(),
                    ..Default::default()
                },
            };
            crate::importance::build::build_scorer(spec, &loader)
        }
    }
}

/// Keeps the final-answer line whole at every ratio: TokenSkip compresses the reasoning and
/// always appends `The final answer is: $\boxed{N}$`, so the panes should never prune it.
pub fn force_answer_line(
    text: &str,
    tokens: &[TokenSpan],
    importance: &mut crate::importance::Importance,
) {
    let cut = crate::pipeline::prune::run::reasoning(text).len();
    if cut == text.len() {
        return;
    }
    for (t, f) in tokens.iter().zip(importance.forced.iter_mut()) {
        if t.start >= cut && !text[t.start..t.end].trim().is_empty() && f.is_none() {
            *f = Some(crate::importance::ForceReason::Answer);
        }
    }
}

/// Each target token's log-probability under `m` (the CoT on its own, so the first
/// token has none). A failed forward pass leaves the inspector without it.
pub fn logprobs(m: &LoadedModel, tokens: &[TokenSpan]) -> Option<Vec<Option<f32>>> {
    let ids: Vec<u32> = tokens.iter().map(|t| t.id).collect();
    match crate::model::score::token_nll(&m.decoder, &ids) {
        Ok(nll) => Some(nll.into_iter().map(|x| x.map(|v| -v)).collect()),
        Err(e) => {
            tracing::warn!("token log-probs failed: {e}");
            None
        }
    }
}

/// Tokenizes and scores `text` (the synchronous part of `Effect::Analyze`).
pub fn analyze(
    tok: &ChatTokenizer,
    model: Option<&Arc<LoadedModel>>,
    req: u64,
    text: &str,
    scorer: &str,
) -> Action {
    let result = target_tokens(tok, text).and_then(|tokens| {
        let s = build_scorer(scorer, model).map_err(|e| e.to_string())?;
        let mut importance = s.score(text, &tokens).map_err(|e| e.to_string())?;
        force_answer_line(text, &tokens, &mut importance);
        Ok((tokens, importance))
    });
    match result {
        Ok((tokens, importance)) => Action::Analyzed {
            req,
            logprobs: model.and_then(|m| logprobs(m, &tokens)),
            tokens,
            importance,
        },
        Err(message) => Action::AnalysisFailed { req, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_tokens_tile_the_text() {
        let tok = fallback_tokenizer().unwrap();
        let text = "Tom has 48 apples.\n\nHe eats 2 → 46 😀 left.";
        let spans = target_tokens(&tok, text).unwrap();
        crate::importance::validate_spans(text, &spans).unwrap();
        assert!(spans.len() > 10);
    }

    /// With the embedded demo model (when this build has it), every token but the
    /// first gets a finite, non-positive log-prob in the analysis.
    #[test]
    fn analysis_with_a_model_carries_log_probs() {
        let m = match crate::model::load(&crate::model::ModelSpec::Demo, &LoadOptions::default()) {
            Ok(m) => Arc::new(m),
            Err(e) => {
                eprintln!("skipped: {e}");
                return;
            }
        };
        let a = analyze(
            &m.tokenizer,
            Some(&m),
            1,
            "Tom has 3 apples, so 3 + 4 = 7.",
            "rules",
        );
        let Action::Analyzed {
            tokens, logprobs, ..
        } = a
        else {
            panic!("{a:?}");
        };
        let lp = logprobs.unwrap();
        assert_eq!(lp.len(), tokens.len());
        assert_eq!(lp[0], None);
        assert!(lp[1..]
            .iter()
            .all(|x| x.is_some_and(|v| v.is_finite() && v <= 0.0)));
    }

    #[test]
    fn the_answer_line_survives_any_ratio() {
        let tok = fallback_tokenizer().unwrap();
        let text = "So we add: 2 + 3 = 5.\n\nThe final answer is: $\\boxed{5}$";
        let Action::Analyzed {
            tokens, importance, ..
        } = analyze(&tok, None, 1, text, "rules")
        else {
            panic!("analysis failed");
        };
        let c = crate::compress::Compressor::new(
            text,
            &importance,
            &tokens,
            crate::compress::Granularity::Token,
            Default::default(),
        )
        .unwrap();
        let out = c.compress(0.1).unwrap().text;
        assert!(
            out.ends_with("The final answer is: $\\boxed{5}$"),
            "{out:?}"
        );
    }

    #[test]
    fn unknown_and_model_scorers_fail_clearly() {
        assert!(build_scorer("rules", None).is_ok());
        let e = build_scorer("surprisal:demo", None)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("needs a loaded model"), "{e}");
        let e = build_scorer("magic", None).err().unwrap().to_string();
        assert!(e.contains("unknown scorer"), "{e}");
    }
}
