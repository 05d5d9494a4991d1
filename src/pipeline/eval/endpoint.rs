//! A blocking client for the completions API of OpenAI-compatible servers (vLLM, SGLang,
//! llama.cpp server): one request per prompt, retried with exponential backoff, and a pool
//! of threads that completes a list of prompts and hands the results back in list order.

use crate::model::tokenizer::ChatTokenizer;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The longest wait between two attempts.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// How to reach the server and how hard to try.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// The server's base URL (`http://host:8000`, with or without `/v1`).
    pub url: String,
    /// The `model` field of each request (the name the server serves the model under).
    pub model: String,
    /// Sent as `Authorization: Bearer KEY`.
    pub api_key: Option<String>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Retries after a failed attempt, waiting `backoff`, 2 x `backoff`, 4 x ... between them.
    pub retries: u32,
    pub backoff: Duration,
    /// Limit on one attempt (connecting, generating and reading the answer).
    pub timeout: Duration,
}

/// A failed request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EndpointError {
    #[error("--endpoint `{0}` is not an http:// or https:// URL")]
    Url(String),
    #[error("{url} answered HTTP {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("cannot reach {url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: not a completions response: {problem}")]
    Response { url: String, problem: String },
}

impl EndpointError {
    /// Worth another try: the server was unreachable, overloaded or failed internally.
    /// Other 4xx answers (bad request, unknown model) will not change on a retry.
    fn retryable(&self) -> bool {
        match self {
            EndpointError::Transport { .. } => true,
            EndpointError::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            EndpointError::Url(_) | EndpointError::Response { .. } => false,
        }
    }
}

/// One prompt to complete.
#[derive(Debug, Clone)]
pub struct Request {
    pub prompt: String,
    pub max_tokens: usize,
}

/// What the server wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub text: String,
    /// `usage.completion_tokens`, when the server reports usage.
    pub completion_tokens: Option<usize>,
    pub finish_reason: Option<String>,
}

impl Completion {
    /// Generation stopped at `max_tokens`.
    pub fn truncated(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }
}

/// The result of one request after its retries.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub result: Result<Completion, EndpointError>,
    /// Wall time of the last attempt, in seconds (backoff waits excluded).
    pub latency_s: f64,
    pub attempts: u32,
}

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    prompt: &'a str,
    max_tokens: usize,
    temperature: f64,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
}

#[derive(Deserialize)]
struct Answer {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    text: String,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    completion_tokens: Option<usize>,
}

/// A completions client for one server and model.
pub struct Endpoint {
    agent: ureq::Agent,
    cfg: EndpointConfig,
    /// `{url}/v1/completions`.
    completions: String,
    stop: Vec<String>,
}

/// `POST` target for a base URL given with or without `/v1` (or the full path).
pub fn completions_url(base: &str) -> Result<String, EndpointError> {
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(EndpointError::Url(base.to_string()));
    }
    let b = base.trim_end_matches('/');
    Ok(if b.ends_with("/v1/completions") {
        b.to_string()
    } else if b.ends_with("/v1") {
        format!("{b}/completions")
    } else {
        format!("{b}/v1/completions")
    })
}

/// The EOS/EOT strings of `tok` (its stop ids as text), sent as `stop`.
pub fn stop_strings(tok: &ChatTokenizer) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let ids = tok.eos_ids.iter().filter_map(|&i| tok.inner.id_to_token(i));
    for s in tok.eos_token.clone().into_iter().chain(ids) {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The prompt text as a server should receive it. Servers tokenize completions prompts with
/// the tokenizer's special tokens added: where that prepends BOS and the chat template
/// already wrote it (LLaMA-3), the model would see BOS twice, so the template's one is dropped.
pub fn served_prompt<'a>(tok: &ChatTokenizer, text: &'a str) -> &'a str {
    let Some(bos) = tok.bos_token.as_deref().filter(|b| !b.is_empty()) else {
        return text;
    };
    let (Some(rest), Some(bos_id)) = (text.strip_prefix(bos), tok.inner.token_to_id(bos)) else {
        return text;
    };
    let server_adds_bos = tok
        .inner
        .encode(rest, true)
        .is_ok_and(|e| e.get_ids().first() == Some(&bos_id));
    if server_adds_bos {
        rest
    } else {
        text
    }
}

/// The error text of an error answer: OpenAI's `error.message`, vLLM's `message`, FastAPI's
/// `detail`, else the body itself (shortened).
fn error_message(body: &str) -> String {
    let v: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let pick = |v: &serde_json::Value| {
        [
            &v["error"]["message"],
            &v["message"],
            &v["error"],
            &v["detail"],
        ]
        .into_iter()
        .find_map(|m| m.as_str().map(str::to_string))
    };
    let msg = v
        .as_ref()
        .and_then(pick)
        .unwrap_or_else(|| body.trim().to_string());
    let mut short: String = msg.chars().take(300).collect();
    if short.len() < msg.len() {
        short.push('…');
    }
    if short.is_empty() {
        "(empty body)".into()
    } else {
        short
    }
}

impl Endpoint {
    /// A client for `cfg`; `stop` are sent with every request (the model's EOS strings).
    pub fn new(cfg: EndpointConfig, stop: Vec<String>) -> Result<Self, EndpointError> {
        let completions = completions_url(&cfg.url)?;
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10).min(cfg.timeout))
            .timeout(cfg.timeout)
            .build();
        Ok(Endpoint {
            agent,
            cfg,
            completions,
            stop,
        })
    }

    /// The URL requests go to.
    pub fn url(&self) -> &str {
        &self.completions
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.cfg
    }

    fn attempt(&self, r: &Request) -> Result<Completion, EndpointError> {
        let url = &self.completions;
        let mut req = self.agent.post(url);
        if let Some(k) = &self.cfg.api_key {
            req = req.set("Authorization", &format!("Bearer {k}"));
        }
        let body = Body {
            model: &self.cfg.model,
            prompt: &r.prompt,
            max_tokens: r.max_tokens,
            temperature: 0.0,
            stop: &self.stop,
        };
        let resp = match req.send_json(&body) {
            Ok(resp) => resp,
            Err(ureq::Error::Status(status, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                return Err(EndpointError::Status {
                    url: url.clone(),
                    status,
                    message: error_message(&text),
                });
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(EndpointError::Transport {
                    url: url.clone(),
                    message: t.to_string(),
                })
            }
        };
        let bad = |problem: String| EndpointError::Response {
            url: url.clone(),
            problem,
        };
        let text = resp.into_string().map_err(|e| EndpointError::Transport {
            url: url.clone(),
            message: format!("reading the answer: {e}"),
        })?;
        let a: Answer = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let c = a
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| bad("`choices` is empty".into()))?;
        Ok(Completion {
            text: c.text,
            completion_tokens: a.usage.and_then(|u| u.completion_tokens),
            finish_reason: c.finish_reason,
        })
    }

    /// Completes `r`, retrying transport failures, 408, 429 and 5xx with backoff.
    pub fn complete(&self, r: &Request) -> Outcome {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let t0 = Instant::now();
            let result = self.attempt(r);
            let latency_s = t0.elapsed().as_secs_f64();
            match result {
                Err(e) if e.retryable() && attempts <= self.cfg.retries => {
                    let wait = self
                        .cfg
                        .backoff
                        .checked_mul(2u32.saturating_pow(attempts - 1))
                        .map_or(MAX_WAIT, |w| w.min(MAX_WAIT));
                    tracing::warn!(error = %e, attempt = attempts, wait_s = wait.as_secs_f64(), "request failed, retrying");
                    std::thread::sleep(wait);
                }
                result => {
                    return Outcome {
                        result,
                        latency_s,
                        attempts,
                    }
                }
            }
        }
    }

    /// Completes every request with `concurrency` threads pulling from a shared queue and
    /// calls `sink(index, outcome)` in index order, whatever order the answers arrive in.
    /// When `sink` fails, no new request starts; those in flight finish and are dropped.
    pub fn complete_all<F>(&self, reqs: &[Request], mut sink: F) -> anyhow::Result<()>
    where
        F: FnMut(usize, Outcome) -> anyhow::Result<()>,
    {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
        std::thread::scope(|scope| {
            for _ in 0..self.cfg.concurrency.clamp(1, reqs.len().max(1)) {
                let (tx, next, stop) = (tx.clone(), &next, &stop);
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(r) = reqs.get(i) else { break };
                        if tx.send((i, self.complete(r))).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut waiting = BTreeMap::new();
            let mut due = 0;
            for (i, o) in rx.iter() {
                waiting.insert(i, o);
                while let Some(o) = waiting.remove(&due) {
                    if let Err(e) = sink(due, o) {
                        stop.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                    due += 1;
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_or_without_v1() {
        let u = |s| completions_url(s).unwrap();
        assert_eq!(u("http://h:8000"), "http://h:8000/v1/completions");
        assert_eq!(u("http://h:8000/"), "http://h:8000/v1/completions");
        assert_eq!(u("https://h/v1"), "https://h/v1/completions");
        assert_eq!(u("http://h/v1/completions"), "http://h/v1/completions");
        assert!(completions_url("h:8000").is_err());
    }

    #[test]
    fn error_messages_are_extracted_and_short() {
        assert_eq!(
            error_message(r#"{"error":{"message":"model x not found"}}"#),
            "model x not found"
        );
        assert_eq!(
            error_message(r#"{"object":"error","message":"too long"}"#),
            "too long"
        );
        assert_eq!(error_message("boom\n"), "boom");
        assert_eq!(error_message(""), "(empty body)");
        assert!(error_message(&"x".repeat(1000)).chars().count() <= 301);
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let st = |status| EndpointError::Status {
            url: "u".into(),
            status,
            message: String::new(),
        };
        assert!(st(500).retryable() && st(503).retryable() && st(429).retryable());
        assert!(!st(400).retryable() && !st(404).retryable());
    }

    fn fixture_tokenizer(bos_post_processor: bool) -> ChatTokenizer {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-qwen2");
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(format!("{dir}/tokenizer.json")).unwrap())
                .unwrap();
        if bos_post_processor {
            // What LLaMA-3's tokenizer does: prepend BOS to every encoding.
            json["post_processor"] = serde_json::json!({
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [0],
                                                     "tokens": ["<|endoftext|>"]}}
            });
        }
        let cfg = serde_json::json!({"bos_token": "<|endoftext|>", "eos_token": "<|im_end|>"});
        ChatTokenizer::from_json(json.to_string().as_bytes(), &cfg, None, &[], "t").unwrap()
    }

    #[test]
    fn template_bos_is_dropped_only_where_the_server_adds_its_own() {
        let text = "<|endoftext|><|im_start|>user\nhi<|im_end|>\n";
        let adds = fixture_tokenizer(true);
        assert_eq!(served_prompt(&adds, text), &text["<|endoftext|>".len()..]);
        let plain = fixture_tokenizer(false);
        assert_eq!(served_prompt(&plain, text), text);
        assert_eq!(stop_strings(&plain), vec!["<|im_end|>".to_string()]);
    }

    #[test]
    fn unreachable_server_fails_after_the_retries() {
        // A port nobody listens on: bind, note the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ep = Endpoint::new(
            EndpointConfig {
                url: format!("http://127.0.0.1:{port}"),
                model: "x".into(),
                api_key: None,
                concurrency: 1,
                retries: 2,
                backoff: Duration::from_millis(1),
                timeout: Duration::from_secs(5),
            },
            vec![],
        )
        .unwrap();
        let o = ep.complete(&Request {
            prompt: "hi".into(),
            max_tokens: 4,
        });
        assert_eq!(o.attempts, 3);
        let e = o.result.unwrap_err().to_string();
        assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    }
}
