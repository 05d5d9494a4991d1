//! `score` and `compress` from the command line: output formats, JSONL in/out, and a clear
//! one-line error with a non-zero exit (never a panic) for each kind of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const COT: &str = "Step 1: Janet has 16 eggs and eats 3 of them.\nStep 2: She sells the \
remaining 13 eggs for 2 dollars each, so 13 * 2 = 26 dollars.\n\nThe final answer is: $\\boxed{26}$";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn bin(log: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"));
    c.env("HF_HUB_OFFLINE", "1")
        .env_remove("NO_COLOR")
        .arg("--log-file")
        .arg(log);
    c
}

/// Runs `args` with `--model tiny-qwen2` appended.
fn run(args: &[&str]) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    run_logged(args, &tmp.path().join("log"))
}

fn run_logged(args: &[&str], log: &Path) -> Output {
    bin(log)
        .args(args)
        .arg("--model")
        .arg(fixture("tiny-qwen2"))
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed: {err}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Asserts failure with one line on stderr and no panic; returns that line.
fn fails(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "expected failure; stderr: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    err
}

#[test]
fn score_prints_bracketed_text_when_not_a_terminal() {
    let out = ok(&run(&["score", "--scorer", "rules", "--text", COT]));
    assert!(out.contains('[') && out.contains(']'), "{out}");
    assert!(!out.contains('\x1b'), "no colour when piped: {out:?}");
    // Brackets aside, the text is unchanged.
    assert_eq!(out.replace(['[', ']'], "").trim_end(), COT);
}

#[test]
fn score_colours_on_request() {
    let out = ok(&run(&[
        "score",
        "-s",
        "surprisal",
        "-t",
        COT,
        "--color",
        "always",
    ]));
    assert!(out.contains("\x1b[48;"), "{out:?}");
}

#[test]
fn score_json_has_tokens_words_and_scorer() {
    let out = ok(&run(&["score", "-s", "attention", "-t", COT, "--json"]));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v["scorer"].as_str().unwrap().starts_with("attention:"));
    let tokens = v["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 88);
    let joined: String = tokens.iter().map(|t| t["text"].as_str().unwrap()).collect();
    assert_eq!(joined, COT);
    let digit = tokens.iter().find(|t| t["text"] == "6").unwrap();
    assert_eq!(digit["forced"], "digit");
    assert!(digit["start"].as_u64().unwrap() < digit["end"].as_u64().unwrap());
    assert!(!v["words"].as_array().unwrap().is_empty());
    assert!(v["words"][0]["score"].is_number());
}

#[test]
fn compress_text_prints_text_and_counts() {
    let out = run(&["compress", "-s", "rules", "-r", "0.5", "-t", COT]);
    let text = ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kept 44/88 tokens"), "{err}");
    assert!(
        err.contains("target ratio 0.5") && err.contains("actual 0.5000"),
        "{err}"
    );
    assert!(
        text.contains("16") && text.contains("\\boxed{26}"),
        "{text}"
    );
    assert!(text.lines().count() >= 3, "line breaks kept: {text}");
}

#[test]
fn compress_json() {
    let out = ok(&run(&[
        "compress",
        "-s",
        "surprisal",
        "-r",
        "0.7",
        "-t",
        COT,
        "--json",
        "--granularity",
        "word",
    ]));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["gamma_target"], 0.7);
    assert_eq!(v["tokens_full"], 88);
    assert_eq!(v["granularity"], "word");
    let actual = v["gamma_actual"].as_f64().unwrap();
    assert!((actual - 0.7).abs() < 0.1, "{actual}");
}

#[test]
fn force_tokens_are_always_kept() {
    let compress = |extra: &[&str]| {
        let mut args = vec![
            "compress",
            "-s",
            "surprisal",
            "-r",
            "0.2",
            "-t",
            COT,
            "--json",
        ];
        args.extend_from_slice(extra);
        let v: serde_json::Value = serde_json::from_str(ok(&run(&args)).trim()).unwrap();
        v
    };
    let plain = compress(&[]);
    let forced = compress(&["--force-tokens", "=,*"]);
    // Two more forced tokens (`*` and `=` of `13 * 2 = 26`) than digits and line breaks.
    assert_eq!(
        forced["tokens_forced"].as_u64().unwrap(),
        plain["tokens_forced"].as_u64().unwrap() + 2,
        "{plain}\n{forced}"
    );
    let text = forced["compressed_cot"].as_str().unwrap();
    assert!(text.contains('=') && text.contains('*'), "{text}");
}

#[test]
fn compress_jsonl_gives_one_line_per_record() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.jsonl");
    let rec =
        |id: u32| serde_json::json!({"id": id, "question": "How much?", "cot": COT}).to_string();
    std::fs::write(&input, format!("{}\n\n{}\n", rec(1), rec(2))).unwrap();
    let out = ok(&run(&[
        "compress",
        "-s",
        "counterfactual",
        "-r",
        "0.6",
        "-i",
        input.to_str().unwrap(),
        "--question-field",
        "question",
    ]));
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for (i, v) in lines.iter().enumerate() {
        assert_eq!(v["id"], i as u64 + 1, "input fields are kept");
        assert_eq!(v["tokens_kept"], 53);
        assert!(v["compressed_cot"]
            .as_str()
            .unwrap()
            .contains("\\boxed{26}"));
        assert!(v["scorer"].as_str().unwrap().starts_with("counterfactual:"));
    }
}

#[test]
fn long_text_is_windowed_and_logged() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let long = COT.repeat(3);
    ok(&run_logged(
        &["score", "-s", "surprisal", "-t", &long, "--json"],
        &log,
    ));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("windows"), "{logged}");
}

#[test]
fn empty_text_is_an_error() {
    let err = fails(&run(&["score", "-s", "rules", "-t", "  \n"]));
    assert!(err.contains("--text is empty"), "{err}");
    let err = fails(&run(&["compress", "-s", "rules", "-r", "0.5", "-t", ""]));
    assert!(err.contains("empty"), "{err}");
}

#[test]
fn ratio_outside_the_unit_interval_is_an_error() {
    for r in ["0", "1.5", "--ratio=-0.2", "nan"] {
        let args: Vec<&str> = if r.starts_with("--") {
            vec!["compress", "-s", "rules", r, "-t", COT]
        } else {
            vec!["compress", "-s", "rules", "-r", r, "-t", COT]
        };
        let err = fails(&run(&args));
        assert!(err.contains("outside (0, 1]"), "{r}: {err}");
    }
}

#[test]
fn bad_jsonl_lines_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&[u8], &str); 5] = [
        (
            b"{\"cot\": \"a 1\"}\n{\"cot\": \"b \xff\"}\n",
            ":2: invalid UTF-8",
        ),
        (b"{\"cot\": \"a 1\"}\n\n{\"cot\": \n", ":3: malformed JSON"),
        (b"{\"text\": \"a 1\"}\n", ":1: field `cot` is missing"),
        (b"{\"cot\": 5}\n", ":1: field `cot` is not a string"),
        (b"{\"cot\": \"  \"}\n", ":1: field `cot` is empty"),
    ];
    for (i, (content, want)) in cases.iter().enumerate() {
        let f = tmp.path().join(format!("bad{i}.jsonl"));
        std::fs::write(&f, content).unwrap();
        let err = fails(&run(&["score", "-s", "rules", "-i", f.to_str().unwrap()]));
        assert!(err.contains(&format!("bad{i}.jsonl{want}")), "{err}");
    }
    let err = fails(&run(&["score", "-s", "rules", "-i", "/no/such/file.jsonl"]));
    assert!(err.contains("cannot read /no/such/file.jsonl"), "{err}");
}

#[test]
fn invalid_utf8_text_argument_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = bin(&tmp.path().join("log"))
        .args(["score", "-s", "rules", "--text"])
        .arg(std::ffi::OsStr::from_bytes(b"bad \xff text"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && !err.contains("panicked"), "{err}");
    assert!(err.contains("UTF-8"), "{err}");
}

#[test]
fn unknown_scorer_lists_the_known_ones() {
    let err = fails(&run(&["score", "-s", "perplexity", "-t", COT]));
    assert!(
        err.contains("unknown scorer \"perplexity\" (known: rules, surprisal, attention, counterfactual, llmlingua2)"),
        "{err}"
    );
}

#[test]
fn missing_scorer_models_are_named() {
    let err = fails(&run(&[
        "score",
        "-s",
        "surprisal:/no/such/model",
        "-t",
        COT,
    ]));
    assert!(
        err.contains("/no/such/model") && err.contains("not found"),
        "{err}"
    );
    let err = fails(&run(&["score", "-s", "llmlingua2:/no/such/dir", "-t", COT]));
    assert!(
        err.contains(
            "huggingface-cli download microsoft/llmlingua-2-xlm-roberta-large-meetingbank"
        ),
        "{err}"
    );
    // The default LLMLingua-2 model, offline with an empty cache.
    let tmp = tempfile::tempdir().unwrap();
    let out = bin(&tmp.path().join("log"))
        .env("HF_HOME", tmp.path())
        .args(["score", "-s", "llmlingua2", "-t", COT, "--model"])
        .arg(fixture("tiny-qwen2"))
        .output()
        .unwrap();
    let err = fails(&out);
    assert!(
        err.contains("microsoft/llmlingua-2-xlm-roberta-large-meetingbank")
            && err.contains("HF_HUB_OFFLINE"),
        "{err}"
    );
}

#[test]
fn a_cot_without_answer_fails_counterfactual_clearly() {
    let err = fails(&run(&[
        "score",
        "-s",
        "counterfactual",
        "-t",
        "no numbers here at all",
    ]));
    assert!(err.contains("no answer"), "{err}");
}

#[test]
fn the_llmlingua2_classifier_runs_from_a_directory() {
    let dir = fixture("llmlingua2-tiny");
    let spec = format!("llmlingua2:{}", dir.display());
    let out = ok(&run(&[
        "compress", "-s", &spec, "-r", "0.5", "-t", COT, "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["tokens_kept"], 44);
}
