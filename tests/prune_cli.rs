//! `prune` and `generate --dataset` end to end on fixtures: one scorer pass per CoT, exact
//! ratios, TokenSkip's training format, and resuming from any cut point of a killed run
//! gives byte-identical files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fx(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn tss(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"))
        .args(["--threads", "1"])
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

const PRUNE: &[&str] = &[
    "prune",
    "--model",
    "tests/fixtures/tiny-qwen2",
    "--dataset",
    "synthetic:12",
    "--cot-source",
    "dataset",
    "--scorer",
    "rules",
    "--progress",
    "quiet",
];

fn prune(out: &Path, extra: &[&str]) -> Output {
    let mut args = PRUNE.to_vec();
    args.extend_from_slice(extra);
    let mut c = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--threads", "1"])
        .args(&args)
        .arg("--out")
        .arg(out);
    c.output().unwrap()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn prune_scores_once_and_writes_tokenskip_data() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p");
    let o = prune(&out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(o.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(summary["scorer_passes_per_cot"], 1.0);
    let records: Vec<serde_json::Value> = std::fs::read_to_string(out.join("pruned.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 12 * 5);
    for r in &records {
        let (full, kept) = (
            r["tokens_full"].as_u64().unwrap() as f64,
            r["tokens_kept"].as_u64().unwrap() as f64,
        );
        let want = (r["gamma_target"].as_f64().unwrap() * full).round();
        // Exact unless forced tokens (digits, newlines) alone exceed the budget.
        assert!(kept == want || kept > want, "kept {kept} for budget {want}");
        assert_eq!(r["scorer"], "rules");
        assert!(!r["compressed_cot"].as_str().unwrap().is_empty());
    }
    let lf: Vec<serde_json::Value> =
        serde_json::from_slice(&read(&out.join("train_llamafactory.json"))).unwrap();
    assert_eq!(lf.len(), 12);
    for x in &lf {
        assert!(
            x["output"].as_str().unwrap().ends_with("}$")
                && x["output"]
                    .as_str()
                    .unwrap()
                    .contains("\n\nThe final answer is: $\\boxed{")
        );
        let input = x["input"].as_str().unwrap();
        assert!(
            !input.contains("<|im_end|>1.0"),
            "gamma 1.0 must omit the suffix"
        );
    }
    assert!(
        lf.iter()
            .any(|x| x["input"].as_str().unwrap().ends_with("<|im_end|>")),
        "some question should carry a gamma"
    );
    let stats: serde_json::Value = serde_json::from_slice(&read(&out.join("stats.json"))).unwrap();
    assert_eq!(stats["filtered"]["kept"], 12);
    assert_eq!(stats["force_tokens"], serde_json::json!([]));
    let forced = prune(&tmp.path().join("forced"), &["--force-tokens", "=, +"]);
    assert!(forced.status.success());
    let stats: serde_json::Value =
        serde_json::from_slice(&read(&tmp.path().join("forced/stats.json"))).unwrap();
    assert_eq!(stats["force_tokens"], serde_json::json!(["=", "+"]));
    // Emulating the reference (one scorer call per ratio) costs 5 passes per CoT.
    let slow = prune(&tmp.path().join("slow"), &["--rescore-per-ratio"]);
    let s: serde_json::Value =
        serde_json::from_slice(slow.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(s["scorer_passes_per_cot"], 5.0);
    assert!(
        read(&tmp.path().join("slow/pruned.jsonl")) == read(&out.join("pruned.jsonl")),
        "same scores, same records"
    );
}

#[test]
fn prune_resumed_from_any_cut_point_is_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    assert!(prune(&a, &[]).status.success());
    let full = read(&a.join("pruned.jsonl"));
    for (k, cut) in [0.13, 0.5, 0.77, 0.999].iter().enumerate() {
        let b = tmp.path().join(format!("b{k}"));
        assert!(prune(&b, &[]).status.success());
        // What a SIGKILL leaves: a prefix of the append-only file, possibly mid-line.
        let n = (full.len() as f64 * cut) as usize;
        std::fs::write(b.join("pruned.jsonl"), &full[..n]).unwrap();
        for f in ["train_llamafactory.json", "stats.json"] {
            std::fs::remove_file(b.join(f)).unwrap();
        }
        let refused = prune(&b, &[]);
        assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));
        let o = prune(&b, &["--resume"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for f in [
            "pruned.jsonl",
            "train_llamafactory.json",
            "dataset_info.json",
        ] {
            assert!(
                read(&b.join(f)) == read(&a.join(f)),
                "{f} differs after resuming at {cut}"
            );
        }
    }
}

#[test]
fn generate_dataset_writes_and_resumes_cots() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let (model, data) = (
        fx("tiny-qwen2"),
        format!("jsonl:{}", fx("eval-questions.jsonl").display()),
    );
    let args = [
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--dataset",
        &data,
        "--max-new-tokens",
        "5",
        "--batch-size",
        "2",
        "--progress",
        "quiet",
    ];
    let o = tss(&args, &a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let full = read(&a.join("cots.jsonl"));
    assert_eq!(full.iter().filter(|&&c| c == b'\n').count(), 4);
    assert!(tss(&args, &b).status.success());
    std::fs::write(b.join("cots.jsonl"), &full[..full.len() * 2 / 3]).unwrap();
    let mut resume = args.to_vec();
    resume.push("--resume");
    assert!(tss(&resume, &b).status.success());
    assert!(
        read(&b.join("cots.jsonl")) == full,
        "cots.jsonl differs after resume"
    );
}

#[test]
fn prune_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let e = |extra: &[&str]| {
        String::from_utf8_lossy(&prune(&tmp.path().join("x"), extra).stderr).to_string()
    };
    assert!(e(&["--ratios", "0"]).contains("outside (0, 1]"));
    assert!(e(&["--scorer", "magic"]).contains("rules"));
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"question\": \"q\", \"answer\": \"1\"}\n{\"question\": 5}\n",
    )
    .unwrap();
    let msg = e(&["--dataset", &format!("jsonl:{}", bad.display())]);
    assert!(msg.contains("bad.jsonl:2:"), "{msg}");
    assert!(!tmp.path().join("x").join("pruned.jsonl").exists());
}

#[test]
fn prune_handles_multibyte_characters_split_across_tokens() {
    // GSM8K has curly quotes and minus signs that byte-level tokenizers split mid-character.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("g.jsonl");
    let line = serde_json::json!({"question": "How many stamps?", "answer": "Jamie’s stamps: 20 − 13 = <<20-13=7>>7 stamps 😀.\n#### 7"});
    std::fs::write(&data, format!("{line}\n")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "prune",
            "--model",
            "tests/fixtures/tiny-qwen2",
            "--cot-source",
            "dataset",
            "--scorer",
            "rules",
            "--progress",
            "quiet",
            "--dataset",
        ])
        .arg(format!("gsm8k:{}", data.display()))
        .arg("--out")
        .arg(tmp.path().join("o"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(tmp.path().join("o/pruned.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 5);
}

#[test]
fn jsonl_datasets_take_field_names() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("q.jsonl");
    let line = serde_json::json!({"problem": "Tom has 2 apples and buys 3.", "sol": "2 + 3 = 5.\n\nThe final answer is: $\\boxed{5}$", "ans": "5"});
    std::fs::write(&data, format!("{line}\n")).unwrap();
    let o = prune(
        &tmp.path().join("o"),
        &[
            "--dataset",
            &format!("jsonl:{}", data.display()),
            "--question-field",
            "problem",
            "--answer-field",
            "ans",
            "--cot-field",
            "sol",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(tmp.path().join("o/pruned.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (first["answer"].as_str(), first["cot"].as_str()),
        (Some("5"), Some("2 + 3 = 5."))
    );
}

/// Mean (mask ratio, re-tokenized ratio) per gamma of a demo-model prune of 40 reference CoTs.
fn demo_ratios(extra: &[&str]) -> Vec<(f64, f64)> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p");
    let mut args = vec![
        "prune",
        "--model",
        "demo",
        "--dataset",
        "synthetic:40",
        "--cot-source",
        "dataset",
        "--scorer",
        "rules",
        "--force-tokens",
        "=,+,-,*,/",
        "--ratios",
        "0.9,0.7,0.6,0.5",
        "--progress",
        "quiet",
    ];
    args.extend_from_slice(extra);
    let o = tss(&args, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stats: serde_json::Value = serde_json::from_slice(&read(&out.join("stats.json"))).unwrap();
    ["0.90", "0.70", "0.60", "0.50"]
        .iter()
        .map(|g| {
            let s = &stats["per_gamma"][*g];
            (
                s["mean_actual"].as_f64().unwrap(),
                s["mean_actual_retokenized"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// The demo tokenizer has `Ġdivide` but not `divide`, and a lone `Ġ` before each digit. The
/// readable rendering drops the space of a word that starts a line and puts dropped spaces
/// back at joins, so its text costs more tokens than the mask kept; `--keep-word-spaces`
/// makes the text cost what the mask says (what a model trained on it will write).
#[test]
fn keep_word_spaces_makes_the_text_cost_what_the_mask_kept() {
    let tidy = demo_ratios(&[]);
    assert!(tidy[2].1 > tidy[2].0 + 0.1, "tidy text at 0.6: {tidy:?}");
    for granularity in ["token", "word"] {
        let faithful = demo_ratios(&["--keep-word-spaces", "--granularity", granularity]);
        for (mask, retok) in &faithful {
            assert!(retok <= mask, "{granularity}: {faithful:?}");
            assert!(mask - retok < 0.06, "{granularity}: {faithful:?}");
        }
        assert!(faithful[2].1 < 0.65, "{granularity} at 0.6: {faithful:?}");
    }
}
