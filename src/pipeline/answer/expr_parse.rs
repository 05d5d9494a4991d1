//! Parsing answers into `Expr`, in three dialects.
//!
//! - `Latex` (our graders): `+ - * / ^`, `\cdot`, `\times`, `\div`, parentheses and braces,
//!   `\frac`, `\sqrt` (with an optional index), `\pi` (the constant), `\sin`-like functions,
//!   numbers and single-letter variables, with implicit multiplication (`2\pi`, `3x`,
//!   `(a+5)(b+2)`). The whole string must parse; anything else (`\pm`, subscripts, `\infty`,
//!   unknown commands) is refused and the caller falls back to string comparison.
//! - `SympyLatex` imitates sympy's `parse_latex` as the reference grader sees it: `\pi` and
//!   unknown commands (`\pm`, `\text`, `\in`) are plain symbols, `\infty` is infinite, digit
//!   groups `32,348` are one number, `x_1` is its own symbol, and parsing stops at the first
//!   token that cannot continue the expression (the grammar has no end-of-input anchor, so
//!   `1,2` parses as `1` and `52_8` as `52`); a top-level `=` makes it an equation, which the
//!   reference cannot compare, so it is refused.
//! - `SympyExpr` imitates sympy's `parse_expr`, which the reference falls back to when its
//!   LaTeX parser is unavailable: Python syntax only (`**`, explicit `*`, names; `pi`, `E`
//!   and `oo` are constants; `^`, backslashes, braces and juxtaposition are refused).

use super::expr::{Expr, Func, Op};

/// How to read an answer string (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Latex,
    SympyLatex,
    SympyExpr,
}

/// Nesting deeper than this is refused, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
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
fn named_var(name: &str) -> usize {
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

fn tokenize(s: &str, dialect: Dialect) -> Option<Vec<Tok>> {
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

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    dialect: Dialect,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    /// Parses the continuation `f` of an expression. In `SympyLatex` a continuation that
    /// fails is undone and the expression ends before it, as the ANTLR grammar's lookahead
    /// does (`0\cot` parses as `0`, `1+` as `1`); elsewhere the failure propagates.
    fn continuation(&mut self, f: impl FnOnce(&mut Self) -> Option<Expr>) -> Result<Expr, bool> {
        let saved = (self.dialect == Dialect::SympyLatex).then(|| (self.pos, self.toks.clone()));
        match (f(self), saved) {
            (Some(e), _) => Ok(e),
            (None, Some((pos, toks))) => {
                self.pos = pos;
                self.toks = toks;
                Err(true)
            }
            (None, None) => Err(false),
        }
    }

    fn expr(&mut self) -> Option<Expr> {
        self.nested(|p| {
            let mut lhs = p.term()?;
            loop {
                let op = match p.peek() {
                    Some(Tok::Sym('+')) => Op::Add,
                    Some(Tok::Sym('-')) => Op::Sub,
                    _ => return Some(lhs),
                };
                let rhs = match p.continuation(|p| {
                    p.pos += 1;
                    p.term()
                }) {
                    Ok(rhs) => rhs,
                    Err(undone) => return undone.then_some(lhs),
                };
                lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
            }
        })
    }

    fn term(&mut self) -> Option<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Sym('*')) => Op::Mul,
                Some(Tok::Sym('/')) => Op::Div,
                Some(Tok::Cmd(c)) if c == "cdot" || c == "times" => Op::Mul,
                Some(Tok::Cmd(c)) if c == "div" => Op::Div,
                Some(t) if self.dialect != Dialect::SympyExpr && self.starts_atom(t) => {
                    // Implicit multiplication: `2\pi`, `3x`, `(a+5)(b+2)`.
                    match self.continuation(|p| p.power()) {
                        Ok(rhs) => lhs = Expr::Bin(Op::Mul, Box::new(lhs), Box::new(rhs)),
                        Err(undone) => return undone.then_some(lhs),
                    }
                    continue;
                }
                _ => return Some(lhs),
            };
            let rhs = match self.continuation(|p| {
                p.pos += 1;
                p.unary()
            }) {
                Ok(rhs) => rhs,
                Err(undone) => return undone.then_some(lhs),
            };
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn unary(&mut self) -> Option<Expr> {
        self.nested(|p| {
            if p.eat(&Tok::Sym('-')) {
                Some(Expr::Neg(Box::new(p.unary()?)))
            } else if p.eat(&Tok::Sym('+')) {
                p.unary()
            } else {
                p.power()
            }
        })
    }

    /// `base ^ exponent` (right-associative). The exponent is a braced group, a whole
    /// number (`2^10`, as people and sympy's NUMBER token read it), an atom, or signed.
    fn power(&mut self) -> Option<Expr> {
        let base = self.atom()?;
        if matches!(self.peek(), Some(Tok::Sym('^') | Tok::Pow)) {
            // In `SympyLatex` a caret without an exponent ends the expression before it.
            return match self.continuation(|p| {
                p.pos += 1;
                p.nested(|p| p.exponent())
            }) {
                Ok(exp) => Some(Expr::Bin(Op::Pow, Box::new(base), Box::new(exp))),
                Err(undone) => undone.then_some(base),
            };
        }
        Some(base)
    }

    fn exponent(&mut self) -> Option<Expr> {
        if self.eat(&Tok::Sym('-')) {
            return Some(Expr::Neg(Box::new(self.nested(|p| p.exponent())?)));
        }
        self.power()
    }

    /// A LaTeX macro argument: `{...}` or a single character (`\frac12`).
    fn arg(&mut self) -> Option<Expr> {
        match self.peek()?.clone() {
            Tok::Num(text) => {
                let mut chars = text.chars();
                let first = chars.next()?;
                let rest: String = chars.collect();
                if rest.is_empty() {
                    self.pos += 1;
                } else {
                    self.toks[self.pos] = Tok::Num(rest);
                }
                Some(Expr::Num(f64::from(first.to_digit(10)?)))
            }
            _ => self.atom(),
        }
    }

    fn atom(&mut self) -> Option<Expr> {
        let tok = self.peek()?.clone();
        self.pos += 1;
        match tok {
            Tok::Num(text) => Some(Expr::Num(text.replace(',', "").parse().ok()?)),
            Tok::Var(i) => Some(Expr::Var(i)),
            Tok::Sym(open @ ('(' | '{' | '[')) => {
                let close = match open {
                    '(' => ')',
                    '{' => '}',
                    _ => ']',
                };
                let inner = self.nested(|p| p.expr())?;
                self.eat(&Tok::Sym(close)).then_some(inner)
            }
            Tok::Cmd(name) => self.nested(|p| p.command(&name)),
            Tok::Sym(_) | Tok::Pow | Tok::Other => None,
        }
    }

    fn command(&mut self, name: &str) -> Option<Expr> {
        Some(match name {
            "frac" | "dfrac" | "tfrac" | "cfrac" => {
                let num = self.arg()?;
                let den = self.arg()?;
                Expr::Bin(Op::Div, Box::new(num), Box::new(den))
            }
            "sqrt" => {
                let index = if self.eat(&Tok::Sym('[')) {
                    let e = self.expr()?;
                    self.eat(&Tok::Sym(']')).then_some(e)?
                } else {
                    Expr::Num(2.0)
                };
                Expr::Root(Box::new(index), Box::new(self.arg()?))
            }
            "pi" if self.dialect == Dialect::SympyLatex => Expr::Var(named_var("pi")),
            "pi" => Expr::Num(std::f64::consts::PI),
            "infty" if self.dialect != Dialect::Latex => Expr::Num(f64::INFINITY),
            _ => match func_named(name) {
                Some(f) => Expr::Func(f, Box::new(self.power()?)),
                None if self.dialect == Dialect::SympyLatex => Expr::Var(named_var(name)),
                None => return None,
            },
        })
    }

    fn starts_atom(&self, t: &Tok) -> bool {
        match t {
            Tok::Num(_) | Tok::Var(_) => true,
            Tok::Sym(c) => *c == '(' || *c == '{',
            Tok::Cmd(name) => {
                !matches!(name.as_str(), "cdot" | "times" | "div")
                    && (self.dialect == Dialect::SympyLatex
                        || matches!(
                            name.as_str(),
                            "frac" | "dfrac" | "tfrac" | "cfrac" | "sqrt" | "pi"
                        )
                        || func_named(name).is_some())
            }
            Tok::Pow | Tok::Other => false,
        }
    }
}

fn func_named(name: &str) -> Option<Func> {
    Some(match name {
        "sin" => Func::Sin,
        "cos" => Func::Cos,
        "tan" => Func::Tan,
        "cot" => Func::Cot,
        "sec" => Func::Sec,
        "csc" => Func::Csc,
        "ln" => Func::Ln,
        "log" => Func::Log,
        "exp" => Func::Exp,
        _ => return None,
    })
}

/// Parses a whole string in our `Latex` dialect; `None` if any of it is outside the grammar.
pub(crate) fn parse(s: &str) -> Option<Expr> {
    parse_with(s, Dialect::Latex)
}

/// Parses `s` in `dialect` (see the module docs for what each accepts).
pub(crate) fn parse_with(s: &str, dialect: Dialect) -> Option<Expr> {
    let toks = tokenize(s, dialect)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        dialect,
    };
    let e = p.expr()?;
    match p.peek() {
        None => Some(e),
        Some(Tok::Sym('=')) => None,
        Some(_) if dialect == Dialect::SympyLatex && !p.toks.contains(&Tok::Sym('=')) => Some(e),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(s: &str, d: Dialect) -> Option<f64> {
        parse_with(s, d).map(|e| e.eval(0))
    }

    #[test]
    fn sympy_latex_quirks() {
        let d = Dialect::SympyLatex;
        assert_eq!(val("1,2", d), Some(1.0));
        assert_eq!(val("52_8", d), Some(52.0));
        assert_eq!(val("32,348", d), Some(32348.0));
        assert_eq!(val("1\\,000", d), Some(1000.0));
        assert_eq!(val("0\\cot", d), Some(0.0));
        assert_eq!(val("1+", d), Some(1.0));
        assert_eq!(val("1,000^", d), Some(1000.0));
        assert_eq!(val("0.5.\\cot", d), Some(0.5));
        assert_eq!(val("\\infty", d), Some(f64::INFINITY));
        assert!(parse_with("x=5", d).is_none());
        assert!(parse_with("\\frac{\\pi}{2}", d).is_some_and(|e| e.has_vars()));
        assert!(parse_with("1\\pm\\sqrt{19}", d).is_some_and(|e| e.has_vars()));
        assert_ne!(val("x_1", d), val("x_2", d));
        assert!(parse_with("[-2,7]", d).is_none());
    }

    #[test]
    fn sympy_expr_is_python_syntax() {
        let d = Dialect::SympyExpr;
        assert_eq!(val("2**10", d), Some(1024.0));
        assert_eq!(val("3*pi/pi", d), Some(3.0));
        for s in ["2x", "\\frac{1}{2}", "x^2", "2(k+1)", "1,2", "I"] {
            assert!(parse_with(s, d).is_none(), "{s} should not parse");
        }
    }
}
