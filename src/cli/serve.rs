//! `tokenskip-studio serve --ssh ADDR`: the built-in SSH server; each viewer gets their
//! own TUI (see `src/serve/`). Headless: it prints where it listens, then logs to the
//! log file.

use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokenskip_studio::serve::{self, keys, Content, ServeOptions};
use tokenskip_studio::tui::color::ColorDepth;
use tokenskip_studio::tui::fps;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen for SSH on ADDR (e.g. 127.0.0.1:2222; tunnel or firewall anything wider).
    #[arg(long, value_name = "ADDR")]
    pub ssh: SocketAddr,
    /// Public keys allowed in, OpenSSH format (default ~/.ssh/authorized_keys).
    /// Only public-key authentication is offered.
    #[arg(long, value_name = "FILE")]
    pub authorized_keys: Option<PathBuf>,
    /// The server's ed25519 host key; created (mode 0600) if missing (default:
    /// the data dir, e.g. ~/.local/share/tokenskip-studio/ssh_host_ed25519_key).
    #[arg(long, value_name = "FILE")]
    pub host_key: Option<PathBuf>,
    /// Replay this recorded session (`tui --record FILE`) to each viewer, from the start,
    /// read-only.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["live", "dataset"])]
    pub session: Option<PathBuf>,
    /// Follow the presenter's recording as it is written (`tui --record FILE` running
    /// elsewhere on this machine): a read-only live view; nothing goes back.
    #[arg(long, value_name = "FILE", conflicts_with = "dataset")]
    pub live: Option<PathBuf>,
    /// Question list for the viewers' workbenches: synthetic[:N], synthetic-test[:N] or
    /// jsonl:PATH (default: the built-in examples).
    #[arg(long, value_name = "D")]
    pub dataset: Option<String>,
    /// Viewers at once; further connections get a one-line message and are closed.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub max_viewers: usize,
    /// Disconnect a viewer after this many seconds without a key press.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub idle_timeout: u64,
    /// Frame cap per viewer (1 to 120).
    #[arg(long, value_name = "N", default_value_t = fps::DEFAULT_FPS, value_parser = fps::parse_fps)]
    pub fps: u32,
    /// Colour theme for the viewers (as `tui --theme`).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Colour depth for every viewer (default: from each viewer's TERM, as sent by ssh).
    #[arg(long, value_name = "DEPTH", value_parser = |s: &str| s.parse::<ColorDepth>())]
    pub color: Option<ColorDepth>,
}

pub fn run(a: ServeArgs) -> anyhow::Result<()> {
    if a.max_viewers == 0 {
        anyhow::bail!("--max-viewers 0 would refuse everyone: give at least 1");
    }
    if a.idle_timeout == 0 {
        anyhow::bail!("--idle-timeout 0 would disconnect at once: give seconds, e.g. 600");
    }
    let authorized_keys = match a.authorized_keys {
        Some(p) => p,
        None => keys::default_authorized_keys_path()
            .context("no home directory for ~/.ssh/authorized_keys: give --authorized-keys FILE")?,
    };
    let opts = ServeOptions {
        addr: a.ssh,
        authorized_keys,
        host_key: a.host_key.unwrap_or_else(keys::default_host_key_path),
        content: match (a.session, a.live) {
            (Some(f), _) => Content::Session(f),
            (None, Some(f)) => Content::Live(f),
            (None, None) => Content::Workbench { dataset: a.dataset },
        },
        max_viewers: a.max_viewers,
        idle_timeout: Duration::from_secs(a.idle_timeout),
        fps: a.fps,
        theme: a.theme,
        color: a.color,
    };
    let host_key = opts.host_key.clone();
    serve::run(opts, |addr, fingerprint| {
        eprintln!(
            "serving the TUI over SSH on {addr} (host key {fingerprint}, {})",
            host_key.display()
        );
        eprintln!(
            "viewers connect with: ssh -t -p {} viewer@{}",
            addr.port(),
            addr.ip()
        );
    })
    .context("serve --ssh")?;
    Ok(())
}
