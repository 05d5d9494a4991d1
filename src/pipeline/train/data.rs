//! Training examples: alpaca-style records (`instruction`, `input`, `output`) from a JSON
//! array (LLaMA-Factory) or JSONL, tokenized exactly as inference builds its prompts.

use crate::model::tokenizer::{user_message, ChatTokenizer};
use serde_json::value::RawValue;
use serde_json::Value;
use std::path::Path;

/// One supervised example.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub instruction: String,
    pub input: String,
    pub output: String,
}

/// A tokenized example: prompt ids are not trained on.
#[derive(Debug, Clone, PartialEq)]
pub struct Tokenized {
    pub ids: Vec<u32>,
    /// Index of the first response token in `ids`.
    pub prompt_len: usize,
}

impl Tokenized {
    /// Tokens that carry loss: each predicts its successor, so `len - prompt_len`.
    pub fn n_labels(&self) -> usize {
        self.ids.len().saturating_sub(self.prompt_len)
    }
}

/// Bad training data, with the file, line and field.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{file}:{line}: {message}")]
    Line {
        file: String,
        line: usize,
        message: String,
    },
}

fn field(
    obj: &serde_json::Map<String, Value>,
    name: &str,
    required: bool,
) -> Result<String, String> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) if !required => Ok(String::new()),
        None | Some(Value::Null) => Err(format!("field `{name}` is missing")),
        Some(v) => Err(format!(
            "field `{name}` must be a string, found {}",
            kind(v)
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_record(text: &str) -> Result<Record, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| format!("expected an object, found {}", kind(&v)))?;
    Ok(Record {
        instruction: field(obj, "instruction", false)?,
        input: field(obj, "input", false)?,
        output: field(obj, "output", true)?,
    })
}

/// Reads every record, failing on the first bad one (before any training starts).
pub fn read_records(path: &Path) -> Result<Vec<Record>, DataError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| DataError::File {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let line_of = |offset: usize| text[..offset].bytes().filter(|&b| b == b'\n').count() + 1;
    let mut out = Vec::new();
    if text.trim_start().starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(&text).map_err(|e| DataError::Line {
            file: file.clone(),
            line: e.line(),
            message: format!("not a valid JSON array of records: {e}"),
        })?;
        for raw in items {
            let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
            out.push(parse_record(raw.get()).map_err(|message| DataError::Line {
                file: file.clone(),
                line: line_of(offset),
                message,
            })?);
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            out.push(parse_record(line).map_err(|message| DataError::Line {
                file: file.clone(),
                line: i + 1,
                message,
            })?);
        }
    }
    if out.is_empty() {
        return Err(DataError::File {
            file,
            message: "no training records".into(),
        });
    }
    Ok(out)
}

/// Tokenizes a record: the chat-templated prompt (the same function inference uses), then
/// the output followed by the model's EOS token. Truncated to `cutoff` tokens; `None` when
/// the prompt alone leaves no room for a response.
pub fn tokenize(
    tok: &ChatTokenizer,
    system: Option<&str>,
    r: &Record,
    cutoff: usize,
) -> Result<Option<Tokenized>, crate::model::tokenizer::TokenizerError> {
    let prompt = tok.chat_prompt(system, &user_message(&r.instruction, &r.input))?;
    let mut ids = tok.encode(&prompt)?;
    let prompt_len = ids.len();
    ids.extend(tok.encode_plain(&r.output)?);
    if let Some(eos) = tok.eos_id() {
        ids.push(eos);
    }
    if prompt_len >= cutoff {
        return Ok(None);
    }
    ids.truncate(cutoff);
    Ok(Some(Tokenized { ids, prompt_len }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn jsonl_errors_name_line_and_field() {
        let f = write(
            "{\"instruction\":\"i\",\"input\":\"q\",\"output\":\"a\"}\n\n{\"input\":\"q\"}\n",
        );
        let e = read_records(f.path()).unwrap_err().to_string();
        assert!(e.ends_with(":3: field `output` is missing"), "{e}");
        let f = write("{\"output\": 5}\n");
        let e = read_records(f.path()).unwrap_err().to_string();
        assert!(
            e.ends_with(":1: field `output` must be a string, found a number"),
            "{e}"
        );
    }

    #[test]
    fn json_array_errors_name_the_line_of_the_element() {
        let f = write("[\n  {\"output\": \"a\"},\n  {\"output\": [1]}\n]\n");
        let e = read_records(f.path()).unwrap_err().to_string();
        assert!(e.contains(":3: field `output` must be a string"), "{e}");
        let f = write("[\n {\"output\": \"a\"},\n {\"input\": \"q\", \"output\": \"b\"}\n]");
        let r = read_records(f.path()).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].input, "q");
    }
}
