//! Checkpoints: trainable tensors, AdamW moments and the step, written atomically into
//! `OUT/checkpoint-STEP/` (a temp dir renamed into place), so a run killed at any moment
//! resumes from the last complete one and continues exactly as if never interrupted.

use super::optim::AdamW;
use super::params::Trainable;
use super::save::{save_tensors, write_atomic};
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What a checkpoint records besides tensors.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckpointState {
    pub step: u64,
    pub total_steps: u64,
    /// Fingerprint of the run's settings and data; resuming with other settings is refused.
    pub fingerprint: String,
    pub last_loss: f64,
}

fn dir_for(out: &Path, step: u64) -> PathBuf {
    out.join(format!("checkpoint-{step}"))
}

/// Writes a checkpoint and removes older ones (keeping the newest `keep`).
pub fn save(
    out: &Path,
    t: &Trainable,
    opt: &AdamW,
    state: &CheckpointState,
    keep: usize,
) -> anyhow::Result<PathBuf> {
    let tmp = out.join(format!(".checkpoint-{}.tmp", state.step));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    let mut params = HashMap::new();
    let mut moments = HashMap::new();
    for (i, (name, var)) in t.params.iter().enumerate() {
        params.insert(name.clone(), var.as_tensor().clone());
        moments.insert(format!("m.{name}"), opt.m[i].clone());
        moments.insert(format!("v.{name}"), opt.v[i].clone());
    }
    save_tensors(&params, &tmp.join("params.safetensors"))?;
    save_tensors(&moments, &tmp.join("optimizer.safetensors"))?;
    write_atomic(
        &tmp.join("state.json"),
        serde_json::to_string_pretty(state)?.as_bytes(),
    )?;
    let dest = dir_for(out, state.step);
    if dest.exists() {
        std::fs::remove_dir_all(&dest)?;
    }
    std::fs::rename(&tmp, &dest)?;
    let mut all = list(out)?;
    all.sort();
    let n = all.len();
    for (step, dir) in all.into_iter().take(n.saturating_sub(keep)) {
        if step != state.step {
            std::fs::remove_dir_all(dir)?;
        }
    }
    Ok(dest)
}

/// Complete checkpoints in `out`, as (step, dir).
pub fn list(out: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut v = Vec::new();
    if !out.exists() {
        return Ok(v);
    }
    for e in std::fs::read_dir(out)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(step) = name
            .strip_prefix("checkpoint-")
            .and_then(|s| s.parse().ok())
        {
            if e.path().join("state.json").exists() {
                v.push((step, e.path()));
            }
        }
    }
    Ok(v)
}

/// Restores the newest checkpoint into `t` and `opt`; `None` when there is none.
pub fn restore_latest(
    out: &Path,
    t: &Trainable,
    opt: &mut AdamW,
    fingerprint: &str,
) -> anyhow::Result<Option<CheckpointState>> {
    let Some((_, dir)) = list(out)?.into_iter().max_by_key(|(s, _)| *s) else {
        return Ok(None);
    };
    let state: CheckpointState =
        serde_json::from_str(&std::fs::read_to_string(dir.join("state.json"))?)?;
    if state.fingerprint != fingerprint {
        anyhow::bail!(
            "{}: this checkpoint was made with other settings or data (fingerprint {} vs {}); resume with the same command, or start over with --overwrite",
            dir.display(),
            state.fingerprint,
            fingerprint
        );
    }
    let params = candle_core::safetensors::load(dir.join("params.safetensors"), &Device::Cpu)?;
    let moments = candle_core::safetensors::load(dir.join("optimizer.safetensors"), &Device::Cpu)?;
    let get = |m: &HashMap<String, Tensor>, k: &str| {
        m.get(k)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("{}: tensor `{k}` is missing", dir.display()))
    };
    for (i, (name, var)) in t.params.iter().enumerate() {
        let dev = var.device();
        var.set(&get(&params, name)?.to_device(dev)?)?;
        opt.m[i] = get(&moments, &format!("m.{name}"))?.to_device(dev)?;
        opt.v[i] = get(&moments, &format!("v.{name}"))?.to_device(dev)?;
    }
    opt.step = state.step;
    Ok(Some(state))
}
