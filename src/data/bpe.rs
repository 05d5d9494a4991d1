//! Training the demo model's byte-level BPE tokenizer with the `tokenizers` trainer.
//!
//! Layout follows Qwen2 so the demo model loads through the same code as real models:
//! byte-level pre-tokenizer and decoder (lossless for any text, newlines included, no
//! unknown token), ChatML special tokens, and a Qwen-style chat template. Digits are
//! split one per token before byte-level splitting: a tiny model learns arithmetic far
//! more easily when `47` is always `4`,`7` than when numbers are arbitrary merges.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{
    AddedToken, DecoderWrapper, NormalizerWrapper, PostProcessorWrapper, PreTokenizerWrapper,
    Tokenizer, TokenizerImpl,
};

use super::synthetic::{generate, Problem, Split, DEFAULT_SEED, DEFAULT_TRAIN_SIZE};

/// End of text; also the padding token.
pub const ENDOFTEXT: &str = "<|endoftext|>";
/// Starts a chat turn.
pub const IM_START: &str = "<|im_start|>";
/// Ends a chat turn; the EOS/EOT token, and TokenSkip's separator in
/// `question<eos>gamma<eos>`.
pub const IM_END: &str = "<|im_end|>";
/// The special tokens in id order: they always get ids 0, 1 and 2.
pub const SPECIAL_TOKENS: [&str; 3] = [ENDOFTEXT, IM_START, IM_END];
/// Default vocabulary: 3 specials + 256 bytes + ~765 merges, enough for every word of
/// the synthetic world to be one or two tokens while keeping the embedding small.
pub const DEFAULT_VOCAB_SIZE: usize = 1024;

/// Qwen2.5's template without the default system prompt (it would cost ~20 tokens per
/// example for a model that never needs it).
pub const CHAT_TEMPLATE: &str = "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

#[derive(Debug, thiserror::Error)]
pub enum BpeError {
    #[error(
        "vocab size {0} is too small: it must exceed the 256 byte tokens plus 3 special tokens"
    )]
    VocabTooSmall(usize),
    #[error("training the BPE tokenizer failed: {0}")]
    Train(String),
    #[error("serialising the tokenizer failed: {0}")]
    Serialize(String),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

type RawTokenizer = TokenizerImpl<
    BPE,
    NormalizerWrapper,
    PreTokenizerWrapper,
    PostProcessorWrapper,
    DecoderWrapper,
>;

/// Trains a byte-level BPE tokenizer on `texts`; same texts give the same tokenizer.
pub fn train_bpe<I>(texts: I, vocab_size: usize) -> Result<Tokenizer, BpeError>
where
    I: Iterator<Item = String> + Send,
{
    if vocab_size <= 256 + SPECIAL_TOKENS.len() {
        return Err(BpeError::VocabTooSmall(vocab_size));
    }
    let mut tokenizer: RawTokenizer = TokenizerImpl::new(BPE::default());
    let pre_tokenizer = Sequence::new(vec![
        PreTokenizerWrapper::Digits(Digits::new(true)),
        PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true)),
    ]);
    tokenizer
        .with_pre_tokenizer(Some(pre_tokenizer))
        .with_post_processor(Some(ByteLevel::new(false, false, true)))
        .with_decoder(Some(ByteLevel::new(false, true, true)));
    let mut trainer = BpeTrainerBuilder::new()
        .vocab_size(vocab_size)
        .min_frequency(0)
        .show_progress(false)
        .special_tokens(
            SPECIAL_TOKENS
                .iter()
                .map(|t| AddedToken::from(*t, true))
                .collect(),
        )
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build();
    tokenizer
        .train(&mut trainer, texts)
        .map_err(|e| BpeError::Train(e.to_string()))?;
    Ok(Tokenizer::from(tokenizer))
}

/// The training corpus for the demo tokenizer: each problem rendered as the chat the
/// model sees (ChatML turns around question and CoT), so role words get merges too.
pub fn chat_corpus(problems: &[Problem]) -> impl Iterator<Item = String> + Send + '_ {
    problems.iter().map(|p| {
        format!(
            "{IM_START}user\n{}{IM_END}\n{IM_START}assistant\n{}{IM_END}\n",
            p.question, p.cot
        )
    })
}

/// The demo model's tokenizer: trained on the default train split (`synthetic`, 20,000
/// problems, `DEFAULT_SEED`) with `DEFAULT_VOCAB_SIZE`. Deterministic, so
/// `assets/demo/tokenizer.json` can be rebuilt and checked byte for byte.
pub fn train_demo_tokenizer() -> Result<Tokenizer, BpeError> {
    let problems = generate(Split::Train, DEFAULT_TRAIN_SIZE, DEFAULT_SEED)
        .map_err(|e| BpeError::Train(e.to_string()))?;
    train_bpe(chat_corpus(&problems), DEFAULT_VOCAB_SIZE)
}

/// The `tokenizer_config.json` that goes next to `tokenizer.json` (HF layout).
pub fn tokenizer_config() -> serde_json::Value {
    let added: serde_json::Map<String, serde_json::Value> = SPECIAL_TOKENS
        .iter()
        .enumerate()
        .map(|(id, content)| {
            (
                id.to_string(),
                json!({
                    "content": content,
                    "lstrip": false,
                    "normalized": false,
                    "rstrip": false,
                    "single_word": false,
                    "special": true
                }),
            )
        })
        .collect();
    json!({
        "add_bos_token": false,
        "add_prefix_space": false,
        "added_tokens_decoder": added,
        "bos_token": null,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": false,
        "eos_token": IM_END,
        "errors": "replace",
        "pad_token": ENDOFTEXT,
        "split_special_tokens": false,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": null
    })
}

/// Writes `tokenizer.json` (pretty) and `tokenizer_config.json` into `dir`.
pub fn save_tokenizer(tokenizer: &Tokenizer, dir: &Path) -> Result<(), BpeError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BpeError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let json = tokenizer
        .to_string(true)
        .map_err(|e| BpeError::Serialize(e.to_string()))?;
    let path = dir.join("tokenizer.json");
    fs::write(&path, json + "\n").map_err(io(&path))?;
    let config = serde_json::to_string_pretty(&tokenizer_config())
        .map_err(|e| BpeError::Serialize(e.to_string()))?;
    let path = dir.join("tokenizer_config.json");
    fs::write(&path, config + "\n").map_err(io(&path))?;
    Ok(())
}

#[cfg(test)]
mod tests;
