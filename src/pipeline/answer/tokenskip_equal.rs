//! A port of TokenSkip's correctness check (`eval/eval_script.py` `eval_math`/`is_correct`
//! and `eval/eval_utils.py` `math_equal`, commit ef02f53), on answers that already went
//! through `strip_string`.
//!
//! Kept from the reference, on purpose: numbers are equal within an ABSOLUTE 1e-3 (the
//! paper's "relative 1e-3" is not what the code does); when both sides are numbers, a
//! prediction also passes if it equals reference/100 or reference*100 (so `0.5` and `5000`
//! both pass for `50`); tuples are split naively at every comma; `\cup` unions and
//! `\text{and}` lists are matched as sets. The one substitution: sympy's
//! `parse_latex`/`simplify` is replaced by `expr.rs` (numeric evaluation, variables at
//! sample points, absolute 1e-3), which agrees on the arithmetic answers graders see but
//! not on everything sympy can prove or fails to parse; `scripts/tokenskip_grader_check.py`
//! measures the difference on the test corpus.

use super::expr::{self, Dialect};
use super::tokenskip_strip::py_strip;

lazy_regex! {
    RE_TEXT_AND = r"\\text\{\s*and\s*\}";
}

const PREC: f64 = 1e-3;

/// `evaluation.py` + `eval_math`: `preds` are all extracted candidates (already through
/// `strip_string`), `refs` the reference's. Empty predictions are wrong.
pub(crate) fn eval_math(preds: &[String], refs: &[String], dialect: Dialect) -> bool {
    let refs = dedup(refs);
    let preds = dedup(preds);
    if preds.is_empty() || refs.is_empty() {
        return false;
    }
    // "some predictions mistakenly box non-answer strings": keep the last len(refs).
    let preds = &preds[preds.len().saturating_sub(refs.len())..];
    lists_correct(preds, &refs, dialect)
}

/// `extract_math_answer`'s splitting of one stripped answer: `\text{and}` lists, and
/// comma lists when the question says "separated by commas" (without brackets).
pub(crate) fn split_answer(ans: &str, question: &str) -> Vec<String> {
    if question.contains("separated by commas") && !ans.contains(['(', ')', '[', ']']) {
        ans.split(',').map(|a| py_strip(a).to_string()).collect()
    } else if RE_TEXT_AND.is_match(ans) {
        RE_TEXT_AND
            .split(ans)
            .map(|a| py_strip(a).to_string())
            .collect()
    } else {
        vec![py_strip(ans).to_string()]
    }
}

fn dedup(xs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in xs {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

/// `is_correct` on two lists: every prediction and every reference must be matched.
fn lists_correct<S: AsRef<str>>(preds: &[S], refs: &[S], dialect: Dialect) -> bool {
    let mut pred_hit = vec![false; preds.len()];
    let mut ref_hit = vec![false; refs.len()];
    for (i, p) in preds.iter().enumerate() {
        for (j, r) in refs.iter().enumerate() {
            if is_correct(p.as_ref(), r.as_ref(), dialect) {
                pred_hit[i] = true;
                ref_hit[j] = true;
            }
        }
    }
    pred_hit.iter().all(|&h| h) && ref_hit.iter().all(|&h| h)
}

/// `is_correct` on two strings.
pub(crate) fn is_correct(pred: &str, ans: &str, dialect: Dialect) -> bool {
    if pred.contains("\\cup") && ans.contains("\\cup") {
        let p: Vec<&str> = pred.split("\\cup").collect();
        let a: Vec<&str> = ans.split("\\cup").collect();
        return lists_correct(&p, &a, dialect);
    }
    let numeric = match (
        py_float(&pred.replace(',', "")),
        py_float(&ans.replace(',', "")),
    ) {
        (Some(p), Some(a)) => (p - a).abs() < PREC,
        _ => false,
    };
    numeric || (!ans.is_empty() && pred == ans) || math_equal(pred, ans, dialect)
}

/// Python's `float(str)`: surrounding whitespace, `_` between digits, `inf`, `nan`.
pub(crate) fn py_float(s: &str) -> Option<f64> {
    let t = py_strip(s);
    let chars: Vec<char> = t.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            let around = i > 0 && chars[i - 1].is_ascii_digit();
            if !(around && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
                return None;
            }
        }
    }
    t.replace('_', "").parse().ok()
}

/// `parse_digits`: a float after removing commas, or `N%`/`N\%` as N/100.
fn parse_digits(s: &str) -> Option<f64> {
    let s = s.replace(',', "");
    if let Some(v) = py_float(&s) {
        return Some(v);
    }
    let head = s.strip_suffix('%')?;
    let head = head.strip_suffix('\\').unwrap_or(head);
    py_float(head).map(|v| v / 100.0)
}

/// Python's `math.isclose(a, b, abs_tol=1e-3)` (default rel_tol 1e-9).
fn isclose(a: f64, b: f64) -> bool {
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    (a - b).abs() <= (1e-9 * a.abs().max(b.abs())).max(PREC)
}

/// `math_equal(prediction, reference)` with the reference's defaults.
fn math_equal(pred: &str, reference: &str, d: Dialect) -> bool {
    if pred == reference {
        return true;
    }
    if let (Some(p), Some(r)) = (parse_digits(pred), parse_digits(reference)) {
        return [r / 100.0, r, r * 100.0].iter().any(|&x| isclose(x, p));
    }
    if pred.is_empty() {
        return false;
    }
    let (reference, pred) = (py_strip(reference), py_strip(pred));
    if bracketed(pred) && bracketed(reference) {
        let (pp, rp) = (inner_parts(pred), inner_parts(reference));
        if pp.len() == rp.len() && pp.iter().zip(&rp).all(|(a, b)| math_equal(a, b, d)) {
            return true;
        }
    }
    if let (Some(pm), Some(rm)) = (matrix_rows(pred), matrix_rows(reference)) {
        if matrices_equal(&pm, &rm, d) {
            return true;
        }
    }
    let (pe, re) = (pred.matches('=').count(), reference.matches('=').count());
    let lhs_len = |s: &str| {
        s.split('=')
            .next()
            .map_or(0, |l| py_strip(l).chars().count())
    };
    let rhs = |s: &str| s.split('=').nth(1).unwrap_or_default().to_string();
    if pe == 1 && re == 1 {
        let as_diff = |s: &str| {
            let (l, r) = s.split_once('=').unwrap_or((s, ""));
            format!("{} - ({})", py_strip(l), py_strip(r))
        };
        let (p, r) = (as_diff(pred), as_diff(reference));
        if symbolic_equal(&p, &r, d) || symbolic_equal(&format!("-({p})"), &r, d) {
            return true;
        }
    } else if pe == 1 && lhs_len(pred) <= 2 && re == 0 {
        if math_equal(&rhs(pred), reference, d) {
            return true;
        }
    } else if re == 1 && lhs_len(reference) <= 2 && pe == 0 && math_equal(pred, &rhs(reference), d)
    {
        return true;
    }
    symbolic_equal(pred, reference, d)
}

/// `regex.match(r'(\(|\[).+(\)|\])', s)`: opens with a bracket and closes one later on.
fn bracketed(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    matches!(chars.first(), Some('(' | '[')) && chars.iter().skip(2).any(|c| *c == ')' || *c == ']')
}

/// `s[1:-1].split(",")`, by characters.
fn inner_parts(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let inner: String = chars[1..chars.len().saturating_sub(1).max(1)]
        .iter()
        .collect();
    inner.split(',').map(str::to_string).collect()
}

fn matrix_rows(s: &str) -> Option<Vec<Vec<String>>> {
    const OPEN: [&str; 2] = ["\\begin{pmatrix}", "\\begin{bmatrix}"];
    const CLOSE: [&str; 2] = ["\\end{pmatrix}", "\\end{bmatrix}"];
    if !OPEN.iter().any(|o| s.starts_with(o)) || !CLOSE.iter().any(|c| s.ends_with(c)) {
        return None;
    }
    let body = s.get(OPEN[0].len()..s.len().checked_sub(CLOSE[0].len())?)?;
    let rows = body
        .split("\\\\")
        .map(py_strip)
        .filter(|l| !l.is_empty())
        .map(|l| l.split('&').map(str::to_string).collect())
        .collect();
    Some(rows)
}

fn matrices_equal(p: &[Vec<String>], r: &[Vec<String>], d: Dialect) -> bool {
    p.len() == r.len()
        && p.iter().zip(r).all(|(pl, rl)| {
            pl.len() == rl.len() && pl.iter().zip(rl).all(|(a, b)| math_equal(a, b, d))
        })
}

/// sympy's `symbolic_equal`, approximated by numeric evaluation (see the module docs).
fn symbolic_equal(a: &str, b: &str, d: Dialect) -> bool {
    match (expr::parse_with(a, d), expr::parse_with(b, d)) {
        (Some(x), Some(y)) => expr::agree(&x, &y, isclose),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn reference_leniencies_are_reproduced() {
        let is_correct = |p: &str, a: &str| is_correct(p, a, Dialect::SympyLatex);
        assert!(is_correct("0.5", "50"));
        assert!(is_correct("5000", "50"));
        assert!(is_correct("50%", "50"));
        assert!(is_correct("1080", "1,080"));
        assert!(is_correct("528", "52_8"));
        assert!(is_correct("0.0005", "0.0000672"));
        assert!(!is_correct("1001", "1000"));
        assert!(is_correct("(3,\\frac{1}{2})", "(3,0.5)"));
        assert!(is_correct("x=5", "5"));
        assert!(is_correct("\\frac{1}{2}", "0.5"));
        assert!(is_correct("(0,9)\\cup(9,36)", "(9,36)\\cup(0,9)"));
        assert!(
            !is_correct("\\frac{\\pi}{2}", "1.5708"),
            "sympy's \\pi is a plain symbol"
        );
        assert!(is_correct("2\\pi+18", "18+2\\pi"));
        let without_latex = super::is_correct("\\frac{1}{2}", "0.5", Dialect::SympyExpr);
        assert!(
            !without_latex,
            "without parse_latex, fractions never equal decimals"
        );
    }

    #[test]
    fn list_rules() {
        let eval_math = |p: &[String], a: &[String]| eval_math(p, a, Dialect::SympyLatex);
        assert!(eval_math(&s(&["7", "3"]), &s(&["3"])));
        assert!(!eval_math(&s(&["3", "7"]), &s(&["3"])));
        assert!(!eval_math(&[], &s(&["3"])));
        assert_eq!(
            split_answer("1,-2", "Enter them, separated by commas."),
            s(&["1", "-2"])
        );
        assert_eq!(split_answer("1,-2", ""), s(&["1,-2"]));
        assert_eq!(split_answer("1\\text{and}2", ""), s(&["1", "2"]));
        assert_eq!(py_float(" 1_000 "), Some(1000.0));
        assert_eq!(py_float("1__0"), None);
    }
}
