use std::sync::OnceLock;

use super::*;
use crate::data::synthetic::{generate, Split, DEFAULT_SEED};

fn corpus(n: usize) -> Vec<Problem> {
    generate(Split::Train, n, DEFAULT_SEED).unwrap()
}

/// One tokenizer shared by the tests (training takes a moment).
fn trained() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| train_bpe(chat_corpus(&corpus(1000)), DEFAULT_VOCAB_SIZE).unwrap())
}

#[test]
fn round_trip_is_lossless() {
    let tok = trained();
    let mut texts: Vec<String> = generate(Split::Test, 200, DEFAULT_SEED)
        .unwrap()
        .into_iter()
        .flat_map(|p| [p.question, p.cot])
        .collect();
    texts.extend([
        "So 12 + 7 = 19.\n\nThe final answer is: $\\boxed{12}$".to_string(),
        "  leading spaces, tabs\tand\r\nCRLF; unicode: héllo ☃ 数字 ½ ①".to_string(),
        format!("{IM_START}user\nq{IM_END}0.5{IM_END}\n"),
    ]);
    for text in texts {
        let ids = tok.encode(text.as_str(), false).unwrap().get_ids().to_vec();
        assert_eq!(tok.decode(&ids, false).unwrap(), text);
    }
}

#[test]
fn every_digit_is_its_own_token() {
    let tok = trained();
    for (token, _) in tok.get_vocab(true) {
        if token.chars().any(|c| c.is_ascii_digit()) {
            assert_eq!(token.chars().count(), 1, "token {token:?} merges a digit");
        }
    }
    let enc = tok.encode("1234567890 and 47 + 5 = 52", false).unwrap();
    let digits: Vec<&str> = enc
        .get_tokens()
        .iter()
        .map(String::as_str)
        .filter(|t| t.chars().any(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(digits.concat(), "123456789047552");
    assert!(digits.iter().all(|t| t.len() == 1));
}

#[test]
fn special_tokens_have_fixed_ids_and_stay_whole() {
    let tok = trained();
    for (id, token) in SPECIAL_TOKENS.iter().enumerate() {
        assert_eq!(tok.token_to_id(token), Some(id as u32));
    }
    let enc = tok
        .encode(format!("Hi{IM_END}0.5{IM_END}{ENDOFTEXT}").as_str(), false)
        .unwrap();
    let ids = enc.get_ids();
    assert_eq!(ids.iter().filter(|&&i| i == 2).count(), 2);
    assert_eq!(ids.last(), Some(&0));
    assert_eq!(tok.get_vocab_size(true), DEFAULT_VOCAB_SIZE);
}

#[test]
fn training_is_deterministic() {
    let problems = corpus(300);
    let a = train_bpe(chat_corpus(&problems), 600).unwrap();
    let b = train_bpe(chat_corpus(&problems), 600).unwrap();
    assert_eq!(a.to_string(true).unwrap(), b.to_string(true).unwrap());
}

#[test]
fn saved_files_reload() {
    let dir = tempfile::tempdir().unwrap();
    let tok = trained();
    save_tokenizer(tok, dir.path()).unwrap();
    let loaded = Tokenizer::from_file(dir.path().join("tokenizer.json")).unwrap();
    let text = "Mia has 12 stickers.\nFirst, 12 + 7 = 19.";
    assert_eq!(
        loaded.encode(text, false).unwrap().get_ids(),
        tok.encode(text, false).unwrap().get_ids()
    );
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("tokenizer_config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config["eos_token"], IM_END);
    assert_eq!(config["pad_token"], ENDOFTEXT);
    assert_eq!(config["added_tokens_decoder"]["2"]["content"], IM_END);
    assert!(config["chat_template"]
        .as_str()
        .unwrap()
        .contains("<|im_start|>"));
}

#[test]
fn tiny_vocab_is_refused() {
    let err = train_bpe(std::iter::empty(), 200).unwrap_err();
    assert!(matches!(err, BpeError::VocabTooSmall(200)), "{err}");
}

/// The committed demo tokenizer must serve the current synthetic world: lossless on its
/// CoTs, digits alone, specials at 0-2. (Byte equality with a fresh training run is not
/// required: the model trained with it must keep working when phrasing evolves.)
#[test]
fn committed_demo_tokenizer_fits_the_world() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    let tok = Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
    for (id, token) in SPECIAL_TOKENS.iter().enumerate() {
        assert_eq!(tok.token_to_id(token), Some(id as u32));
    }
    for (token, _) in tok.get_vocab(true) {
        assert!(token.chars().count() == 1 || !token.chars().any(|c| c.is_ascii_digit()));
    }
    for p in generate(Split::Test, 100, DEFAULT_SEED).unwrap() {
        let ids = tok
            .encode(p.cot.as_str(), false)
            .unwrap()
            .get_ids()
            .to_vec();
        assert_eq!(tok.decode(&ids, false).unwrap(), p.cot);
    }
}

/// Rebuilds `assets/demo/tokenizer.json` and `tokenizer_config.json`.
#[test]
#[ignore = "writes assets/demo/; run with --ignored when the synthetic world changes"]
fn write_demo_tokenizer() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    save_tokenizer(&train_demo_tokenizer().unwrap(), &dir).unwrap();
}
