//! Equivalence of two normalised answers (the `numeric` grader).
//!
//! Order: exact string match; then structure (tuples and intervals element-wise with
//! matching bracket types, `\{..\}` sets and bare comma lists order-insensitively, `\cup`
//! unions order-insensitively, `pmatrix`/`bmatrix` cell-wise); then scalars, evaluated by
//! `expr.rs` and compared with relative tolerance 1e-3 (expressions with variables at
//! several points; equations `L = R` as `L - R` up to sign; `y = 2x+3` against `2x+3` by
//! its right side when the left is a short name, as the reference does). A percent sign on
//! one side lets value/100 match (`equivalent_percent`).
//!
//! Limits, on purpose: no symbolic algebra (`\sin^2x+\cos^2x` vs `1` is false, `i` is a
//! variable, not the imaginary unit, so `i^2` is not `-1`), `\pm` is compared as text,
//! numbers in other bases (`52_8`) as text, and equations only up to sign, not scale. A
//! relative 1e-3 accepts three-significant-digit approximations: `3.142` (and `3.14`) for
//! `\pi` and `0.333` for `1/3` pass.

use super::expr;

/// Relative tolerance for numeric equality, as in the TokenSkip paper's description.
pub const RELATIVE_TOLERANCE: f64 = 1e-3;

/// Whether two normalised answers denote the same value.
pub(crate) fn equivalent(pred: &str, reference: &str) -> bool {
    equivalent_at(pred, reference, 0)
}

/// Structures nest (a tuple of intervals); recursion is bounded for hostile input.
const MAX_NESTING: usize = 16;

fn equivalent_at(pred: &str, reference: &str, depth: usize) -> bool {
    if pred == reference {
        return true;
    }
    if pred.is_empty() || reference.is_empty() || depth > MAX_NESTING {
        return false;
    }
    let same = |a: &str, b: &str| equivalent_at(a, b, depth + 1);
    if pred.contains("\\cup") || reference.contains("\\cup") {
        let (p, r) = (split_top(pred, "\\cup"), split_top(reference, "\\cup"));
        return p.len() > 1 && unordered_match(&p, &r, same);
    }
    match (Shape::of(pred), Shape::of(reference)) {
        (Shape::Scalar, Shape::Scalar) => scalar_equal(pred, reference),
        (Shape::Tuple(po, pi, pc), Shape::Tuple(ro, ri, rc)) => {
            po == ro
                && pc == rc
                && pi.len() == ri.len()
                && pi.iter().zip(&ri).all(|(a, b)| same(a, b))
        }
        (Shape::Set(p), Shape::Set(r)) | (Shape::List(p), Shape::List(r)) => {
            unordered_match(&p, &r, same)
        }
        (Shape::Matrix(p), Shape::Matrix(r)) => {
            p.len() == r.len()
                && p.iter().zip(&r).all(|(pr, rr)| {
                    pr.len() == rr.len() && pr.iter().zip(rr).all(|(a, b)| same(a, b))
                })
        }
        _ => false,
    }
}

/// The coarse shape of a normalised answer.
enum Shape<'a> {
    Scalar,
    /// Open bracket, items, close bracket: `(1,2)`, `[0,1)`.
    Tuple(char, Vec<&'a str>, char),
    /// `\{a,b\}`.
    Set(Vec<&'a str>),
    /// `1,-2` (solutions "separated by commas").
    List(Vec<&'a str>),
    /// Rows of cells.
    Matrix(Vec<Vec<&'a str>>),
}

impl<'a> Shape<'a> {
    fn of(s: &'a str) -> Shape<'a> {
        for env in ["pmatrix", "bmatrix"] {
            let open = format!("\\begin{{{env}}}");
            let close = format!("\\end{{{env}}}");
            if let Some(body) = s
                .strip_prefix(open.as_str())
                .and_then(|t| t.strip_suffix(close.as_str()))
            {
                let rows = body
                    .split("\\\\")
                    .filter(|r| !r.trim().is_empty())
                    .map(|r| r.split('&').map(str::trim).collect())
                    .collect();
                return Shape::Matrix(rows);
            }
        }
        if let Some(body) = s.strip_prefix("\\{").and_then(|t| t.strip_suffix("\\}")) {
            return Shape::Set(split_top(body, ","));
        }
        let (first, last) = (s.chars().next(), s.chars().next_back());
        if let (Some(o @ ('(' | '[')), Some(c @ (')' | ']'))) = (first, last) {
            if encloses(s) {
                let body = &s[1..s.len() - 1];
                let items = split_top(body, ",");
                if items.len() > 1 {
                    return Shape::Tuple(o, items, c);
                }
            }
        }
        let items = split_top(s, ",");
        if items.len() > 1 {
            Shape::List(items)
        } else {
            Shape::Scalar
        }
    }
}

/// Whether the bracket opening `s` closes at its last character (not `(1)+(2)`).
fn encloses(s: &str) -> bool {
    let mut depth = 0i64;
    let n = s.len();
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 && i + c.len_utf8() < n {
            return false;
        }
    }
    depth == 0
}

/// Splits at `sep` outside any brackets.
fn split_top<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut depth = 0i64;
    let mut start = 0;
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        if depth == 0 && bytes[i..].starts_with(sep.as_bytes()) {
            out.push(&s[start..i]);
            i += sep.len();
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// Same length and a one-to-one matching (greedy; answers are short lists).
fn unordered_match(p: &[&str], r: &[&str], same: impl Fn(&str, &str) -> bool) -> bool {
    if p.len() != r.len() {
        return false;
    }
    let mut used = vec![false; r.len()];
    p.iter().all(|a| {
        let hit = (0..r.len()).find(|&j| !used[j] && same(a, r[j]));
        hit.map(|j| used[j] = true).is_some()
    })
}

/// Relative closeness (with a tiny absolute floor so that `0` equals `-0`), except that two
/// integers must be equal: a relative 1e-3 alone would pass GSM8K's `1,450,000` for
/// `1,449,000`, and the reference's absolute 1e-3 would pass `0.0005` for `0.0000672`.
pub(crate) fn close_relative(x: f64, y: f64) -> bool {
    if x.fract() == 0.0 && y.fract() == 0.0 {
        return x == y;
    }
    (x - y).abs() <= RELATIVE_TOLERANCE * x.abs().max(y.abs()) || (x - y).abs() <= 1e-12
}

fn scalar_equal(pred: &str, reference: &str) -> bool {
    match (pred.matches('=').count(), reference.matches('=').count()) {
        (1, 1) => return equation_equal(pred, reference),
        // `y=2x+3` vs `2x+3`: an assignment to a short name against its right side.
        (1, 0) => return assigned(pred).is_some_and(|rhs| values_equal(rhs, reference)),
        (0, 1) => return assigned(reference).is_some_and(|rhs| values_equal(pred, rhs)),
        _ => {}
    }
    values_equal(pred, reference)
}

/// The right side of `v = ...` when the left side is at most two characters (as the
/// reference grader allows).
fn assigned(s: &str) -> Option<&str> {
    let (lhs, rhs) = s.split_once('=')?;
    (lhs.chars().count() <= 2 && !lhs.is_empty()).then_some(rhs)
}

/// Whether a percent sign on either side (literally "/100") makes the values equal:
/// `25\%` == `0.25` (and, through normalisation, `25\%` == `25`).
pub(crate) fn equivalent_percent(
    pred: &str,
    reference: &str,
    pred_pct: bool,
    ref_pct: bool,
) -> bool {
    let scaled = |s: &str| {
        expr::parse(s)
            .map(|e| expr::Expr::Bin(expr::Op::Div, Box::new(e), Box::new(expr::Expr::Num(100.0))))
    };
    let pair = match (pred_pct, ref_pct) {
        (true, false) => scaled(pred).zip(expr::parse(reference)),
        (false, true) => expr::parse(pred).zip(scaled(reference)),
        _ => None,
    };
    pair.is_some_and(|(a, b)| expr::agree(&a, &b, close_relative))
}

fn values_equal(pred: &str, reference: &str) -> bool {
    match (expr::parse(pred), expr::parse(reference)) {
        (Some(a), Some(b)) => expr::agree(&a, &b, close_relative),
        _ => false,
    }
}

/// `L1 = R1` vs `L2 = R2`: `L1 - R1` equals `L2 - R2` or its negation.
fn equation_equal(pred: &str, reference: &str) -> bool {
    let diff = |s: &str| {
        let (l, r) = s.split_once('=')?;
        expr::parse(&format!("({l})-({r})"))
    };
    let (Some(a), Some(b)) = (diff(pred), diff(reference)) else {
        return false;
    };
    let neg = expr::Expr::Neg(Box::new(a.clone()));
    expr::agree(&a, &b, close_relative) || expr::agree(&neg, &b, close_relative)
}

#[cfg(test)]
mod tests {
    use super::equivalent;

    #[test]
    fn equal_pairs() {
        let pairs = [
            ("1/2", "0.5"),
            ("-3/4", "-0.75"),
            ("2\\sqrt{3}", "\\sqrt{12}"),
            ("\\frac{\\pi}{2}", "1.5708"),
            ("(3,\\frac{\\pi}{2})", "(3,1.5708)"),
            ("\\{1,2\\}", "\\{2,1\\}"),
            ("1,-2", "-2,1"),
            ("(0,9)\\cup(9,36)", "(9,36)\\cup(0,9)"),
            (
                "\\begin{pmatrix}-1/3\\\\2/3\\end{pmatrix}",
                "\\begin{pmatrix}-0.3333\\\\0.6667\\end{pmatrix}",
            ),
            ("x^2+7x+10", "(x+2)(x+5)"),
            ("5x-7y+11z+4=0", "-5x+7y-11z-4=0"),
            ("0.3333", "1/3"),
            ("6-5i", "-5i+6"),
            ("y=2x+3", "2x+3"),
            ("2x+y=0", "y=-2x"),
            ("1.5e3", "1500"),
        ];
        for (a, b) in pairs {
            assert!(equivalent(a, b), "{a} should equal {b}");
        }
    }

    #[test]
    fn unequal_pairs() {
        let pairs = [
            ("(3,4]", "(3,4)"),
            ("(1,2)", "(2,1)"),
            ("0.5", "50"),
            ("1000", "1001"),
            ("1450000", "1449000"),
            ("0", "0.0001"),
            ("x^2+1", "x^2+x"),
            ("(1,2)", "1,2"),
            ("52_8", "42"),
            ("1\\pm\\sqrt{19}", "1+\\sqrt{19}"),
            ("", "5"),
        ];
        for (a, b) in pairs {
            assert!(!equivalent(a, b), "{a} should differ from {b}");
        }
    }
}
