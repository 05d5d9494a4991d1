//! Score once, threshold any gamma: the exact TokenSkip pruning engine.
//!
//! TokenSkip keeps the tokens whose importance is above the (1 - gamma) percentile. The
//! reference code re-runs the compressor for every gamma and counts the ratio in another
//! model's tokenizer. Here the units (tokens or words) are ranked ONCE in `new`, and any
//! gamma keeps a prefix of that ranking, so:
//!
//! * **Exact.** At token granularity exactly `round(gamma * n)` target tokens are kept
//!   (`n` = target tokens, `f64::round`, halves away from zero), unless the forced tokens
//!   alone are more: then all forced tokens are kept and nothing else, and `Kept` says so.
//! * **Nested.** A token kept at gamma is kept at every larger gamma, because a larger
//!   gamma keeps a longer prefix of the same ranking. Forced units head the ranking, so
//!   forcing cannot break this.
//! * **Deterministic.** The ranking has no ties: forced units first (in text order), then
//!   by score, highest first, ties broken by position (the earlier unit wins, so a CoT
//!   of equal scores degrades to its beginning, like reading order), then units demoted
//!   by `drop_consecutive_forced` (in text order).
//! * **Fast.** `at` is O(n) (one pass to build the mask; the prefix length is O(1) for
//!   tokens and a binary search for words); `at_into` reuses the caller's buffer.
//!
//! With `keep_word_spaces` a token of spaces alone is one unit with the token after it, so
//! token granularity is then "as close as units allow", like words.
//!
//! Word granularity keeps whole words (see `importance::words`: equations are one word).
//! A unit's score is the mean of its tokens' scores. Whitespace-only tokens outside
//! words, and tokens forced for a line break (`".\n\n"`), are units of their own, so that
//! forcing a line break never forces the word before it. The prefix length is the one
//! whose token count is closest to `round(gamma * n)`, ties going to the shorter prefix
//! (never overshoot on a tie); it stays nested because token counts grow with the prefix.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::importance::{validate_spans, ForceReason, Importance, SpanError, TokenSpan};

use super::align::Alignment;
use super::text::{Rendered, TextLayout};

/// What is kept or dropped as one piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Token,
    Word,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompressOptions {
    /// LLMLingua-2's `drop_consecutive`: a forced token (other than a digit) that repeats
    /// the forced token right before it (same text, whitespace trimmed; e.g. `"\n"` after
    /// `"\n\n"`, or `:` after `:`) is not forced and ranks last. LLMLingua-2 checks "no
    /// kept token in between", which depends on gamma; adjacency does not, which keeps
    /// masks nested.
    pub drop_consecutive_forced: bool,
    /// Keep the spaces before a word at the start of the text or of a line, so the text
    /// re-tokenizes into the kept tokens (`TextLayout::keep_word_spaces`).
    #[serde(default)]
    pub keep_word_spaces: bool,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum CompressError {
    #[error("ratio gamma = {0} is outside (0, 1]: pass a ratio such as 0.5 (keep half)")]
    InvalidGamma(f64),
    #[error("nothing to compress: the text has no target tokens")]
    NoTokens,
    #[error("importance has {got} {what} but there are {tokens} target tokens: score the same tokens you compress")]
    Mismatch {
        what: &'static str,
        got: usize,
        tokens: usize,
    },
    #[error("importance word {index} covers tokens {start}..{end}, which do not fit {tokens} tokens in order")]
    BadWord {
        index: usize,
        start: usize,
        end: usize,
        tokens: usize,
    },
    #[error("bad target tokens: {0}")]
    Span(#[from] SpanError),
}

/// The kept mask at one gamma, with honest counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    /// The requested ratio.
    pub gamma: f64,
    /// `round(gamma * total)`: the token count asked for.
    pub budget: usize,
    /// Tokens kept (= budget at token granularity unless `forced > budget`).
    pub kept: usize,
    /// Target tokens in the full text.
    pub total: usize,
    /// Tokens kept because their unit is forced (these are always kept).
    pub forced: usize,
    /// One flag per target token.
    pub mask: Vec<bool>,
}

impl Kept {
    /// The actual ratio, kept / total, in target tokens.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.kept as f64 / self.total as f64
        }
    }
}

/// One compression at one gamma: mask, text and alignment together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compressed {
    pub kept: Kept,
    pub text: String,
    /// Kept tokens that left no byte in `text` (see `text`).
    pub elided: usize,
    pub alignment: Alignment,
}

/// A CoT ranked once; call `at` for any gamma.
#[derive(Debug, Clone)]
pub struct Compressor {
    granularity: Granularity,
    /// Rank of each token's unit (0 = kept first).
    token_rank: Vec<u32>,
    /// `cum_tokens[r]` = tokens in the units ranked below `r`; one entry per unit, plus 1.
    cum_tokens: Vec<u32>,
    /// Units forced; they occupy ranks `0..forced_units`.
    forced_units: usize,
    layout: TextLayout,
}

struct Unit {
    first: u32,
    count: u32,
    sum: f64,
    /// 0 forced, 1 ranked by score, 2 demoted.
    tier: u8,
}

impl Compressor {
    /// Ranks the units of one scored CoT. `importance` must come from scoring `tokens` of
    /// `text`; `tokens` must be valid spans of `text` (checked).
    pub fn new(
        text: &str,
        importance: &Importance,
        tokens: &[TokenSpan],
        granularity: Granularity,
        options: CompressOptions,
    ) -> Result<Self, CompressError> {
        let n = tokens.len();
        if n == 0 {
            return Err(CompressError::NoTokens);
        }
        let mismatch = |what, got| CompressError::Mismatch {
            what,
            got,
            tokens: n,
        };
        if importance.scores.len() != n {
            return Err(mismatch("scores", importance.scores.len()));
        }
        if importance.forced.len() != n {
            return Err(mismatch("forced flags", importance.forced.len()));
        }
        validate_spans(text, tokens)?;
        let demoted = demoted_tokens(text, tokens, &importance.forced, options);
        let word_of = match granularity {
            Granularity::Token => Vec::new(),
            Granularity::Word => word_of_tokens(importance, n)?,
        };
        let mut units: Vec<Unit> = Vec::with_capacity(n);
        let mut token_unit: Vec<u32> = Vec::with_capacity(n);
        let mut open_word: Option<u32> = None;
        // With `keep_word_spaces`, a token of spaces alone (` ` before a digit in tokenizers
        // that split digits) goes with the token after it: dropping it alone would save a
        // token in the count but not in the text, where the join puts the space back. At
        // word granularity it takes that token's word (inside an equation, the equation's).
        let blank = |t: usize| {
            options.keep_word_spaces && importance.forced[t] != Some(ForceReason::Newline) && {
                let piece = tokens[t].text(text);
                !piece.is_empty() && piece.bytes().all(|b| b == b' ' || b == b'\t')
            }
        };
        let mut glue = false;
        for t in 0..n {
            let next_word = || match importance.forced.get(t + 1) {
                Some(Some(ForceReason::Newline)) | None => None,
                Some(_) => word_of[t + 1],
            };
            let own = match granularity {
                Granularity::Token => None,
                Granularity::Word if importance.forced[t] == Some(ForceReason::Newline) => None,
                Granularity::Word if blank(t) => word_of[t].or_else(next_word),
                Granularity::Word => word_of[t],
            };
            let joins_glue = granularity == Granularity::Token
                && glue
                && importance.forced[t] != Some(ForceReason::Newline);
            glue = blank(t);
            if joins_glue {
                // Stay in the space's unit.
            } else if own.is_none() || own != open_word {
                units.push(Unit {
                    first: t as u32,
                    count: 0,
                    sum: 0.0,
                    tier: 2,
                });
            }
            open_word = own;
            let u = units.len() - 1;
            let unit = &mut units[u];
            unit.count += 1;
            unit.sum += f64::from(importance.scores[t]);
            let tier = if demoted[t] {
                2
            } else if importance.forced[t].is_some() {
                0
            } else {
                1
            };
            unit.tier = unit.tier.min(tier);
            token_unit.push(u as u32);
        }
        let mut order: Vec<u32> = (0..units.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            let (ua, ub) = (&units[a as usize], &units[b as usize]);
            let by_score = || {
                let (ma, mb) = (ua.sum / f64::from(ua.count), ub.sum / f64::from(ub.count));
                mb.total_cmp(&ma)
            };
            ua.tier
                .cmp(&ub.tier)
                .then_with(|| {
                    if ua.tier == 1 {
                        by_score()
                    } else {
                        std::cmp::Ordering::Equal
                    }
                })
                .then(ua.first.cmp(&ub.first))
        });
        let mut unit_rank = vec![0u32; units.len()];
        let mut cum_tokens = Vec::with_capacity(units.len() + 1);
        cum_tokens.push(0u32);
        for (rank, &u) in order.iter().enumerate() {
            unit_rank[u as usize] = rank as u32;
            let last = cum_tokens[rank];
            cum_tokens.push(last + units[u as usize].count);
        }
        let forced_units = units.iter().filter(|u| u.tier == 0).count();
        Ok(Self {
            granularity,
            token_rank: token_unit.iter().map(|&u| unit_rank[u as usize]).collect(),
            cum_tokens,
            forced_units,
            layout: TextLayout::new(text, tokens)?.keep_word_spaces(options.keep_word_spaces),
        })
    }

    /// Number of target tokens.
    pub fn len(&self) -> usize {
        self.token_rank.len()
    }

    pub fn is_empty(&self) -> bool {
        self.token_rank.is_empty()
    }

    pub fn granularity(&self) -> Granularity {
        self.granularity
    }

    /// Rank of each token's unit: token `t` is kept at every gamma whose prefix is longer
    /// than `token_rank()[t]` (for the views: "dropped below gamma = ...").
    pub fn token_rank(&self) -> &[u32] {
        &self.token_rank
    }

    /// Tokens kept at every gamma because they are forced.
    pub fn forced_tokens(&self) -> usize {
        self.cum_tokens[self.forced_units] as usize
    }

    /// The kept mask at `gamma`.
    pub fn at(&self, gamma: f64) -> Result<Kept, CompressError> {
        let mut kept = Kept::default();
        self.at_into(gamma, &mut kept)?;
        Ok(kept)
    }

    /// Like `at`, reusing `kept`'s mask buffer (no allocation once it has grown).
    pub fn at_into(&self, gamma: f64, kept: &mut Kept) -> Result<(), CompressError> {
        if !(gamma > 0.0 && gamma <= 1.0) {
            return Err(CompressError::InvalidGamma(gamma));
        }
        let n = self.len();
        let budget = ((gamma * n as f64).round() as usize).min(n);
        // One token per unit (token granularity without glued spaces): the prefix is the budget.
        let prefix = match self.granularity {
            Granularity::Token if self.cum_tokens.len() == n + 1 => budget,
            _ => closest_prefix(&self.cum_tokens, budget),
        }
        .max(self.forced_units);
        let cut = prefix as u32;
        kept.mask.clear();
        kept.mask.extend(self.token_rank.iter().map(|&r| r < cut));
        kept.gamma = gamma;
        kept.budget = budget;
        kept.kept = self.cum_tokens[prefix] as usize;
        kept.total = n;
        kept.forced = self.forced_tokens();
        Ok(())
    }

    /// The compressed text for `kept` (see `text` for the spacing rules).
    pub fn text_of(&self, kept: &Kept) -> Rendered {
        let mut out = String::new();
        let elided = self.layout.render_into(&kept.mask, &mut out);
        Rendered { text: out, elided }
    }

    /// Like `text_of`, writing into `out` (cleared first); returns the elided count.
    pub fn render_into(&self, kept: &Kept, out: &mut String) -> usize {
        self.layout.render_into(&kept.mask, out)
    }

    /// Mask, text and alignment at `gamma`, in one call.
    pub fn compress(&self, gamma: f64) -> Result<Compressed, CompressError> {
        let kept = self.at(gamma)?;
        let Rendered { text, elided } = self.text_of(&kept);
        let alignment = Alignment::from_mask(&kept.mask);
        Ok(Compressed {
            kept,
            text,
            elided,
            alignment,
        })
    }
}

/// The prefix of the ranking whose token count is closest to `budget`; on a tie, the
/// shorter one. `cum` is strictly increasing from 0 to n.
fn closest_prefix(cum: &[u32], budget: usize) -> usize {
    let budget = budget as u64;
    let r = cum.partition_point(|&c| u64::from(c) < budget);
    if r == 0 {
        return 0;
    }
    if r == cum.len() {
        return cum.len() - 1;
    }
    let below = budget - u64::from(cum[r - 1]);
    let above = u64::from(cum[r]) - budget;
    if below <= above {
        r - 1
    } else {
        r
    }
}

/// Tokens demoted by `drop_consecutive_forced`.
fn demoted_tokens(
    text: &str,
    tokens: &[TokenSpan],
    forced: &[Option<ForceReason>],
    options: CompressOptions,
) -> Vec<bool> {
    // Digits and the answer line carry the result: repeats of them are never demoted.
    let droppable = |r: Option<ForceReason>| matches!(r, Some(r) if r != ForceReason::Digit && r != ForceReason::Answer);
    (0..tokens.len())
        .map(|t| {
            options.drop_consecutive_forced
                && t > 0
                && droppable(forced[t])
                && droppable(forced[t - 1])
                && tokens[t].text(text).trim() == tokens[t - 1].text(text).trim()
        })
        .collect()
}

/// The word of each token, from `importance.words`, checking the ranges fit.
fn word_of_tokens(importance: &Importance, n: usize) -> Result<Vec<Option<u32>>, CompressError> {
    let mut word_of = vec![None; n];
    let mut next = 0usize;
    for (index, w) in importance.words.iter().enumerate() {
        let r = w.tokens.clone();
        if r.start < next || r.end > n || r.start >= r.end {
            return Err(CompressError::BadWord {
                index,
                start: r.start,
                end: r.end,
                tokens: n,
            });
        }
        word_of[r.clone()].fill(Some(index as u32));
        next = r.end;
    }
    Ok(word_of)
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
