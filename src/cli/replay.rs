//! `tokenskip-studio replay FILE`: replay a recorded session (no model, no GPU), or
//! export it as an asciicast or an HTML page.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use tokenskip_studio::session::cast::{export_cast, CastOptions};
use tokenskip_studio::session::format::{read_file, ReadOptions, MAX_LINE_BYTES};
use tokenskip_studio::session::html::{render_html, HtmlOptions};
use tokenskip_studio::session::replay_ui::{self, ReplayOptions};
use tokenskip_studio::session::{Loaded, Player};
use tokenskip_studio::tui::color::ColorDepth;
use tokenskip_studio::tui::config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Export {
    /// asciicast v2 (plays in asciinema): every frame, at --cols x --rows.
    Cast,
    /// A self-contained HTML page: the CoT at each of --gammas, side by side with the full one.
    Html,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The session file (JSONL) written by `tui --record FILE` or `:save FILE`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Playback speed (2 = twice as fast); for --export cast, the cast's speed.
    #[arg(long, default_value_t = 1.0, value_name = "X", value_parser = parse_speed)]
    pub speed: f64,
    /// Open paused at the start (space plays).
    #[arg(long)]
    pub paused: bool,
    /// A damaged file is an error (default: replay its valid prefix with a warning).
    #[arg(long)]
    pub strict: bool,
    /// Write a file instead of replaying on the terminal (needs --out).
    #[arg(long, value_enum, value_name = "FORMAT", requires = "out")]
    pub export: Option<Export>,
    /// The file --export writes (the only file a replay ever writes).
    #[arg(long, value_name = "FILE", requires = "export")]
    pub out: Option<PathBuf>,
    /// Terminal columns of the cast.
    #[arg(long, default_value_t = 120, value_name = "N", value_parser = clap::value_parser!(u16).range(20..=1000))]
    pub cols: u16,
    /// Terminal rows of the cast.
    #[arg(long, default_value_t = 40, value_name = "N", value_parser = clap::value_parser!(u16).range(5..=500))]
    pub rows: u16,
    /// Ratios shown by --export html, comma-separated, each in (0, 1].
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1.0,0.8,0.6",
        value_name = "G,.."
    )]
    pub gammas: Vec<f64>,
    /// For --export html: the moment to take the CoT from, in seconds into the session
    /// (default: the end).
    #[arg(long, value_name = "SECONDS")]
    pub at: Option<f64>,
    /// Colour theme (as `tui --theme`); for --export html, its heat colours.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Colour depth: truecolor, 256, 16 or never (default: from the environment; casts
    /// default to truecolor).
    #[arg(long, value_name = "DEPTH", value_parser = parse_depth)]
    pub color: Option<ColorDepth>,
}

fn parse_depth(s: &str) -> Result<ColorDepth, String> {
    s.parse()
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= 1000.0 => Ok(x),
        _ => Err(format!(
            "{s:?} is not a speed: use a number in (0, 1000], e.g. 0.5 or 4"
        )),
    }
}

/// Reads `path`; prints the reader's warning (a damaged file) to stderr.
pub fn load(path: &Path, strict: bool) -> anyhow::Result<Loaded> {
    let loaded = read_file(
        path,
        ReadOptions {
            lenient: !strict,
            max_line_bytes: MAX_LINE_BYTES,
        },
    )?;
    if let Some(w) = &loaded.warning {
        eprintln!(
            "warning: {}: {w}; replaying the {} actions before it (--strict makes this an error)",
            path.display(),
            loaded.session.records.len()
        );
    }
    Ok(loaded)
}

pub fn run(a: ReplayArgs) -> anyhow::Result<()> {
    let loaded = load(&a.file, a.strict)?;
    let warning = loaded
        .warning
        .as_ref()
        .map(|w| format!("damaged file, replaying up to it: {w}"));
    let session = loaded.session;
    let theme_for = |default: Option<ColorDepth>| {
        config::resolve(
            a.theme.as_deref(),
            a.color.or(default),
            config::config_dir().as_deref(),
            |k| std::env::var(k).ok(),
        )
    };
    match (a.export, &a.out) {
        (None, _) => replay_ui::run(
            session,
            ReplayOptions {
                theme: a.theme.clone(),
                color: a.color,
                speed: a.speed,
                paused: a.paused,
                warning,
            },
        )
        .context("replay failed"),
        (Some(Export::Cast), Some(out)) => {
            let look = theme_for(Some(ColorDepth::TrueColor));
            let f = std::fs::File::create(out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let mut w = std::io::BufWriter::new(f);
            let title = a.file.file_name().map(|n| n.to_string_lossy().into_owned());
            let stats = export_cast(
                &session,
                &look.theme,
                &CastOptions {
                    cols: a.cols,
                    rows: a.rows,
                    speed: a.speed,
                    title,
                },
                &mut w,
            )
            .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "wrote {}: {} events, {} bytes of terminal output, {:.1} s at {}x{} (play it: asciinema play {})",
                out.display(),
                stats.events,
                stats.bytes,
                stats.duration_s,
                a.cols,
                a.rows,
                out.display()
            );
            Ok(())
        }
        (Some(Export::Html), Some(out)) => {
            let look = theme_for(Some(ColorDepth::TrueColor));
            let mut p = Player::new(session);
            let at = match a.at {
                Some(s) if s.is_finite() && s >= 0.0 => {
                    p.seek_ms((s * 1e3) as u64);
                    format!("{s} s")
                }
                Some(s) => bail!("--at {s}: use seconds from the start, e.g. --at 12.5"),
                None => {
                    p.seek_index(usize::MAX);
                    "the end".to_string()
                }
            };
            let page = render_html(
                &p.session().header,
                p.state(),
                &look.theme,
                &HtmlOptions {
                    gammas: &a.gammas,
                    at,
                    source: a.file.display().to_string(),
                },
            )
            .with_context(|| format!("session {}", a.file.display()))?;
            std::fs::write(out, page).with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("wrote {} ({} gammas)", out.display(), a.gammas.len());
            Ok(())
        }
        (Some(_), None) => bail!("--export needs --out FILE"),
    }
}
