//! `eval` end to end on the tiny fixture model: samples and summary agree, resume neither
//! redoes nor duplicates, baselines run, and bad input fails clearly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tokenskip_studio::pipeline::eval::summary::{read_samples, rows, Summary};

fn fx(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn eval(out: &Path, extra: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"));
    c.args(["--threads", "1", "eval", "--model"])
        .arg(fx("tiny-qwen2"));
    c.arg("--dataset")
        .arg(format!("jsonl:{}", fx("eval-questions.jsonl").display()));
    c.args([
        "--ratios",
        "1.0,0.5",
        "--max-new-tokens",
        "6",
        "--batch-size",
        "3",
        "--progress",
        "quiet",
        "--out",
    ])
    .arg(out);
    c.args(extra);
    c.output().unwrap()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn summary_recomputes_from_samples_and_resume_does_not_duplicate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("e");
    let plot = tmp.path().join("chart.svg");
    let o = eval(
        &out,
        &[
            "--baseline",
            "truncation,prompt",
            "--plot",
            plot.to_str().unwrap(),
        ],
    );
    ok(&o);
    let samples = read_samples(&out.join("samples.jsonl")).unwrap();
    // 4 questions x (2 tokenskip ratios + 2 baselines at 0.5)
    assert_eq!(samples.len(), 16);
    let summary: Summary =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary.rows,
        rows(&samples),
        "summary.json must equal what samples.jsonl implies"
    );
    assert!(std::fs::read_to_string(&plot).unwrap().starts_with("<svg"));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("truncation") && table.contains("ActRatio"),
        "{table}"
    );

    // Simulate a run killed mid-write: drop the last samples and tear the final line.
    let path = out.join("samples.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let torn = format!("{}\n{}", lines[..11].join("\n"), &lines[11][..10]);
    std::fs::write(&path, torn).unwrap();
    let refused = eval(&out, &[]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));
    ok(&eval(
        &out,
        &["--baseline", "truncation,prompt", "--resume"],
    ));
    let again = read_samples(&path).unwrap();
    assert_eq!(
        again.len(),
        16,
        "resume must fill in exactly the missing samples"
    );
    let mut keys: Vec<String> = again
        .iter()
        .map(|s| format!("{}|{}|{:?}", s.id, s.gamma, s.method))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 16);
}

#[test]
fn bad_input_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"))
            .args(["eval", "--model"])
            .arg(fx("tiny-qwen2"))
            .arg("--out")
            .arg(tmp.path().join("x"))
            .args(args)
            .output()
            .unwrap();
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    assert!(run(&["--dataset", "squad:x"]).contains("unknown dataset"));
    assert!(run(&["--dataset", "synthetic-test:2", "--ratios", "1.5"]).contains("outside (0, 1]"));
    let empty = tmp.path().join("empty.jsonl");
    std::fs::write(&empty, "\n").unwrap();
    assert!(run(&["--dataset", &format!("jsonl:{}", empty.display())]).contains("is empty"));
    assert!(run(&[
        "--dataset",
        "synthetic-test:2",
        "--ratios",
        "0.5",
        "--baseline",
        "truncation"
    ])
    .contains("needs gamma 1.0"));
    assert!(run(&["--dataset", "synthetic-test:2", "--grader", "magic"]).contains("available"));
}
