//! `train` end to end on a tiny model: a run killed with SIGKILL and resumed ends exactly as
//! an uninterrupted one; bad data fails before anything is written; NaN stops with the last
//! good checkpoint named; a non-empty output dir is never clobbered by accident.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fx(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(p)
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
    c.args(["--threads", "1", "--log-file"]).arg(std::env::temp_dir().join("tss-train-test.log"));
    c.args(["train", "--init"]).arg(cfg).arg("--tokenizer").arg(fx("tokenizer"));
    c.args(["--data", "synthetic:48", "--out"]).arg(out);
    c.args(["--max-steps", "8", "--batch-size", "4", "--grad-accum", "2", "--save-steps", "3", "--lr", "3e-3", "--progress", "quiet"]);
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
    assert_eq!(log.lines().count(), 8, "one log line per step, none duplicated");
    last["loss"].as_f64().unwrap()
}

#[test]
fn sigkill_then_resume_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tiny_config(tmp.path());
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let full = train(&cfg, &a, &[], None);
    assert!(full.status.success(), "{}", String::from_utf8_lossy(&full.stderr));

    let killed = train(&cfg, &b, &[], Some(5));
    assert!(!killed.status.success(), "the fault hook did not kill the run");
    assert!(b.join("checkpoint-3").join("state.json").exists());
    assert!(!b.join("model.safetensors").exists());
    // Without --resume the half-done run is not clobbered.
    let refused = train(&cfg, &b, &[], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));

    let resumed = train(&cfg, &b, &["--resume"], None);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let (la, lb) = (last_loss(&a), last_loss(&b));
    assert!((la - lb).abs() < 1e-6, "final loss {la} vs resumed {lb}");
    assert_eq!(
        std::fs::read(a.join("model.safetensors")).unwrap(),
        std::fs::read(b.join("model.safetensors")).unwrap(),
        "resumed weights differ"
    );
    // Resuming with other settings is refused.
    let other = train(&cfg, &b, &["--resume", "--lr", "1e-2"], None);
    assert!(String::from_utf8_lossy(&other.stderr).contains("other settings"), "{}", String::from_utf8_lossy(&other.stderr));
}

#[test]
fn bad_data_fails_with_file_and_line_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tiny_config(tmp.path());
    let data = tmp.path().join("data.jsonl");
    std::fs::write(&data, "{\"instruction\":\"\",\"input\":\"q\",\"output\":\"a\"}\n{\"input\":\"q\",\"output\":7}\n").unwrap();
    let out = tmp.path().join("out");
    let o = train(&cfg, &out, &["--data", data.to_str().unwrap()], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("data.jsonl:2: field `output` must be a string"), "{err}");
    assert!(!out.exists(), "nothing should be written for bad data");
}

#[test]
fn nan_loss_stops_and_names_the_last_good_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tiny_config(tmp.path());
    let out = tmp.path().join("out");
    let o = train(&cfg, &out, &["--lr", "1e30", "--max-grad-norm", "0", "--warmup-ratio", "0"], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "training with lr 1e30 should blow up");
    assert!(err.contains("loss is") && err.contains("checkpoint-"), "{err}");
    assert!(!out.join("model.safetensors").exists());
}
