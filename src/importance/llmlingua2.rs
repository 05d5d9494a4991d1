//! The `llmlingua2` scorer: LLMLingua-2's token classifier, TokenSkip's main scorer.
//!
//! The procedure of LLMLingua-2's `compress_prompt_llmlingua2` (llmlingua 0.2), step by
//! step, and where this one differs:
//!
//! 1. The text is tokenized once by the classifier's tokenizer (XLM-R's sentencepiece;
//!    no special tokens) and cut into chunks of at most `max_len - 2` = 510 subwords,
//!    each cut after the last `.` or line-break token that fits (else at 510). The
//!    reference re-tokenizes each chunk's text and can make chunks of 511 subwords
//!    that its dataset then truncates; here chunks never exceed 512 with `<s>`/`</s>`
//!    and keep the original tokenization, so every subword gets a probability.
//! 2. Each chunk is `<s> chunk </s>`, right-padded into batches with an attention mask;
//!    a subword's keep probability is `softmax(logits)[1]`.
//! 3. Subwords merge into words: a subword starting with `▁`, or whose text without
//!    `▁` is a force token, starts a new word; others join the previous word.
//! 4. Forcing, as the reference does it: the first subword of a word that is a force
//!    token gets probability 1; with `force_digits`, every subword holding a digit gets
//!    probability 1. A word's score is the mean of its subwords' probabilities.
//! 5. Word scores are moved onto the TARGET tokens by byte offsets
//!    (`projection::project_scores`), where the shared `ForcePolicy` forces digits
//!    (and line breaks) again on the target side.
//!
//! The model is `microsoft/llmlingua-2-xlm-roberta-large-meetingbank` by default (from
//! the Hugging Face cache or hub), or any directory in HF layout.

use std::ops::Range;
use std::path::{Path, PathBuf};

use candle_core::{DType, Tensor};

use super::projection::{project_scores, ScoredSpan};
use super::scorer::{check_input, ForcePolicy, Importance, ScoreError, Scorer};
use super::span::TokenSpan;
use super::xlmr::TokenClassifier;
use crate::model::source::hub_get;
use crate::model::{LoadOptions, ModelSpec};

/// The classifier TokenSkip uses.
pub const DEFAULT_MODEL: &str = "microsoft/llmlingua-2-xlm-roberta-large-meetingbank";
/// Chunks per forward pass (LLMLingua-2's `max_batch_size`).
pub const MAX_BATCH: usize = 50;

/// One classifier subword with its byte range in the text and raw keep probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Subword {
    pub token: String,
    pub start: usize,
    pub end: usize,
    pub prob: f32,
}

/// One LLMLingua-2 word: its subwords, byte range and score (step 4 of the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifiedWord {
    pub subwords: Range<usize>,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

/// LLMLingua-2's keep probabilities, projected onto the target tokens.
pub struct Llmlingua2Scorer {
    classifier: TokenClassifier,
    tokenizer: tokenizers::Tokenizer,
    model: String,
    force_tokens: Vec<String>,
    force_digits: bool,
    policy: ForcePolicy,
    special: [u32; 3],
}

impl Llmlingua2Scorer {
    /// Loads `model`: a directory in HF layout or a hub id (see the module doc).
    pub fn load(model: &str, opts: &LoadOptions) -> Result<Self, ScoreError> {
        let dir = resolve(model)?;
        Self::from_dir(&dir, model, opts)
    }

    /// Loads the classifier and `tokenizer.json` from `dir`; `name` is for messages.
    pub fn from_dir(dir: &Path, name: &str, opts: &LoadOptions) -> Result<Self, ScoreError> {
        let fail = |message: String| ScoreError::Backend {
            scorer: format!("llmlingua2:{name}"),
            message,
        };
        // The classifier is small next to the target models; f16 LayerNorms lose too much.
        let dtype = if opts.dtype == DType::F16 {
            DType::F32
        } else {
            opts.dtype
        };
        let classifier = TokenClassifier::load(dir, &opts.device, dtype)
            .map_err(|e| fail(format!("cannot load the classifier: {e}")))?;
        if classifier.num_labels != 2 {
            return Err(fail(format!(
                "the classifier has {} labels; LLMLingua-2's has 2 (drop, keep)",
                classifier.num_labels
            )));
        }
        let tok_path = dir.join("tokenizer.json");
        let tokenizer = tokenizers::Tokenizer::from_file(&tok_path)
            .map_err(|e| fail(format!("{}: {e}", tok_path.display())))?;
        let id = |t: &str, d: u32| tokenizer.token_to_id(t).unwrap_or(d);
        let special = [id("<s>", 0), id("</s>", 2), id("<pad>", 1)];
        Ok(Self {
            classifier,
            tokenizer,
            model: name.to_string(),
            force_tokens: Vec::new(),
            force_digits: true,
            policy: ForcePolicy::default(),
            special,
        })
    }

    /// LLMLingua-2's `force_tokens` (TokenSkip passes `Step` and `:` for LLaMA).
    pub fn with_force_tokens(mut self, tokens: Vec<String>) -> Self {
        self.force_tokens = tokens;
        self
    }

    /// LLMLingua-2's `force_reserve_digit` (on by default, as TokenSkip runs it).
    pub fn with_force_digits(mut self, on: bool) -> Self {
        self.force_digits = on;
        self
    }

    pub fn with_policy(mut self, policy: ForcePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Steps 1-2: every subword of `text` with its raw keep probability.
    pub fn subword_probs(&self, text: &str) -> Result<Vec<Subword>, ScoreError> {
        let name = self.name();
        let enc = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| ScoreError::Tokenizer {
                scorer: name.clone(),
                message: e.to_string(),
            })?;
        let tokens = enc.get_tokens();
        let ids = enc.get_ids();
        let max = self.classifier.max_len.saturating_sub(2).max(1);
        let chunks = chunk(tokens, max);
        if chunks.len() > 1 {
            tracing::info!(scorer = %name, subwords = ids.len(), chunks = chunks.len(), "text longer than the classifier's 512 subwords: scoring it in chunks");
        }
        let mut probs = Vec::with_capacity(ids.len());
        for batch in chunks.chunks(MAX_BATCH) {
            probs.extend(
                self.run_batch(ids, batch)
                    .map_err(|message| ScoreError::Backend {
                        scorer: name.clone(),
                        message,
                    })?,
            );
        }
        Ok(tokens
            .iter()
            .zip(enc.get_offsets())
            .zip(probs)
            .map(|((t, &(start, end)), prob)| Subword {
                token: t.clone(),
                start,
                end,
                prob,
            })
            .collect())
    }

    /// Keep probabilities of the subwords of `chunks`, in order.
    fn run_batch(&self, ids: &[u32], chunks: &[Range<usize>]) -> Result<Vec<f32>, String> {
        let [cls, sep, pad] = self.special;
        let t = chunks.iter().map(|c| c.len() + 2).max().unwrap_or(2);
        let (mut input, mut mask) = (Vec::new(), Vec::new());
        for c in chunks {
            let row: Vec<u32> = std::iter::once(cls)
                .chain(ids[c.clone()].iter().copied())
                .chain(std::iter::once(sep))
                .collect();
            mask.extend((0..t).map(|i| u8::from(i < row.len())));
            input.extend(
                row.iter()
                    .copied()
                    .chain(std::iter::repeat_n(pad, t - row.len())),
            );
        }
        let dev = self.classifier.device();
        let run = || -> Result<Vec<Vec<f32>>, String> {
            let input =
                Tensor::from_vec(input, (chunks.len(), t), dev).map_err(|e| e.to_string())?;
            let mask = Tensor::from_vec(mask, (chunks.len(), t), dev).map_err(|e| e.to_string())?;
            let p = self
                .classifier
                .probs(&input, &mask)
                .map_err(|e| e.to_string())?;
            p.narrow(2, 1, 1)
                .and_then(|p| p.squeeze(2))
                .and_then(|p| p.to_vec2::<f32>())
                .map_err(|e| e.to_string())
        };
        let rows = run()?;
        Ok(chunks
            .iter()
            .zip(rows)
            .flat_map(|(c, row)| row[1..=c.len()].to_vec())
            .collect())
    }

    /// Steps 3-4: subwords merged into words with forced probabilities and mean scores.
    pub fn words(&self, subwords: &[Subword]) -> Vec<ClassifiedWord> {
        let mut words: Vec<ClassifiedWord> = Vec::new();
        let mut sums: Vec<(f64, usize)> = Vec::new();
        for (i, s) in subwords.iter().enumerate() {
            let pure = s.token.trim_start_matches('▁');
            let forced = self.force_tokens.iter().any(|f| f == pure);
            let new_word = words.is_empty() || forced || s.token.starts_with('▁');
            let mut p = if new_word && forced { 1.0 } else { s.prob };
            if self.force_digits && s.token.chars().any(|c| c.is_ascii_digit()) {
                p = 1.0;
            }
            let (start, end) = (s.start, s.end.max(s.start));
            match (new_word, words.last_mut(), sums.last_mut()) {
                (false, Some(w), Some(sum)) => {
                    w.subwords.end = i + 1;
                    if end > start {
                        w.start = if w.end > w.start {
                            w.start.min(start)
                        } else {
                            start
                        };
                        w.end = w.end.max(end);
                    }
                    sum.0 += f64::from(p);
                    sum.1 += 1;
                }
                _ => {
                    words.push(ClassifiedWord {
                        subwords: i..i + 1,
                        start,
                        end,
                        score: 0.0,
                    });
                    sums.push((f64::from(p), 1));
                }
            }
        }
        // Scores, and byte ranges made sorted and disjoint for the projection.
        let mut prev_end = 0usize;
        for (w, (sum, n)) in words.iter_mut().zip(sums) {
            w.score = (sum / n as f64) as f32;
            w.start = w.start.max(prev_end);
            w.end = w.end.max(w.start);
            prev_end = w.end;
        }
        words
    }
}

/// Splits `tokens` into chunks of at most `max`, each ending after the last `.` or
/// line-break token that fits (step 1 of the module doc).
pub fn chunk(tokens: &[String], max: usize) -> Vec<Range<usize>> {
    let is_end = |t: &str| t.trim_start_matches('▁') == "." || t.contains('\n');
    let mut out = Vec::new();
    let mut st = 0;
    while st < tokens.len() {
        let hard = (st + max).min(tokens.len());
        if hard == tokens.len() {
            out.push(st..hard);
            break;
        }
        let ed = (st + 1..hard)
            .rev()
            .find(|&i| is_end(&tokens[i]))
            .map_or(hard, |i| i + 1);
        out.push(st..ed);
        st = ed;
    }
    out
}

/// The directory of `model`: a local directory, or a hub snapshot with the files needed.
fn resolve(model: &str) -> Result<PathBuf, ScoreError> {
    let hub_id = match model.parse::<ModelSpec>() {
        Ok(ModelSpec::Hub(id)) => Some(id),
        _ => None,
    };
    let hint = hub_id.as_deref().unwrap_or(DEFAULT_MODEL).to_string();
    let missing = |detail: String| {
        // Hub errors already say how to fetch the model; others get the hint here.
        let hint = if detail.contains("huggingface-cli download") {
            String::from(" (or pass llmlingua2:DIR for a local copy in HF layout)")
        } else {
            format!(
                ". Get it with `huggingface-cli download {hint}` (or pass llmlingua2:DIR for a \
                 local copy in HF layout: config.json, model.safetensors, tokenizer.json)"
            )
        };
        ScoreError::ModelMissing {
            scorer: "llmlingua2".into(),
            model: model.to_string(),
            detail: format!("{detail}{hint}"),
        }
    };
    let p = Path::new(model);
    if p.is_dir() {
        if !p.join("config.json").exists() {
            return Err(missing(format!("{} has no config.json", p.display())));
        }
        return Ok(p.to_path_buf());
    }
    let Some(id) = hub_id else {
        return Err(missing(format!("{model} is not a directory or a hub id")));
    };
    let get =
        |f: &str, optional: bool| hub_get(&id, f, optional).map_err(|e| missing(e.to_string()));
    let config = get("config.json", false)?.ok_or_else(|| missing("no config.json".into()))?;
    get("tokenizer.json", false)?;
    if get("model.safetensors", true)?.is_none() {
        get("pytorch_model.bin", false)?;
    }
    config
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| missing("the hub cache has no snapshot directory".into()))
}

impl Scorer for Llmlingua2Scorer {
    fn name(&self) -> String {
        format!("llmlingua2:{}", self.model)
    }

    fn score(&self, text: &str, tokens: &[TokenSpan]) -> Result<Importance, ScoreError> {
        check_input(text, tokens)?;
        let subwords = self.subword_probs(text)?;
        let spans: Vec<ScoredSpan> = self
            .words(&subwords)
            .iter()
            .filter(|w| w.end > w.start)
            .map(|w| ScoredSpan {
                start: w.start,
                end: w.end,
                score: w.score,
            })
            .collect();
        let scores = project_scores(&spans, tokens);
        Importance::new(self.name(), text, tokens, scores, &self.policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &[&str]) -> Vec<String> {
        s.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn chunks_end_after_the_last_period_that_fits() {
        let t = toks(&["▁a", "▁b", ".", "▁c", "▁d", "▁e", ".", "▁f"]);
        assert_eq!(chunk(&t, 5), vec![0..3, 3..8]);
        assert_eq!(chunk(&t, 4), vec![0..3, 3..7, 7..8]);
        assert_eq!(chunk(&t, 100), vec![0..8]);
        let no_end = toks(&["▁a", "▁b", "▁c"]);
        assert_eq!(chunk(&no_end, 2), vec![0..2, 2..3]);
    }
}
