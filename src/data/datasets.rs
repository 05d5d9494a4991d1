//! Dataset specs (`gsm8k:PATH`, `math:PATH`, `jsonl:PATH`, `synthetic[:N]`,
//! `synthetic-test[:N]`) loaded into [`Example`]s, with `file:line` errors.

use super::example::Example;
use super::synthetic::{parse_synthetic_spec, SyntheticError};
use crate::pipeline::answer::{reference_from_gsm8k, reference_from_math};
use serde_json::Value;
use std::path::Path;

/// Which kind of dataset, for prompt budgets (GSM8K 512 new tokens, MATH 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Gsm8k,
    Math,
    Jsonl,
    Synthetic,
}

impl Kind {
    /// The reference's max new tokens for this kind of problem.
    pub fn default_max_new_tokens(self) -> usize {
        match self {
            Kind::Math => 1024,
            Kind::Synthetic => 256,
            Kind::Gsm8k | Kind::Jsonl => 512,
        }
    }
}

/// A dataset that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("unknown dataset `{0}`: expected gsm8k:PATH, math:PATH, jsonl:PATH, synthetic[:N], synthetic-test[:N] or synthetic-dev[:N]")]
    UnknownKind(String),
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{file}:{line}: {message}")]
    Line {
        file: String,
        line: usize,
        message: String,
    },
    #[error(transparent)]
    Synthetic(#[from] SyntheticError),
    #[error("dataset `{0}` is empty")]
    Empty(String),
}

/// Field names for `jsonl:PATH`.
#[derive(Debug, Clone)]
pub struct JsonlFields {
    pub question: String,
    pub answer: String,
    pub cot: Option<String>,
}

impl Default for JsonlFields {
    fn default() -> Self {
        JsonlFields {
            question: "question".into(),
            answer: "answer".into(),
            cot: None,
        }
    }
}

/// Loads the dataset named by `spec`.
pub fn load(spec: &str, fields: &JsonlFields) -> Result<(Kind, Vec<Example>), DatasetError> {
    let (kind, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let out = match kind {
        "synthetic" | "synthetic-train" | "synthetic-test" | "synthetic-dev" => {
            let problems = parse_synthetic_spec(spec)?.generate()?;
            (
                Kind::Synthetic,
                problems.iter().map(|p| p.to_example()).collect(),
            )
        }
        "gsm8k" => (Kind::Gsm8k, read_jsonl(rest, |v, n| gsm8k(v, n))?),
        "math" => (Kind::Math, read_jsonl(rest, |v, n| math(v, n))?),
        "jsonl" => (Kind::Jsonl, read_jsonl(rest, |v, n| generic(v, n, fields))?),
        _ => return Err(DatasetError::UnknownKind(spec.to_string())),
    };
    if out.1.is_empty() {
        return Err(DatasetError::Empty(spec.to_string()));
    }
    Ok(out)
}

fn read_jsonl(
    path: &str,
    parse: impl Fn(&Value, usize) -> Result<Example, String>,
) -> Result<Vec<Example>, DatasetError> {
    let p = Path::new(path);
    let file = path.to_string();
    if path.is_empty() {
        return Err(DatasetError::File {
            file,
            message: "no path given (e.g. gsm8k:../shared/data/gsm8k/test.jsonl)".into(),
        });
    }
    let bytes = std::fs::read(p).map_err(|e| DatasetError::File {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        let err = |message: String| DatasetError::Line {
            file: file.clone(),
            line: line_no,
            message,
        };
        let text = std::str::from_utf8(line).map_err(|e| err(format!("invalid UTF-8: {e}")))?;
        if text.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(text).map_err(|e| err(format!("not valid JSON: {e}")))?;
        out.push(parse(&v, line_no).map_err(err)?);
    }
    Ok(out)
}

fn string(v: &Value, field: &str) -> Result<String, String> {
    match v.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(format!("field `{field}` must be a string, found {other}")),
        None => Err(format!("field `{field}` is missing")),
    }
}

/// GSM8K: the CoT is the answer text before `####`, calculator notes `<<...>>` removed.
fn gsm8k(v: &Value, line: usize) -> Result<Example, String> {
    let answer_field = string(v, "answer")?;
    let answer = reference_from_gsm8k(&answer_field).map_err(|e| format!("field `answer`: {e}"))?;
    let cot = answer_field
        .rsplit_once("####")
        .map(|(c, _)| strip_calculator(c).trim_end().to_string());
    Ok(Example {
        id: format!("gsm8k-{line}"),
        question: string(v, "question")?,
        answer,
        cot,
    })
}

fn math(v: &Value, line: usize) -> Result<Example, String> {
    Ok(Example {
        id: v
            .get("unique_id")
            .and_then(|u| u.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("math-{line}")),
        question: string(v, "problem")?,
        answer: reference_from_math(&string(v, "answer")?),
        cot: string(v, "solution").ok(),
    })
}

fn generic(v: &Value, line: usize, f: &JsonlFields) -> Result<Example, String> {
    let cot = match &f.cot {
        Some(c) => Some(string(v, c)?),
        None => None,
    };
    Ok(Example {
        id: v
            .get("id")
            .and_then(|u| u.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("line-{line}")),
        question: string(v, &f.question)?,
        answer: string(v, &f.answer)?,
        cot,
    })
}

/// Removes GSM8K's calculator annotations: `48/2 = <<48/2=24>>24` -> `48/2 = 24`.
pub fn strip_calculator(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<<") {
        out.push_str(&rest[..start]);
        match rest[start..].find(">>") {
            Some(end) => rest = &rest[start + end + 2..],
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
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
    fn gsm8k_lines_become_examples() {
        let f = write(
            r#"{"question": "Q?", "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 1,080"}"#,
        );
        let (kind, ex) = load(
            &format!("gsm8k:{}", f.path().display()),
            &JsonlFields::default(),
        )
        .unwrap();
        assert_eq!(kind, Kind::Gsm8k);
        assert_eq!(ex[0].answer, "1080");
        assert_eq!(ex[0].cot.as_deref(), Some("Natalia sold 48/2 = 24 clips."));
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let f = write("{\"problem\": \"p\", \"answer\": \"1\"}\n{\"answer\": \"2\"}\n");
        let e = load(
            &format!("math:{}", f.path().display()),
            &JsonlFields::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.ends_with(":2: field `problem` is missing"), "{e}");
        let f = write("{\"question\": \"q\"\n");
        let e = load(
            &format!("jsonl:{}", f.path().display()),
            &JsonlFields::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":1: not valid JSON"), "{e}");
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), b"{\"question\": \"\xff\"}\n").unwrap();
        let e = load(
            &format!("jsonl:{}", f.path().display()),
            &JsonlFields::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":1: invalid UTF-8"), "{e}");
        assert!(load("squad:x", &JsonlFields::default())
            .unwrap_err()
            .to_string()
            .contains("unknown dataset"));
        let empty = write("\n");
        assert!(matches!(
            load(
                &format!("jsonl:{}", empty.path().display()),
                &JsonlFields::default()
            ),
            Err(DatasetError::Empty(_))
        ));
    }

    #[test]
    fn synthetic_specs() {
        let (kind, ex) = load("synthetic-test:3", &JsonlFields::default()).unwrap();
        assert_eq!((kind, ex.len()), (Kind::Synthetic, 3));
        assert!(ex[0].id.contains("test"));
    }
}
