//! Length and redundancy statistics of a CoT corpus, measured in a tokenizer's tokens.
//!
//! Used to calibrate the synthetic world (target: about 60% of CoT tokens are filler)
//! and to report corpus figures in the demo model's README.

use tokenizers::Tokenizer;

use super::synthetic::{essential_spans, Problem};

#[derive(Clone, Debug, PartialEq)]
pub struct CotStats {
    pub problems: usize,
    pub mean_question_chars: f64,
    pub mean_cot_chars: f64,
    pub mean_question_tokens: f64,
    pub mean_cot_tokens: f64,
    /// Share of CoT tokens that overlap an equation or the answer line.
    pub essential_share: f64,
    /// The tokenizer's vocabulary, special tokens included.
    pub vocab_size: usize,
}

impl CotStats {
    pub fn filler_share(&self) -> f64 {
        1.0 - self.essential_share
    }
}

#[derive(Debug, thiserror::Error)]
#[error("tokenizing problem {id} failed: {message}")]
pub struct CotStatsError {
    pub id: String,
    pub message: String,
}

/// Measures `problems` (question, CoT with answer line) in `tokenizer`'s tokens.
///
/// A token counts as essential when its byte range overlaps an essential span; a lone
/// space token just before an equation does not, spaces inside one do.
pub fn cot_stats(tokenizer: &Tokenizer, problems: &[Problem]) -> Result<CotStats, CotStatsError> {
    let (mut q_chars, mut c_chars, mut q_tokens, mut c_tokens, mut essential) = (0, 0, 0, 0, 0);
    let fail = |p: &Problem| {
        let id = p.id.clone();
        move |e: tokenizers::Error| CotStatsError {
            id,
            message: e.to_string(),
        }
    };
    for problem in problems {
        let question = tokenizer
            .encode(problem.question.as_str(), false)
            .map_err(fail(problem))?;
        let cot = tokenizer
            .encode(problem.cot.as_str(), false)
            .map_err(fail(problem))?;
        let spans = essential_spans(&problem.cot);
        essential += cot
            .get_offsets()
            .iter()
            .filter(|(start, end)| spans.iter().any(|s| *start < s.end && s.start < *end))
            .count();
        q_chars += problem.question.chars().count();
        c_chars += problem.cot.chars().count();
        q_tokens += question.len();
        c_tokens += cot.len();
    }
    let n = problems.len().max(1) as f64;
    Ok(CotStats {
        problems: problems.len(),
        mean_question_chars: q_chars as f64 / n,
        mean_cot_chars: c_chars as f64 / n,
        mean_question_tokens: q_tokens as f64 / n,
        mean_cot_tokens: c_tokens as f64 / n,
        essential_share: essential as f64 / c_tokens.max(1) as f64,
        vocab_size: tokenizer.get_vocab_size(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::bpe::{chat_corpus, train_bpe, DEFAULT_VOCAB_SIZE};
    use crate::data::synthetic::{essential_spans, generate, Split, DEFAULT_SEED};

    fn stats_for(train_n: usize, measure_n: usize, vocab: usize) -> CotStats {
        let corpus = generate(Split::Train, train_n, DEFAULT_SEED).unwrap();
        let tokenizer = train_bpe(chat_corpus(&corpus), vocab).unwrap();
        cot_stats(&tokenizer, &corpus[..measure_n]).unwrap()
    }

    #[test]
    fn filler_share_stays_between_60_and_70_percent() {
        let stats = stats_for(1000, 1000, DEFAULT_VOCAB_SIZE);
        let filler = stats.filler_share();
        assert!((0.6..=0.7).contains(&filler), "{stats:?}");
        assert!(stats.mean_cot_tokens < 130.0, "{stats:?}");
    }

    #[test]
    #[ignore = "prints corpus statistics for the README; run with --ignored --nocapture"]
    fn print_corpus_statistics() {
        for vocab in [512, 1024, 2048] {
            let s = stats_for(20_000, 2000, vocab);
            println!(
                "vocab {vocab} ({} used): {} problems, question {:.1} chars / {:.1} tokens, \
                 CoT {:.1} chars / {:.1} tokens, essential {:.1}%, filler {:.1}%",
                s.vocab_size,
                s.problems,
                s.mean_question_chars,
                s.mean_question_tokens,
                s.mean_cot_chars,
                s.mean_cot_tokens,
                100.0 * s.essential_share,
                100.0 * s.filler_share()
            );
        }
    }

    #[test]
    #[ignore = "prints CoTs as tokens, [essential] ones bracketed; run with --ignored --nocapture"]
    fn print_token_segmentation() {
        let corpus = generate(Split::Train, 2000, DEFAULT_SEED).unwrap();
        let tokenizer = train_bpe(chat_corpus(&corpus), DEFAULT_VOCAB_SIZE).unwrap();
        for p in &corpus[..6] {
            let enc = tokenizer.encode(p.cot.as_str(), false).unwrap();
            let spans = essential_spans(&p.cot);
            let shown: Vec<String> = enc
                .get_tokens()
                .iter()
                .zip(enc.get_offsets())
                .map(|(t, (a, b))| {
                    if spans.iter().any(|s| *a < s.end && s.start < *b) {
                        format!("[{t}]")
                    } else {
                        t.clone()
                    }
                })
                .collect();
            println!(
                "{}
{}
",
                p.cot,
                shown.join(" ")
            );
        }
    }
}
