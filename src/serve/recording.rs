//! Reading a session recording (DESIGN.md: a header line
//! `{"format":"tokenskip-session","version":1,...,"model":..,"scorer":..}`, then one
//! `{"t_ms":1234,"action":{...}}` per line) incrementally: `poll` returns the records
//! completed since the last call, so the same reader replays a finished file or follows
//! one that the presenter's `tui --record FILE` is still writing (tail -f). A line that
//! is not finished yet (no newline) waits for the next poll; a file that shrank (the
//! presenter started over) is read again from the top.
//!
//! The SSH viewers' incremental reader; each line is parsed by `session::format`, which owns
//! the format (this module only adds following a growing file).

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::session::format::{parse_header, parse_record, Header, Record, MAX_LINE_BYTES};

#[derive(Debug, Default)]
pub struct Polled {
    /// The file started over (or appeared): begin a fresh state with this header.
    pub restart: Option<Header>,
    pub records: Vec<Record>,
    /// Lines skipped, with why (line number first).
    pub problems: Vec<String>,
}

pub struct RecordingReader {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    /// Bytes consumed (whole lines only).
    pos: u64,
    line_no: usize,
    partial: Vec<u8>,
    header: Option<Header>,
}

impl RecordingReader {
    pub fn new(path: &Path) -> Self {
        RecordingReader {
            path: path.to_path_buf(),
            reader: None,
            pos: 0,
            line_no: 0,
            partial: Vec::new(),
            header: None,
        }
    }

    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// Reads every complete line added since the last poll.
    pub fn poll(&mut self) -> Result<Polled, String> {
        let mut out = Polled::default();
        let len = std::fs::metadata(&self.path).map(|m| m.len()).ok();
        match len {
            None => {
                self.reader = None;
                return Ok(out); // not there (yet)
            }
            Some(len) if len < self.pos + self.partial.len() as u64 => self.reset(),
            Some(_) => {}
        }
        if self.reader.is_none() {
            let mut f =
                File::open(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
            f.seek(SeekFrom::Start(self.pos + self.partial.len() as u64))
                .map_err(|e| format!("{}: {e}", self.path.display()))?;
            self.reader = Some(BufReader::new(f));
        }
        loop {
            let Some(reader) = self.reader.as_mut() else {
                break;
            };
            let n = reader
                .read_until(b'\n', &mut self.partial)
                .map_err(|e| format!("{}: {e}", self.path.display()))?;
            if n == 0 || self.partial.last() != Some(&b'\n') {
                if self.partial.len() > MAX_LINE_BYTES {
                    return Err(format!(
                        "{}: line {} is longer than {MAX_LINE_BYTES} bytes",
                        self.path.display(),
                        self.line_no + 1
                    ));
                }
                break; // the rest of the line is not written yet
            }
            let line = std::mem::take(&mut self.partial);
            self.pos += line.len() as u64;
            self.line_no += 1;
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if self.header.is_none() {
                let h = parse_header(text).map_err(|e| {
                    format!(
                        "{}: the header (line {}) is wrong: {e}",
                        self.path.display(),
                        self.line_no
                    )
                })?;
                self.header = Some(h.clone());
                out.restart = Some(h);
                out.records.clear();
                continue;
            }
            match parse_record(text, self.line_no) {
                Ok(r) => out.records.push(r),
                Err(e) => out.problems.push(e.to_string()),
            }
        }
        Ok(out)
    }

    fn reset(&mut self) {
        self.reader = None;
        self.pos = 0;
        self.line_no = 0;
        self.partial.clear();
        self.header = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::Action;
    use std::io::Write;

    const HEADER: &str = r#"{"format":"tokenskip-session","version":1,"created":"2026-11-23T17:00:00Z","app":"0.1.0","model":"demo","scorer":"rules"}"#;

    #[test]
    fn follows_a_growing_file_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        let mut r = RecordingReader::new(&path);
        assert!(r.poll().unwrap().restart.is_none(), "no file yet: nothing");

        let mut f = File::create(&path).unwrap();
        writeln!(f, "{HEADER}").unwrap();
        write!(
            f,
            r#"{{"t_ms":5,"action":{{"type":"set_ratio","steps":10}}}}"#
        )
        .unwrap();
        f.flush().unwrap();
        let p = r.poll().unwrap();
        assert_eq!(p.restart.unwrap().model, "demo");
        assert!(p.records.is_empty(), "an unfinished line waits");

        writeln!(f).unwrap();
        writeln!(f, r#"{{"t_ms":9,"action":{{"type":"no_such_action"}}}}"#).unwrap();
        writeln!(f, r#"{{"t_ms":12,"action":{{"type":"quit"}}}}"#).unwrap();
        f.flush().unwrap();
        let p = r.poll().unwrap();
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.records[0].action, Action::SetRatio { steps: 10 });
        assert_eq!(p.records[1].t_ms, 12);
        assert_eq!(p.problems.len(), 1);
        assert!(p.problems[0].starts_with("line 3"), "{:?}", p.problems);

        // The presenter starts over: a shorter file is read from the top.
        drop(f);
        std::fs::write(&path, format!("{HEADER}\n")).unwrap();
        let p = r.poll().unwrap();
        assert!(p.restart.is_some());
        assert!(p.records.is_empty());
    }

    #[test]
    fn a_bad_header_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        std::fs::write(&path, "\n{\"format\":\"asciicast\",\"version\":2}\n").unwrap();
        let e = RecordingReader::new(&path).poll().unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("tokenskip-session"),
            "{e}"
        );
    }
}
