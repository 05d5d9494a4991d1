//! LLMLingua-2 classifier parity with PyTorch/transformers on the tiny random
//! XLMRobertaForTokenClassification of `scripts/make_llmlingua2_fixture.py`: same subwords,
//! same chunks, keep probabilities and word scores within 1e-4.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tokenskip_studio::importance::llmlingua2::chunk;
use tokenskip_studio::importance::{target_tokens, Llmlingua2Scorer, Scorer};
use tokenskip_studio::model::{self, LoadOptions, ModelSpec};

const TOL: f32 = 1e-4;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/llmlingua2-tiny")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture().join("expected.json")).unwrap())
        .unwrap()
}

fn scorer(exp: &Value) -> Llmlingua2Scorer {
    let force: Vec<String> = exp["force_tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    Llmlingua2Scorer::load(fixture().to_str().unwrap(), &LoadOptions::default())
        .unwrap()
        .with_force_tokens(force)
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[test]
fn keep_probabilities_match_pytorch() {
    let exp = expected();
    let s = scorer(&exp);
    for case in exp["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let text = case["text"].as_str().unwrap();
        let sub = s.subword_probs(text).unwrap();
        let tokens: Vec<String> = sub.iter().map(|w| w.token.clone()).collect();
        let want_tokens: Vec<String> = case["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(tokens, want_tokens, "{name}: subwords");
        let chunks: Vec<Vec<usize>> = chunk(&tokens, 510)
            .into_iter()
            .map(|r| vec![r.start, r.end])
            .collect();
        let want_chunks: Vec<Vec<usize>> = serde_json::from_value(case["chunks"].clone()).unwrap();
        assert_eq!(chunks, want_chunks, "{name}: chunks");
        let want = f32s(&case["probs"]);
        let diff = sub
            .iter()
            .zip(&want)
            .map(|(a, b)| (a.prob - b).abs())
            .fold(0f32, f32::max);
        assert!(diff < TOL, "{name}: keep probabilities differ by {diff}");

        let words = s.words(&sub);
        let want_words = case["words"].as_array().unwrap();
        assert_eq!(words.len(), want_words.len(), "{name}: word count");
        for (w, ww) in words.iter().zip(want_words) {
            let r: Vec<usize> = serde_json::from_value(ww["subwords"].clone()).unwrap();
            assert_eq!(vec![w.subwords.start, w.subwords.end], r, "{name}");
            let d = (w.score - ww["score"].as_f64().unwrap() as f32).abs();
            assert!(
                d < TOL,
                "{name}: word {:?} differs by {d}",
                &text[w.start..w.end]
            );
        }
    }
}

#[test]
fn long_text_is_chunked_and_fully_scored() {
    let exp = expected();
    let case = &exp["cases"][1];
    assert!(
        case["chunks"].as_array().unwrap().len() > 1,
        "the long case spans chunks"
    );
    let text = case["text"].as_str().unwrap();
    let spec: ModelSpec = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tiny-qwen2")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let target = model::load(&spec, &LoadOptions::default()).unwrap();
    let tokens = target_tokens(&target.tokenizer, text).unwrap();
    let imp = scorer(&exp).score(text, &tokens).unwrap();
    assert_eq!(imp.scores.len(), tokens.len());
    assert!(imp.scores.iter().all(|p| (0.0..=1.0).contains(p)));
}
