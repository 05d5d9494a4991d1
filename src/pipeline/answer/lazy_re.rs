//! Regexes compiled once, on first use.
//!
//! Every pattern in this module tree is a string literal declared through `lazy_regex!`,
//! which also generates an `all_regexes_compile` test that forces each of them, so an
//! invalid pattern is a programming error that `cargo test` catches, never a runtime one.

use regex::Regex;

/// Declares `static NAME: LazyLock<Regex>` items plus a test that compiles all of them.
macro_rules! lazy_regex {
    ($($name:ident = $pat:expr;)*) => {
        $(
            static $name: std::sync::LazyLock<regex::Regex> =
                std::sync::LazyLock::new(|| crate::pipeline::answer::lazy_re::compile($pat));
        )*
        #[cfg(test)]
        #[test]
        fn all_regexes_compile() {
            $( let _ = &*$name; )*
        }
    };
}

/// Compiles a hard-coded pattern (see the module docs for why this cannot fail at runtime).
pub(crate) fn compile(pattern: &'static str) -> Regex {
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("hard-coded regex is valid (forced by all_regexes_compile)")
}
