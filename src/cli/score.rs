//! `tokenskip-studio score`: per-token importance of a CoT, as heat-coloured text or JSON.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use tokenskip_studio::importance::{
    build_scorer_with_policy, target_tokens, CachedLoader, Importance, ModelLoader, Scorer,
    TokenSpan,
};
use tokenskip_studio::model::LoadedModel;

use super::heat::{self, ColorChoice};
use super::input::{read_records, InputArgs, Record};

#[derive(Debug, Args)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print JSON (one object per text: tokens with text, byte offsets, score and forced
    /// reason; words with scores; the scorer) instead of coloured text.
    #[arg(long)]
    pub json: bool,
    /// Colour the text: auto (a terminal without NO_COLOR), always or never. Without
    /// colour, the tokens compression at ratio 0.5 would drop are shown in [brackets].
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

/// The target model (for its tokenizer) and the scorer, loaded once for all records.
pub struct Session {
    pub target: Arc<LoadedModel>,
    pub scorer: Box<dyn Scorer>,
}

impl Session {
    pub fn open(args: &InputArgs) -> anyhow::Result<Self> {
        let loader = CachedLoader::new(args.model.model.clone(), args.model.options()?);
        let target = loader
            .load_causal(&args.model.model)
            .with_context(|| format!("cannot load the target model {:?}", args.model.model))?;
        let scorer = build_scorer_with_policy(&args.scorer, &loader, args.force.policy())?;
        Ok(Self { target, scorer })
    }

    /// The record's target tokens and their importance; errors name the record.
    pub fn score(&self, rec: &Record) -> anyhow::Result<(Vec<TokenSpan>, Importance)> {
        let at = rec.at();
        let tokens = target_tokens(&self.target.tokenizer, &rec.text)
            .with_context(|| format!("{at}cannot tokenize the text"))?;
        let started = std::time::Instant::now();
        let imp = match &rec.question {
            Some(q) => self.scorer.score_in_context(q, &rec.text, &tokens),
            None => self.scorer.score(&rec.text, &tokens),
        }
        .with_context(|| format!("{at}scoring failed"))?;
        tracing::info!(scorer = %imp.scorer, tokens = tokens.len(), secs = started.elapsed().as_secs_f64(), "scored");
        Ok((tokens, imp))
    }
}

/// The `--json` object for one scored text.
pub fn score_json(rec: &Record, tokens: &[TokenSpan], imp: &Importance) -> serde_json::Value {
    let toks: Vec<_> = tokens
        .iter()
        .zip(&imp.scores)
        .zip(&imp.forced)
        .map(|((t, s), f)| {
            json!({"id": t.id, "text": t.text(&rec.text), "start": t.start, "end": t.end,
                   "score": s, "forced": f})
        })
        .collect();
    let words: Vec<_> = imp
        .words
        .iter()
        .zip(&imp.word_scores)
        .map(|(w, s)| {
            json!({"text": &rec.text[w.start..w.end], "start": w.start, "end": w.end,
                   "tokens": [w.tokens.start, w.tokens.end], "score": s})
        })
        .collect();
    let mut v = json!({"scorer": imp.scorer, "tokens": toks, "words": words});
    if let Some(o) = &rec.origin {
        v["line"] = json!(o);
    }
    v
}

pub fn run(a: ScoreArgs) -> anyhow::Result<()> {
    let records = read_records(&a.input)?;
    let session = Session::open(&a.input)?;
    let palette = heat::palette(a.color);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for rec in &records {
        let (tokens, imp) = session.score(rec)?;
        if a.json {
            writeln!(out, "{}", score_json(rec, &tokens, &imp))?;
        } else {
            if let Some(o) = &rec.origin {
                writeln!(out, "── {o}")?;
            }
            writeln!(out, "{}", heat::render(&rec.text, &tokens, &imp, palette))?;
        }
    }
    if !a.json && palette == heat::Palette::Plain {
        eprintln!(
            "[{}: bracketed tokens are the ones compression at ratio 0.5 would drop]",
            session.scorer.name()
        );
    }
    Ok(())
}
