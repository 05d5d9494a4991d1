//! The session file format (DESIGN.md): JSON lines, a versioned header first, then one
//! `{"t_ms":1234,"action":{...}}` per Action. The reader gives line-numbered errors and
//! never panics or runs away on hostile input: lines are capped (`max_line_bytes`), so a
//! huge line is an error rather than an out-of-memory, and every record is checked
//! (UTF-8, JSON, known action type, time never going backwards).
//!
//! Lenient reading (`ReadOptions::lenient`) keeps the valid prefix of a damaged file and
//! returns the first problem as a warning, so a recording cut short by a crash still
//! replays up to its last complete line.

use std::io::{BufRead, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::tui::action::Action;

/// The `format` field of every session header.
pub const FORMAT: &str = "tokenskip-session";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// Default longest line accepted (16 MiB: a long CoT with scores is well under 1 MiB).
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Line 1 of a session file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// When the recording started (UTC, RFC 3339).
    pub created: String,
    /// The tokenskip-studio version that wrote it.
    pub app: String,
    /// The model (`demo`, a path, a hub id, or `none`) and scorer the TUI started with.
    pub model: String,
    pub scorer: String,
}

impl Header {
    /// A header for a recording starting now, by this build.
    pub fn new(model: &str, scorer: &str, created: String) -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            created,
            app: env!("CARGO_PKG_VERSION").into(),
            model: model.into(),
            scorer: scorer.into(),
        }
    }
}

/// One Action and when it was folded through `update` (ms since the recording started).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub t_ms: u64,
    pub action: Action,
}

/// A whole session, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub header: Header,
    pub records: Vec<Record>,
}

impl Session {
    /// Time of the last record (0 when empty).
    pub fn end_ms(&self) -> u64 {
        self.records.last().map_or(0, |r| r.t_ms)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Keep the valid prefix and return the first bad line as a warning.
    pub lenient: bool,
    pub max_line_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            lenient: false,
            max_line_bytes: MAX_LINE_BYTES,
        }
    }
}

/// What went wrong, and where (1-based line numbers).
#[derive(Debug, Clone, Error, PartialEq)]
pub enum SessionError {
    #[error("cannot read the session at line {line}: {message}")]
    Io { line: usize, message: String },
    #[error("the file is empty: a session starts with a header line {{\"format\":\"{FORMAT}\",\"version\":{VERSION},...}}")]
    Empty,
    #[error(
        "line {line} is longer than {max} bytes: not a session line (a corrupted or hostile file?)"
    )]
    LineTooLong { line: usize, max: usize },
    #[error("line {line} is not valid UTF-8 (byte {byte}): the file is corrupted")]
    NotUtf8 { line: usize, byte: usize },
    #[error("line 1 is not a session header ({message}); expected {{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"created\":..,\"app\":..,\"model\":..,\"scorer\":..}}")]
    BadHeader { message: String },
    #[error("line 1: format {found:?} is not a TokenSkip session (expected \"{FORMAT}\")")]
    WrongFormat { found: String },
    #[error("session format version {found} is older than this build reads (version {VERSION}); version {found} files cannot be replayed: re-record the session with tokenskip-studio tui --record FILE")]
    OldVersion { found: u32 },
    #[error("session format version {found} is newer than this build reads (version {VERSION}): upgrade tokenskip-studio to replay it")]
    NewVersion { found: u32 },
    #[error("line {line}: not valid JSON: {message}")]
    BadJson { line: usize, message: String },
    #[error("line {line}: not a session record ({message}); expected {{\"t_ms\":N,\"action\":{{\"type\":..}}}}")]
    BadRecord { line: usize, message: String },
    #[error("line {line}: unknown action type {kind:?} (written by a newer or different build?)")]
    UnknownAction { line: usize, kind: String },
    #[error("line {line}: action {kind:?} is malformed: {message}")]
    BadAction {
        line: usize,
        kind: String,
        message: String,
    },
    #[error("line {line}: time goes backwards (t_ms {t_ms} after {previous}): lines reordered?")]
    TimeGoesBack {
        line: usize,
        t_ms: u64,
        previous: u64,
    },
    #[error(
        "line {line} is cut short (no newline and not valid JSON): the recording stopped mid-line"
    )]
    Truncated { line: usize },
}

impl SessionError {
    /// The 1-based line the problem is on, when it is about one line.
    pub fn line(&self) -> Option<usize> {
        use SessionError::*;
        match self {
            Io { line, .. }
            | LineTooLong { line, .. }
            | NotUtf8 { line, .. }
            | BadJson { line, .. }
            | BadRecord { line, .. }
            | UnknownAction { line, .. }
            | BadAction { line, .. }
            | TimeGoesBack { line, .. }
            | Truncated { line } => Some(*line),
            BadHeader { .. } | WrongFormat { .. } | OldVersion { .. } | NewVersion { .. } => {
                Some(1)
            }
            Empty => None,
        }
    }
}

/// A session read leniently: what could be used, and the first problem if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub session: Session,
    /// Set when the file was damaged: the records stop before this line.
    pub warning: Option<SessionError>,
}

/// Reads the next line (without its newline) into `buf`, at most `max` bytes.
/// Returns `Ok(None)` at end of file, `Ok(Some(had_newline))` otherwise.
fn next_line(
    r: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
    line: usize,
) -> Result<Option<bool>, SessionError> {
    buf.clear();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let n = r
        .by_ref()
        .take(limit)
        .read_until(b'\n', buf)
        .map_err(|e| SessionError::Io {
            line,
            message: e.to_string(),
        })?;
    if n == 0 {
        return Ok(None);
    }
    let newline = buf.last() == Some(&b'\n');
    if newline {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    if buf.len() > max {
        return Err(SessionError::LineTooLong { line, max });
    }
    Ok(Some(newline))
}

fn utf8(buf: &[u8], line: usize) -> Result<&str, SessionError> {
    std::str::from_utf8(buf).map_err(|e| SessionError::NotUtf8 {
        line,
        byte: e.valid_up_to() + 1,
    })
}

/// Checks line 1.
pub fn parse_header(text: &str) -> Result<Header, SessionError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| SessionError::BadHeader {
        message: e.to_string(),
    })?;
    let Some(obj) = v.as_object() else {
        return Err(SessionError::BadHeader {
            message: "not a JSON object".into(),
        });
    };
    if obj.contains_key("t_ms") || obj.contains_key("action") {
        return Err(SessionError::BadHeader {
            message: "it is a record: the header line is missing".into(),
        });
    }
    match obj.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(SessionError::WrongFormat {
                found: other.into(),
            })
        }
        None => {
            return Err(SessionError::BadHeader {
                message: "no \"format\" field".into(),
            })
        }
    }
    let version =
        obj.get("version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| SessionError::BadHeader {
                message: "\"version\" is missing or not a whole number".into(),
            })?;
    let found = u32::try_from(version).unwrap_or(u32::MAX);
    if found < VERSION {
        return Err(SessionError::OldVersion { found });
    }
    if found > VERSION {
        return Err(SessionError::NewVersion { found });
    }
    serde_json::from_value(v).map_err(|e| SessionError::BadHeader {
        message: e.to_string(),
    })
}

/// Parses one record line.
pub fn parse_record(text: &str, line: usize) -> Result<Record, SessionError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Raw {
        t_ms: u64,
        action: serde_json::Value,
    }
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| SessionError::BadJson {
        line,
        message: e.to_string(),
    })?;
    let raw: Raw = serde_json::from_value(v).map_err(|e| SessionError::BadRecord {
        line,
        message: e.to_string(),
    })?;
    let kind = match raw.action.get("type").and_then(|t| t.as_str()) {
        Some(k) => k.to_string(),
        None => {
            return Err(SessionError::BadRecord {
                line,
                message: "the action has no \"type\"".into(),
            })
        }
    };
    match serde_json::from_value::<Action>(raw.action) {
        Ok(action) => Ok(Record {
            t_ms: raw.t_ms,
            action,
        }),
        Err(e) if e.to_string().starts_with("unknown variant") => {
            Err(SessionError::UnknownAction { line, kind })
        }
        Err(e) => Err(SessionError::BadAction {
            line,
            kind,
            message: e.to_string(),
        }),
    }
}

/// Reads a session from `r`. Strict: the first problem is the error. Lenient: header
/// problems are still errors; a bad record ends the session there, with a warning.
pub fn read(mut r: impl BufRead, opts: ReadOptions) -> Result<Loaded, SessionError> {
    let max = opts.max_line_bytes;
    let mut buf = Vec::new();
    let header = loop {
        // Blank lines before the header are tolerated; anything else must be it.
        match next_line(&mut r, &mut buf, max, 1)? {
            None => return Err(SessionError::Empty),
            Some(_) => {
                let text = utf8(&buf, 1)?;
                if text.trim().is_empty() {
                    continue;
                }
                break parse_header(text)?;
            }
        }
    };
    let mut records = Vec::new();
    let mut warning = None;
    let mut line = 1;
    let mut previous = 0u64;
    loop {
        line += 1;
        let result = match next_line(&mut r, &mut buf, max, line) {
            Ok(None) => break,
            Ok(Some(newline)) => utf8(&buf, line).and_then(|text| {
                if text.trim().is_empty() {
                    return Ok(None);
                }
                match parse_record(text, line) {
                    Err(SessionError::BadJson { .. }) if !newline => {
                        Err(SessionError::Truncated { line })
                    }
                    Err(e) => Err(e),
                    Ok(rec) if rec.t_ms < previous => Err(SessionError::TimeGoesBack {
                        line,
                        t_ms: rec.t_ms,
                        previous,
                    }),
                    Ok(rec) => Ok(Some(rec)),
                }
            }),
            Err(e) => Err(e),
        };
        match result {
            Ok(Some(rec)) => {
                previous = rec.t_ms;
                records.push(rec);
            }
            Ok(None) => {}
            Err(e) if opts.lenient => {
                warning = Some(e);
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Loaded {
        session: Session { header, records },
        warning,
    })
}

/// Reads the session file at `path` (see [`read`]).
pub fn read_file(path: &Path, opts: ReadOptions) -> Result<Loaded, ReadFileError> {
    let f = std::fs::File::open(path).map_err(|e| ReadFileError::Open {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    read(std::io::BufReader::new(f), opts).map_err(|source| ReadFileError::Session {
        path: path.display().to_string(),
        source,
    })
}

#[derive(Debug, Error)]
pub enum ReadFileError {
    #[error("cannot open the session {path}: {message}")]
    Open { path: String, message: String },
    #[error("session {path}: {source}")]
    Session {
        path: String,
        #[source]
        source: SessionError,
    },
}

/// The header line and one record line, as written (no newline).
pub fn header_line(h: &Header) -> String {
    serde_json::to_string(h).unwrap_or_default()
}

pub fn record_line(t_ms: u64, action: &Action) -> Result<String, serde_json::Error> {
    #[derive(Serialize)]
    struct Ref<'a> {
        t_ms: u64,
        action: &'a Action,
    }
    serde_json::to_string(&Ref { t_ms, action })
}

/// Writes a whole session (header, then records) as JSONL text.
pub fn to_jsonl(s: &Session) -> String {
    let mut out = header_line(&s.header);
    out.push('\n');
    for r in &s.records {
        if let Ok(l) = record_line(r.t_ms, &r.action) {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

/// `created` for a header: the current UTC time as RFC 3339 (seconds).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
