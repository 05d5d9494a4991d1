//! `tokenskip-studio`: parse the command line, start logging, dispatch, report errors.

use clap::Parser;
use std::process::ExitCode;
use tokenskip_studio::logging;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    if let Some(n) = args.threads {
        // Read lazily by candle's and rayon's thread pools, so set before any model work.
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    let _log = logging::init(args.log_file.as_deref());
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
