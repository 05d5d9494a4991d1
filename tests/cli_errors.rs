//! Bad input to the model runtime gives a one-line error that says what and where, and a
//! non-zero exit; nothing panics.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"));
    c.env("HF_HUB_OFFLINE", "1")
        .arg("--log-file")
        .arg(std::env::temp_dir().join("tss-test.log"));
    c
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A scratch copy of the tiny Qwen2 model to break.
fn copy_model() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(fixture("tiny-qwen2")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
    }
    tmp
}

/// Runs `generate` on `model` and returns stderr, asserting failure without a panic.
fn generate_fails(model: &Path, extra: &[&str]) -> String {
    let out = bin()
        .args([
            "generate",
            "--prompt",
            "Tom has 5 apples.",
            "-n",
            "2",
            "--model",
        ])
        .arg(model)
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "expected failure, got success; stderr: {err}"
    );
    assert!(!err.contains("panicked"), "panicked: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    err
}

fn edit_config(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let p = dir.join("config.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&p, v.to_string()).unwrap();
}

#[test]
fn missing_config() {
    let m = copy_model();
    std::fs::remove_file(m.path().join("config.json")).unwrap();
    let e = generate_fails(m.path(), &[]);
    assert!(
        e.contains("config.json") && e.contains("No such file"),
        "{e}"
    );
}

#[test]
fn malformed_config() {
    let m = copy_model();
    std::fs::write(m.path().join("config.json"), "{\"hidden_size\": 64,").unwrap();
    let e = generate_fails(m.path(), &[]);
    assert!(e.contains("config.json: not valid JSON"), "{e}");
}

#[test]
fn unsupported_architecture_is_named() {
    let m = copy_model();
    edit_config(m.path(), |v| {
        v["architectures"] = serde_json::json!(["MambaForCausalLM"])
    });
    let e = generate_fails(m.path(), &[]);
    assert!(
        e.contains("MambaForCausalLM") && e.contains("Qwen2ForCausalLM, LlamaForCausalLM"),
        "{e}"
    );
}

#[test]
fn shape_mismatch_names_the_tensor() {
    let m = copy_model();
    edit_config(m.path(), |v| v["intermediate_size"] = serde_json::json!(96));
    let e = generate_fails(m.path(), &[]);
    assert!(
        e.contains("model.layers.0.mlp.gate_proj.weight") && e.contains("[96, 64]"),
        "{e}"
    );
}

#[test]
fn truncated_safetensors() {
    let m = copy_model();
    let shard = m.path().join("model-00001-of-00003.safetensors");
    let bytes = std::fs::read(&shard).unwrap();
    std::fs::write(&shard, &bytes[..bytes.len() / 2]).unwrap();
    let e = generate_fails(m.path(), &[]);
    assert!(
        e.contains("safetensors") && e.contains("truncated or corrupt"),
        "{e}"
    );
}

#[test]
fn missing_tokenizer() {
    let m = copy_model();
    std::fs::remove_file(m.path().join("tokenizer.json")).unwrap();
    let e = generate_fails(m.path(), &[]);
    assert!(e.contains("tokenizer.json") && e.contains("missing"), "{e}");
}

#[test]
fn prompt_longer_than_context() {
    let long = "apples ".repeat(400);
    let out = bin()
        .args(["generate", "--raw", "-n", "2", "--prompt", &long, "--model"])
        .arg(fixture("tiny-qwen2"))
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(e.contains("context window of 128"), "{e}");
}

#[test]
fn gamma_outside_unit_interval() {
    for g in ["0", "1.5", "-0.2", "NaN"] {
        let e = generate_fails(&fixture("tiny-qwen2"), &[&format!("--ratio={g}")]);
        assert!(e.contains("outside (0, 1]"), "{g}: {e}");
    }
}

#[test]
fn adapter_for_another_model_is_refused() {
    // The Qwen2 adapter does not fit the LLaMA fixture (different kv width): name the tensor.
    let e = generate_fails(
        &fixture("tiny-llama"),
        &["--adapter", fixture("tiny-qwen2-lora").to_str().unwrap()],
    );
    assert!(e.contains("lora_"), "{e}");
}

#[test]
fn device_not_compiled_in() {
    if cfg!(feature = "cuda") {
        return;
    }
    let e = generate_fails(&fixture("tiny-qwen2"), &["--device", "cuda"]);
    assert!(e.contains("--features cuda"), "{e}");
}

#[test]
fn generate_json_reports_tokens_and_timings() {
    let out = bin()
        .args([
            "generate",
            "--json",
            "-n",
            "4",
            "--prompt",
            "Tom has 5 apples.",
            "--model",
        ])
        .arg(fixture("tiny-llama.gguf"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["new_tokens"], 4);
    assert_eq!(v["ids"].as_array().unwrap().len(), 4);
    assert_eq!(v["stop"], "max_tokens");
    assert!(v["decode_tokens_per_s"].as_f64().unwrap() > 0.0);
}
