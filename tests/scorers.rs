//! Model-based scorers on the tiny fixtures: surprisal against PyTorch's NLL, attention
//! sums, every scorer aligned to the target tokens with digits forced, and `build_scorer`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{safetensors, Device, Tensor};
use tokenskip_studio::importance::{
    attention::received_attention, build_scorer, target_tokens, AttentionScorer, CachedLoader,
    CounterfactualScorer, ForceReason, Llmlingua2Scorer, RulesScorer, ScoreError, Scorer,
    SurprisalScorer, KNOWN_SCORERS,
};
use tokenskip_studio::model::{self, score, LoadOptions, LoadedModel, ModelSpec};

const TOL: f32 = 1e-4;
const COT: &str = "Step 1: Janet has 16 eggs and eats 3 of them.\nStep 2: She sells the \
remaining 13 eggs for 2 dollars each, so 13 * 2 = 26 dollars.\n\nThe final answer is: $\\boxed{26}$";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn tiny(name: &str) -> Arc<LoadedModel> {
    let spec: ModelSpec = fixtures().join(name).to_str().unwrap().parse().unwrap();
    Arc::new(model::load(&spec, &LoadOptions::default()).unwrap())
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn surprisal_equals_pytorch_nll() {
    let exp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
            .unwrap();
    let case = &exp["cases"]["qwen2/base"];
    let text = case["text"].as_str().unwrap();
    let want_ids: Vec<u32> = case["input_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let tensors = safetensors::load(fixtures().join("expected.safetensors"), &Device::Cpu).unwrap();
    let want: Vec<f32> = tensors["qwen2/base.nll"].to_vec1().unwrap();

    let m = tiny("tiny-qwen2");
    let tokens = target_tokens(&m.tokenizer, text).unwrap();
    let ids: Vec<u32> = tokens.iter().map(|t| t.id).collect();
    assert_eq!(ids, want_ids, "same ids as the PyTorch fixture");

    let s = SurprisalScorer::new(m);
    let direct = s.token_surprisal(&ids, 0).unwrap();
    let imp = s.score(text, &tokens).unwrap();
    assert_eq!(imp.scores.len(), tokens.len());
    assert!(max_diff(&imp.scores[1..], &want) < TOL);
    assert!(max_diff(&direct[1..], &want) < TOL);
    // The first token has no context: the mean of the others.
    let mean = want.iter().sum::<f32>() / want.len() as f32;
    assert!(
        (imp.scores[0] - mean).abs() < TOL,
        "{} vs {mean}",
        imp.scores[0]
    );
}

#[test]
fn surprisal_prefix_is_read_not_scored() {
    let m = tiny("tiny-qwen2");
    let tokens = target_tokens(&m.tokenizer, COT).unwrap();
    let plain = SurprisalScorer::new(m.clone()).score(COT, &tokens).unwrap();
    let with_q = SurprisalScorer::new(m.clone())
        .with_prefix("Janet has 16 eggs. How much does she make?")
        .score(COT, &tokens)
        .unwrap();
    assert_eq!(with_q.scores.len(), tokens.len());
    // Same as scoring the concatenation and keeping the tail.
    let q_ids = m
        .tokenizer
        .encode("Janet has 16 eggs. How much does she make?")
        .unwrap();
    let mut all = q_ids.clone();
    all.extend(tokens.iter().map(|t| t.id));
    let nll = score::token_nll(&m.decoder, &all).unwrap();
    let tail: Vec<f32> = nll[q_ids.len()..].iter().map(|x| x.unwrap()).collect();
    assert!(max_diff(&with_q.scores, &tail) < TOL);
    assert!(
        max_diff(&plain.scores, &with_q.scores) > 1e-3,
        "context changes the scores"
    );
}

#[test]
fn attention_sums_and_shape() {
    let m = tiny("tiny-qwen2");
    let tokens = target_tokens(&m.tokenizer, COT).unwrap();
    let ids: Vec<u32> = tokens.iter().map(|t| t.id).collect();
    let n = ids.len();
    let scorer = AttentionScorer::new(m.clone());
    let imp = scorer.score(COT, &tokens).unwrap();
    assert_eq!(imp.scores.len(), n);
    assert!(imp.scores.iter().all(|s| (0.0..=1.0).contains(s)));

    // sum_j (n - 1 - j) * score(j) = mean over layers and heads of sum_{i >= 1} (1 - A[i][i]):
    // every query row sums to 1 and only its diagonal is not received by an earlier key.
    let maps = score::attention_maps(&m.decoder, &ids).unwrap();
    let (layers, heads) = (maps.len(), maps[0].dim(0).unwrap());
    let mut want = 0f32;
    for layer in &maps {
        let a: Vec<Vec<Vec<f32>>> = layer.to_vec3().unwrap();
        for h in &a {
            want += (1..n).map(|i| 1.0 - h[i][i]).sum::<f32>();
        }
    }
    want /= (layers * heads) as f32;
    let got: f32 = (0..n - 1).map(|j| (n - 1 - j) as f32 * imp.scores[j]).sum();
    assert!((got - want).abs() < 1e-3, "{got} vs {want}");
    let direct = received_attention(&maps).unwrap();
    assert!(max_diff(&direct, &imp.scores) < 1e-6);
}

#[test]
fn attention_reduction_ignores_the_dtype() {
    let a = Tensor::from_vec(vec![1f32, 0.0, 0.25, 0.75], (1, 2, 2), &Device::Cpu).unwrap();
    let half = a.to_dtype(candle_core::DType::BF16).unwrap();
    assert_eq!(
        received_attention(&[a]).unwrap(),
        received_attention(&[half]).unwrap()
    );
}

/// Every scorer: one score per target token, finite, digits forced.
#[test]
fn every_scorer_is_aligned_to_the_target_tokens() {
    let m = tiny("tiny-qwen2");
    let tokens = target_tokens(&m.tokenizer, COT).unwrap();
    let lingua = Llmlingua2Scorer::load(
        fixtures().join("llmlingua2-tiny").to_str().unwrap(),
        &LoadOptions::default(),
    )
    .unwrap();
    let scorers: Vec<Box<dyn Scorer>> = vec![
        Box::new(RulesScorer::new()),
        Box::new(SurprisalScorer::new(m.clone())),
        Box::new(AttentionScorer::new(m.clone())),
        Box::new(CounterfactualScorer::new(m.clone())),
        Box::new(lingua),
    ];
    for s in &scorers {
        let imp = s.score(COT, &tokens).unwrap();
        let name = s.name();
        assert_eq!(imp.scores.len(), tokens.len(), "{name}");
        assert_eq!(imp.forced.len(), tokens.len(), "{name}");
        assert!(imp.scores.iter().all(|x| x.is_finite()), "{name}");
        for (t, f) in tokens.iter().zip(&imp.forced) {
            if t.text(COT).chars().any(|c| c.is_ascii_digit()) {
                assert_eq!(*f, Some(ForceReason::Digit), "{name}: {:?}", t.text(COT));
            }
        }
        let words: usize = imp.words.iter().map(|w| w.tokens.len()).sum();
        assert!(words <= tokens.len() && imp.word_scores.len() == imp.words.len());
    }
}

fn loader() -> CachedLoader {
    CachedLoader::new(
        fixtures().join("tiny-qwen2").to_str().unwrap(),
        LoadOptions::default(),
    )
}

#[test]
fn build_scorer_names_and_defaults() {
    let l = loader();
    let s = build_scorer("surprisal", &l).unwrap();
    assert!(s.name().starts_with("surprisal:") && s.name().ends_with("tiny-qwen2"));
    let llama = fixtures().join("tiny-llama");
    let s = build_scorer(&format!("attention:{}", llama.display()), &l).unwrap();
    assert!(s.name().ends_with("tiny-llama"), "{}", s.name());
    assert_eq!(build_scorer("rules", &l).unwrap().name(), "rules");
    let lingua = fixtures().join("llmlingua2-tiny");
    let s = build_scorer(&format!("llmlingua2:{}", lingua.display()), &l).unwrap();
    assert!(s.name().starts_with("llmlingua2:"));
}

#[test]
fn build_scorer_errors_are_clear() {
    let l = loader();
    let err = build_scorer("perplexity", &l).err().unwrap().to_string();
    for k in KNOWN_SCORERS {
        assert!(err.contains(k), "{err}");
    }
    let err = build_scorer("surprisal:/no/such/model", &l).err().unwrap();
    assert!(matches!(err, ScoreError::ModelMissing { .. }), "{err}");
    assert!(err.to_string().contains("/no/such/model"), "{err}");
    let err = build_scorer("llmlingua2:/no/such/dir", &l).err().unwrap();
    let msg = err.to_string();
    assert!(matches!(err, ScoreError::ModelMissing { .. }), "{msg}");
    assert!(
        msg.contains("microsoft/llmlingua-2-xlm-roberta-large-meetingbank"),
        "{msg}"
    );
    // A directory that is not a classifier: says which file is missing.
    let err = build_scorer(&format!("llmlingua2:{}", fixtures().display()), &l)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("config.json"), "{err}");
    match build_scorer("surprisal:demo", &l) {
        Ok(_) => {} // a build with the embedded demo model
        Err(e) => assert!(
            matches!(e, ScoreError::ModelMissing { .. }) && e.to_string().contains("demo"),
            "{e}"
        ),
    }
}

#[test]
fn empty_text_is_an_error_for_every_scorer() {
    let m = tiny("tiny-qwen2");
    for s in [
        Box::new(SurprisalScorer::new(m.clone())) as Box<dyn Scorer>,
        Box::new(AttentionScorer::new(m.clone())),
        Box::new(CounterfactualScorer::new(m.clone())),
    ] {
        assert!(matches!(s.score(" \n", &[]), Err(ScoreError::EmptyText)));
    }
}

#[test]
fn text_longer_than_the_window_is_scored_in_windows() {
    let m = tiny("tiny-qwen2"); // context 128
    let long = COT.repeat(4);
    let tokens = target_tokens(&m.tokenizer, &long).unwrap();
    assert!(tokens.len() > 300);
    for s in [
        Box::new(SurprisalScorer::new(m.clone())) as Box<dyn Scorer>,
        Box::new(AttentionScorer::new(m.clone())),
        Box::new(CounterfactualScorer::new(m.clone())),
    ] {
        let imp = s.score(&long, &tokens).unwrap();
        assert_eq!(imp.scores.len(), tokens.len(), "{}", s.name());
    }
}
