//! The real-model path of docs/real-models.md, run as far as this machine allows: every
//! command of the blocks marked `<!-- tested: NAME -->` runs in order, with tiny fixture
//! models in place of the hub ids, `--device cpu`, a 4-question GSM8K-format file and short
//! generations. If the doc's commands change, this test runs the new ones.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shell commands of the fenced block after `<!-- tested: NAME -->`, continuation
/// lines joined.
fn tested_block(doc: &str, name: &str) -> Vec<String> {
    let marker = format!("<!-- tested: {name} -->");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/real-models.md has no {marker}"));
    let body = &doc[start..];
    let open = body
        .find("```sh\n")
        .expect("a ```sh block after the marker")
        + 6;
    let close = body[open..].find("```").expect("the block is closed") + open;
    let mut cmds = Vec::new();
    let mut cur = String::new();
    for line in body[open..close].lines() {
        let line = line.trim();
        match line.strip_suffix('\\') {
            Some(part) => cur.push_str(part),
            None => {
                cur.push_str(line);
                if !cur.trim().is_empty() {
                    cmds.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    cmds
}

/// Splits on whitespace, keeping "double-quoted" words together.
fn words(cmd: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in cmd.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The doc's word with hub ids, devices and paths swapped for this machine's stand-ins.
fn local(word: &str, work: &Path) -> String {
    let fx = |p: &str| root().join("tests/fixtures").join(p).display().to_string();
    let swapped = match word {
        "Qwen/Qwen2.5-7B-Instruct" => fx("tiny-qwen2"),
        "hemingkx/TokenSkip-Qwen2.5-7B-Instruct-GSM8K" => fx("tiny-qwen2-lora"),
        "meta-llama/Llama-3.1-8B-Instruct" => fx("tiny-llama"),
        "llmlingua2:microsoft/llmlingua-2-xlm-roberta-large-meetingbank" => {
            format!("llmlingua2:{}", fx("llmlingua2-tiny"))
        }
        "cuda" => "cpu".into(),
        w => w.to_string(),
    };
    swapped
        .replace("data/gsm8k/", &format!("{}/gsm8k/", work.display()))
        .replace("runs/", &format!("{}/runs/", work.display()))
}

const GSM8K: &[(&str, &str)] = &[
    (
        "Tom has 5 apples and buys 7 more. How many apples does he have?",
        "Tom has 5 + 7 = <<5+7=12>>12 apples.\n#### 12",
    ),
    (
        "Ann has 9 pens and gives away 4. How many are left?",
        "She has 9 - 4 = <<9-4=5>>5 pens left.\n#### 5",
    ),
    (
        "A box holds 6 eggs. How many eggs are in 3 boxes?",
        "3 boxes hold 3 * 6 = <<3*6=18>>18 eggs.\n#### 18",
    ),
    (
        "Sam splits 20 sweets among 4 friends. How many does each get?",
        "Each gets 20 / 4 = <<20/4=5>>5 sweets.\n#### 5",
    ),
];

fn write_gsm8k(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let lines: Vec<String> = GSM8K
        .iter()
        .map(|(q, a)| serde_json::json!({"question": q, "answer": a}).to_string())
        .collect();
    for split in ["train", "test"] {
        std::fs::write(dir.join(format!("{split}.jsonl")), lines.join("\n") + "\n").unwrap();
    }
}

/// A tiny random model never answers correctly, and `prune` keeps only correct CoTs (as
/// TokenSkip does): stand in the CoTs a real model would have written, in the same file.
fn make_cots_correct(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let fixed: Vec<String> = text
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let answer = v["answer"].as_str().unwrap().to_string();
            let q = v["question"].as_str().unwrap().to_string();
            v["cot"] = format!("Let's think step by step. {q} So the total is {answer}.\n\nThe final answer is: $\\boxed{{{answer}}}$").into();
            v["predicted"] = answer.into();
            v["correct"] = true.into();
            v.to_string()
        })
        .collect();
    std::fs::write(path, fixed.join("\n") + "\n").unwrap();
}

fn run_block(name: &str) -> tempfile::TempDir {
    let doc = std::fs::read_to_string(root().join("docs/real-models.md")).unwrap();
    let work = tempfile::tempdir().unwrap();
    write_gsm8k(&work.path().join("gsm8k"));
    let cmds = tested_block(&doc, name);
    assert!(cmds.len() >= 2, "block {name}: {cmds:?}");
    for cmd in cmds {
        let mut w: Vec<String> = words(&cmd).iter().map(|x| local(x, work.path())).collect();
        assert_eq!(w[0], "tokenskip-studio", "{cmd}");
        let sub = w[1].clone();
        if sub == "generate" || sub == "eval" {
            w.extend(["--max-new-tokens".into(), "12".into()]); // tiny random models ramble
        }
        let out = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"))
            .args(["--threads", "1"])
            .args(&w[1..])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{}` failed:\n{}",
            w.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        if sub == "generate" {
            make_cots_correct(&work.path().join("runs/llama8b-cots/cots.jsonl"));
        }
    }
    work
}

#[test]
fn qwen_released_adapter_eval_runs_as_documented() {
    let work = run_block("qwen");
    let runs = work.path().join("runs/qwen7b-gsm8k");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs.join("summary.json")).unwrap()).unwrap();
    assert!(summary["adapter"]
        .as_str()
        .unwrap()
        .ends_with("tiny-qwen2-lora"));
    let rows = summary["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6 + 5, "6 gammas + 5 truncation rows");
    assert!(rows.iter().all(|r| r["n"] == 4));
    let report = std::fs::read_to_string(runs.join("report.md")).unwrap();
    assert!(report.contains("## Targets (issue 9), per adapter"));
    assert!(runs.join("chart.svg").exists());
}

#[test]
fn llama_full_recipe_runs_as_documented() {
    let work = run_block("llama");
    let runs = work.path().join("runs");
    let stats: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(runs.join("llama8b-prune/stats.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        stats["scorer"]
            .as_str()
            .map(|s| s.starts_with("llmlingua2")),
        Some(true),
        "{stats}"
    );
    let train: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(runs.join("llama8b-prune/train_llamafactory.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(train.as_array().unwrap().len(), 4);
    for f in ["adapter_config.json", "adapter_model.safetensors"] {
        assert!(runs.join("llama8b-lora").join(f).exists(), "{f}");
    }
    let lf = std::fs::read_dir(runs.join("llama8b-llamafactory"))
        .unwrap()
        .count();
    assert!(lf >= 3, "LLaMA-Factory export has {lf} files");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(runs.join("llama8b-eval/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["rows"].as_array().unwrap().len(), 11);
}

#[test]
fn doc_blocks_parse() {
    let doc = std::fs::read_to_string(root().join("docs/real-models.md")).unwrap();
    let llama = tested_block(&doc, "llama");
    assert_eq!(llama.len(), 5);
    assert!(llama.iter().all(|c| c.starts_with("tokenskip-studio ")));
    let title = words(&tested_block(&doc, "qwen")[1]);
    assert!(title.contains(&"TokenSkip Qwen2.5-7B-Instruct, GSM8K".to_string()));
}
