//! The record shape every dataset loader produces (GSM8K, MATH, JSONL, synthetic).

use serde::{Deserialize, Serialize};

/// One question with its gold answer and, when the dataset has one, a reference CoT.
///
/// `answer` is a string because MATH answers are expressions (`\frac{1}{2}`), not numbers.
/// `cot` is the dataset's own solution text as given (for `synthetic` it ends with the
/// TokenSkip answer line); TokenSkip itself trains on the model's own CoTs instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub id: String,
    pub question: String,
    pub answer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cot: Option<String>,
}
