//! Tokenizer, special tokens and chat template of a model, and the TokenSkip prompt.

use minijinja::{context, Environment, ErrorKind};
use serde_json::Value;
use std::path::Path;

/// TokenSkip's instruction (LLaMA-Factory `instruction` field), prepended to each question.
pub const TOKENSKIP_INSTRUCTION: &str =
    "Please reason step by step, and put your final answer within \\boxed{}.";

/// Errors from tokenizer files and template rendering.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("{path}: {problem}")]
    File { path: String, problem: String },
    #[error("tokenizer: {0}")]
    Encode(String),
    #[error("chat template: {0}")]
    Template(String),
}

/// A model's text interface: tokenizer, EOS handling, chat template.
#[derive(Clone)]
pub struct ChatTokenizer {
    pub inner: tokenizers::Tokenizer,
    /// Token ids that end a generation (config, generation config and tokenizer config, merged).
    pub eos_ids: Vec<u32>,
    /// The EOS/EOT string (`<|im_end|>`, `<|eot_id|>`), used as TokenSkip's separator.
    pub eos_token: Option<String>,
    pub bos_token: Option<String>,
    pub chat_template: Option<String>,
    /// Prepend BOS when encoding raw text (LLaMA-style tokenizers without a post-processor).
    pub add_bos: bool,
}

impl std::fmt::Debug for ChatTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTokenizer")
            .field("vocab", &self.inner.get_vocab_size(true))
            .field("eos_ids", &self.eos_ids)
            .field("eos_token", &self.eos_token)
            .finish()
    }
}

/// A special token in `tokenizer_config.json`: a string or `{"content": ...}`.
fn token_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("content")
            .and_then(|c| c.as_str())
            .map(str::to_string),
        _ => None,
    }
}

impl ChatTokenizer {
    /// Loads `tokenizer.json` and, when present, `tokenizer_config.json` from `dir`.
    /// `config_eos` are the EOS ids from `config.json` / `generation_config.json`.
    pub fn from_dir(dir: &Path, config_eos: &[u32]) -> Result<Self, TokenizerError> {
        let path = dir.join("tokenizer.json");
        if !path.exists() {
            return Err(TokenizerError::File {
                path: path.display().to_string(),
                problem: "missing: a model directory needs tokenizer.json (save it with `tokenizer.save_pretrained`)".into(),
            });
        }
        let bytes = std::fs::read(&path).map_err(|e| TokenizerError::File {
            path: path.display().to_string(),
            problem: e.to_string(),
        })?;
        let cfg_path = dir.join("tokenizer_config.json");
        let cfg: Value = if cfg_path.exists() {
            let text = std::fs::read_to_string(&cfg_path).map_err(|e| TokenizerError::File {
                path: cfg_path.display().to_string(),
                problem: e.to_string(),
            })?;
            serde_json::from_str(&text).map_err(|e| TokenizerError::File {
                path: cfg_path.display().to_string(),
                problem: format!("not valid JSON: {e}"),
            })?
        } else {
            Value::Null
        };
        let template_file = std::fs::read_to_string(dir.join("chat_template.jinja")).ok();
        Self::from_json(
            &bytes,
            &cfg,
            template_file,
            config_eos,
            &path.display().to_string(),
        )
    }

    /// Builds the tokenizer from the bytes of `tokenizer.json` and the parsed
    /// `tokenizer_config.json` (`Value::Null` when absent). `label` names the source in errors.
    pub fn from_json(
        tokenizer_json: &[u8],
        cfg: &Value,
        template_fallback: Option<String>,
        config_eos: &[u32],
        label: &str,
    ) -> Result<Self, TokenizerError> {
        let inner = tokenizers::Tokenizer::from_bytes(tokenizer_json).map_err(|e| {
            TokenizerError::File {
                path: label.to_string(),
                problem: format!("not a valid tokenizer.json: {e}"),
            }
        })?;
        let chat_template = match cfg.get("chat_template") {
            Some(Value::String(s)) => Some(s.clone()),
            // A list of named templates: take "default".
            Some(Value::Array(list)) => list
                .iter()
                .find(|t| t.get("name").and_then(|n| n.as_str()) == Some("default"))
                .and_then(|t| t.get("template")?.as_str().map(str::to_string)),
            _ => None,
        }
        .or(template_fallback);
        Ok(Self::new(
            inner,
            token_string(cfg.get("eos_token")),
            token_string(cfg.get("bos_token")),
            chat_template,
            cfg.get("add_bos_token")
                .and_then(|b| b.as_bool())
                .unwrap_or(false),
            config_eos,
        ))
    }

    /// Assembles a tokenizer from parts, merging the EOS ids.
    pub fn new(
        inner: tokenizers::Tokenizer,
        eos_token: Option<String>,
        bos_token: Option<String>,
        chat_template: Option<String>,
        add_bos: bool,
        config_eos: &[u32],
    ) -> Self {
        let mut eos_ids: Vec<u32> = config_eos.to_vec();
        if let Some(id) = eos_token.as_deref().and_then(|t| inner.token_to_id(t)) {
            if !eos_ids.contains(&id) {
                eos_ids.push(id);
            }
        }
        ChatTokenizer {
            inner,
            eos_ids,
            eos_token,
            bos_token,
            chat_template,
            add_bos,
        }
    }

    /// Token ids of `text`, special tokens parsed, BOS prepended when the model wants it.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|e| TokenizerError::Encode(e.to_string()))?;
        let mut ids = enc.get_ids().to_vec();
        if self.add_bos {
            if let Some(bos) = self
                .bos_token
                .as_deref()
                .and_then(|b| self.inner.token_to_id(b))
            {
                if ids.first() != Some(&bos) {
                    ids.insert(0, bos);
                }
            }
        }
        Ok(ids)
    }

    /// Token ids of `text` without BOS (a response continuing a prompt).
    pub fn encode_plain(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        Ok(self
            .encode_with_offsets(text)?
            .into_iter()
            .map(|(id, _, _)| id)
            .collect())
    }

    /// The id appended after a training response: the EOS/EOT token's, else the first stop id.
    pub fn eos_id(&self) -> Option<u32> {
        self.eos_token
            .as_deref()
            .and_then(|t| self.inner.token_to_id(t))
            .or(self.eos_ids.first().copied())
    }

    /// Token ids with byte offsets into `text` (no BOS), for aligning scores to text.
    pub fn encode_with_offsets(
        &self,
        text: &str,
    ) -> Result<Vec<(u32, usize, usize)>, TokenizerError> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|e| TokenizerError::Encode(e.to_string()))?;
        Ok(enc
            .get_ids()
            .iter()
            .zip(enc.get_offsets())
            .map(|(&id, &(s, e))| (id, s, e))
            .collect())
    }

    /// Text of `ids`, special tokens included (so `<|im_end|>` stays visible where it occurs).
    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        self.inner
            .decode(ids, false)
            .map_err(|e| TokenizerError::Encode(e.to_string()))
    }

    /// Renders the chat template for a single user turn (plus an optional system turn), with
    /// the generation prompt appended. Without a template the text is used as-is.
    pub fn chat_prompt(&self, system: Option<&str>, user: &str) -> Result<String, TokenizerError> {
        let Some(template) = &self.chat_template else {
            return Ok(user.to_string());
        };
        let mut env = Environment::new();
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |msg: String| -> Result<String, minijinja::Error> {
                Err(minijinja::Error::new(ErrorKind::InvalidOperation, msg))
            },
        );
        env.add_function("strftime_now", |_fmt: String| "26 Jul 2024".to_string());
        env.add_template("chat", template)
            .map_err(|e| TokenizerError::Template(e.to_string()))?;
        let mut messages = Vec::new();
        if let Some(s) = system {
            messages.push(context! { role => "system", content => s });
        }
        messages.push(context! { role => "user", content => user });
        env.get_template("chat")
            .and_then(|t| {
                t.render(context! {
                    messages => messages,
                    add_generation_prompt => true,
                    bos_token => self.bos_token.clone().unwrap_or_default(),
                    eos_token => self.eos_token.clone().unwrap_or_default(),
                })
            })
            .map_err(|e| TokenizerError::Template(e.to_string()))
    }
}

/// How TokenSkip's `question<sep>gamma<sep>` input is spelled for a model.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptFormat {
    pub instruction: String,
    /// `None`: the model's own EOS/EOT string (TOKENSKIP.md). The released Qwen2.5 adapters
    /// were trained with the literal text `<|eot_id|>` instead: pass that to use them.
    pub separator: Option<String>,
    pub system: Option<String>,
}

impl Default for PromptFormat {
    fn default() -> Self {
        PromptFormat {
            instruction: TOKENSKIP_INSTRUCTION.to_string(),
            separator: None,
            system: None,
        }
    }
}

/// Formats gamma the way Python's `str(float)` does (`0.5`, `0.7`), as the reference code did.
pub fn format_gamma(gamma: f64) -> String {
    let s = format!("{gamma}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// The user turn of an alpaca record, as LLaMA-Factory joins it: `instruction\ninput`.
/// Training and inference both build prompts through this function.
pub fn user_message(instruction: &str, input: &str) -> String {
    match (instruction.is_empty(), input.is_empty()) {
        (true, _) => input.to_string(),
        (false, true) => instruction.to_string(),
        (false, false) => format!("{instruction}\n{input}"),
    }
}

/// The `input` field of the TokenSkip format: the question and, below 1.0, `<sep>gamma<sep>`.
pub fn tokenskip_input(question: &str, gamma: f64, sep: &str) -> String {
    if gamma < 1.0 {
        format!("{question}{sep}{}{sep}", format_gamma(gamma))
    } else {
        question.to_string()
    }
}

/// The user message of the TokenSkip format: instruction, question and (below 1.0) gamma.
pub fn tokenskip_user_message(question: &str, gamma: f64, sep: &str, instruction: &str) -> String {
    user_message(instruction, &tokenskip_input(question, gamma, sep))
}

impl ChatTokenizer {
    /// The full TokenSkip prompt for `question` at `gamma`, through the chat template.
    pub fn tokenskip_prompt(
        &self,
        question: &str,
        gamma: f64,
        fmt: &PromptFormat,
    ) -> Result<String, TokenizerError> {
        let sep = fmt
            .separator
            .clone()
            .or_else(|| self.eos_token.clone())
            .unwrap_or_default();
        let user = tokenskip_user_message(question, gamma, &sep, &fmt.instruction);
        self.chat_prompt(fmt.system.as_deref(), &user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_is_formatted_like_python() {
        assert_eq!(format_gamma(0.5), "0.5");
        assert_eq!(format_gamma(0.7), "0.7");
        assert_eq!(format_gamma(1.0), "1.0");
    }

    #[test]
    fn user_message_matches_reference_layout() {
        let m = tokenskip_user_message("What is 2+3?", 0.6, "<|eot_id|>", TOKENSKIP_INSTRUCTION);
        assert_eq!(
            m,
            "Please reason step by step, and put your final answer within \\boxed{}.\nWhat is 2+3?<|eot_id|>0.6<|eot_id|>"
        );
        // gamma 1.0 omits the suffix.
        assert!(!tokenskip_user_message("Q", 1.0, "<e>", "").contains("<e>"));
    }
}
