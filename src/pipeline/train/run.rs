//! The training loop: micro-batches, loss on response tokens, gradient accumulation,
//! clipping, AdamW, the LR schedule, checkpoints, progress and NaN guards.

use super::checkpoint::{self, CheckpointState};
use super::data::Tokenized;
use super::optim::{clip_grad_norm, AdamW, AdamWConfig};
use super::params::Trainable;
use super::schedule::{lr_at, warmup_steps, Schedule};
use crate::jobs::progress::Reporter;
use crate::model::decoder::{Decoder, ForwardArgs, Logits};
use crate::model::xent::token_cross_entropy;
use candle_core::Tensor;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Hyper-parameters of a run (defaults: TokenSkip's recipe, see TOKENSKIP.md).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub lr: f64,
    pub epochs: f64,
    pub max_steps: Option<u64>,
    pub micro_batch: usize,
    pub grad_accum: usize,
    pub warmup_ratio: f64,
    pub schedule: Schedule,
    pub max_grad_norm: f64,
    pub adamw: AdamWConfig,
    pub seed: u64,
    /// Checkpoint every N optimizer steps (0: only at the end).
    pub save_steps: u64,
    /// End after this many steps while keeping the schedule of the full run (a planned
    /// interruption: the LR curve is the one `epochs`/`max_steps` define).
    #[serde(skip)]
    pub stop_after: Option<u64>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            lr: 5e-5,
            epochs: 3.0,
            max_steps: None,
            micro_batch: 1,
            grad_accum: 8,
            warmup_ratio: 0.1,
            schedule: Schedule::Cosine,
            max_grad_norm: 1.0,
            adamw: AdamWConfig::default(),
            seed: 42,
            save_steps: 200,
            stop_after: None,
        }
    }
}

/// The order in which examples are visited: micro-batches of example indices, epoch after
/// epoch, each epoch shuffled by `seed + epoch` (so any step's batch is known up front).
pub fn plan(n_examples: usize, cfg: &TrainConfig) -> Vec<Vec<usize>> {
    let per_epoch = n_examples.div_ceil(cfg.micro_batch.max(1));
    let total_micro = (cfg.epochs * per_epoch as f64).ceil() as usize;
    let mut out = Vec::with_capacity(total_micro);
    let mut epoch = 0u64;
    while out.len() < total_micro {
        let mut idx: Vec<usize> = (0..n_examples).collect();
        idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(
            cfg.seed.wrapping_add(epoch),
        ));
        for chunk in idx.chunks(cfg.micro_batch.max(1)) {
            if out.len() < total_micro {
                out.push(chunk.to_vec());
            }
        }
        epoch += 1;
    }
    out
}

/// Sum of token cross-entropies of one micro-batch (right-padded), as a differentiable scalar.
pub fn micro_batch_loss(
    model: &Decoder,
    batch: &[&Tokenized],
) -> candle_core::Result<(Tensor, usize)> {
    let dev = model.device();
    let width = batch.iter().map(|t| t.ids.len()).max().unwrap_or(0);
    let (mut ids, mut rows, mut targets) = (Vec::new(), Vec::new(), Vec::new());
    for (r, t) in batch.iter().enumerate() {
        ids.extend(
            t.ids
                .iter()
                .copied()
                .chain(std::iter::repeat_n(0, width - t.ids.len())),
        );
        // The logits at position p predict token p + 1: response tokens from prompt_len on.
        for p in t.prompt_len.saturating_sub(1)..t.ids.len() - 1 {
            rows.push((r * width + p) as u32);
            targets.push(t.ids[p + 1]);
        }
    }
    let b = batch.len();
    let input = Tensor::from_vec(ids, (b, width), dev)?;
    // Right padding: a real position only attends to earlier positions, all real, so the
    // causal mask alone gives the same values there as causal + key padding (the padded
    // positions differ, but no loss is taken at them). Without a key mask the attention
    // takes the one-op causal softmax (`ops::causal_softmax_cpu`).
    // Logits only at the labelled positions; the loss is one fused op (`model::xent`).
    let args = ForwardArgs {
        logits: Logits::Rows(&rows),
        ..Default::default()
    };
    let logits = model.forward(&input, None, &args)?.logits;
    let nll = token_cross_entropy(&logits, &targets)?;
    Ok((nll.sum_all()?, targets.len()))
}

/// What one optimizer step did.
#[derive(Debug, Clone, Copy)]
pub struct StepStats {
    /// Mean token loss over the step's micro-batches, before the update.
    pub loss: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    pub labels: usize,
    pub tokens: u64,
}

/// Why a step did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("non-finite loss {0}")]
    NonFinite(f64),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// One optimizer step over `window` (the micro-batches of one gradient-accumulation cycle):
/// loss = sum of token losses / total labelled tokens, each micro-batch backpropagating its
/// share; then global-norm clipping and AdamW at `lr`. Nothing is updated on a NaN/inf loss.
pub fn optimizer_step(
    model: &Decoder,
    vars: &[candle_core::Var],
    opt: &mut AdamW,
    window: &[Vec<&Tokenized>],
    lr: f64,
    max_grad_norm: f64,
) -> Result<StepStats, StepError> {
    let labels: usize = window.iter().flatten().map(|t| t.n_labels()).sum();
    let mut grads: Vec<Option<Tensor>> = vec![None; vars.len()];
    let (mut loss_sum, mut tokens) = (0f64, 0u64);
    for batch in window {
        let (loss, _) = micro_batch_loss(model, batch)?;
        loss_sum += loss.to_scalar::<f32>()? as f64;
        let store = (loss / labels.max(1) as f64)?.backward()?;
        for (g, v) in grads.iter_mut().zip(vars) {
            if let Some(new) = store.get(v.as_tensor()) {
                *g = Some(match g.take() {
                    Some(acc) => (acc + new)?,
                    None => new.clone(),
                });
            }
        }
        tokens += batch.iter().map(|b| b.ids.len() as u64).sum::<u64>();
    }
    let loss = loss_sum / labels.max(1) as f64;
    if !loss.is_finite() {
        return Err(StepError::NonFinite(loss));
    }
    let mut grads: Vec<Tensor> = grads
        .into_iter()
        .zip(vars)
        .map(|(g, v)| g.map_or_else(|| v.as_tensor().zeros_like(), Ok))
        .collect::<candle_core::Result<_>>()?;
    let grad_norm = clip_grad_norm(&mut grads, max_grad_norm)?;
    opt.step(vars, &grads, lr)?;
    Ok(StepStats {
        loss,
        grad_norm,
        labels,
        tokens,
    })
}

/// What a finished (or resumed-and-finished) run reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainSummary {
    pub steps: u64,
    pub final_loss: f64,
    pub tokens: u64,
    pub seconds: f64,
    pub tokens_per_s: f64,
    pub resumed_from: Option<u64>,
}

/// Runs (or resumes) training. `out` receives checkpoints and `trainer_log.jsonl`.
pub fn train(
    model: &Decoder,
    t: &Trainable,
    data: &[Tokenized],
    cfg: &TrainConfig,
    out: &Path,
    fingerprint: &str,
    resume: bool,
    rep: &mut Reporter,
) -> anyhow::Result<TrainSummary> {
    let vars = t.vars();
    let micro = plan(data.len(), cfg);
    let accum = cfg.grad_accum.max(1);
    let mut total = micro.len().div_ceil(accum) as u64;
    if let Some(m) = cfg.max_steps {
        total = total.min(m);
    }
    let warmup = warmup_steps(cfg.warmup_ratio, total);
    let mut opt = AdamW::new(cfg.adamw, &vars)?;
    let mut start = 0;
    let mut resumed_from = None;
    if resume {
        if let Some(s) = checkpoint::restore_latest(out, t, &mut opt, fingerprint)? {
            rep.log(
                "info",
                &format!(
                    "resuming from checkpoint-{} (loss {:.4})",
                    s.step, s.last_loss
                ),
            );
            start = s.step;
            resumed_from = Some(s.step);
        }
    }
    let log_path = out.join("trainer_log.jsonl");
    truncate_log(&log_path, start)?;
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)?;
    rep.start(total);
    // Test hook: SIGKILL ourselves after this step, to test that --resume loses nothing.
    let kill_after: Option<u64> = std::env::var("TOKENSKIP_FAULT_KILL_AFTER_STEP")
        .ok()
        .and_then(|v| v.parse().ok());
    let started = Instant::now();
    let (mut tokens_seen, mut last_loss, mut last_good) = (0u64, f64::NAN, start);
    let end = cfg.stop_after.map_or(total, |s| s.min(total));
    for step in start..end {
        let window: Vec<Vec<&Tokenized>> = micro
            [(step as usize) * accum..((step as usize + 1) * accum).min(micro.len())]
            .iter()
            .map(|mb| mb.iter().map(|&i| &data[i]).collect())
            .collect();
        let lr = lr_at(cfg.schedule, cfg.lr, step, warmup, total);
        let st = match optimizer_step(model, &vars, &mut opt, &window, lr, cfg.max_grad_norm) {
            Err(StepError::NonFinite(loss)) => {
                let msg = format!(
                    "loss is {loss} at step {}; stopped without saving it. The last good state is checkpoint-{last_good} in {} (resume with --resume, perhaps with a lower --lr)",
                    step + 1,
                    out.display()
                );
                rep.error(&msg);
                anyhow::bail!(msg);
            }
            r => r?,
        };
        tokens_seen += st.tokens;
        let (loss, norm, labels) = (st.loss, st.grad_norm, st.labels);
        last_loss = loss;
        let line = serde_json::json!({"step": step + 1, "loss": loss, "lr": lr, "grad_norm": norm, "labels": labels});
        use std::io::Write;
        writeln!(log, "{line}")?;
        let done = step + 1;
        let secs = started.elapsed().as_secs_f64();
        let metrics = BTreeMap::from([
            ("loss".to_string(), loss),
            ("lr".to_string(), lr),
            (
                "tokens_per_s".to_string(),
                tokens_seen as f64 / secs.max(1e-9),
            ),
        ]);
        rep.progress(done, total, metrics);
        if (cfg.save_steps > 0 && done % cfg.save_steps == 0) || done == end {
            let state = CheckpointState {
                step: done,
                total_steps: total,
                fingerprint: fingerprint.to_string(),
                last_loss: loss,
            };
            log.sync_data()?;
            checkpoint::save(out, t, &opt, &state, 2)?;
            last_good = done;
        }
        if kill_after == Some(done) {
            log.sync_data()?;
            #[cfg(unix)]
            // SAFETY: sending a signal to our own process.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(TrainSummary {
        steps: end,
        final_loss: last_loss,
        tokens: tokens_seen,
        seconds,
        tokens_per_s: tokens_seen as f64 / seconds.max(1e-9),
        resumed_from,
    })
}

/// Drops log lines after `step` (a resumed run rewrites them), atomically.
fn truncate_log(path: &Path, step: u64) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(path)?;
    let kept: String = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["step"].as_u64())
                .is_some_and(|s| s <= step)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    super::save::write_atomic(path, kept.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_covers_every_example_each_epoch_in_seeded_order() {
        let cfg = TrainConfig {
            micro_batch: 2,
            epochs: 2.0,
            ..Default::default()
        };
        let p = plan(5, &cfg);
        assert_eq!(p.len(), 6);
        let mut first: Vec<usize> = p[..3].concat();
        first.sort();
        assert_eq!(first, vec![0, 1, 2, 3, 4]);
        assert_eq!(plan(5, &cfg), p);
        assert_ne!(p[..3], p[3..], "epochs should be shuffled differently");
    }
}
