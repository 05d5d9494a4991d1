//! `tokenskip-studio prune`: from a dataset (or generated CoTs) to TokenSkip training data.

use super::generate::check_ratio;
use super::ModelArgs;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use tokenskip_studio::compress::{CompressOptions, Granularity};
use tokenskip_studio::data::datasets;
use tokenskip_studio::jobs::progress::{ProgressMode, Reporter};
use tokenskip_studio::model::PromptFormat;
use tokenskip_studio::pipeline::answer::GraderStrategy;
use tokenskip_studio::pipeline::collect::{collect, read_cots};
use tokenskip_studio::pipeline::prune::outputs::{write_all, ScoringFacts};
use tokenskip_studio::pipeline::prune::run::{filter, run as run_prune, PruneConfig, Source};

/// Where the CoTs to prune come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CotSource {
    /// The target model's own greedy CoTs (TokenSkip's choice), generated into OUT/cots.jsonl.
    Model,
    /// The dataset's own solutions (GSM8K `answer` without `<<...>>` notes, MATH `solution`).
    Dataset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GranularityArg {
    Token,
    Word,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// gsm8k:PATH, math:PATH, jsonl:PATH, synthetic[:N].
    #[arg(long, value_name = "D", required_unless_present = "cots")]
    pub dataset: Option<String>,
    /// CoTs written by `generate --dataset` (JSONL), instead of --dataset.
    #[arg(long, value_name = "FILE", conflicts_with = "dataset")]
    pub cots: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = CotSource::Model)]
    pub cot_source: CotSource,
    #[command(flatten)]
    pub fields: super::FieldArgs,
    /// Importance scorer: rules, surprisal[:MODEL], attention[:MODEL], counterfactual[:MODEL], llmlingua2[:MODEL].
    #[arg(long, default_value = "rules")]
    pub scorer: String,
    #[command(flatten)]
    pub force: super::input::ForceArgs,
    /// Ratios gamma to compress every CoT to (scored once, thresholded per gamma).
    #[arg(long, value_delimiter = ',', default_value = "0.9,0.8,0.7,0.6,0.5")]
    pub ratios: Vec<f64>,
    /// Output directory: pruned.jsonl, train_llamafactory.json, dataset_info.json, stats.json
    /// (and cots.jsonl with --cot-source model).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Drop CoTs longer than this many target tokens.
    #[arg(long, default_value_t = 500)]
    pub max_tokens: usize,
    /// Drop tokens one by one, or whole words (LLMLingua-2 scores words, as TokenSkip does).
    #[arg(long, value_enum, default_value_t = GranularityArg::Token)]
    pub granularity: GranularityArg,
    /// Demote a forced token that repeats the one before it (LLMLingua-2's option).
    #[arg(long)]
    pub drop_consecutive_forced: bool,
    /// Keep the space in front of a word left at the start of a line (or of the text): the
    /// compressed text then re-tokenizes into exactly the kept tokens (BPE vocabularies
    /// have ` word`, often not `word`), which training data wants; without it the text is
    /// tidier to read.
    #[arg(long)]
    pub keep_word_spaces: bool,
    /// Seed for the per-question gamma of the training data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Separator around gamma (default: the model's EOS string).
    #[arg(long)]
    pub separator: Option<String>,
    /// Only the first N questions (or CoTs of --cots).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Max new tokens when generating CoTs (default per dataset: GSM8K 512, MATH 1024).
    #[arg(long)]
    pub max_new_tokens: Option<usize>,
    /// Prompts decoded together when generating CoTs (--cot-source model).
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// How generated CoTs are graded (only correct ones are kept, as TokenSkip does).
    #[arg(long, default_value = "tokenskip-v1")]
    pub grader: String,
    /// Continue a killed run in --out (finished CoTs are not redone; files end identical).
    #[arg(long)]
    pub resume: bool,
    /// Start over in an --out that holds an earlier run.
    #[arg(long)]
    pub overwrite: bool,
    /// `json`: the JSON-lines progress protocol on stdout (for the TUI and scripts).
    #[arg(long, value_enum, default_value_t = ProgressMode::Human)]
    pub progress: ProgressMode,
    /// Call the scorer once per ratio, as the reference code does (benchmarks only).
    #[arg(long, hide = true)]
    pub rescore_per_ratio: bool,
}

fn prepare_out(out: &Path, resume: bool, overwrite: bool) -> anyhow::Result<()> {
    let has_run = out.join("pruned.jsonl").exists() || out.join("cots.jsonl").exists();
    if has_run && !resume {
        if !overwrite {
            bail!("{} already holds a prune run: pass --resume to continue it, or --overwrite to start over", out.display());
        }
        for f in [
            "pruned.jsonl",
            "cots.jsonl",
            "train_llamafactory.json",
            "dataset_info.json",
            "stats.json",
        ] {
            let p = out.join(f);
            if p.exists() {
                std::fs::remove_file(p)?;
            }
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    Ok(())
}

pub fn run(a: PruneArgs) -> anyhow::Result<()> {
    for &g in &a.ratios {
        check_ratio(g)?;
    }
    let grader: GraderStrategy = a.grader.parse()?;
    // Read inputs before touching --out, so bad input leaves nothing behind.
    let dataset = match &a.dataset {
        Some(d) => {
            let (kind, mut ex) = datasets::load(d, &a.fields.fields())?;
            if let Some(n) = a.limit {
                ex.truncate(n);
            }
            Some((kind, ex))
        }
        None => None,
    };
    let cots_in = match &a.cots {
        Some(p) => Some(read_cots(p)?),
        None => None,
    };
    prepare_out(&a.out, a.resume, a.overwrite)?;
    tokenskip_studio::jobs::cancel::install();
    let m = std::sync::Arc::new(a.model.load()?);
    let fmt = PromptFormat {
        separator: a.separator.clone(),
        ..Default::default()
    };
    let sep = a
        .separator
        .clone()
        .or_else(|| m.tokenizer.eos_token.clone())
        .unwrap_or_default();
    let sources: Vec<Source> = match (dataset, cots_in, a.cot_source) {
        (_, Some(cots), _) => cots
            .into_iter()
            .map(|c| Source {
                id: c.id,
                question: c.question,
                answer: c.answer,
                cot: c.cot,
                correct: Some(c.correct),
            })
            .collect(),
        (Some((_, ex)), None, CotSource::Dataset) => ex
            .into_iter()
            .filter_map(|e| {
                Some(Source {
                    cot: e.cot.clone()?,
                    id: e.id,
                    question: e.question,
                    answer: e.answer,
                    correct: None,
                })
            })
            .collect(),
        (Some((kind, ex)), None, CotSource::Model) => {
            let mut rep = Reporter::new(a.progress, "generate");
            let max_new = a.max_new_tokens.unwrap_or(kind.default_max_new_tokens());
            let cots = collect(
                &m.decoder,
                &m.tokenizer,
                &ex,
                &fmt,
                max_new,
                a.batch_size,
                grader,
                &a.out.join("cots.jsonl"),
                &mut rep,
            )?;
            cots.into_iter()
                .map(|c| Source {
                    id: c.id,
                    question: c.question,
                    answer: c.answer,
                    cot: c.cot,
                    correct: Some(c.correct),
                })
                .collect()
        }
        (None, None, _) => bail!("give --dataset or --cots"),
    };
    if tokenskip_studio::jobs::cancel::requested() {
        bail!("interrupted; rerun with --resume to continue");
    }
    // Scorers that need a model default to the target model (`surprisal` = `surprisal:M`),
    // which is already loaded: the loader shares it instead of loading it again.
    let loader = tokenskip_studio::importance::build::CachedLoader::new(
        a.model.model.clone(),
        a.model.options()?,
    )
    .with_loaded(a.model.model.clone(), m.clone());
    let scorer = tokenskip_studio::importance::build::build_scorer_with_policy(
        &a.scorer,
        &loader,
        a.force.policy(),
    )?;
    let (kept, filtered) = filter(&m.tokenizer, &sources, a.max_tokens)?;
    let mut rep = Reporter::new(a.progress, "prune");
    rep.log(
        "info",
        &format!(
            "{} CoTs: {} kept, {} incorrect, {} longer than {} tokens, {} empty",
            filtered.total,
            filtered.kept,
            filtered.incorrect,
            filtered.too_long,
            a.max_tokens,
            filtered.empty
        ),
    );
    let cfg = PruneConfig {
        ratios: a.ratios.clone(),
        max_tokens: a.max_tokens,
        granularity: match a.granularity {
            GranularityArg::Token => Granularity::Token,
            GranularityArg::Word => Granularity::Word,
        },
        options: CompressOptions {
            drop_consecutive_forced: a.drop_consecutive_forced,
            keep_word_spaces: a.keep_word_spaces,
        },
        rescore_per_ratio: a.rescore_per_ratio,
    };
    let started = std::time::Instant::now();
    let (records, processed, passes) =
        run_prune(&m.tokenizer, scorer.as_ref(), &kept, &cfg, &a.out, &mut rep)?;
    let secs = started.elapsed().as_secs_f64();
    if tokenskip_studio::jobs::cancel::requested() {
        bail!(
            "interrupted: {} records saved in {}; rerun with --resume to continue",
            records.len(),
            a.out.display()
        );
    }
    let per_cot = passes as f64 / processed.max(1) as f64;
    let outputs = write_all(
        &a.out,
        &records,
        &a.ratios,
        &sep,
        a.seed,
        &filtered,
        &ScoringFacts {
            scorer: &scorer.name(),
            force_tokens: &a.force.policy().tokens,
            passes_per_cot: per_cot,
        },
    )?;
    rep.log(
        "info",
        &format!(
            "{} records; {processed} CoTs pruned now with {passes} scorer passes in {secs:.1}s",
            records.len()
        ),
    );
    rep.done(outputs);
    if a.progress != ProgressMode::Json {
        println!(
            "{}",
            serde_json::json!({"cots": processed, "records": records.len(), "scorer_passes": passes,
                "scorer_passes_per_cot": per_cot, "seconds": secs, "cots_per_s": processed as f64 / secs.max(1e-9)})
        );
    }
    Ok(())
}
