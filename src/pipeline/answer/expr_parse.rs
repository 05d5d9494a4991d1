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
use super::expr_lex::{named_var, tokenize, Tok};

/// How to read an answer string (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Latex,
    SympyLatex,
    SympyExpr,
}

/// Nesting deeper than this is refused, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    dialect: Dialect,
    /// Tokens replaced by `arg` (which splits `12` of `\frac12`), so that `continuation`
    /// can undo them without copying the token list.
    undo: Vec<(usize, Tok)>,
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
        let saved = (self.pos, self.undo.len());
        match f(self) {
            Some(e) => Ok(e),
            None if self.dialect == Dialect::SympyLatex => {
                while self.undo.len() > saved.1 {
                    if let Some((at, tok)) = self.undo.pop() {
                        self.toks[at] = tok;
                    }
                }
                self.pos = saved.0;
                Err(true)
            }
            None => Err(false),
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
                    let old = std::mem::replace(&mut self.toks[self.pos], Tok::Num(rest));
                    self.undo.push((self.pos, old));
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
        undo: Vec::new(),
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
