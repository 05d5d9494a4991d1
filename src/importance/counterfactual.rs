//! The `counterfactual` scorer: which words the final answer depends on.
//!
//! A word matters if removing it makes the model less sure of the answer. For each word
//! `w` of the CoT (the `words` segmentation, so an equation is one word):
//!
//! ```text
//! score(w) = log p(answer | context, CoT) - log p(answer | context, CoT without w)
//! ```
//!
//! where `log p(answer | ..)` is the sum of the log-probabilities of the answer tokens,
//! each given everything before it (teacher forcing). The answer is the CoT's last line
//! when it holds `\boxed{` (TokenSkip's `The final answer is: $\boxed{N}$`; all of that
//! line's tokens are summed), else the last number in the text. The answer is never
//! removed: its tokens are forced (`ForceReason::Answer`, digits keep `Digit`) and
//! carry the highest word score, for display. Words after the answer cannot change it
//! (the model is causal) and score 0.
//!
//! The score is NOT clamped at 0: a negative score means the answer got MORE likely
//! without the word (a distraction), so the compressor drops it before the neutral
//! words, which is what compression wants; clamping would rank it with them by position.
//!
//! Cost: a word is removed by deleting its tokens from the sequence (not by
//! re-tokenizing the edited text, which would change neighbouring tokens too). All
//! variants (plus the unablated text) run as right-padded batches of `batch_size` rows
//! with a key mask through `Decoder::forward`, keeping logits only for the tail of the
//! rows that holds the answer, so a 300-token CoT (~150 words) is 5 passes at batch 32.
//! Only tokens up to the end of the answer are run. If context + CoT exceed the model's
//! window, the earliest tokens are cut (logged): words wholly before the cut score 0. A
//! word whose removal would leave nothing before the answer (a one-word CoT without BOS
//! or question) cannot be measured; it gets the highest score of the others (at least 0).

use std::ops::Range;
use std::sync::Arc;

use candle_core::{DType, Tensor, D};

use super::causal::{backend, causal_scorer, encode, CausalBase, Encoded};
use super::projection::{project_scores, ScoredSpan};
use super::scorer::{check_input, ForceReason, Importance, ScoreError, Scorer};
use super::span::TokenSpan;
use super::words::{map_words, Word};
use crate::model::{ForwardArgs, LoadedModel, Logits, Positions};

/// Default rows per forward pass.
pub const DEFAULT_BATCH: usize = 32;

/// Answer-conditioned importance by word ablation. Cheap to clone (the model is shared).
#[derive(Clone)]
pub struct CounterfactualScorer {
    base: CausalBase,
    batch_size: usize,
}

/// Everything one ablation run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Ablation {
    /// Words of the text; `tokens` index the scorer's token groups.
    pub words: Vec<Word>,
    /// Byte range of the answer in the text.
    pub answer: Range<usize>,
    /// `log p(answer | ..)` with nothing removed.
    pub base_logp: f32,
    /// Per word, the drop of `log p(answer)` when it is removed; `None` inside the answer.
    pub drops: Vec<Option<f32>>,
    /// Batched forward passes run.
    pub forward_passes: usize,
}

/// One sequence to run: the kept ids and where its answer tokens start.
struct Row {
    ids: Vec<u32>,
    answer_start: usize,
}

causal_scorer!(CounterfactualScorer, "counterfactual");

impl CounterfactualScorer {
    pub fn new(model: Arc<LoadedModel>) -> Self {
        Self {
            base: CausalBase::new(model),
            batch_size: DEFAULT_BATCH,
        }
    }

    /// Rows per forward pass (at least 1). Larger is faster until memory runs out.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Removes each word in turn and measures the answer's log-probability.
    pub fn ablate(&self, context: Option<&str>, text: &str) -> Result<Ablation, ScoreError> {
        let name = self.name();
        let answer = find_answer(text).ok_or_else(|| ScoreError::NoAnswer {
            scorer: name.clone(),
        })?;
        let enc = encode(&self.base.model, &name, context, text)?;
        let spans: Vec<TokenSpan> = enc
            .groups
            .iter()
            .map(|g| TokenSpan::new(0, g.start, g.end))
            .collect();
        let words = map_words(text, &spans).words;
        let overlaps_answer = |s: usize, e: usize| s < answer.end && e > answer.start;
        let ids_of = |groups: Range<usize>| -> Range<usize> {
            enc.text_start + enc.groups[groups.start].tokens.start
                ..enc.text_start + enc.groups[groups.end - 1].tokens.end
        };
        let answer_groups: Vec<usize> = (0..enc.groups.len())
            .filter(|&g| overlaps_answer(enc.groups[g].start, enc.groups[g].end))
            .collect();
        let (Some(&first), Some(&last)) = (answer_groups.first(), answer_groups.last()) else {
            return Err(ScoreError::NoAnswer { scorer: name });
        };
        let answer_ids = ids_of(first..last + 1);
        let cut = self.window_cut(&name, &enc, &answer_ids)?;
        let mut drops: Vec<Option<f32>> = Vec::with_capacity(words.len());
        let mut rows = vec![row(&enc.ids, cut, &answer_ids, None)];
        let (mut ablated, mut whole_context) = (Vec::new(), Vec::new());
        for (i, w) in words.iter().enumerate() {
            let removed = ids_of(w.tokens.clone());
            if overlaps_answer(w.start, w.end) {
                drops.push(None);
                continue;
            }
            drops.push(Some(0.0));
            if removed.end <= cut || removed.start >= answer_ids.start {
                continue;
            }
            let r = row(
                &enc.ids,
                cut,
                &answer_ids,
                Some(removed.start.max(cut)..removed.end),
            );
            if r.answer_start == 0 {
                // Nothing would be left before the answer to predict it from.
                whole_context.push(i);
            } else {
                ablated.push(i);
                rows.push(r);
            }
        }
        let mut logps = Vec::with_capacity(rows.len());
        let mut forward_passes = 0;
        for batch in rows.chunks(self.batch_size) {
            logps.extend(self.answer_logp(batch).map_err(backend(&name))?);
            forward_passes += 1;
        }
        let base_logp = logps[0];
        for (&i, lp) in ablated.iter().zip(&logps[1..]) {
            drops[i] = Some(base_logp - lp);
        }
        // A word that is the whole context counts as much as the most important other one.
        let top = drops.iter().flatten().copied().fold(0f32, f32::max);
        for i in whole_context {
            drops[i] = Some(top);
        }
        tracing::debug!(scorer = %name, words = words.len(), ablated = ablated.len(), forward_passes, "counterfactual scored");
        Ok(Ablation {
            words,
            answer,
            base_logp,
            drops,
            forward_passes,
        })
    }

    /// First token index kept so that everything up to the answer's end fits the window.
    fn window_cut(
        &self,
        name: &str,
        enc: &Encoded,
        answer_ids: &Range<usize>,
    ) -> Result<usize, ScoreError> {
        let window = self.base.model.decoder.cfg.max_position_embeddings;
        let cut = answer_ids.end.saturating_sub(window);
        if answer_ids.start == 0 || cut >= answer_ids.start {
            return Err(ScoreError::Backend {
                scorer: name.to_string(),
                message: format!(
                    "the answer ({} tokens) has no context to be predicted from in a window of {window} tokens",
                    answer_ids.len()
                ),
            });
        }
        if cut > 0 {
            tracing::info!(
                scorer = %name,
                tokens = answer_ids.end,
                window,
                cut,
                text_tokens = enc.text_len(),
                "context + CoT exceed the window: the earliest tokens are cut; words there score 0"
            );
        }
        Ok(cut)
    }

    /// `log p(answer)` of each row, in one forward pass.
    fn answer_logp(&self, rows: &[Row]) -> candle_core::Result<Vec<f32>> {
        let dev = self.base.model.decoder.device();
        let t = rows.iter().map(|r| r.ids.len()).max().unwrap_or(0);
        // The first logit needed by any row: the one predicting its first answer token.
        let first_needed = rows.iter().map(|r| r.answer_start - 1).min().unwrap_or(0);
        let k = t - first_needed;
        let (mut ids, mut mask, mut targets) = (Vec::new(), Vec::new(), Vec::new());
        for r in rows {
            let n = r.ids.len();
            ids.extend(r.ids.iter().copied().chain(std::iter::repeat_n(0, t - n)));
            mask.extend((0..t).map(|p| u8::from(p < n)));
            // Logit at position p predicts the token at p + 1.
            targets.extend((first_needed..t).map(|p| r.ids.get(p + 1).copied().unwrap_or(0)));
        }
        let b = rows.len();
        let ids = Tensor::from_vec(ids, (b, t), dev)?;
        let mask = Tensor::from_vec(mask, (b, t), dev)?;
        let args = ForwardArgs {
            positions: Positions::Offset(0),
            key_mask: Some(&mask),
            logits: Logits::Tail(k),
            attention: false,
        };
        let logits = self.base.model.decoder.forward(&ids, None, &args)?.logits;
        let logp = candle_nn::ops::log_softmax(&logits.to_dtype(DType::F32)?, D::Minus1)?;
        let targets = Tensor::from_vec(targets, (b, k, 1), dev)?;
        let picked = logp.gather(&targets, 2)?.squeeze(2)?.to_vec2::<f32>()?;
        Ok(rows
            .iter()
            .zip(picked)
            .map(|(r, lp)| {
                let from = r.answer_start - 1 - first_needed;
                let to = r.ids.len() - 1 - first_needed;
                lp[from..to].iter().sum()
            })
            .collect())
    }

    fn score_with(
        &self,
        context: Option<&str>,
        text: &str,
        tokens: &[TokenSpan],
    ) -> Result<Importance, ScoreError> {
        check_input(text, tokens)?;
        let ab = self.ablate(context, text)?;
        let top = ab
            .drops
            .iter()
            .flatten()
            .copied()
            .fold(None, |m: Option<f32>, d| Some(m.map_or(d, |m| m.max(d))))
            .unwrap_or(0.0);
        let spans: Vec<ScoredSpan> = ab
            .words
            .iter()
            .zip(&ab.drops)
            .map(|(w, d)| ScoredSpan {
                start: w.start,
                end: w.end,
                score: d.unwrap_or(top),
            })
            .collect();
        let scores = project_scores(&spans, tokens);
        let mut imp = Importance::new(self.name(), text, tokens, scores, &self.base.policy)?;
        for (t, f) in tokens.iter().zip(imp.forced.iter_mut()) {
            let in_answer = t.start < ab.answer.end && t.end > ab.answer.start;
            if in_answer && *f != Some(ForceReason::Digit) {
                *f = Some(ForceReason::Answer);
            }
        }
        Ok(imp)
    }
}

/// The sequence `ids[cut..answer end]` without `removed`, with its answer position.
fn row(ids: &[u32], cut: usize, answer: &Range<usize>, removed: Option<Range<usize>>) -> Row {
    let removed = removed.unwrap_or(0..0);
    let kept: Vec<u32> = (cut..answer.end)
        .filter(|i| !removed.contains(i))
        .map(|i| ids[i])
        .collect();
    let answer_start = kept.len() - answer.len();
    Row {
        ids: kept,
        answer_start,
    }
}

/// Byte range of the answer: the last non-empty line if it holds `\boxed{` (without its
/// indentation), else the last number (digits with inner `,`/`.`, and a leading `-`).
pub fn find_answer(text: &str) -> Option<Range<usize>> {
    let end = text.trim_end().len();
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..end];
    if line.contains("\\boxed{") {
        return Some(line_start + (line.len() - line.trim_start().len())..end);
    }
    let b = text.as_bytes();
    let end = b.iter().rposition(u8::is_ascii_digit)? + 1;
    let mut start = end - 1;
    while start > 0 {
        let c = b[start - 1];
        let inner = matches!(c, b',' | b'.') && start >= 2 && b[start - 2].is_ascii_digit();
        if c.is_ascii_digit() || inner {
            start -= 1;
        } else {
            break;
        }
    }
    if start > 0 && b[start - 1] == b'-' {
        start -= 1;
    }
    Some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer_of(text: &str) -> Option<&str> {
        find_answer(text).map(|r| &text[r])
    }

    #[test]
    fn the_boxed_line_is_the_answer() {
        let text = "She has 3.\n\n  The final answer is: $\\boxed{18}$\n";
        assert_eq!(answer_of(text), Some("The final answer is: $\\boxed{18}$"));
    }

    #[test]
    fn else_the_last_number() {
        assert_eq!(answer_of("so 1,234.5 dollars."), Some("1,234.5"));
        assert_eq!(answer_of("it is -7, done"), Some("-7"));
        assert_eq!(answer_of("3 then 4."), Some("4"));
        assert_eq!(answer_of("no numbers here"), None);
    }

    #[test]
    fn rows_drop_the_removed_tokens_and_stop_at_the_answer() {
        let ids = [10, 11, 12, 13, 14, 15, 16];
        let r = row(&ids, 1, &(4..6), Some(2..3));
        assert_eq!(r.ids, vec![11, 13, 14, 15]);
        assert_eq!(r.answer_start, 2);
    }
}
