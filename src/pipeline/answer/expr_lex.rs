//! Tokens of answer strings for `expr_parse.rs`, per dialect (see its module docs): numbers
//! (with sympy's digit groups in `SympyLatex`, scientific notation elsewhere), letters and
//! names, `\\commands`, and the few symbols arithmetic uses.

use super::expr_parse::Dialect;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Num(String),
    Var(usize),
    Cmd(String),
    Sym(char),
    /// `**` (SympyExpr).
    Pow,
    /// A token no rule accepts: it ends a `SympyLatex` prefix and fails the other dialects.
    Other,
}

/// Variable id of a named symbol: stable, and disjoint from the 52 single letters.
pub(crate) fn named_var(name: &str) -> usize {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    100 + (hash % 1_000_000) as usize
}

fn letter_index(c: char) -> usize {
    if c.is_ascii_lowercase() {
        (c as usize) - ('a' as usize)
    } else {
        26 + (c as usize) - ('A' as usize)
    }
}

pub(crate) fn tokenize(s: &str, dialect: Dialect) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let sympy = dialect != Dialect::Latex;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let text = if dialect == Dialect::SympyLatex {
                sympy_number(&chars, &mut i)
            } else {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                chars[start..i].iter().collect::<String>()
            };
            let mut text = text;
            if text.matches('.').count() > 1 {
                return None;
            }
            // Scientific notation (`1.5e3`), except in sympy's LaTeX grammar (`e` is a symbol).
            if dialect != Dialect::SympyLatex && matches!(chars.get(i), Some('e' | 'E')) {
                let sign = usize::from(matches!(chars.get(i + 1), Some('+' | '-')));
                let digits = chars[(i + 1 + sign).min(chars.len())..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                if digits > 0 {
                    text.extend(&chars[i..i + 1 + sign + digits]);
                    i += 1 + sign + digits;
                }
            }
            // sympy's lexer skips spaces (and `\,`, `\!`) inside a number: `1\,000` is 1000.
            if let (Dialect::SympyLatex, Some(Tok::Num(prev))) = (dialect, out.last_mut()) {
                prev.push_str(&text);
                continue;
            }
            out.push(Tok::Num(text));
        } else if dialect == Dialect::SympyExpr && (c.is_ascii_alphabetic() || c == '_') {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            out.push(match name.as_str() {
                "pi" => Tok::Num(std::f64::consts::PI.to_string()),
                "E" => Tok::Num(std::f64::consts::E.to_string()),
                "oo" => Tok::Cmd("infty".into()),
                "I" | "S" | "N" | "O" | "Q" => return None,
                _ if name.len() == 1 => Tok::Var(letter_index(c)),
                _ => Tok::Var(named_var(&name)),
            });
        } else if c.is_ascii_alphabetic() {
            i += 1;
            if dialect == Dialect::SympyLatex && chars.get(i) == Some(&'_') {
                // `x_1`, `x_{12}`: a symbol of its own.
                let sub_end = if chars.get(i + 1) == Some(&'{') {
                    (i + 2..chars.len()).find(|&k| chars[k] == '}')? + 1
                } else {
                    (i + 2).min(chars.len())
                };
                let name: String = chars[i - 1..sub_end].iter().collect();
                out.push(Tok::Var(named_var(&name)));
                i = sub_end;
            } else {
                out.push(Tok::Var(letter_index(c)));
            }
        } else if c == '\\' && dialect != Dialect::SympyExpr {
            let start = i + 1;
            i = start;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            if i == start {
                // `\!`, `\,`, `\;`, `\ ` are spacing; `\{`, `\\`, ... are not arithmetic.
                match chars.get(i) {
                    Some('!' | ',' | ';' | ':' | ' ') => i += 1,
                    _ if sympy => {
                        out.push(Tok::Other);
                        i += 1;
                    }
                    _ => return None,
                }
                continue;
            }
            let name: String = chars[start..i].iter().collect();
            match name.as_str() {
                "left" | "right" | "displaystyle" | "big" | "Big" | "bigl" | "bigr" => {}
                _ => out.push(Tok::Cmd(name)),
            }
        } else if dialect == Dialect::SympyExpr && c == '*' && chars.get(i + 1) == Some(&'*') {
            out.push(Tok::Pow);
            i += 2;
        } else if "+-*/()".contains(c) || (dialect != Dialect::SympyExpr && "^{}[]".contains(c)) {
            out.push(Tok::Sym(c));
            i += 1;
        } else if dialect == Dialect::SympyLatex {
            out.push(if c == '=' { Tok::Sym('=') } else { Tok::Other });
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

/// sympy's NUMBER token, `DIGIT* (',' DIGIT DIGIT DIGIT)* ('.' DIGIT+)?` (group commas
/// dropped); a second `.` is left for the next token, where it ends the expression.
fn sympy_number(chars: &[char], i: &mut usize) -> String {
    let digit_run = |i: &mut usize, out: &mut String| {
        while let Some(&c) = chars.get(*i).filter(|c| c.is_ascii_digit()) {
            out.push(c);
            *i += 1;
        }
    };
    let mut text = String::new();
    digit_run(i, &mut text);
    while chars.get(*i) == Some(&',')
        && chars.len() >= *i + 4
        && chars[*i + 1..*i + 4].iter().all(char::is_ascii_digit)
    {
        text.extend(&chars[*i + 1..*i + 4]);
        *i += 4;
    }
    if chars.get(*i) == Some(&'.') && chars.get(*i + 1).is_some_and(char::is_ascii_digit) {
        text.push('.');
        *i += 1;
        digit_run(i, &mut text);
    }
    text
}
