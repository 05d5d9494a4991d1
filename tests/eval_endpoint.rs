//! `eval --endpoint` against a small OpenAI-compatible completions server started by the
//! test on a loopback port: accuracy, token counts from `usage` (and the local fallback),
//! per-sample failures after retries, deterministic order under concurrency, resume, and a
//! clear stop when the server cannot be reached at all.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokenskip_studio::pipeline::eval::summary::{read_samples, rows, Summary, TokensSource};

fn fx(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

/// What the fake server saw and how it behaves.
#[derive(Default)]
struct Server {
    /// Request bodies and Authorization headers, in arrival order.
    seen: Mutex<Vec<(Value, Option<String>)>>,
    /// Answer HTTP 500 to the egg question.
    fail_eggs: AtomicBool,
}

/// More requests than any run here makes: the server stops answering after this many.
const MAX_REQUESTS: usize = 64;

impl Server {
    fn start() -> (Arc<Server>, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let s = Arc::new(Server {
            fail_eggs: AtomicBool::new(true),
            ..Default::default()
        });
        let s2 = s.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s2.clone();
                std::thread::spawn(move || s.serve(conn));
            }
        });
        (s, url)
    }

    fn requests(&self) -> Vec<(Value, Option<String>)> {
        self.seen.lock().unwrap().clone()
    }

    /// HTTP/1.1 with keep-alive: one request after another on the connection.
    fn serve(&self, conn: TcpStream) {
        let mut r = BufReader::new(conn.try_clone().unwrap());
        let mut w = conn;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            assert!(line.starts_with("POST /v1/completions "), "{line}");
            let (mut len, mut auth) = (0usize, None);
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => len = v.trim().parse().unwrap(),
                    "authorization" => auth = Some(v.trim().to_string()),
                    _ => {}
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let req: Value = serde_json::from_slice(&body).unwrap();
            let n = {
                let mut seen = self.seen.lock().unwrap();
                seen.push((req.clone(), auth));
                seen.len()
            };
            let (status, answer) = if n > MAX_REQUESTS {
                (
                    429,
                    json!({"error": {"message": "request budget of the test server spent"}}),
                )
            } else {
                self.answer(&req)
            };
            let text = answer.to_string();
            let reason = if status == 200 { "OK" } else { "Error" };
            write!(
                w,
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
                text.len()
            )
            .unwrap();
            w.flush().unwrap();
        }
    }

    /// Right for apples and sweets, wrong for pens, HTTP 500 for eggs (while `fail_eggs`).
    /// Sweets stop at the length limit and come without `usage`.
    fn answer(&self, req: &Value) -> (u16, Value) {
        let prompt = req["prompt"].as_str().unwrap();
        let completion = |text: &str, finish: &str, tokens: Option<usize>| {
            let mut v = json!({
                "id": "cmpl-1", "object": "text_completion", "created": 0, "model": req["model"],
                "choices": [{"index": 0, "text": text, "logprobs": null, "finish_reason": finish}],
            });
            if let Some(t) = tokens {
                v["usage"] =
                    json!({"prompt_tokens": 40, "completion_tokens": t, "total_tokens": 40 + t});
            }
            (200, v)
        };
        if prompt.contains("apples") {
            // Slow, so that later questions finish first and order must be restored.
            std::thread::sleep(Duration::from_millis(300));
            completion(
                "5 + 7 = 12.\n\nThe final answer is: $\\boxed{12}$",
                "stop",
                Some(11),
            )
        } else if prompt.contains("pens") {
            completion(
                "9 - 4 = 4.\n\nThe final answer is: $\\boxed{4}$",
                "stop",
                Some(10),
            )
        } else if prompt.contains("eggs") && self.fail_eggs.load(Ordering::SeqCst) {
            (
                500,
                json!({"object": "error", "message": "boom for eggs", "code": 500}),
            )
        } else if prompt.contains("eggs") {
            completion(
                "6 x 3 = 18.\n\nThe final answer is: $\\boxed{18}$",
                "stop",
                Some(12),
            )
        } else {
            completion("20 / 4 = 5. The answer is 5", "length", None)
        }
    }
}

fn eval(url: &str, out: &Path, extra: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"));
    c.args(["eval", "--endpoint", url, "--served-model", "x", "--model"])
        .arg(fx("tiny-qwen2"))
        .arg("--dataset")
        .arg(format!("jsonl:{}", fx("eval-questions.jsonl").display()))
        .args(["--ratios", "1.0,0.5", "--max-new-tokens", "64"])
        .args([
            "--concurrency",
            "2",
            "--retries",
            "1",
            "--progress",
            "quiet",
        ])
        .args(["--api-key-env", "TS_TEST_KEY"])
        .env("TS_TEST_KEY", "sekrit")
        .arg("--out")
        .arg(out)
        .args(extra);
    c.output().unwrap()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn served_model_is_evaluated_with_failures_recorded_per_sample() {
    let (server, url) = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("e");
    let o = eval(&url, &out, &[]);
    ok(&o);

    let samples = read_samples(&out.join("samples.jsonl")).unwrap();
    let order: Vec<(f64, &str)> = samples.iter().map(|s| (s.gamma, s.id.as_str())).collect();
    assert_eq!(
        order,
        [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
            .into_iter()
            .zip(["q1", "q2", "q3", "q4", "q1", "q2", "q3", "q4"])
            .collect::<Vec<_>>(),
        "samples are written in question order whatever order the answers arrive in"
    );
    let by = |id: &str, g: f64| samples.iter().find(|s| s.id == id && s.gamma == g).unwrap();
    let q1 = by("q1", 1.0);
    assert!(q1.correct && !q1.truncated && q1.error.is_none());
    assert_eq!(
        (q1.tokens, q1.tokens_source),
        (11, Some(TokensSource::Usage))
    );
    assert!(
        q1.latency_s >= 0.3,
        "latency is the request's wall time: {}",
        q1.latency_s
    );
    let q2 = by("q2", 0.5);
    assert_eq!((q2.correct, q2.predicted.as_deref()), (false, Some("4")));
    let q4 = by("q4", 1.0);
    assert!(
        q4.correct && q4.truncated,
        "finish_reason length = truncated"
    );
    assert_eq!(q4.tokens_source, Some(TokensSource::Retokenized));
    assert!(q4.tokens > 5, "re-tokenized locally: {}", q4.tokens);
    for g in [1.0, 0.5] {
        let q3 = by("q3", g);
        let err = q3
            .error
            .as_deref()
            .expect("the failing question is recorded");
        assert!(
            err.contains("500") && err.contains("boom for eggs") && err.contains("2 attempts"),
            "{err}"
        );
        assert!(!q3.correct && q3.cot.is_empty());
    }

    let summary: Summary =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary.rows,
        rows(&samples),
        "summary.json = rows of samples.jsonl"
    );
    assert_eq!(summary.timing, "endpoint (concurrency 2)");
    assert_eq!(summary.model, "x");
    assert_eq!(summary.endpoint, Some(format!("{url}/v1/completions")));
    for r in &summary.rows {
        assert_eq!((r.n, r.errors, r.accuracy, r.truncated), (4, 1, 0.5, 1));
        // Tokens of the answered samples only: 11, 10 and the re-tokenized sweets.
        assert_eq!(r.mean_tokens, (21 + q4.tokens) as f64 / 3.0);
    }
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("errors") && stdout.contains("--retry-failed"),
        "{stdout}"
    );

    // The requests: TokenSkip prompts through the chat template, greedy, EOS as stop.
    let reqs = server.requests();
    assert_eq!(
        reqs.len(),
        6 + 2 * 2,
        "6 answered + the egg question twice per gamma"
    );
    for (body, auth) in &reqs {
        assert_eq!(body["model"], "x");
        assert_eq!(body["temperature"], 0.0);
        assert_eq!(body["max_tokens"], 64);
        assert_eq!(body["stop"], json!(["<|im_end|>"]));
        assert_eq!(auth.as_deref(), Some("Bearer sekrit"));
        let p = body["prompt"].as_str().unwrap();
        assert!(
            p.starts_with("<|im_start|>system") && p.ends_with("<|im_start|>assistant\n"),
            "{p}"
        );
    }
    assert!(reqs.iter().any(|(b, _)| b["prompt"]
        .as_str()
        .unwrap()
        .contains("does he have?<|im_end|>0.5<|im_end|>")));

    // Resume redoes nothing; --retry-failed redoes exactly the failed samples.
    ok(&eval(&url, &out, &["--resume"]));
    assert_eq!(server.requests().len(), 10);
    server.fail_eggs.store(false, Ordering::SeqCst);
    ok(&eval(&url, &out, &["--resume", "--retry-failed"]));
    assert_eq!(server.requests().len(), 12);
    let again = read_samples(&out.join("samples.jsonl")).unwrap();
    assert_eq!(again.len(), 8);
    assert!(again.iter().all(|s| s.error.is_none()));
    let summary: Summary =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary.rows, rows(&again));
    assert!(summary
        .rows
        .iter()
        .all(|r| r.errors == 0 && r.accuracy == 0.75));
}

#[test]
fn unreachable_server_stops_the_run_naming_the_url() {
    // A loopback port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("e");
    let o = eval(&url, &out, &["--retries", "0"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("first batch"),
        "{err}"
    );
    let kept = read_samples(&out.join("samples.jsonl")).unwrap();
    assert!(
        kept.is_empty(),
        "nothing recorded when nothing could be reached"
    );
}

#[test]
fn endpoint_flags_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"))
            .args(["eval", "--dataset", "synthetic-test:2", "--out"])
            .arg(tmp.path().join("x"))
            .args(args)
            .env_remove("TS_MISSING_KEY")
            .output()
            .unwrap();
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let tiny = fx("tiny-qwen2");
    let tiny = tiny.to_str().unwrap();
    let base = [
        "--endpoint",
        "http://127.0.0.1:9",
        "--served-model",
        "x",
        "--model",
        tiny,
    ];
    assert!(run(&["--endpoint", "http://127.0.0.1:9"]).contains("--served-model"));
    let no_tokenizer = run(&["--endpoint", "http://127.0.0.1:9", "--served-model", "x"]);
    assert!(no_tokenizer.contains("pass --model"), "{no_tokenizer}");
    let with = |extra: &[&str]| run(&[&base[..], extra].concat());
    assert!(with(&["--api-key-env", "TS_MISSING_KEY"]).contains("TS_MISSING_KEY"));
    assert!(with(&["--latency", "--concurrency", "4"]).contains("--latency"));
    assert!(with(&["--adapter", tiny]).contains("--lora-modules"));
    let bad_url = run(&[
        "--endpoint",
        "127.0.0.1:9",
        "--served-model",
        "x",
        "--model",
        tiny,
    ]);
    assert!(bad_url.contains("http://"), "{bad_url}");
}
