//! Parity with PyTorch/transformers/peft on the tiny fixtures from `scripts/make_fixtures.py`:
//! f32 logits within 1e-4 max-abs, identical greedy tokens, batched == one-by-one greedy,
//! GGUF == safetensors, LoRA unmerged == merged, tokenizer ids and chat template rendering.

use candle_core::{safetensors, DType, Device, Tensor};
use serde_json::Value;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use tokenskip_studio::model::{
    self, score, ForwardArgs, GenerateParams, LoadOptions, LoadedModel, ModelSpec,
};

const TOL: f32 = 1e-4;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

struct Expected {
    json: Value,
    tensors: HashMap<String, Tensor>,
}

fn expected() -> Expected {
    let json =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
            .unwrap();
    let tensors = safetensors::load(fixtures().join("expected.safetensors"), &Device::Cpu).unwrap();
    Expected { json, tensors }
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

/// The model spec of fixture directory `name`.
fn fixture_spec(name: &str) -> ModelSpec {
    fixtures().join(name).to_str().unwrap().parse().unwrap()
}

fn load(case: &Value, merge: bool) -> LoadedModel {
    let m = case["model"].as_str().unwrap();
    let spec = fixture_spec(m);
    let opts = LoadOptions {
        adapter: case["adapter"]
            .as_str()
            .map(|a| fixtures().join(a).to_string_lossy().into_owned()),
        merge_adapter: merge,
        ..Default::default()
    };
    model::load(&spec, &opts).unwrap_or_else(|e| panic!("loading {m}: {e}"))
}

fn max_abs(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}

fn all_logits(m: &LoadedModel, input: &[u32]) -> Tensor {
    let t = Tensor::new(input, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    m.decoder
        .forward(&t, None, &ForwardArgs::default())
        .unwrap()
        .logits
        .squeeze(0)
        .unwrap()
}

fn greedy(m: &LoadedModel, input: &[u32], n: usize) -> Vec<u32> {
    // The reference generated without EOS stops: clear them so a stray EOS does not end early.
    let mut tok = m.tokenizer.clone();
    tok.eos_ids.clear();
    let params = GenerateParams {
        max_new_tokens: n,
        ..Default::default()
    };
    model::generate(&m.decoder, &tok, input, &params, &mut |_| {
        ControlFlow::Continue(())
    })
    .unwrap()
    .ids
}

/// Logits within tolerance and identical greedy tokens for expected case `name`.
fn assert_matches(m: &LoadedModel, exp: &Expected, name: &str, what: &str) {
    let case = &exp.json["cases"][name];
    let input = ids(&case["input_ids"]);
    let want = &exp.tensors[case["logits"].as_str().unwrap()];
    let diff = max_abs(&all_logits(m, &input), want);
    assert!(diff < TOL, "{what}: logits differ by {diff}");
    assert_eq!(
        greedy(m, &input, 16),
        ids(&case["greedy"]),
        "{what}: greedy tokens"
    );
}

fn check_case(name: &str, merge: bool) {
    let exp = expected();
    let m = load(&exp.json["cases"][name], merge);
    assert_matches(&m, &exp, name, &format!("{name} (merged: {merge})"));
}

#[test]
fn qwen2_sharded_logits_and_greedy_match_pytorch() {
    check_case("qwen2/base", false);
}

#[test]
fn qwen2_lora_unmerged_and_merged_match_peft() {
    check_case("qwen2/lora", false);
    check_case("qwen2/lora", true);
}

#[test]
fn llama3_scaled_transformers5_config_matches_pytorch() {
    check_case("llama/base", false);
}

#[test]
fn gguf_f32_equals_the_safetensors_model() {
    let exp = expected();
    let case = &exp.json["cases"]["llama/base"];
    let m = load(&serde_json::json!({"model": case["gguf"]}), false);
    assert_matches(&m, &exp, "llama/base", "GGUF F32");
    // The tokenizer rebuilt from GGUF metadata gives the same ids.
    let text = case["text"].as_str().unwrap();
    assert_eq!(m.tokenizer.encode(text).unwrap(), ids(&case["input_ids"]));
}

#[test]
fn gguf_q8_0_dequantized_matches_reference() {
    // The reference is f32 math on the dequantized Q8_0 weights.
    check_case("llama/q8_0", false);
}

#[test]
fn token_nll_matches_pytorch() {
    let exp = expected();
    let case = &exp.json["cases"]["qwen2/base"];
    let m = load(case, false);
    let nll = score::token_nll(&m.decoder, &ids(&case["input_ids"])).unwrap();
    assert!(nll[0].is_none());
    let got: Vec<f32> = nll[1..].iter().map(|x| x.unwrap()).collect();
    let want: Vec<f32> = exp.tensors["qwen2/base.nll"].to_vec1().unwrap();
    let diff = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(diff < TOL, "nll differs by {diff}");
}

#[test]
fn batched_greedy_equals_one_by_one() {
    let exp = expected();
    let batch = &exp.json["batch"];
    let m = load(&exp.json["cases"]["qwen2/base"], false);
    let prompts: Vec<Vec<u32>> = batch["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| ids(&p["input_ids"]))
        .collect();
    let n = batch["max_new_tokens"].as_u64().unwrap() as usize;
    let got = model::generate_batch_greedy(&m.decoder, &prompts, n, &[]).unwrap();
    for (p, g) in batch["prompts"].as_array().unwrap().iter().zip(&got) {
        assert_eq!(g, &ids(&p["greedy"]), "batched greedy for {:?}", p["text"]);
    }
    // And equal to our own unbatched decoding with the KV cache.
    for (p, g) in prompts.iter().zip(&got) {
        assert_eq!(&greedy(&m, p, n), g);
    }
}

#[test]
fn tokenizer_and_chat_template_match_transformers() {
    let exp = expected();
    let m = load(&exp.json["cases"]["qwen2/base"], false);
    for t in exp.json["tokenize"].as_array().unwrap() {
        assert_eq!(
            m.tokenizer.encode(t["text"].as_str().unwrap()).unwrap(),
            ids(&t["ids"]),
            "{}",
            t["text"]
        );
    }
    // First rendered case: a single user turn with the template's default system prompt.
    let first = &exp.json["chat_template"][0];
    let user = first["messages"][0]["content"].as_str().unwrap();
    assert_eq!(
        m.tokenizer.chat_prompt(None, user).unwrap(),
        first["rendered"].as_str().unwrap()
    );
}

#[test]
fn differentiable_kernels_give_the_same_logits() {
    let exp = expected();
    let case = &exp.json["cases"]["llama/base"];
    let mut m = load(case, false);
    m.decoder.kernels = model::ops::Kernels::Differentiable;
    let diff = max_abs(
        &all_logits(&m, &ids(&case["input_ids"])),
        &exp.tensors["llama/base.logits"],
    );
    assert!(diff < TOL, "differentiable path differs by {diff}");
}

#[test]
fn half_precision_stays_close() {
    let exp = expected();
    let case = &exp.json["cases"]["qwen2/base"];
    let spec = fixture_spec("tiny-qwen2");
    let want = &exp.tensors["qwen2/base.logits"];
    let scale: f32 = want
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    // bf16 keeps about 3 significant digits, f16 about 4 (these fixtures use large weights).
    for (dtype, rel) in [(DType::BF16, 0.04), (DType::F16, 0.01)] {
        let m = model::load(
            &spec,
            &LoadOptions {
                dtype,
                ..Default::default()
            },
        )
        .unwrap();
        let diff = max_abs(&all_logits(&m, &ids(&case["input_ids"])), want);
        assert!(
            diff < rel * scale,
            "{dtype:?} logits differ by {diff} (max |logit| {scale})"
        );
    }
}

/// The demo model's adapter is embedded as bytes (`--adapter demo`): the in-memory path must
/// give the same model as reading the directory.
#[test]
fn adapter_from_bytes_matches_adapter_from_dir() {
    use tokenskip_studio::model::lora::Adapter;
    let dir = fixtures().join("tiny-qwen2-lora");
    let spec = fixture_spec("tiny-qwen2");
    let mut from_dir = model::load(&spec, &LoadOptions::default()).unwrap();
    let mut from_bytes = model::load(&spec, &LoadOptions::default()).unwrap();
    let n_dir = Adapter::open(&dir)
        .unwrap()
        .apply(&mut from_dir.decoder, false)
        .unwrap();
    let bytes = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let n_bytes = Adapter::from_bytes(
        &bytes("adapter_config.json"),
        &bytes("adapter_model.safetensors"),
        "embedded",
    )
    .unwrap()
    .apply(&mut from_bytes.decoder, false)
    .unwrap();
    assert!(n_dir > 0);
    assert_eq!(n_dir, n_bytes);
    let input = [1u32, 5, 9, 2, 7];
    assert_eq!(
        max_abs(
            &all_logits(&from_dir, &input),
            &all_logits(&from_bytes, &input)
        ),
        0.0
    );
    let bad = Adapter::from_bytes(b"{}", &bytes("adapter_model.safetensors"), "embedded");
    assert!(bad.is_err());
}
