//! `tokenskip-studio bench-tty`: bytes sent to the terminal per slider step and per
//! second when idle (issue 10, "Over SSH"); the figures in docs/benchmarks.md.

use anyhow::anyhow;
use clap::Args;
use std::time::Duration;
use tokenskip_studio::tui::color::ColorDepth;
use tokenskip_studio::tui::tty_bench;

#[derive(Debug, Args)]
pub struct BenchTtyArgs {
    /// Screen width in cells.
    #[arg(long, default_value_t = 200)]
    pub cols: u16,
    /// Screen height in cells.
    #[arg(long, default_value_t = 60)]
    pub rows: u16,
    /// CoT length in tokens (rules-scored synthetic math CoT).
    #[arg(long, default_value_t = 4096)]
    pub tokens: usize,
    /// Colour depth of the escapes: truecolor (the largest), 256, 16 or never.
    #[arg(long, default_value = "truecolor", value_parser = |s: &str| s.parse::<ColorDepth>())]
    pub color: ColorDepth,
    /// How long to run the event loop with no input.
    #[arg(long, default_value_t = 1.5, value_name = "SECS")]
    pub idle_secs: f64,
}

pub fn run(a: BenchTtyArgs) -> anyhow::Result<()> {
    let idle = Duration::from_secs_f64(a.idle_secs.clamp(0.0, 600.0));
    let r = tty_bench::run(a.cols, a.rows, a.tokens, a.color, idle).map_err(|e| anyhow!(e))?;
    println!(
        "{}x{} screen, {}-token CoT, {:?} colour",
        r.cols, r.rows, r.tokens, r.depth
    );
    println!("full frame          {:>9} bytes", r.full_frame_bytes);
    println!(
        "slider step (mean)  {:>9.0} bytes   (max {}, {} steps 1.0 -> 0.5 -> 1.0)",
        r.bytes_per_step, r.max_step_bytes, r.steps
    );
    println!("unchanged frame     {:>9} bytes", r.unchanged_frame_bytes);
    println!(
        "idle                {:>9.1} bytes/s ({} frames in {:.1} s)",
        r.idle_bytes_per_s, r.idle_frames, r.idle_secs
    );
    println!("{}", serde_json::to_string(&r)?);
    Ok(())
}
