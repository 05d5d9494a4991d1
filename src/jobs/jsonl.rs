//! Append-only JSONL result files (`samples.jsonl`, `cots.jsonl`, `pruned.jsonl`): read them
//! back tolerating the torn last line a killed run leaves, and repair them before appending.

use serde::{de::DeserializeOwned, Serialize};
use std::path::Path;

/// Reads every record; a torn last line (no trailing newline) is dropped, any other bad line
/// fails with `file:line` and `what` the records are.
pub fn read_log<T: DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<Vec<T>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path)?;
    let n = text.lines().count();
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(l) {
            Ok(r) => out.push(r),
            Err(_) if i + 1 == n && !text.ends_with('\n') => break,
            Err(e) => anyhow::bail!("{}:{}: not {what}: {e}", path.display(), i + 1),
        }
    }
    Ok(out)
}

/// Whether the file ends in a torn line.
pub fn is_torn(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| !b.is_empty() && !b.ends_with(b"\n"))
}

/// Rewrites the file atomically with exactly `records` (serde_json with `float_roundtrip`
/// reproduces the original bytes of every record it read).
pub fn rewrite<T: Serialize>(path: &Path, records: &[T]) -> anyhow::Result<()> {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r)?);
        text.push('\n');
    }
    crate::pipeline::train::save::write_atomic(path, text.as_bytes())?;
    Ok(())
}
