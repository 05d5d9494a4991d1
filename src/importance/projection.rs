//! Moving scores from a scorer's own tokens onto the target model's tokens.
//!
//! LLMLingua-2 scores XLM-RoBERTa subwords; the ratio gamma is counted in the target
//! model's tokens. Both tokenizers report byte offsets into the same text, so a score can
//! be carried over wherever the two overlap.
//!
//! Rule: a target token gets the mean of the scores of the scorer spans it overlaps,
//! weighted by the number of overlapping bytes. The mean (not the max) keeps the scale
//! of the scorer and matches LLMLingua-2's own subword-to-word averaging; the byte weight
//! stops a one-byte overlap (a shared `"."`) from counting as much as the body of the
//! token. A target token that overlaps no scorer span (whitespace, which XLM-R offsets
//! leave out, or text the scorer skipped) takes the score of the next target token that
//! has one, else of the previous one, else 0: a lone space before a word goes with that
//! word, as a byte-level BPE would have glued it to it.

use super::span::TokenSpan;

/// A scorer's own token: a byte range into the scored text and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredSpan {
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

/// Projects `scored` (sorted by start, non-overlapping, as tokenizer offsets are; empty
/// spans such as special tokens at `0..0` are ignored) onto `target` (sorted, as
/// `validate_spans` checks). Returns one score per target token. O(n + m).
pub fn project_scores(scored: &[ScoredSpan], target: &[TokenSpan]) -> Vec<f32> {
    let mut out: Vec<Option<f32>> = Vec::with_capacity(target.len());
    let mut j = 0usize;
    for t in target {
        while j < scored.len() && scored[j].end <= t.start {
            j += 1;
        }
        let (mut sum, mut weight) = (0f64, 0usize);
        let mut k = j;
        while k < scored.len() && scored[k].start < t.end {
            let s = scored[k];
            let overlap = s.end.min(t.end).saturating_sub(s.start.max(t.start));
            sum += f64::from(s.score) * overlap as f64;
            weight += overlap;
            k += 1;
        }
        out.push((weight > 0).then(|| (sum / weight as f64) as f32));
    }
    fill_uncovered(out)
}

/// Gives tokens without a score the next scored token's score, else the previous one's.
fn fill_uncovered(projected: Vec<Option<f32>>) -> Vec<f32> {
    let mut filled = vec![0f32; projected.len()];
    let mut next: Option<f32> = None;
    for i in (0..projected.len()).rev() {
        next = projected[i].or(next);
        filled[i] = next.unwrap_or(f32::NAN);
    }
    let mut prev = 0f32;
    for (i, p) in projected.iter().enumerate() {
        match p {
            Some(s) => prev = *s,
            None if filled[i].is_nan() => filled[i] = prev,
            None => {}
        }
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(start: usize, end: usize, score: f32) -> ScoredSpan {
        ScoredSpan { start, end, score }
    }
    fn t(start: usize, end: usize) -> TokenSpan {
        TokenSpan::new(0, start, end)
    }

    #[test]
    fn same_tokenization_passes_scores_through() {
        let target = [t(0, 2), t(2, 5)];
        let scored = [s(0, 2, 0.3), s(2, 5, 0.9)];
        assert_eq!(project_scores(&scored, &target), vec![0.3, 0.9]);
    }

    #[test]
    fn a_target_token_over_several_scorer_spans_gets_the_byte_weighted_mean() {
        // target "quickly" (0..7) = scorer "quick" (0..5, 1.0) + "ly" (5..7, 0.0)
        let got = project_scores(&[s(0, 5, 1.0), s(5, 7, 0.0)], &[t(0, 7)]);
        assert!((got[0] - 5.0 / 7.0).abs() < 1e-6, "{got:?}");
    }

    #[test]
    fn several_target_tokens_in_one_scorer_span_share_its_score() {
        let got = project_scores(&[s(0, 6, 0.4)], &[t(0, 3), t(3, 6)]);
        assert_eq!(got, vec![0.4, 0.4]);
    }

    #[test]
    fn target_whitespace_takes_the_next_words_score() {
        // text "a  b": scorer offsets skip spaces; target has a lone space token " " (1..2)
        // then " b" (2..4).
        let scored = [s(0, 1, 0.2), s(3, 4, 0.8)];
        let got = project_scores(&scored, &[t(0, 1), t(1, 2), t(2, 4)]);
        assert_eq!(got, vec![0.2, 0.8, 0.8]);
        // ... and trailing whitespace takes the previous one.
        let got = project_scores(&scored, &[t(0, 1), t(1, 2), t(2, 4), t(4, 5)]);
        assert_eq!(got[3], 0.8);
    }

    #[test]
    fn special_tokens_with_empty_offsets_are_ignored() {
        let scored = [s(0, 0, 9.0), s(0, 3, 0.5), s(3, 3, 9.0)];
        assert_eq!(project_scores(&scored, &[t(0, 3)]), vec![0.5]);
    }

    #[test]
    fn no_scores_at_all_gives_zeros() {
        assert_eq!(project_scores(&[], &[t(0, 1), t(1, 2)]), vec![0.0, 0.0]);
    }
}
