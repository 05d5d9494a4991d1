//! Records a running TUI: every Action folded through `update`, with its time.
//!
//! The lines are kept in memory (for `:save FILE`) and, with `--record FILE`, appended
//! to the file and flushed one by one, so a crash loses at most the action being
//! written. The header is written first, when the recorder is created.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::tui::action::Action;

use super::format::{header_line, record_line, Header};

pub struct Recorder {
    header: String,
    lines: Vec<String>,
    last_ms: u64,
    sink: Option<(PathBuf, File)>,
}

impl Recorder {
    /// Records in memory only (`:save FILE` still works).
    pub fn in_memory(header: &Header) -> Recorder {
        Recorder {
            header: header_line(header),
            lines: Vec::new(),
            last_ms: 0,
            sink: None,
        }
    }

    /// Records to `path` too (created or truncated; the header is written now).
    pub fn to_file(header: &Header, path: &Path) -> io::Result<Recorder> {
        let mut rec = Recorder::in_memory(header);
        let mut f = File::create(path)?;
        writeln!(f, "{}", rec.header)?;
        f.flush()?;
        rec.sink = Some((path.to_path_buf(), f));
        Ok(rec)
    }

    /// The file recorded to, if any.
    pub fn path(&self) -> Option<&Path> {
        self.sink.as_ref().map(|(p, _)| p.as_path())
    }

    /// Actions recorded so far.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Appends one Action at `t_ms` (kept monotonic). A write error stops writing to
    /// the file (memory recording goes on) and is returned once, for the status bar.
    pub fn record(&mut self, t_ms: u64, action: &Action) -> Result<(), String> {
        let t_ms = t_ms.max(self.last_ms);
        self.last_ms = t_ms;
        let line = record_line(t_ms, action).map_err(|e| format!("cannot record: {e}"))?;
        let mut failed = None;
        if let Some((path, f)) = &mut self.sink {
            if let Err(e) = writeln!(f, "{line}").and_then(|()| f.flush()) {
                failed = Some(format!(
                    "recording to {} stopped: {e} (:save FILE writes what was recorded)",
                    path.display()
                ));
            }
        }
        self.lines.push(line);
        if let Some(msg) = failed {
            self.sink = None;
            return Err(msg);
        }
        Ok(())
    }

    /// Writes everything recorded so far to `path`, atomically (a temp file beside it,
    /// then rename). Returns the number of actions written.
    pub fn save_as(&self, path: &Path) -> io::Result<usize> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map_or_else(|| "session".into(), |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let write = || -> io::Result<()> {
            let mut f = io::BufWriter::new(File::create(&tmp)?);
            writeln!(f, "{}", self.header)?;
            for l in &self.lines {
                writeln!(f, "{l}")?;
            }
            f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(self.lines.len())
    }
}
