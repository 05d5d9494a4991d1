//! The counterfactual scorer on the tiny fixtures: batched == one at a time, agreement
//! with an independent `token_nll` computation, and how many forward passes it costs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokenskip_studio::importance::{
    group_offsets, target_tokens, CounterfactualScorer, ForceReason, Scorer,
};
use tokenskip_studio::model::{self, score, LoadOptions, LoadedModel, ModelSpec};

const COT: &str = "Step 1: Janet has 16 eggs and eats 3 of them.\nStep 2: She sells the \
remaining 13 eggs for 2 dollars each, so 13 * 2 = 26 dollars.\n\nThe final answer is: $\\boxed{26}$";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load_dir(dir: &Path) -> Arc<LoadedModel> {
    let spec: ModelSpec = dir.to_str().unwrap().parse().unwrap();
    Arc::new(model::load(&spec, &LoadOptions::default()).unwrap())
}

/// tiny-qwen2 with a 512-token context (the fixture's is 128), for long CoTs.
fn tiny_qwen2_512() -> (tempfile::TempDir, Arc<LoadedModel>) {
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixtures().join("tiny-qwen2")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, tmp.path().join(p.file_name().unwrap())).unwrap();
    }
    let cfg_path = tmp.path().join("config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg_path).unwrap()).unwrap();
    cfg["max_position_embeddings"] = 512.into();
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();
    let m = load_dir(tmp.path());
    (tmp, m)
}

#[test]
fn batched_equals_one_at_a_time() {
    let m = load_dir(&fixtures().join("tiny-qwen2"));
    let batched = CounterfactualScorer::new(m.clone()).with_batch_size(32);
    let single = CounterfactualScorer::new(m.clone()).with_batch_size(1);
    let a = batched.ablate(None, COT).unwrap();
    let b = single.ablate(None, COT).unwrap();
    assert_eq!(a.words, b.words);
    assert!((a.base_logp - b.base_logp).abs() < 1e-4);
    for (x, y) in a.drops.iter().zip(&b.drops) {
        match (x, y) {
            (Some(x), Some(y)) => assert!((x - y).abs() < 1e-4, "{x} vs {y}"),
            (None, None) => {}
            _ => panic!("{x:?} vs {y:?}"),
        }
    }
    // Batch 1: one pass per ablated word plus the unablated text.
    assert_eq!(b.forward_passes, a.drops.iter().flatten().count() + 1);
    assert!(a.forward_passes <= 2, "{}", a.forward_passes);
    assert!(
        a.drops.iter().flatten().any(|d| d.abs() > 1e-3),
        "removing words moves log p"
    );
}

#[test]
fn matches_an_independent_token_nll_computation() {
    let m = load_dir(&fixtures().join("tiny-qwen2"));
    let ab = CounterfactualScorer::new(m.clone())
        .ablate(None, COT)
        .unwrap();
    let offsets = m.tokenizer.encode_with_offsets(COT).unwrap();
    let groups = group_offsets(COT, &offsets);
    let ids: Vec<u32> = offsets.iter().map(|o| o.0).collect();
    // Answer tokens: those overlapping the answer's bytes (the text's last tokens here).
    let first = groups.iter().position(|g| g.end > ab.answer.start).unwrap();
    let a0 = groups[first].tokens.start;
    let logp = |seq: &[u32], answer_from: usize| -> f32 {
        let nll = score::token_nll(&m.decoder, seq).unwrap();
        -nll[answer_from..].iter().map(|x| x.unwrap()).sum::<f32>()
    };
    assert!((ab.base_logp - logp(&ids, a0)).abs() < 1e-4);
    // Remove the word "eggs" (first occurrence) by hand.
    let (wi, w) = ab
        .words
        .iter()
        .enumerate()
        .find(|(_, w)| &COT[w.start..w.end] == "eggs")
        .unwrap();
    let r = groups[w.tokens.start].tokens.start..groups[w.tokens.end - 1].tokens.end;
    let ablated: Vec<u32> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| !r.contains(i))
        .map(|(_, &id)| id)
        .collect();
    let want = ab.base_logp - logp(&ablated, a0 - r.len());
    let got = ab.drops[wi].unwrap();
    assert!((got - want).abs() < 1e-4, "{got} vs {want}");
}

#[test]
fn a_300_token_cot_costs_a_handful_of_passes() {
    let (_tmp, m) = tiny_qwen2_512();
    let body = "Step 1: Janet has 16 eggs and eats 3 of them for breakfast every morning.\n\
        Step 2: She bakes muffins for her friends every day with 4 of the eggs.\n";
    let text = format!(
        "{}Step 5: She sells the remaining 9 eggs for 2 dollars each, so 9 * 2 = 18.\n\n\
         The final answer is: $\\boxed{{18}}$",
        body.repeat(3)
    );
    let tokens = target_tokens(&m.tokenizer, &text).unwrap();
    assert!(
        (280..=360).contains(&tokens.len()),
        "{} tokens",
        tokens.len()
    );
    let s = CounterfactualScorer::new(m.clone()).with_batch_size(32);
    let ab = s.ablate(None, &text).unwrap();
    let ablated = ab.drops.iter().flatten().count();
    let want_passes = (ablated + 1).div_ceil(32);
    assert_eq!(ab.forward_passes, want_passes);
    assert!(
        ab.forward_passes <= 6,
        "{} passes for {} words",
        ab.forward_passes,
        ab.words.len()
    );
    eprintln!(
        "{} tokens, {} words, {} forward passes at batch 32",
        tokens.len(),
        ab.words.len(),
        ab.forward_passes
    );
    // The answer line is forced and never removed.
    let imp = s.score(&text, &tokens).unwrap();
    let answer_tokens: Vec<_> = tokens
        .iter()
        .zip(&imp.forced)
        .filter(|(t, _)| t.start >= ab.answer.start)
        .collect();
    assert!(!answer_tokens.is_empty());
    for (t, f) in answer_tokens {
        assert!(
            matches!(f, Some(ForceReason::Answer | ForceReason::Digit)),
            "{:?} {f:?}",
            t.text(&text)
        );
    }
}

#[test]
fn the_last_number_is_the_answer_without_a_boxed_line() {
    let m = load_dir(&fixtures().join("tiny-qwen2"));
    let text = "She has 3 apples and buys 4 more, so she has 7 apples.";
    let ab = CounterfactualScorer::new(m).ablate(None, text).unwrap();
    assert_eq!(&text[ab.answer.clone()], "7");
    // "apples." after the answer cannot change it.
    let last = ab.drops.last().unwrap().unwrap();
    assert_eq!(last, 0.0);
}

#[test]
fn no_answer_is_a_clear_error() {
    let m = load_dir(&fixtures().join("tiny-qwen2"));
    let text = "no numbers at all";
    let tokens = target_tokens(&m.tokenizer, text).unwrap();
    let err = CounterfactualScorer::new(m)
        .score(text, &tokens)
        .unwrap_err();
    assert!(err.to_string().contains("no answer"), "{err}");
}

#[test]
fn a_two_word_cot_works() {
    let m = load_dir(&fixtures().join("tiny-qwen2"));
    let ab = CounterfactualScorer::new(m)
        .ablate(None, "Total 7")
        .unwrap();
    assert_eq!(ab.drops.len(), 2);
    assert_eq!(ab.drops[1], None, "the answer");
    assert!(ab.drops[0].unwrap().is_finite());
    assert_eq!(ab.forward_passes, 1);
}
