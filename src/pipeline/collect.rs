//! `generate --dataset`: the target model's own CoTs for every question (TokenSkip step 1),
//! batched greedy with the model's chat template, appended as JSONL as they finish.

use crate::data::example::Example;
use crate::jobs::progress::Reporter;
use crate::model::generate::generate_batch_greedy;
use crate::model::tokenizer::{ChatTokenizer, PromptFormat};
use crate::model::Decoder;
use crate::pipeline::answer::{check, GraderStrategy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// One generated CoT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CotRecord {
    pub id: String,
    pub question: String,
    pub answer: String,
    pub cot: String,
    pub predicted: Option<String>,
    pub correct: bool,
    pub tokens: usize,
    pub truncated: bool,
    pub grader: String,
}

/// Reads a CoT file written by [`collect`] (a torn last line is dropped).
pub fn read_cots(path: &Path) -> anyhow::Result<Vec<CotRecord>> {
    crate::jobs::jsonl::read_log(path, "a CoT record (id, question, answer, cot, ...)")
}

/// Generates CoTs for every example not yet in `out_file`, appending as batches finish.
#[allow(clippy::too_many_arguments)]
pub fn collect(
    model: &Decoder,
    tok: &ChatTokenizer,
    examples: &[Example],
    fmt: &PromptFormat,
    max_new_tokens: usize,
    batch_size: usize,
    grader: GraderStrategy,
    out_file: &Path,
    rep: &mut Reporter,
) -> anyhow::Result<Vec<CotRecord>> {
    let mut records = read_cots(out_file)?;
    if crate::jobs::jsonl::is_torn(out_file) {
        crate::jobs::jsonl::rewrite(out_file, &records)?;
    }
    let done: HashSet<String> = records.iter().map(|r| r.id.clone()).collect();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out_file)?;
    let todo: Vec<&Example> = examples.iter().filter(|e| !done.contains(&e.id)).collect();
    let total = examples.len() as u64;
    rep.start(total);
    let (started, mut tokens, mut finished) = (Instant::now(), 0usize, done.len() as u64);
    for chunk in todo.chunks(batch_size.max(1)) {
        if crate::jobs::cancel::requested() {
            rep.log(
                "warn",
                "interrupted: finished batches are saved; rerun with --resume to continue",
            );
            break;
        }
        let prompts: Vec<Vec<u32>> = chunk
            .iter()
            .map(|e| Ok(tok.encode(&tok.tokenskip_prompt(&e.question, 1.0, fmt)?)?))
            .collect::<anyhow::Result<_>>()?;
        let outs = generate_batch_greedy(model, &prompts, max_new_tokens, &tok.eos_ids)?;
        for (e, ids) in chunk.iter().zip(outs) {
            let cot = tok.decode(&ids)?;
            let v = check(&cot, &e.answer, grader);
            let r = CotRecord {
                id: e.id.clone(),
                question: e.question.clone(),
                answer: e.answer.clone(),
                tokens: ids.len(),
                truncated: ids.len() >= max_new_tokens,
                cot,
                predicted: v.predicted,
                correct: v.correct,
                grader: grader.name().into(),
            };
            writeln!(file, "{}", serde_json::to_string(&r)?)?;
            tokens += r.tokens;
            records.push(r);
        }
        file.flush()?;
        finished += chunk.len() as u64;
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        rep.progress(
            finished,
            total,
            BTreeMap::from([("tokens_per_s".to_string(), tokens as f64 / secs)]),
        );
    }
    Ok(records)
}
