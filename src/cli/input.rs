//! What `score` and `compress` read: one `--text`, or the records of a JSONL file.
//!
//! The whole file is checked before any model is loaded, so a bad line 9,000 fails in
//! milliseconds, with `FILE:LINE:` in front of the message. Blank lines are skipped.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{Map, Value};

use tokenskip_studio::importance::ForcePolicy;

use super::ModelArgs;

/// `--force-tokens`, shared by `score`, `compress` and `prune`.
#[derive(Debug, Args)]
pub struct ForceArgs {
    /// Token texts that are always kept, besides digits and line breaks (LLMLingua-2's
    /// force_tokens; compared with surrounding spaces trimmed), comma-separated: e.g.
    /// `--force-tokens '=,+,-,*,/'` keeps every equation whole, `Step,:` is TokenSkip's
    /// LLaMA setting.
    #[arg(long, value_delimiter = ',', value_name = "T,T,...")]
    pub force_tokens: Vec<String>,
}

impl ForceArgs {
    pub fn policy(&self) -> ForcePolicy {
        ForcePolicy {
            tokens: self
                .force_tokens
                .iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
            ..ForcePolicy::default()
        }
    }
}

/// Input and scorer options shared by `score` and `compress`.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Scorer as NAME[:MODEL]: rules, surprisal, attention, counterfactual, llmlingua2
    /// (e.g. surprisal:demo, llmlingua2:DIR). Without MODEL, causal scorers use --model
    /// and llmlingua2 uses microsoft/llmlingua-2-xlm-roberta-large-meetingbank.
    #[arg(long, short = 's', value_name = "S")]
    pub scorer: String,
    #[command(flatten)]
    pub force: ForceArgs,
    /// The text (a chain of thought) to score.
    #[arg(
        long,
        short = 't',
        value_name = "T",
        required_unless_present = "input",
        conflicts_with = "input"
    )]
    pub text: Option<String>,
    /// A JSONL file with one record per line; the text is in --field.
    #[arg(long, short = 'i', value_name = "F.jsonl")]
    pub input: Option<PathBuf>,
    /// The JSONL field holding the text.
    #[arg(long, default_value = "cot", value_name = "NAME")]
    pub field: String,
    /// A question that causal scorers read before the text (not scored).
    #[arg(long, value_name = "Q", conflicts_with = "input")]
    pub question: Option<String>,
    /// The JSONL field holding the question, read before the text by causal scorers.
    #[arg(long, value_name = "NAME", requires = "input")]
    pub question_field: Option<String>,
    /// The TARGET model: its tokenizer defines the tokens scores and ratios are counted in;
    /// causal scorers without :MODEL run on it.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// One text to process.
#[derive(Debug, Clone)]
pub struct Record {
    /// `FILE:LINE` for JSONL input, `None` for `--text`.
    pub origin: Option<String>,
    pub text: String,
    pub question: Option<String>,
    /// The JSONL object, to copy into output records.
    pub object: Option<Map<String, Value>>,
}

impl Record {
    /// `FILE:LINE: ` for messages (empty for `--text`).
    pub fn at(&self) -> String {
        self.origin
            .as_ref()
            .map(|o| format!("{o}: "))
            .unwrap_or_default()
    }
}

/// The records `args` names, all checked (see the module doc).
pub fn read_records(args: &InputArgs) -> anyhow::Result<Vec<Record>> {
    match (&args.text, &args.input) {
        (Some(text), _) => {
            if text.trim().is_empty() {
                bail!("--text is empty: nothing to score");
            }
            Ok(vec![Record {
                origin: None,
                text: text.clone(),
                question: args.question.clone(),
                object: None,
            }])
        }
        (None, Some(path)) => read_jsonl(path, &args.field, args.question_field.as_deref()),
        (None, None) => bail!("give --text T or --input FILE.jsonl"),
    }
}

fn read_jsonl(
    path: &Path,
    field: &str,
    question_field: Option<&str>,
) -> anyhow::Result<Vec<Record>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let at = format!("{}:{}", path.display(), i + 1);
        let Ok(line) = std::str::from_utf8(raw) else {
            bail!("{at}: invalid UTF-8");
        };
        if line.trim().is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(m)) => m,
            Ok(_) => bail!("{at}: expected a JSON object"),
            Err(e) => bail!("{at}: malformed JSON: {e}"),
        };
        let get = |name: &str| -> anyhow::Result<String> {
            match object.get(name) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => bail!("{at}: field `{name}` is not a string"),
                None => bail!("{at}: field `{name}` is missing (choose it with --field)"),
            }
        };
        let text = get(field)?;
        if text.trim().is_empty() {
            bail!("{at}: field `{field}` is empty: nothing to score");
        }
        let question = question_field.map(get).transpose()?;
        out.push(Record {
            origin: Some(at),
            text,
            question,
            object: Some(object),
        });
    }
    if out.is_empty() {
        bail!("{}: no records (the file is empty)", path.display());
    }
    Ok(out)
}
