//! `train` end to end on a tiny model: a run killed with SIGKILL and resumed ends exactly as
//! an uninterrupted one; bad data fails before anything is written; NaN stops with the last
//! good checkpoint named; a non-empty output dir is never clobbered by accident.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fx(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn tiny_config(dir: &Path) -> PathBuf {
    let cfg = serde_json::json!({
        "architectures": ["Qwen2ForCausalLM"], "vocab_size": 480, "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
        "num_key_value_heads": 1, "max_position_embeddings": 256, "tie_word_embeddings": true,
        "eos_token_id": 2
    });
    let p = dir.join("config.json");
    std::fs::write(&p, cfg.to_string()).unwrap();
    p
}

fn train(cfg: &Path, out: &Path, extra: &[&str], kill_after: Option<u32>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"));
    c.args(["--threads", "1", "--log-file"])
        .arg(std::env::temp_dir().join("tss-train-test.log"));
    c.args(["train", "--init"])
        .arg(cfg)
        .arg("--tokenizer")
        .arg(fx("tokenizer"));
    c.args(["--data", "synthetic:48", "--out"]).arg(out);
    c.args([
        "--max-steps",
        "8",
        "--batch-size",
        "4",
        "--grad-accum",
        "2",
        "--save-steps",
        "3",
        "--lr",
        "3e-3",
        "--progress",
        "quiet",
    ]);
    c.args(extra);
    if let Some(k) = kill_after {
        c.env("TOKENSKIP_FAULT_KILL_AFTER_STEP", k.to_string());
    }
    c.output().unwrap()
}

fn last_loss(out: &Path) -> f64 {
    let log = std::fs::read_to_string(out.join("trainer_log.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["step"], 8);
    assert_eq!(
        log.lines().count(),
        8,
        "one log line per step, none duplicated"
    );
    last["loss"].as_f64().unwrap()
}

#[test]
fn sigkill_then_resume_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tiny_config(tmp.path());
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let full = train(&cfg, &a, &[], None);
    assert!(
        full.status.success(),
        "{}",
        String::from_utf8_lossy(&full.stderr)
    );

    let killed = train(&cfg, &b, &[], Some(5));
    assert!(
        !killed.status.success(),
        "the fault hook did not kill the run"
    );
    assert!(b.join("checkpoint-3").join("state.json").exists());
    assert!(!b.join("model.safetensors").exists());
    // Without --resume the half-done run is not clobbered.
    let refused = train(&cfg, &b, &[], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));

    let resumed = train(&cfg, &b, &["--resume"], None);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let (la, lb) = (last_loss(&a), last_loss(&b));
    assert!((la - lb).abs() < 1e-6, "final loss {la} vs resumed {lb}");
    assert_eq!(
        std::fs::read(a.join("model.safetensors")).unwrap(),
        std::fs::read(b.join("model.safetensors")).unwrap(),
        "resumed weights differ"
    );
    // Resuming with other settings is refused.
    let other = train(&cfg, &b, &["--resume", "--lr", "1e-2"], None);
    assert!(
        String::from_utf8_lossy(&other.stderr).contains("other settings"),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
}

#[test]
fn bad_data_fails_with_file_and_line_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tiny_config(tmp.path());
    let data = tmp.path().join("data.jsonl");
    std::fs::write(
        &data,
        "{\"instruction\":\"\",\"input\":\"q\",\"output\":\"a\"}\n{\"input\":\"q\",\"output\":7}\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = train(&cfg, &out, &["--data", data.to_str().unwrap()], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("data.jsonl:2: field `output` must be a string"),
        "{err}"
    );
    assert!(!out.exists(), "nothing should be written for bad data");
}

#[test]
fn nan_loss_stops_and_names_the_last_good_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tiny_config(tmp.path());
    let out = tmp.path().join("out");
    let o = train(
        &cfg,
        &out,
        &[
            "--lr",
            "1e30",
            "--max-grad-norm",
            "0",
            "--warmup-ratio",
            "0",
        ],
        None,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "training with lr 1e30 should blow up");
    assert!(
        err.contains("loss is") && err.contains("checkpoint-"),
        "{err}"
    );
    assert!(!out.join("model.safetensors").exists());
}

#[test]
fn merged_model_equals_base_plus_adapter() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("merged");
    let bin = env!("CARGO_BIN_EXE_tokenskip-studio");
    let o = Command::new(bin)
        .args(["merge", "--model"])
        .arg(fx("tiny-qwen2"))
        .arg("--adapter")
        .arg(fx("tiny-qwen2-lora"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let gen = |model: &Path, adapter: Option<PathBuf>| {
        let mut c = Command::new(bin);
        c.args([
            "generate",
            "--json",
            "-n",
            "12",
            "--prompt",
            "Tom has 5 apples.",
            "--model",
        ])
        .arg(model);
        if let Some(a) = adapter {
            c.arg("--adapter").arg(a);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["ids"].clone()
    };
    assert_eq!(
        gen(&out, None),
        gen(&fx("tiny-qwen2"), Some(fx("tiny-qwen2-lora")))
    );
    // A second merge into the same dir is refused without --overwrite.
    let again = Command::new(bin)
        .args(["merge", "--model"])
        .arg(fx("tiny-qwen2"))
        .arg("--adapter")
        .arg(fx("tiny-qwen2-lora"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stderr).contains("--overwrite"));
}

#[test]
fn a_saved_adapter_loads_back_and_reproduces_training_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("lora");
    let data = tmp.path().join("d.jsonl");
    let rec = |q: &str, a: &str| {
        serde_json::json!({"instruction": "", "input": q, "output": a}).to_string()
    };
    std::fs::write(
        &data,
        [rec("Tom has 5", "5 + 2 = 7"), rec("Ann has 9", "9 - 4 = 5")].join("\n"),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_tokenskip-studio");
    let o = Command::new(bin)
        .args(["--threads", "1", "train", "--model"])
        .arg(fx("tiny-qwen2"))
        .args([
            "--data",
            data.to_str().unwrap(),
            "--max-steps",
            "3",
            "--batch-size",
            "2",
            "--grad-accum",
            "1",
            "--lr",
            "1e-2",
            "--lora-r",
            "4",
            "--progress",
            "quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("adapter_config.json")).unwrap())
            .unwrap();
    assert_eq!(cfg["r"], 4);
    assert_eq!(cfg["peft_type"], "LORA");
    // The adapter loads through the PEFT reader and changes the model's output.
    let gen = |adapter: bool| {
        let mut c = Command::new(bin);
        c.args([
            "generate",
            "--json",
            "-n",
            "8",
            "--prompt",
            "Tom has 5 apples.",
            "--model",
        ])
        .arg(fx("tiny-qwen2"));
        if adapter {
            c.arg("--adapter").arg(&out);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["ids"].clone()
    };
    assert_ne!(gen(true), gen(false), "the trained adapter changed nothing");
}
