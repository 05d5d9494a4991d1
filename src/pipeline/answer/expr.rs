//! Values of the small arithmetic expressions that final answers are written in (parsed by
//! `expr_parse.rs`).
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
    /// A variable: ASCII letters are 0..52 (`a`..`z`, `A`..`Z`), named symbols above.
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

/// Number of variable assignments an expression with variables is evaluated at.
pub(crate) const SAMPLE_POINTS: usize = 3;

pub(crate) use super::expr_parse::{parse, parse_with, Dialect};

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

/// Compares two expressions at every sample point: equal values (infinities included, as
/// Python's `isclose`) or finite values that are `close`. Points where both sides are
/// undefined are skipped, and at least one point must be compared.
pub(crate) fn agree(a: &Expr, b: &Expr, close: impl Fn(f64, f64) -> bool) -> bool {
    let points = if a.has_vars() || b.has_vars() {
        SAMPLE_POINTS
    } else {
        1
    };
    let mut compared = 0;
    for p in 0..points {
        let (x, y) = (a.eval(p), b.eval(p));
        if x == y {
            compared += 1;
            continue;
        }
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
