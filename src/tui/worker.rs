//! The model worker: one thread that owns the model (and the tokenizer), loads it,
//! tokenizes and scores texts and streams generations, answering with Actions.
//!
//! Latest wins: queued requests of the same kind are skipped for the newest one, and a
//! running generation stops on `Effect::Cancel` for it or on a newer generation;
//! analysis requests that arrive meanwhile are answered between two tokens, so
//! re-scoring stays responsive while the model writes.
//! Without a model the worker still tokenizes with the demo tokenizer (shipped in
//! `assets/demo/`) and scores with `rules`, so the TUI works offline from the start.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::model::{self, ChatTokenizer, GenerateParams, LoadedModel, PromptFormat};

use super::action::Action;
use super::effect::Effect;
use super::scoring::{analyze, fallback_tokenizer};

/// Loads the model; supplied by the CLI (which owns `--model`, `--device`, ...).
pub type Loader = Box<dyn FnOnce() -> Result<LoadedModel, String> + Send>;

/// Model-based scorers offered by `s` once a model is loaded (spec `NAME:MODEL`).
pub const MODEL_SCORERS: [&str; 3] = ["surprisal", "attention", "counterfactual"];

/// Tokens generated per request at most.
pub const MAX_NEW_TOKENS: usize = 512;

pub struct Worker {
    tx: Sender<Effect>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker: it loads the model with `loader` (`None`: no model), then
    /// serves `Effect::Analyze` / `Effect::Generate`, sending results to `out`.
    pub fn spawn(
        name: String,
        loader: Option<Loader>,
        out: Sender<Action>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("model-worker".into())
            .spawn(move || run(name, loader, rx, out))?;
        Ok(Worker {
            tx,
            handle: Some(handle),
        })
    }

    /// Queues a request. A closed worker (it panicked) is logged, not fatal.
    pub fn send(&self, e: Effect) {
        if self.tx.send(e).is_err() {
            tracing::error!("model worker is gone; request dropped");
        }
    }

    /// Stops the worker after its current step. Does not wait for a long generation.
    pub fn shutdown(mut self) {
        let _ = self.tx.send(Effect::Quit);
        if let Some(h) = self.handle.take() {
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }
}

fn run(name: String, loader: Option<Loader>, rx: Receiver<Effect>, out: Sender<Action>) {
    let model: Option<Arc<LoadedModel>> = match loader.map(|l| l()) {
        Some(Ok(m)) => {
            let tps = measure_speed(&m);
            let scorers = std::iter::once("rules".to_string())
                .chain(MODEL_SCORERS.iter().map(|s| format!("{s}:{name}")))
                .collect();
            let _ = out.send(Action::ModelLoaded {
                name: name.clone(),
                decode_tokens_per_s: tps,
                scorers,
            });
            Some(Arc::new(m))
        }
        Some(Err(message)) => {
            tracing::warn!(model = %name, "model failed to load: {message}");
            let _ = out.send(Action::ModelFailed { name, message });
            None
        }
        None => None,
    };
    let tok = match (&model, fallback_tokenizer()) {
        (Some(m), _) => m.tokenizer.clone(),
        (None, Ok(t)) => t,
        (None, Err(e)) => {
            tracing::error!("no tokenizer: {e}");
            return;
        }
    };
    let mut queue: VecDeque<Effect> = VecDeque::new();
    loop {
        if queue.is_empty() {
            match rx.recv() {
                Ok(e) => queue.push_back(e),
                Err(_) => return,
            }
        }
        while let Ok(e) = rx.try_recv() {
            queue.push_back(e);
        }
        let Some(next) = pop_latest(&mut queue) else {
            continue;
        };
        match next {
            Effect::Quit => return,
            // Jobs are the runtime's; a stray Cancel has nothing to stop.
            Effect::Cancel { .. }
            | Effect::StartJob { .. }
            | Effect::CancelJob { .. }
            | Effect::LoadChart { .. }
            | Effect::SaveSession { .. } => {}
            Effect::Analyze { req, text, scorer } => {
                let _ = out.send(analyze(&tok, model.as_ref(), req, &text, &scorer));
            }
            Effect::Generate {
                req,
                question,
                gamma,
            } => {
                let Some(m) = &model else {
                    let _ = out.send(Action::GenerationFailed {
                        req,
                        message: "no model loaded".into(),
                    });
                    continue;
                };
                let job = Gen {
                    model: m,
                    tok: &tok,
                    rx: &rx,
                    out: &out,
                };
                if let Some(a) = job.run(req, &question, gamma, &mut queue) {
                    let _ = out.send(a);
                }
            }
        }
    }
}

/// The next request to serve: a `Quit` anywhere wins; cancelled generations are
/// dropped; otherwise the oldest request that no newer one of the same kind supersedes.
fn pop_latest(queue: &mut VecDeque<Effect>) -> Option<Effect> {
    if queue.iter().any(|e| matches!(e, Effect::Quit)) {
        queue.clear();
        return Some(Effect::Quit);
    }
    let cancelled: Vec<u64> = queue
        .iter()
        .filter_map(|e| match e {
            Effect::Cancel { req } => Some(*req),
            _ => None,
        })
        .collect();
    queue.retain(|e| match e {
        Effect::Cancel { .. } => false,
        Effect::Generate { req, .. } => !cancelled.contains(req),
        _ => true,
    });
    let same = |a: &Effect, b: &Effect| std::mem::discriminant(a) == std::mem::discriminant(b);
    while let Some(e) = queue.pop_front() {
        if !queue.iter().any(|later| same(&e, later)) {
            return Some(e);
        }
    }
    None
}

/// One streamed generation and what it needs from the worker.
struct Gen<'a> {
    model: &'a Arc<LoadedModel>,
    tok: &'a ChatTokenizer,
    rx: &'a Receiver<Effect>,
    out: &'a Sender<Action>,
}

impl Gen<'_> {
    /// Serves requests that arrived during generation. `true`: stop generating (this
    /// one was cancelled, a newer generation or a quit is queued, or the TUI is gone).
    fn serve_pending(&self, req: u64, queue: &mut VecDeque<Effect>) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(Effect::Analyze {
                    req: r,
                    text,
                    scorer,
                }) => {
                    let a = analyze(self.tok, Some(self.model), r, &text, &scorer);
                    let _ = self.out.send(a);
                }
                Ok(Effect::Cancel { req: r }) if r == req => return true,
                Ok(Effect::Cancel { .. }) => {}
                Ok(other) => {
                    queue.push_back(other);
                    return true;
                }
                Err(TryRecvError::Empty) => return false,
                Err(TryRecvError::Disconnected) => return true,
            }
        }
    }

    /// Streams the generation; `None` when it was stopped (no result is wanted then).
    fn run(
        &self,
        req: u64,
        question: &str,
        gamma: Option<f64>,
        queue: &mut VecDeque<Effect>,
    ) -> Option<Action> {
        let m = self.model;
        let failed = |message: String| Some(Action::GenerationFailed { req, message });
        let prompt = match m.tokenizer.tokenskip_prompt(
            question,
            gamma.unwrap_or(1.0),
            &PromptFormat::default(),
        ) {
            Ok(p) => p,
            Err(e) => return failed(e.to_string()),
        };
        let ids = match m.tokenizer.encode(&prompt) {
            Ok(ids) => ids,
            Err(e) => return failed(e.to_string()),
        };
        let params = GenerateParams {
            max_new_tokens: MAX_NEW_TOKENS,
            ..GenerateParams::default()
        };
        let mut stopped = false;
        let result = model::generate(&m.decoder, &m.tokenizer, &ids, &params, &mut |ev| {
            if self.serve_pending(req, queue) {
                stopped = true;
                return ControlFlow::Break(());
            }
            if !ev.piece.is_empty() {
                let piece = ev.piece.to_string();
                if self.out.send(Action::CotChunk { req, piece }).is_err() {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
        match result {
            _ if stopped => None,
            Ok(g) => Some(Action::CotGenerated {
                req,
                new_tokens: Some(g.ids.len()),
                decode_tokens_per_s: (g.decode_s > 0.0 && g.ids.len() > 1)
                    .then(|| g.ids.len() as f64 / g.decode_s),
                text: g.text,
            }),
            Err(e) => failed(e.to_string()),
        }
    }
}

/// Decode speed on a short greedy run, for the "time saved" estimate.
fn measure_speed(m: &LoadedModel) -> Option<f64> {
    let prompt = m
        .tokenizer
        .tokenskip_prompt("What is 2 + 3?", 1.0, &PromptFormat::default())
        .ok()?;
    let ids = m.tokenizer.encode(&prompt).ok()?;
    let params = GenerateParams {
        max_new_tokens: 16,
        ..GenerateParams::default()
    };
    let g = model::generate(&m.decoder, &m.tokenizer, &ids, &params, &mut |_| {
        ControlFlow::Continue(())
    })
    .ok()?;
    (g.decode_s > 0.0 && g.ids.len() > 1).then(|| g.ids.len() as f64 / g.decode_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_request_of_each_kind_wins() {
        let a = |req| Effect::Analyze {
            req,
            text: "x".into(),
            scorer: "rules".into(),
        };
        let mut q: VecDeque<Effect> = [a(1), a(2), a(3)].into_iter().collect();
        assert_eq!(pop_latest(&mut q), Some(a(3)));
        assert_eq!(pop_latest(&mut q), None);
        let mut q: VecDeque<Effect> = [a(1), Effect::Quit].into_iter().collect();
        assert_eq!(pop_latest(&mut q), Some(Effect::Quit));
        let g = |req| Effect::Generate {
            req,
            question: "q".into(),
            gamma: None,
        };
        let mut q: VecDeque<Effect> = [g(4), Effect::Cancel { req: 4 }, a(5)]
            .into_iter()
            .collect();
        assert_eq!(pop_latest(&mut q), Some(a(5)));
        assert!(q.is_empty());
    }
}
