//! A small evaluator for the LaTeX arithmetic that final answers are written in.
//!
//! Why: equivalence such as `2\sqrt{3}` vs `\sqrt{12}` or `\frac{\pi}{2}` vs `1.5708` needs
//! values, not strings, and the reference grader's sympy is not available to a Rust crate.
//! This is deliberately not a computer algebra system: it parses `+ - * / ^`, `\cdot`,
//! `\times`, `\div`, parentheses and braces, `\frac`, `\sqrt` (with an optional index),
//! `\pi`, a few named functions, numbers and single-letter variables, with implicit
//! multiplication (`2\pi`, `3x`, `(a+5)(b+2)`). Expressions with variables are compared by
//! evaluating them at a few fixed points (a randomised identity test), which is how `x+1`
//! and `1+x` come out equal without symbolic algebra. Anything else (`\pm`, subscripts,
//! `\infty`, matrices, unknown commands) does not parse and the caller falls back to strings.

/// A parsed arithmetic expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Num(f64),
    /// A single ASCII letter, by index 0..52 (`a`..`z`, `A`..`Z`).
    Var(usize),
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    /// `\sqrt[index]{radicand}`; the index is 2 when absent.
    Root(Box<Expr>, Box<Expr>),
    Func(Func, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Func {
    Sin,
    Cos,
    Tan,
    Cot,
    Sec,
    Csc,
    Ln,
    Log,
    Exp,
}

/// Nesting deeper than this is refused, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 64;
/// Number of variable assignments an expression with variables is evaluated at.
pub(crate) const SAMPLE_POINTS: usize = 3;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Var(usize),
    Cmd(String),
    Sym(char),
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            if text.matches('.').count() > 1 {
                return None;
            }
            out.push(Tok::Num(text));
        } else if c.is_ascii_alphabetic() {
            out.push(Tok::Var(letter_index(c)));
            i += 1;
        } else if c == '\\' {
            let start = i + 1;
            i = start;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            if i == start {
                // `\!`, `\,`, `\;`, `\ ` and friends are spacing; anything else is unknown.
                match chars.get(i) {
                    Some('!' | ',' | ';' | ':' | ' ') => i += 1,
                    _ => return None,
                }
                continue;
            }
            let name: String = chars[start..i].iter().collect();
            match name.as_str() {
                "left" | "right" | "displaystyle" | "big" | "Big" | "bigl" | "bigr" => {}
                _ => out.push(Tok::Cmd(name)),
            }
        } else if "+-*/^(){}[]".contains(c) {
            out.push(Tok::Sym(c));
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

fn letter_index(c: char) -> usize {
    if c.is_ascii_lowercase() {
        (c as usize) - ('a' as usize)
    } else {
        26 + (c as usize) - ('A' as usize)
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat_sym(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Sym(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn expr(&mut self) -> Option<Expr> {
        self.enter()?;
        let mut lhs = self.term()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Sym('+')) => Op::Add,
                Some(Tok::Sym('-')) => Op::Sub,
                _ => break,
            };
            self.pos += 1;
            let rhs = self.term()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        self.depth -= 1;
        Some(lhs)
    }

    fn term(&mut self) -> Option<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Sym('*')) => Op::Mul,
                Some(Tok::Sym('/')) => Op::Div,
                Some(Tok::Cmd(c)) if c == "cdot" || c == "times" => Op::Mul,
                Some(Tok::Cmd(c)) if c == "div" => Op::Div,
                Some(t) if starts_atom(t) => {
                    // Implicit multiplication: `2\pi`, `3x`, `(a+5)(b+2)`.
                    let rhs = self.power()?;
                    lhs = Expr::Bin(Op::Mul, Box::new(lhs), Box::new(rhs));
                    continue;
                }
                _ => break,
            };
            self.pos += 1;
            let rhs = self.unary()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Some(lhs)
    }

    fn unary(&mut self) -> Option<Expr> {
        self.enter()?;
        let out = if self.eat_sym('-') {
            Expr::Neg(Box::new(self.unary()?))
        } else if self.eat_sym('+') {
            self.unary()?
        } else {
            self.power()?
        };
        self.depth -= 1;
        Some(out)
    }

    fn power(&mut self) -> Option<Expr> {
        let base = self.atom()?;
        if self.eat_sym('^') {
            self.enter()?;
            let exp = self.exponent()?;
            self.depth -= 1;
            return Some(Expr::Bin(Op::Pow, Box::new(base), Box::new(exp)));
        }
        Some(base)
    }

    /// An exponent: a braced group, a whole number (`2^10` as a person means it), a letter,
    /// a command atom, or a signed exponent (`2^-1`).
    fn exponent(&mut self) -> Option<Expr> {
        if self.eat_sym('-') {
            return Some(Expr::Neg(Box::new(self.exponent()?)));
        }
        self.power()
    }

    /// A LaTeX macro argument: `{...}` or a single character (`\frac12`).
    fn arg(&mut self) -> Option<Expr> {
        match self.peek()?.clone() {
            Tok::Sym('{') => self.atom(),
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
        self.enter()?;
        let tok = self.peek()?.clone();
        self.pos += 1;
        let out = match tok {
            Tok::Num(text) => Expr::Num(text.parse().ok()?),
            Tok::Var(i) => Expr::Var(i),
            Tok::Sym(open @ ('(' | '{' | '[')) => {
                let close = match open {
                    '(' => ')',
                    '{' => '}',
                    _ => ']',
                };
                let inner = self.expr()?;
                if !self.eat_sym(close) {
                    return None;
                }
                inner
            }
            Tok::Cmd(name) => self.command(&name)?,
            Tok::Sym(_) => return None,
        };
        self.depth -= 1;
        Some(out)
    }

    fn command(&mut self, name: &str) -> Option<Expr> {
        Some(match name {
            "frac" | "dfrac" | "tfrac" | "cfrac" => {
                let num = self.arg()?;
                let den = self.arg()?;
                Expr::Bin(Op::Div, Box::new(num), Box::new(den))
            }
            "sqrt" => {
                let index = if self.eat_sym('[') {
                    let e = self.expr()?;
                    if !self.eat_sym(']') {
                        return None;
                    }
                    e
                } else {
                    Expr::Num(2.0)
                };
                Expr::Root(Box::new(index), Box::new(self.arg()?))
            }
            "pi" => Expr::Num(std::f64::consts::PI),
            _ => {
                let f = func_named(name)?;
                Expr::Func(f, Box::new(self.power()?))
            }
        })
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

fn starts_atom(t: &Tok) -> bool {
    match t {
        Tok::Num(_) | Tok::Var(_) => true,
        Tok::Sym(c) => *c == '(' || *c == '{',
        Tok::Cmd(name) => {
            matches!(
                name.as_str(),
                "frac" | "dfrac" | "tfrac" | "cfrac" | "sqrt" | "pi"
            ) || func_named(name).is_some()
        }
    }
}

/// Parses a whole string as an expression; `None` if any of it is outside the grammar.
pub(crate) fn parse(s: &str) -> Option<Expr> {
    let toks = tokenize(s)?;
    if toks.is_empty() {
        return None;
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    (p.pos == p.toks.len()).then_some(e)
}

impl Expr {
    pub(crate) fn has_vars(&self) -> bool {
        match self {
            Expr::Num(_) => false,
            Expr::Var(_) => true,
            Expr::Neg(a) | Expr::Func(_, a) => a.has_vars(),
            Expr::Bin(_, a, b) | Expr::Root(a, b) => a.has_vars() || b.has_vars(),
        }
    }

    /// Evaluates at sample point `point` (variables take fixed, distinct, irrational-ish
    /// values in (0.5, 2.5), positive so that roots and logs stay real).
    pub(crate) fn eval(&self, point: usize) -> f64 {
        match self {
            Expr::Num(v) => *v,
            Expr::Var(i) => sample_value(*i, point),
            Expr::Neg(a) => -a.eval(point),
            Expr::Bin(op, a, b) => {
                let (x, y) = (a.eval(point), b.eval(point));
                match op {
                    Op::Add => x + y,
                    Op::Sub => x - y,
                    Op::Mul => x * y,
                    Op::Div => x / y,
                    Op::Pow => x.powf(y),
                }
            }
            Expr::Root(n, a) => {
                let (n, x) = (n.eval(point), a.eval(point));
                let odd_integer = n.fract() == 0.0 && (n as i64) % 2 == 1;
                if x < 0.0 && odd_integer {
                    -(-x).powf(1.0 / n)
                } else {
                    x.powf(1.0 / n)
                }
            }
            Expr::Func(f, a) => {
                let x = a.eval(point);
                match f {
                    Func::Sin => x.sin(),
                    Func::Cos => x.cos(),
                    Func::Tan => x.tan(),
                    Func::Cot => 1.0 / x.tan(),
                    Func::Sec => 1.0 / x.cos(),
                    Func::Csc => 1.0 / x.sin(),
                    Func::Ln => x.ln(),
                    Func::Log => x.log10(),
                    Func::Exp => x.exp(),
                }
            }
        }
    }
}

fn sample_value(var: usize, point: usize) -> f64 {
    let golden = 0.618_033_988_749_895_f64;
    let silver = 0.414_213_562_373_095_f64;
    let t = (var as f64 + 1.0) * golden + (point as f64 + 1.0) * silver;
    0.5 + 2.0 * t.fract()
}

/// Compares two expressions at every sample point with `close`; points where both sides
/// are undefined are skipped, and at least one point must be defined on both sides.
pub(crate) fn agree(a: &Expr, b: &Expr, close: impl Fn(f64, f64) -> bool) -> bool {
    let points = if a.has_vars() || b.has_vars() {
        SAMPLE_POINTS
    } else {
        1
    };
    let mut compared = 0;
    for p in 0..points {
        let (x, y) = (a.eval(p), b.eval(p));
        match (x.is_finite(), y.is_finite()) {
            (true, true) if close(x, y) => compared += 1,
            (false, false) => {}
            _ => return false,
        }
    }
    compared > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(s: &str) -> f64 {
        parse(s).map(|e| e.eval(0)).unwrap_or(f64::NAN)
    }

    #[test]
    fn arithmetic_and_latex() {
        assert_eq!(val("1+2*3"), 7.0);
        assert_eq!(val("\\frac{1}{2}"), 0.5);
        assert_eq!(val("\\frac12"), 0.5);
        assert_eq!(val("\\frac{27}4"), 6.75);
        assert!((val("2\\sqrt{3}") - val("\\sqrt{12}")).abs() < 1e-12);
        assert!((val("\\sqrt[3]{-8}") + 2.0).abs() < 1e-12);
        assert!((val("\\frac{\\pi}{2}") - std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert_eq!(val("-2^2"), -4.0);
        assert_eq!(val("2^{10}"), 1024.0);
        assert_eq!(val("2^-1"), 0.5);
        assert_eq!(val("3\\cdot4"), 12.0);
        assert_eq!(val("6\\div4"), 1.5);
        assert_eq!(val("\\left(1+2\\right)(3)"), 9.0);
    }

    #[test]
    fn variables_compare_as_identities() {
        let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
        let (Some(a), Some(b)) = (parse("(a+5)(b+2)"), parse("ab+2a+5b+10")) else {
            panic!("parse failed");
        };
        assert!(agree(&a, &b, close));
        let (Some(a), Some(b)) = (parse("x^2+1"), parse("x^2+x")) else {
            panic!("parse failed");
        };
        assert!(!agree(&a, &b, close));
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        for s in [
            "1\\pm2", "52_8", "\\infty", "(1,2)", "", "((1)", "\\alpha", "1..2",
        ] {
            assert!(parse(s).is_none(), "{s} should not parse");
        }
        let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&deep).is_none());
    }
}
