//! Building a scorer from `--scorer NAME[:MODEL]`.
//!
//! The causal scorers share models with the rest of the program (the target model is
//! often the scorer's model too), so models come from a [`ModelLoader`] that the caller
//! owns; [`CachedLoader`] loads each spec once. Without `:MODEL` a causal scorer uses
//! the loader's default model (the CLI's `--model`, i.e. the target model) and
//! `llmlingua2` uses [`llmlingua2::DEFAULT_MODEL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::attention::AttentionScorer;
use super::counterfactual::CounterfactualScorer;
use super::llmlingua2::{self, Llmlingua2Scorer};
use super::rules::RulesScorer;
use super::scorer::{parse_scorer_spec, ForcePolicy, ScoreError, Scorer};
use super::surprisal::SurprisalScorer;
use crate::model::{self, LoadOptions, LoadedModel, ModelError, ModelSpec};

/// Where scorers get their models from.
pub trait ModelLoader {
    /// The causal model used when a spec names none (`surprisal` alone).
    fn default_model(&self) -> &str;
    /// The causal model `spec` names: `demo`, a directory, a `.gguf` file or a hub id.
    fn load_causal(&self, spec: &str) -> Result<Arc<LoadedModel>, ModelError>;
    /// Device and dtype for models the loader does not cache (the LLMLingua-2 classifier).
    fn options(&self) -> &LoadOptions;
}

/// A loader that loads each spec once, with one set of `LoadOptions`.
pub struct CachedLoader {
    default: String,
    options: LoadOptions,
    cache: Mutex<HashMap<String, Arc<LoadedModel>>>,
}

impl CachedLoader {
    pub fn new(default_model: impl Into<String>, options: LoadOptions) -> Self {
        Self {
            default: default_model.into(),
            options,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl CachedLoader {
    /// Registers a model the caller already loaded under `spec`, so scorers naming it (or
    /// naming none, when it is the default) share it instead of loading it a second time.
    pub fn with_loaded(self, spec: impl Into<String>, model: Arc<LoadedModel>) -> Self {
        if let Ok(mut c) = self.cache.lock() {
            c.insert(spec.into(), model);
        }
        self
    }
}

impl ModelLoader for CachedLoader {
    fn default_model(&self) -> &str {
        &self.default
    }

    fn load_causal(&self, spec: &str) -> Result<Arc<LoadedModel>, ModelError> {
        if let Some(m) = self.cache.lock().ok().and_then(|c| c.get(spec).cloned()) {
            return Ok(m);
        }
        let started = std::time::Instant::now();
        let m = Arc::new(model::load(&spec.parse::<ModelSpec>()?, &self.options)?);
        tracing::info!(
            model = spec,
            secs = started.elapsed().as_secs_f64(),
            "model loaded"
        );
        if let Ok(mut c) = self.cache.lock() {
            c.insert(spec.to_string(), m.clone());
        }
        Ok(m)
    }

    fn options(&self) -> &LoadOptions {
        &self.options
    }
}

/// Builds the scorer `spec` names (see the module doc), loading its model, with the
/// default force policy (digits and line breaks).
pub fn build_scorer(spec: &str, loader: &dyn ModelLoader) -> Result<Box<dyn Scorer>, ScoreError> {
    build_scorer_with_policy(spec, loader, ForcePolicy::default())
}

/// `build_scorer` with the tokens the scorer always keeps set by `policy` (e.g. `--force-tokens`).
pub fn build_scorer_with_policy(
    spec: &str,
    loader: &dyn ModelLoader,
    policy: ForcePolicy,
) -> Result<Box<dyn Scorer>, ScoreError> {
    let (name, model) = parse_scorer_spec(spec)?;
    if name == "rules" {
        return Ok(Box::new(RulesScorer::with_policy(policy)));
    }
    if name == "llmlingua2" {
        let model = model.as_deref().unwrap_or(llmlingua2::DEFAULT_MODEL);
        return Ok(Box::new(
            Llmlingua2Scorer::load(model, loader.options())?.with_policy(policy),
        ));
    }
    let model = model.as_deref().unwrap_or(loader.default_model());
    let m = loader
        .load_causal(model)
        .map_err(|e| model_error(&name, model, e))?;
    Ok(match name.as_str() {
        "surprisal" => Box::new(SurprisalScorer::new(m).with_policy(policy)),
        "attention" => Box::new(AttentionScorer::new(m).with_policy(policy)),
        "counterfactual" => Box::new(CounterfactualScorer::new(m).with_policy(policy)),
        _ => return Err(ScoreError::UnknownScorer { name }),
    })
}

/// A model that is not there is `ModelMissing` (with what to do); one that is there but
/// does not load is a `Backend` failure with the loader's message.
pub fn model_error(scorer: &str, model: &str, e: ModelError) -> ScoreError {
    match e {
        ModelError::NotFound(_) => ScoreError::ModelMissing {
            scorer: scorer.to_string(),
            model: model.to_string(),
            detail: "expected `demo`, a directory with config.json, a .gguf file, or a hub id \
                     such as Qwen/Qwen2.5-7B-Instruct"
                .to_string(),
        },
        ModelError::NoDemo | ModelError::Hub(_) => ScoreError::ModelMissing {
            scorer: scorer.to_string(),
            model: model.to_string(),
            detail: e.to_string(),
        },
        e => ScoreError::Backend {
            scorer: scorer.to_string(),
            message: format!("cannot load model {model:?}: {e}"),
        },
    }
}
