//! `tokenskip-studio [tui]`: the terminal workbench. Checks the arguments (a bad one
//! fails before the alternate screen opens), then hands over to `tui::runtime`.

use super::ModelArgs;
use anyhow::Context;
use clap::{Args, FromArgMatches};
use tokenskip_studio::importance::parse_scorer_spec;
use tokenskip_studio::model::{has_demo_adapter, DEMO_ADAPTER};
use tokenskip_studio::tui::color::ColorDepth;
use tokenskip_studio::tui::fps;
use tokenskip_studio::tui::runtime::{self, Options};

#[derive(Debug, Args)]
pub struct TuiArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Do not load a model: reference CoTs and the rules scorer only.
    #[arg(long)]
    pub no_model: bool,
    /// Importance scorer: rules, or NAME:MODEL for a model-based one (e.g. surprisal:demo).
    #[arg(long, short, default_value = "rules", value_name = "S")]
    pub scorer: String,
    /// Question list: synthetic[:N], synthetic-test[:N] or jsonl:PATH (default: built-in
    /// demo-world and GSM8K-style examples).
    #[arg(long, value_name = "D")]
    pub dataset: Option<String>,
    /// Colour theme: dark, light, high-contrast, viridis, cividis, or a file
    /// themes/NAME.toml in the config dir.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Colour depth: truecolor, 256, 16 or never (default: from NO_COLOR, COLORTERM, TERM).
    #[arg(long, value_name = "DEPTH", value_parser = parse_depth)]
    pub color: Option<ColorDepth>,
    /// Frame cap: at most N frames a second (1 to 120; e.g. 10 over a slow ssh link).
    /// Frames are only drawn when something changed, and only changed cells are sent.
    #[arg(long, value_name = "N", default_value_t = fps::DEFAULT_FPS, value_parser = fps::parse_fps)]
    pub fps: u32,
    /// Record the session to FILE (JSONL: a header, then every action with its time,
    /// model results included), flushed line by line; replay it with `replay FILE`.
    /// `:save FILE` in the TUI writes what was recorded so far, with or without this.
    #[arg(long, value_name = "FILE", conflicts_with = "session")]
    pub record: Option<std::path::PathBuf>,
    /// Replay a recorded session instead of running live (as `replay FILE`): no model is
    /// loaded and nothing is run. Keys: space pause, . step, , back, [ ] seek -/+5 s,
    /// + - speed, g G start/end, q quit.
    #[arg(long, value_name = "FILE")]
    pub session: Option<std::path::PathBuf>,
    /// Quit after the first frame showing a scored CoT (startup benchmark; time in the log).
    #[arg(long, hide = true)]
    pub exit_after_first_frame: bool,
}

fn parse_depth(s: &str) -> Result<ColorDepth, String> {
    s.parse()
}

/// The arguments of a bare `tokenskip-studio` (no subcommand): all defaults.
pub fn default_args() -> anyhow::Result<TuiArgs> {
    let cmd = TuiArgs::augment_args(clap::Command::new("tui"));
    let m = cmd.try_get_matches_from(["tui"])?;
    Ok(TuiArgs::from_arg_matches(&m)?)
}

/// Runs the TUI; afterwards says where the log is (nothing is printed while it runs).
pub fn run(a: TuiArgs, log_file: Option<&std::path::Path>) -> anyhow::Result<()> {
    if let Some(file) = a.session {
        return super::replay::run(super::replay::ReplayArgs {
            file,
            speed: 1.0,
            paused: false,
            strict: false,
            export: None,
            out: None,
            cols: 120,
            rows: 40,
            gammas: vec![1.0],
            at: None,
            theme: a.theme,
            color: a.color,
        });
    }
    parse_scorer_spec(&a.scorer).with_context(|| format!("--scorer {}", a.scorer))?;
    let mut model_args = a.model.clone();
    // The demo model comes with its TokenSkip adapter, so "generate at gamma" (G) compresses;
    // at gamma 1.0 the adapter writes full CoTs like the base model. `--adapter none` opts out.
    match model_args.adapter.as_deref() {
        Some("none") => model_args.adapter = None,
        None if model_args.model == "demo" && has_demo_adapter() => {
            model_args.adapter = Some(DEMO_ADAPTER.into());
            model_args.merge_adapter = true;
        }
        _ => {}
    }
    let loader: Option<runtime::LoaderFn> = if a.no_model {
        None
    } else {
        Some(Box::new(move || {
            model_args.load().map_err(|e| format!("{e:#}"))
        }))
    };
    runtime::run(Options {
        model: if a.no_model {
            "none".into()
        } else {
            a.model.model.clone()
        },
        loader,
        scorer: a.scorer,
        dataset: a.dataset,
        theme: a.theme,
        color: a.color,
        fps: a.fps,
        exit_after_first_frame: a.exit_after_first_frame,
        record: a.record,
    })
    .context("the TUI failed")?;
    let log = log_file.map_or_else(
        || tokenskip_studio::logging::default_log_dir().join("tokenskip-studio.log"),
        std::path::Path::to_path_buf,
    );
    eprintln!("log: {}", log.display());
    Ok(())
}
