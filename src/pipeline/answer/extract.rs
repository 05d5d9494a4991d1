//! Final-answer extraction from a model's chain of thought, in DeepSeek-Math / TokenSkip
//! order: the last `\boxed{...}`, else the text after "answer is", else the last number.
//!
//! This is our extraction (used by the `strict` and `numeric` graders). It follows the
//! reference's order but repairs what made users lose samples with the reference code:
//! `\boxed 5` and `\fbox{...}` count as boxed, a mention of "boxed" without a closed box
//! falls through to the next rule instead of yielding nothing, the "answer is" text is cut
//! at the end of its sentence or `$...$` span, and the last-number rule keeps `(1,2)` apart
//! while reading `1,080` as one number. The reference's exact behaviour lives in
//! `tokenskip_strip.rs`.

use serde::{Deserialize, Serialize};
use std::fmt;

lazy_regex! {
    RE_NUMBER = r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+";
    RE_THOUSANDS = r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$";
}

/// Which extraction rule produced the predicted answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractRule {
    /// The last `\boxed{...}` (or `\boxed X`, `\fbox{...}`).
    Boxed,
    /// Minerva's "final answer is $X$. I hope it is correct." (reference grader only).
    MinervaFinalAnswer,
    /// The text after the last "answer is" ("The final answer is", "the answer is").
    AnswerIs,
    /// The text of a trailing "```output" block (reference grader only).
    ProgramOutput,
    /// The last number in the text.
    LastNumber,
    /// Nothing could be extracted.
    NotFound,
}

impl ExtractRule {
    /// Stable snake_case name, as written in eval outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            ExtractRule::Boxed => "boxed",
            ExtractRule::MinervaFinalAnswer => "minerva_final_answer",
            ExtractRule::AnswerIs => "answer_is",
            ExtractRule::ProgramOutput => "program_output",
            ExtractRule::LastNumber => "last_number",
            ExtractRule::NotFound => "not_found",
        }
    }
}

impl fmt::Display for ExtractRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An extracted (not yet normalised) answer and the rule that found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extraction {
    pub answer: Option<String>,
    pub rule: ExtractRule,
}

/// Extracts the final answer from `text` (see the module docs for the rules).
pub fn extract_answer(text: &str) -> Extraction {
    let found = |answer: String, rule| Extraction {
        answer: Some(answer),
        rule,
    };
    if let Some(b) = boxed_answers(text).pop() {
        return found(b, ExtractRule::Boxed);
    }
    if let Some(a) = answer_is(text) {
        return found(a, ExtractRule::AnswerIs);
    }
    if let Some(n) = last_number(text) {
        return found(n, ExtractRule::LastNumber);
    }
    Extraction {
        answer: None,
        rule: ExtractRule::NotFound,
    }
}

/// Contents of every closed `\boxed{...}`, `\fbox{...}` and `\boxed X`, in text order.
/// Braces are matched with nesting; escaped `\{`/`\}` do not count. Unclosed boxes are
/// skipped, so unbalanced input never panics and never swallows the rest of the text.
pub fn boxed_answers(text: &str) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for keyword in ["boxed", "fbox"] {
        for (at, _) in text.match_indices(keyword) {
            let after = &text[at + keyword.len()..];
            let trimmed = after.trim_start();
            if let Some(body) = trimmed.strip_prefix('{') {
                if let Some(content) = brace_body(body) {
                    found.push((at, content.to_string()));
                }
            } else if trimmed.len() < after.len() && text[..at].ends_with('\\') {
                // `\boxed 5`: one whitespace-separated token, up to `$` or the end.
                let token: String = trimmed
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '$')
                    .collect();
                let token = token.trim_end_matches(['.', ',']);
                if !token.is_empty() {
                    found.push((at, token.to_string()));
                }
            }
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, s)| s).collect()
}

/// The text of `body` up to the brace closing an already-opened `{`, or `None` if unclosed.
fn brace_body(body: &str) -> Option<&str> {
    let mut depth = 0usize;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' if depth == 0 => return Some(&body[..i]),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The answer after the last "answer is" (case-insensitive): a `$...$`, `\(...\)` or
/// `\[...\]` span if one follows, else the rest of the sentence.
fn answer_is(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.rfind("answer is")?;
    let tail = &text[at + "answer is".len()..];
    let tail = tail.trim_start_matches(|c: char| c == ':' || c == '*' || c.is_whitespace());
    let line = tail.lines().next().unwrap_or_default();
    let span = math_span(line).unwrap_or_else(|| sentence(line));
    let cleaned = span
        .trim()
        .trim_end_matches(|c: char| c == '.' || c == '$' || c == '*' || c.is_whitespace())
        .trim_start_matches(['$', '*'])
        .trim();
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

/// The inside of a leading `$...$`, `$$...$$`, `\(...\)` or `\[...\]`, if closed (an
/// escaped `\$`, a dollar amount, does not close a `$` span).
fn math_span(line: &str) -> Option<&str> {
    for (open, close) in [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")] {
        if let Some(rest) = line.strip_prefix(open) {
            let end = rest
                .match_indices(close)
                .map(|(at, _)| at)
                .find(|&at| close != "$" || !rest[..at].ends_with('\\'));
            if let Some(end) = end {
                return Some(&rest[..end]);
            }
        }
    }
    None
}

/// `line` up to the first sentence end (". " or a final "."), so "18. So she..." gives 18.
fn sentence(line: &str) -> &str {
    match line.find(". ") {
        Some(end) => &line[..end],
        None => line,
    }
}

/// The last number in `text`: `1,080` is one number, `(1,2)` ends in `2`, and a minus
/// directly after a letter, digit or closing bracket is subtraction, not a sign.
fn last_number(text: &str) -> Option<String> {
    let m = RE_NUMBER.find_iter(text).last()?;
    let mut s = m.as_str().trim_end_matches(',');
    let before = text[..m.start()].chars().next_back();
    if s.starts_with('-') && before.is_some_and(|c| c.is_alphanumeric() || ")]}".contains(c)) {
        s = &s[1..];
    }
    // Keep a percent sign: `900\%` is 9, which the numeric grader can then see.
    let after = text[m.end()..].trim_start();
    let percent = if after.starts_with('%') || after.starts_with("\\%") {
        "%"
    } else {
        ""
    };
    let number = if !s.contains(',') {
        s.to_string()
    } else if RE_THOUSANDS.is_match(s) {
        s.replace(',', "")
    } else {
        s.rsplit(',').next().filter(|t| !t.is_empty())?.to_string()
    };
    Some(number + percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str) -> (Option<String>, ExtractRule) {
        let e = extract_answer(text);
        (e.answer, e.rule)
    }

    #[test]
    fn boxed_rules() {
        let b = ExtractRule::Boxed;
        assert_eq!(
            ex("so $\\boxed{\\frac{1}{2}}$."),
            (Some("\\frac{1}{2}".into()), b)
        );
        assert_eq!(
            ex("\\boxed{1} then \\boxed{\\{1,2\\}}"),
            (Some("\\{1,2\\}".into()), b)
        );
        assert_eq!(ex("The answer is $\\boxed 5$."), (Some("5".into()), b));
        assert_eq!(ex("\\fbox{7} and later \\boxed{8}"), (Some("8".into()), b));
        assert_eq!(ex("\\boxed{8} and later \\fbox{7}"), (Some("7".into()), b));
        assert_eq!(ex("\\boxed{x^{2}+1}"), (Some("x^{2}+1".into()), b));
        // Unclosed box: fall through to "answer is" / last number.
        assert_eq!(
            ex("put it in \\boxed{ 12 and then 13"),
            (Some("13".into()), ExtractRule::LastNumber)
        );
    }

    #[test]
    fn answer_is_rules() {
        let a = ExtractRule::AnswerIs;
        assert_eq!(
            ex("The final answer is $18$. I hope"),
            (Some("18".into()), a)
        );
        assert_eq!(
            ex("So the answer is: 18. She sells 3"),
            (Some("18".into()), a)
        );
        assert_eq!(
            ex("the answer is \\(\\frac{3}{4}\\)"),
            (Some("\\frac{3}{4}".into()), a)
        );
        assert_eq!(ex("The answer is 3.5"), (Some("3.5".into()), a));
        assert_eq!(
            ex("The final answer is $\\$18.90$. I hope"),
            (Some("\\$18.90".into()), a)
        );
        assert_eq!(
            ex("The answer is $1,080 per week."),
            (Some("1,080 per week".into()), a)
        );
    }

    #[test]
    fn last_number_rules() {
        let l = ExtractRule::LastNumber;
        assert_eq!(ex("Total: 1,080 apples"), (Some("1080".into()), l));
        assert_eq!(ex("the point (1,2)"), (Some("2".into()), l));
        assert_eq!(ex("it drops to -7 degrees"), (Some("-7".into()), l));
        assert_eq!(ex("10-3"), (Some("3".into()), l));
        assert_eq!(ex("so .5 of it"), (Some(".5".into()), l));
        assert_eq!(ex("#### 72"), (Some("72".into()), l));
        assert_eq!(ex("a rise of 25\\%"), (Some("25%".into()), l));
        assert_eq!(ex("no digits here"), (None, ExtractRule::NotFound));
    }
}
