//! The question list: built-in examples (demo-world test problems plus a few
//! GSM8K-style questions written for this tool, all with reference CoTs, so the TUI
//! has something to compress with no model and no files) and `--dataset` loading.

use crate::data::example::Example;
use crate::data::synthetic::{self, Split, DEFAULT_SEED};

/// Demo-world test problems in the built-in list.
pub const BUILTIN_SYNTHETIC: usize = 8;

/// GSM8K-style questions with wordy step-by-step CoTs (original text, not GSM8K's).
const GSM8K_STYLE: [(&str, &str, &str); 4] = [
    (
        "A bakery sells muffins in boxes of 6. On Monday it sold 14 boxes and on Tuesday it sold 9 boxes. How many muffins did it sell in the two days?",
        "Let's think about this step by step.\nFirst, we need to figure out how many boxes the bakery sold over the two days. On Monday it sold 14 boxes and on Tuesday it sold 9 boxes, so in total it sold 14 + 9 = 23 boxes.\nNext, we know that each box holds 6 muffins, so the number of muffins is 23 * 6 = 138 muffins.\nSo, basically, the bakery sold 138 muffins in the two days.\n\nThe final answer is: $\\boxed{138}$",
        "138",
    ),
    (
        "Maya reads 24 pages of her book every weekday and 40 pages on each day of the weekend. How many pages does she read in one week?",
        "Okay, so let's break this problem down.\nA week has 5 weekdays, and on each of them Maya reads 24 pages, which means she reads 5 * 24 = 120 pages on weekdays.\nThe weekend has 2 days, and on each of those days she reads 40 pages, so that is 2 * 40 = 80 pages on the weekend.\nNow, to find the whole week, we just add the two parts together: 120 + 80 = 200 pages.\nTherefore, Maya reads 200 pages in one week.\n\nThe final answer is: $\\boxed{200}$",
        "200",
    ),
    (
        "Leo bought 3 notebooks at $4.50 each and a pen for $2.25. He paid with a $20 bill. How much change did he get?",
        "To solve this, let's first work out how much Leo spent in total.\nThe notebooks cost $4.50 each, and he bought 3 of them, so the notebooks cost 3 * 4.50 = $13.50.\nThen we also have to add the pen, which cost $2.25, so altogether he spent 13.50 + 2.25 = $15.75.\nHe paid with a $20 bill, so the change he got back is 20 - 15.75 = $4.25.\nIn other words, Leo received $4.25 in change.\n\nThe final answer is: $\\boxed{4.25}$",
        "4.25",
    ),
    (
        "A garden has 7 rows of tomato plants with 12 plants in each row. Each plant gives 5 tomatoes, and a quarter of all the tomatoes are eaten by birds. How many tomatoes are left?",
        "Let me think about this carefully, one step at a time.\nFirst of all, the garden has 7 rows with 12 plants in each row, so the number of plants is 7 * 12 = 84 plants.\nEach of these plants gives 5 tomatoes, which means the garden grows 84 * 5 = 420 tomatoes in total.\nA quarter of the tomatoes are eaten by the birds, and a quarter of 420 is 420 / 4 = 105 tomatoes.\nSo the number of tomatoes that are left is 420 - 105 = 315 tomatoes.\n\nThe final answer is: $\\boxed{315}$",
        "315",
    ),
];

/// The built-in list: demo-world test problems, then the GSM8K-style ones.
pub fn builtin() -> Vec<Example> {
    let mut out: Vec<Example> = synthetic::generate(Split::Test, BUILTIN_SYNTHETIC, DEFAULT_SEED)
        .map(|ps| ps.into_iter().map(Example::from).collect())
        .unwrap_or_default();
    out.extend(
        GSM8K_STYLE
            .iter()
            .enumerate()
            .map(|(i, (q, cot, answer))| Example {
                id: format!("gsm8k-style-{i}"),
                question: (*q).to_string(),
                answer: (*answer).to_string(),
                cot: Some((*cot).to_string()),
            }),
    );
    out
}

/// Loads `--dataset D`: `synthetic[:N]`, `synthetic-test[:N]` or `jsonl:PATH` (one
/// `Example` per line: `id`, `question`, `answer`, optional `cot`). Errors name the
/// file and line.
pub fn load_dataset(spec: &str) -> Result<Vec<Example>, String> {
    if let Some(path) = spec.strip_prefix("jsonl:") {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("dataset {path}: {e} (expected a JSONL file)"))?;
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let ex: Example = serde_json::from_str(line)
                .map_err(|e| format!("{path}:{}: not an example record: {e}", n + 1))?;
            out.push(ex);
        }
        if out.is_empty() {
            return Err(format!("dataset {path} holds no examples"));
        }
        return Ok(out);
    }
    if spec.starts_with("synthetic") {
        let parsed = synthetic::parse_synthetic_spec(spec).map_err(|e| e.to_string())?;
        let capped = synthetic::SyntheticSpec {
            n: parsed.n.min(super::update::MAX_EXAMPLES),
            ..parsed
        };
        return capped
            .generate()
            .map(|ps| ps.into_iter().map(Example::from).collect())
            .map_err(|e| e.to_string());
    }
    Err(format!(
        "unknown dataset {spec:?}: the TUI reads synthetic[:N], synthetic-test[:N] or jsonl:PATH"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_all_have_reference_cots() {
        let b = builtin();
        assert_eq!(b.len(), BUILTIN_SYNTHETIC + GSM8K_STYLE.len());
        assert!(b
            .iter()
            .all(|e| e.cot.as_deref().is_some_and(|c| c.contains("boxed"))));
    }

    #[test]
    fn bad_datasets_say_what_is_wrong() {
        assert!(load_dataset("gsm8k:x")
            .unwrap_err()
            .contains("unknown dataset"));
        let err = load_dataset("jsonl:/nonexistent/x.jsonl").unwrap_err();
        assert!(err.contains("/nonexistent/x.jsonl"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.jsonl");
        std::fs::write(
            &p,
            "{\"id\":\"a\",\"question\":\"q\",\"answer\":\"1\"}\nnope\n",
        )
        .unwrap();
        let err = load_dataset(&format!("jsonl:{}", p.display())).unwrap_err();
        assert!(err.contains(":2:"), "{err}");
        assert_eq!(load_dataset("synthetic-test:3").unwrap().len(), 3);
    }
}
