//! The embedded demo model: loads without network, writes demo-world CoTs in TokenSkip's
//! format, and runs the real-data path (GSM8K test, 50 questions) end to end.

use std::path::Path;
use std::process::Command;
use tokenskip_studio::data::synthetic::{generate, Split, DEFAULT_SEED};
use tokenskip_studio::model::{
    self, GenerateParams, LoadOptions, ModelError, ModelSpec, PromptFormat,
};

fn demo() -> Option<model::LoadedModel> {
    match model::load(&ModelSpec::Demo, &LoadOptions::default()) {
        Ok(m) => Some(m),
        Err(ModelError::NoDemo) => {
            eprintln!(
                "SKIPPED: this build has no embedded demo model (assets/demo/model.safetensors)"
            );
            None
        }
        Err(e) => panic!("the embedded demo model failed to load: {e}"),
    }
}

#[test]
fn demo_model_writes_tokenskip_format_cots() {
    let Some(m) = demo() else { return };
    let problems = generate(Split::Test, 4, DEFAULT_SEED).unwrap();
    let params = GenerateParams {
        max_new_tokens: 200,
        ..Default::default()
    };
    for p in &problems {
        let prompt = m
            .tokenizer
            .tokenskip_prompt(&p.question, 1.0, &PromptFormat::default())
            .unwrap();
        let ids = m.tokenizer.encode(&prompt).unwrap();
        let g = model::generate(&m.decoder, &m.tokenizer, &ids, &params, &mut |_| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(
            g.stop,
            model::StopReason::Eos,
            "should end by itself: {:?}",
            g.text
        );
        assert!(
            g.text.contains("The final answer is: $\\boxed{"),
            "{:?}",
            g.text
        );
        assert!(g.text.contains(" = "), "no equation in {:?}", g.text);
    }
}

#[test]
fn gsm8k_smoke_eval_with_the_demo_model() {
    if demo().is_none() {
        return;
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/gsm8k/test.jsonl");
    if !data.exists() {
        eprintln!(
            "SKIPPED: {} not found (CI has ../shared beside the checkout)",
            data.display()
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"))
        .args([
            "eval",
            "--model",
            "demo",
            "--ratios",
            "1.0",
            "--limit",
            "50",
            "--max-new-tokens",
            "160",
            "--batch-size",
            "10",
            "--progress",
            "quiet",
            "--dataset",
        ])
        .arg(format!("gsm8k:{}", data.display()))
        .arg("--out")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["rows"][0]["n"], 50);
    let acc = s["rows"][0]["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));
    println!(
        "demo model on GSM8K test[:50]: accuracy {:.1}%",
        100.0 * acc
    );
}
