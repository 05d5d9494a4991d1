//! Logs go to a file through `tracing`, never to the terminal (the TUI owns the screen).

use std::path::{Path, PathBuf};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Where logs go unless `--log-file` says otherwise: the platform's local data dir
/// (`~/.local/share/tokenskip-studio/logs/` on Linux).
pub fn default_log_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "tokenskip-studio")
        .map(|d| d.data_local_dir().join("logs"))
        .unwrap_or_else(|| std::env::temp_dir().join("tokenskip-studio-logs"))
}

/// Starts file logging (level from `TOKENSKIP_LOG`, default `info`). Returns the guard that
/// flushes on drop, or `None` when the log file cannot be opened (logging is then off).
pub fn init(file: Option<&Path>) -> Option<WorkerGuard> {
    let path = file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_log_dir().join("tokenskip-studio.log"));
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).ok()?;
    let name = path.file_name()?;
    let appender = tracing_appender::rolling::never(dir, name);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter =
        EnvFilter::try_from_env("TOKENSKIP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
