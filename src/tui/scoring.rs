//! Tokenizing and scoring a text for the panes (`Effect::Analyze`): target tokens from
//! the model's tokenizer (or the demo tokenizer when no model is loaded) and a scorer
//! built from its `--scorer` spec. Run by the worker thread, and inline by tests.

use std::sync::Arc;

use crate::importance::{parse_scorer_spec, RulesScorer, ScoreError, Scorer, TokenSpan};
use crate::model::{ChatTokenizer, LoadedModel};

use super::action::Action;

/// The demo model's tokenizer, used to count tokens when no model is loaded.
pub fn fallback_tokenizer() -> Result<ChatTokenizer, String> {
    let json = include_bytes!("../../assets/demo/tokenizer.json");
    let cfg: serde_json::Value =
        serde_json::from_slice(include_bytes!("../../assets/demo/tokenizer_config.json"))
            .map_err(|e| format!("demo tokenizer_config.json: {e}"))?;
    ChatTokenizer::from_json(json, &cfg, None, &[], "demo tokenizer").map_err(|e| e.to_string())
}

/// Target tokens of `text` as spans: empty tokens are skipped and a token overlapping
/// the previous one (byte pieces of one character) is merged into it, snapped to
/// character boundaries, so the spans always validate.
pub fn target_tokens(tok: &ChatTokenizer, text: &str) -> Result<Vec<TokenSpan>, String> {
    let offsets = tok.encode_with_offsets(text).map_err(|e| e.to_string())?;
    let mut spans: Vec<TokenSpan> = Vec::with_capacity(offsets.len());
    for (id, s, e) in offsets {
        let mut s = s.min(text.len());
        let mut e = e.min(text.len());
        while s > 0 && !text.is_char_boundary(s) {
            s -= 1;
        }
        while e < text.len() && !text.is_char_boundary(e) {
            e += 1;
        }
        if s >= e {
            continue;
        }
        match spans.last_mut() {
            Some(last) if s < last.end => last.end = last.end.max(e),
            _ => spans.push(TokenSpan::new(id, s, e)),
        }
    }
    Ok(spans)
}

/// The scorer for `spec`. Model-based scorers plug in here as they land.
pub fn build_scorer(
    spec: &str,
    model: Option<&Arc<LoadedModel>>,
) -> Result<Box<dyn Scorer>, ScoreError> {
    let (name, _model_name) = parse_scorer_spec(spec)?;
    match name.as_str() {
        "rules" => Ok(Box::new(RulesScorer::new())),
        _ if model.is_none() => Err(ScoreError::Backend {
            scorer: spec.to_string(),
            message: "needs a loaded model".into(),
        }),
        _ => Err(ScoreError::Backend {
            scorer: spec.to_string(),
            message: "not in this build yet; use rules".into(),
        }),
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
        let importance = s.score(text, &tokens).map_err(|e| e.to_string())?;
        Ok((tokens, importance))
    });
    match result {
        Ok((tokens, importance)) => Action::Analyzed {
            req,
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
