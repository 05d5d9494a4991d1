//! Our answer normalisation (the `strict` and `numeric` graders): one canonical string per
//! way of writing the same answer, so that most equivalences are plain string equality and
//! the numeric fallback only sees clean LaTeX.
//!
//! Choices that differ from the reference's `strip_string`, and why:
//! - Percent signs are removed (`50\%` == `50`), as DeepSeek-Math's original MATH
//!   normaliser does; the `numeric` grader separately lets a side that had a percent sign
//!   match at value/100 (`25\%` == `0.25`). Without a percent sign `0.5` is NOT `50` (the
//!   reference accepts ref/100 and ref*100 for any number, which also passes `5000`).
//! - `\cdot` and `\times` are kept as multiplication (the reference deletes `\cdot`, so
//!   `2\cdot3` becomes `23`).
//! - Thousands separators go only where the whole answer is a number (`1,080`, `10,\!080`,
//!   `\$32,\!348`), so `1,2` and `(1,080, 3)` stay lists.
//! - `\text{...}` that follows a value is a unit and is dropped (`5.4 \text{ cents}`); a
//!   `\text{...}` on its own is unwrapped (`\text{Evelyn}`, `\text{(C)}` -> `C`). Bare unit
//!   words of two letters or more after a number are dropped too (`18 dollars`).
//! - A leading single-variable assignment with a constant right side is dropped (`x = 5`,
//!   `k=2`); `y = 2x + 3` stays an equation. `3-4j` is `3-4i`.
//! - A mixed number `1\frac{4}{5}` means 9/5 (the reference's parser reads 4/5).
//! - `\frac{a}{b}` with integer a, b becomes `a/b`; `\sqrt2` becomes `\sqrt{2}` with LaTeX's
//!   one-token argument (the reference turns `\sqrt23` into `\sqrt{23}`).
//! - Decimals are canonical: `.5` -> `0.5`, `2.50` -> `2.5`, `3.0` -> `3`.
//! - Plain words are lower-cased (`East` == `east`).

use super::tokenskip_strip::{fix_fracs, py_space};

lazy_regex! {
    RE_THOUSANDS_BANG = r"(\d),\\!\s*(\d{3})";
    RE_THOUSANDS_BRACE = r"(\d)\{,\}(\d{3})";
    RE_ESCAPED_SPACE = r"(^|[^\\])\\ ";
    RE_LEFT_RIGHT = r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)([^a-zA-Z]|$)";
    RE_FRAC_VARIANTS = r"\\[dtc]frac";
    RE_IN_SET = r"^[A-Za-z]\s*\\in\s*";
    RE_LEADING_VAR = r"^[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?\s*=\s*([^=]+)$";
    RE_COMMAND = r"\\(?:begin|end)\{[a-zA-Z*]+\}|\\[a-zA-Z]+";
    RE_BRACED_UNIT = r"\{(?:c|m)?m\}(?:\^[23])?";
    RE_COMPLEX_J = r"^[-+]?(?:\d+(?:\.\d+)?)?(?:[-+](?:\d+(?:\.\d+)?)?)?j$";
    RE_UNIT_WORDS = r"^([^A-Za-z\s]*\d[^A-Za-z\s]*)\s+(?:[A-Za-z][A-Za-z.]+(?:\^\{?[23]\}?)?\s*)+$";
    RE_WHOLE_THOUSANDS = r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$";
    RE_CMD_SPACE = r"(\\[a-zA-Z]+)\s+([a-zA-Z])";
    RE_FRAC_DEN = r"\\frac\{([^{}]*)\}([0-9a-zA-Z])";
    RE_SQRT_TOKEN = r"\\sqrt([0-9a-zA-Z])";
    RE_MIXED = r"^(-?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$";
    RE_SIMPLE_FRAC = r"^(-?)\\frac\{(-?\d+)\}\{(-?\d+)\}$";
    RE_DECIMAL = r"\d*\.\d+";
    RE_BASE = r"_\{(\d+)\}";
    RE_INF_WORD = r"\binf(?:inity)?\b";
    RE_CHOICE = r"^\(([A-E])\)$";
    RE_TRAILING = r"(?:\\\\|,|\.)+$";
}

/// Commands whose braced argument is text (a unit, a word, a choice), not math.
const TEXT_COMMANDS: [&str; 8] = [
    "\\text",
    "\\textbf",
    "\\textit",
    "\\textrm",
    "\\textnormal",
    "\\mbox",
    "\\mathrm",
    "\\mathbf",
];

/// Normalises an extracted answer or a reference answer (see the module docs).
pub fn normalize(raw: &str) -> String {
    let mut s = raw
        .replace(['\n', '\r'], " ")
        .replace('\u{2212}', "-")
        .replace('\u{00d7}', "\\times ")
        .replace('\u{00f7}', "\\div ")
        .replace('\u{03c0}', "\\pi ")
        .replace('\u{221e}', "\\infty ")
        .replace('\u{221a}', "\\sqrt")
        .replace('\u{00b0}', "")
        .replace("**", "")
        .replace("\\displaystyle", "");
    s = s.replace("\\$", "").replace('$', "");
    s = strip_delimiters(s.trim_matches(py_space)).to_string();
    // LaTeX thousands separators before the spacing commands disappear.
    s = fixpoint(s, |t| {
        RE_THOUSANDS_BANG.replace_all(t, "${1}${2}").into_owned()
    });
    s = fixpoint(s, |t| {
        RE_THOUSANDS_BRACE.replace_all(t, "${1}${2}").into_owned()
    });
    s = s.replace("\\!", "").replace("\\,", "");
    for spacing in ["\\;", "\\:", "\\qquad", "\\quad", "~"] {
        s = s.replace(spacing, " ");
    }
    // `\ ` is a space, but `\\ ` is a matrix row break followed by one.
    s = RE_ESCAPED_SPACE.replace_all(&s, "${1} ").into_owned();
    s = RE_LEFT_RIGHT.replace_all(&s, "${1}").into_owned();
    s = RE_FRAC_VARIANTS.replace_all(&s, "\\frac").into_owned();
    for degree in ["^{\\circ}", "^\\circ", "\\circ", "\\degree"] {
        s = s.replace(degree, "");
    }
    s = s.replace("\\%", "").replace('%', "");
    s = unwrap_text(&s);
    s = s
        .trim_matches(py_space)
        .trim_end_matches(['.', ' '])
        .to_string();
    s = RE_IN_SET.replace(&s, "").into_owned();
    s = strip_leading_assignment(&s);
    s = RE_BRACED_UNIT.replace_all(&s, "").into_owned();
    s = RE_UNIT_WORDS.replace(&s, "${1}").into_owned();
    let trimmed = s.trim_matches(py_space);
    if RE_WHOLE_THOUSANDS.is_match(trimmed) {
        s = trimmed.replace(',', "");
    }
    s = RE_CMD_SPACE.replace_all(&s, "${1}{${2}}").into_owned();
    s.retain(|c| !py_space(c));
    s = RE_SQRT_TOKEN.replace_all(&s, "\\sqrt{${1}}").into_owned();
    s = fix_fracs(&s);
    s = RE_FRAC_DEN
        .replace_all(&s, "\\frac{${1}}{${2}}")
        .into_owned();
    s = mixed_or_simple_fraction(&s).unwrap_or(s);
    s = RE_DECIMAL
        .replace_all(&s, |c: &regex::Captures<'_>| canonical_decimal(&c[0]))
        .into_owned();
    s = RE_BASE.replace_all(&s, "_${1}").into_owned();
    if !s.contains("\\inf") {
        s = RE_INF_WORD.replace_all(&s, "\\infty").into_owned();
    }
    s = RE_CHOICE.replace(&s, "${1}").into_owned();
    if RE_COMPLEX_J.is_match(&s) {
        s = s.replace('j', "i");
    }
    if s.len() >= 2 && s.chars().all(|c| c.is_ascii_alphabetic()) {
        s = s.to_ascii_lowercase();
    }
    RE_TRAILING.replace(&s, "").into_owned()
}

/// `x = 5` -> `5`, but `y = 2x + 3` stays an equation (its right side has a variable).
fn strip_leading_assignment(s: &str) -> String {
    if let Some(c) = RE_LEADING_VAR.captures(s) {
        let rhs = &c[1];
        if !RE_COMMAND
            .replace_all(rhs, "")
            .chars()
            .any(|ch| ch.is_ascii_alphabetic())
        {
            return rhs.to_string();
        }
    }
    s.to_string()
}

fn fixpoint(mut s: String, step: impl Fn(&str) -> String) -> String {
    loop {
        let next = step(&s);
        if next == s {
            return s;
        }
        s = next;
    }
}

/// Drops a math delimiter pair around the whole answer: `\(..\)`, `\[..\]`.
fn strip_delimiters(s: &str) -> &str {
    for (open, close) in [("\\(", "\\)"), ("\\[", "\\]")] {
        if let Some(inner) = s.strip_prefix(open).and_then(|t| t.strip_suffix(close)) {
            return inner.trim();
        }
    }
    s
}

/// Unwraps `\text{...}`-like groups, or drops them when they are a unit after a value
/// (with a following `^2`/`^{3}`); `\text{ and }` becomes a list comma.
fn unwrap_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some((at, cmd)) = next_text_command(rest) {
        out.push_str(&rest[..at]);
        let after = &rest[at + cmd.len()..];
        let Some(body) = after.strip_prefix('{') else {
            out.push_str(cmd);
            rest = after;
            continue;
        };
        let Some(end) = closing_brace(body) else {
            out.push_str(&rest[at..]);
            return out;
        };
        let content = &body[..end];
        rest = &body[end + 1..];
        let word = content.trim();
        let has_value_before = !out.trim().is_empty();
        if word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or") {
            out.push(',');
        } else if has_value_before && is_unit_like(word) {
            rest = strip_unit_power(rest);
        } else {
            out.push_str(content);
        }
    }
    out.push_str(rest);
    out
}

/// The earliest text command in `s` followed by `{`, preferring the longest name at a position.
fn next_text_command(s: &str) -> Option<(usize, &'static str)> {
    TEXT_COMMANDS
        .iter()
        .filter_map(|cmd| {
            s.match_indices(cmd)
                .find(|(at, _)| s[at + cmd.len()..].starts_with('{'))
                .map(|(at, _)| (at, *cmd))
        })
        .min_by_key(|(at, cmd)| (*at, usize::MAX - cmd.len()))
}

/// Index of the `}` closing an already-opened group in `body`.
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn is_unit_like(word: &str) -> bool {
    !word.is_empty()
        && word.chars().any(|c| c.is_alphabetic())
        && word
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '.' || c == '-')
}

fn strip_unit_power(rest: &str) -> &str {
    for power in ["^{2}", "^{3}", "^2", "^3"] {
        if let Some(r) = rest.strip_prefix(power) {
            return r;
        }
    }
    rest
}

/// `1\frac{4}{5}` -> `9/5` and `-\frac{3}{4}` -> `-3/4`; `None` for anything else.
fn mixed_or_simple_fraction(s: &str) -> Option<String> {
    if let Some(c) = RE_MIXED.captures(s) {
        let whole: u128 = c[2].parse().ok()?;
        let num: u128 = c[3].parse().ok()?;
        let den: u128 = c[4].parse().ok()?;
        let top = whole.checked_mul(den)?.checked_add(num)?;
        return Some(format!("{}{top}/{den}", &c[1]));
    }
    let c = RE_SIMPLE_FRAC.captures(s)?;
    Some(format!("{}{}/{}", &c[1], &c[2], &c[3]))
}

fn canonical_decimal(d: &str) -> String {
    let (int, frac) = d.split_once('.').unwrap_or((d, ""));
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn canonical_forms() {
        let cases = [
            ("1,080", "1080"),
            ("\\$1,080.00", "1080"),
            ("10,\\!080", "10080"),
            ("11,\\! 111,\\! 111,\\! 100", "11111111100"),
            ("(1,2)", "(1,2)"),
            ("3, 5, 7", "3,5,7"),
            ("5 \\text{ cm}", "5"),
            ("864 \\mbox{ inches}^2", "864"),
            ("\\frac{270}7\\text{ degrees}", "270/7"),
            ("\\text{(C)}", "C"),
            ("\\text{Evelyn}", "evelyn"),
            ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"),
            ("\\dfrac{17}{50}", "17/50"),
            ("\\frac12", "1/2"),
            ("-\\frac{3}{4}", "-3/4"),
            ("\\frac 59", "5/9"),
            ("1\\frac{4}{5}", "9/5"),
            ("11\\sqrt2", "11\\sqrt{2}"),
            ("50\\%", "50"),
            ("90^\\circ", "90"),
            ("10.00", "10"),
            (".0000672", "0.0000672"),
            ("2.50", "2.5"),
            ("x = 5", "5"),
            ("k=-2", "-2"),
            ("y = 2x + 3", "y=2x+3"),
            ("x = \\frac{\\pi}{2}", "\\frac{\\pi}{2}"),
            (
                "v = \\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}",
                "\\begin{pmatrix}1\\\\2\\end{pmatrix}",
            ),
            ("12{cm}^2", "12"),
            ("3-4j", "3-4i"),
            ("\\text{jump}", "jump"),
            ("5x - 7y + 11z + 4 = 0", "5x-7y+11z+4=0"),
            ("x \\in [-2,7]", "[-2,7]"),
            ("18 dollars", "18"),
            ("5.4 \\text{ cents}", "5.4"),
            ("\\cot x", "\\cot{x}"),
            ("4210_{5}", "4210_5"),
            ("(2, infinity)", "(2,\\infty)"),
            ("1 \\text{ and } 2", "1,2"),
            ("\\(\\frac{3}{4}\\)", "3/4"),
            ("2\\cdot 3", "2\\cdot3"),
            ("\\frac ab", "\\frac{a}{b}"),
            ("3\\ \\text{cm}", "3"),
            (
                "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}",
                "\\begin{pmatrix}1\\\\2\\end{pmatrix}",
            ),
            ("\\frac{\\sqrt{3}}{3}", "\\frac{\\sqrt{3}}{3}"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input), want, "normalize({input:?})");
        }
    }
}
