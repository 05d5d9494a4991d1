//! Tiny template helpers shared by the question and CoT writers.
//!
//! Templates are plain `&'static str` with `{key}` placeholders, so the phrase banks read
//! like the text they produce and adding a variant is a one-line change.

use rand::Rng;

/// Replaces every `{key}` whose key is in `vars`; unknown placeholders are left as they
/// are (a test asserts that rendered text has none left).
pub(crate) fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let key = &after[..close];
                match vars.iter().find(|(k, _)| *k == key) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(key);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Upper-cases the first character (sentences may start with a pronoun or a connective).
pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A uniformly chosen entry; `""` for an empty bank (never the case for our banks).
pub(crate) fn pick<R: Rng>(rng: &mut R, bank: &[&'static str]) -> &'static str {
    if bank.is_empty() {
        ""
    } else {
        bank[rng.random_range(0..bank.len())]
    }
}

/// Like `pick`, but avoids entries already in `used` while any are left, so a story
/// does not say "3 birds fly away. Then 5 birds fly away." with the same words twice.
pub(crate) fn pick_fresh<R: Rng>(
    rng: &mut R,
    bank: &[&'static str],
    used: &mut Vec<&'static str>,
) -> &'static str {
    let fresh: Vec<&'static str> = bank.iter().copied().filter(|t| !used.contains(t)).collect();
    let choice = if fresh.is_empty() {
        pick(rng, bank)
    } else {
        pick(rng, &fresh)
    };
    used.push(choice);
    choice
}

/// Fraction words for "keeps only half / a third / ..." of something, indexed by divisor.
pub(crate) fn fraction_word(divisor: i64) -> Option<&'static str> {
    match divisor {
        2 => Some("half"),
        3 => Some("a third"),
        4 => Some("a quarter"),
        5 => Some("a fifth"),
        6 => Some("a sixth"),
        7 => Some("a seventh"),
        8 => Some("an eighth"),
        9 => Some("a ninth"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_keys_and_keeps_unknown_ones() {
        let text = fill("{a} and {b} and {c", &[("a", "x"), ("b", "y")]);
        assert_eq!(text, "x and y and {c");
        assert_eq!(fill("\\boxed{q}", &[]), "\\boxed{q}");
    }

    #[test]
    fn capitalize_first_letter_only() {
        assert_eq!(capitalize("she has 3"), "She has 3");
        assert_eq!(capitalize(""), "");
    }
}
