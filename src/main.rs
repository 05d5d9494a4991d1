//! `tokenskip-studio`: parse the command line, start logging, dispatch, report errors.

use clap::Parser;
use std::process::ExitCode;
use tokenskip_studio::logging;

mod cli;

/// candle allocates a fresh buffer for nearly every op, and glibc's malloc returns large
/// ones to the kernel each time (mmap/munmap churn): keeping them in the heap made training
/// ~40% faster here (measured: 1,173 -> 1,686 tokens/s on the demo config).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

/// candle's CPU elementwise ops run on its own thread pool, whose idle workers spin for
/// 25,000 iterations before parking; the matmuls and this crate's kernels run on rayon's
/// pool. With both pools sized to the cores, a spinning candle worker takes a core from a
/// matmul after every elementwise op. Parking at once measured 5-15% faster on every CPU
/// benchmark (scoring, prefill, decode, training; docs/benchmarks.md). A value the user
/// set is kept.
fn park_idle_candle_workers() {
    const VAR: &str = "CANDLE_BARRIER_POOL_SPIN_LIMIT";
    if std::env::var_os(VAR).is_none() {
        // Before any other thread exists, so none reads the environment meanwhile.
        std::env::set_var(VAR, "0");
    }
}

fn main() -> ExitCode {
    tune_allocator();
    park_idle_candle_workers();
    let args = cli::Cli::parse();
    if let Some(n) = args.threads {
        // Read lazily by candle's and rayon's thread pools, so set before any model work.
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    // A replay writes nothing but its --out file: no log unless one is asked for.
    let replaying = matches!(args.command, Some(cli::Command::Replay(_)))
        || matches!(&args.command, Some(cli::Command::Tui(t)) if t.session.is_some());
    let _log = if replaying && args.log_file.is_none() {
        None
    } else {
        logging::init(args.log_file.as_deref())
    };
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
