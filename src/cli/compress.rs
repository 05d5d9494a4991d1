//! `tokenskip-studio compress`: prune a CoT to ratio gamma with a scorer.
//!
//! With `--text` it prints the compressed text on stdout and the counts on stderr (so the
//! text can be piped), or one JSON object with `--json`. With `--input F.jsonl` it writes
//! JSONL: one output line per input record, the record's fields plus
//! `compressed_cot`, `gamma_target`, `gamma_actual`, `tokens_full`, `tokens_kept`,
//! `tokens_forced`, `scorer` (the names of the pruned-data format in DESIGN.md).

use std::io::Write;

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use tokenskip_studio::compress::{CompressOptions, Compressed, Compressor, Granularity};

use super::generate::check_ratio;
use super::input::{read_records, InputArgs};
use super::score::Session;

/// `--granularity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GranularityArg {
    /// Keep exactly round(gamma * n) target tokens.
    Token,
    /// Keep whole words (an equation is one word), as close to round(gamma * n) as words allow.
    Word,
}

#[derive(Debug, Args)]
pub struct CompressArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Target ratio gamma in (0, 1]: the fraction of the CoT's target tokens to keep.
    #[arg(long, short = 'r', value_name = "G")]
    pub ratio: f64,
    #[arg(long, value_enum, default_value = "token")]
    pub granularity: GranularityArg,
    /// LLMLingua-2's drop_consecutive: a forced token repeating the one before it is not forced.
    #[arg(long)]
    pub drop_consecutive: bool,
    /// Keep the space in front of a word left at the start of a line (or of the text): the
    /// compressed text then re-tokenizes into exactly the kept tokens (BPE vocabularies
    /// have ` word`, often not `word`), which training data wants; without it the text is
    /// tidier to read.
    #[arg(long)]
    pub keep_word_spaces: bool,
    /// Print one JSON object instead of the text (JSONL input always gives JSONL).
    #[arg(long)]
    pub json: bool,
}

fn fields(c: &Compressed, scorer: &str, gamma: f64, granularity: GranularityArg) -> Value {
    json!({
        "compressed_cot": c.text,
        "gamma_target": gamma,
        "gamma_actual": c.kept.ratio(),
        "tokens_full": c.kept.total,
        "tokens_kept": c.kept.kept,
        "tokens_forced": c.kept.forced,
        "granularity": format!("{granularity:?}").to_lowercase(),
        "scorer": scorer,
    })
}

pub fn run(a: CompressArgs) -> anyhow::Result<()> {
    let gamma = check_ratio(a.ratio)?;
    let records = read_records(&a.input)?;
    let session = Session::open(&a.input)?;
    let granularity = match a.granularity {
        GranularityArg::Token => Granularity::Token,
        GranularityArg::Word => Granularity::Word,
    };
    let opts = CompressOptions {
        drop_consecutive_forced: a.drop_consecutive,
        keep_word_spaces: a.keep_word_spaces,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for rec in &records {
        let (tokens, imp) = session.score(rec)?;
        let at = rec.at();
        let c = Compressor::new(&rec.text, &imp, &tokens, granularity, opts)
            .and_then(|c| c.compress(gamma))
            .with_context(|| format!("{at}compression failed"))?;
        let f = fields(&c, &imp.scorer, gamma, a.granularity);
        match &rec.object {
            Some(obj) => {
                let mut o = obj.clone();
                if let Value::Object(add) = f {
                    o.extend(add);
                }
                writeln!(out, "{}", Value::Object(o))?;
            }
            None if a.json => writeln!(out, "{f}")?,
            None => {
                writeln!(out, "{}", c.text)?;
                let k = &c.kept;
                eprintln!(
                    "[kept {}/{} tokens: target ratio {gamma}, actual {:.4}; {} forced; scorer {}]",
                    k.kept,
                    k.total,
                    k.ratio(),
                    k.forced,
                    imp.scorer
                );
            }
        }
    }
    Ok(())
}
