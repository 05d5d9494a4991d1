//! The reader: good files round-trip; damaged ones give the line and what is wrong.

use super::{small_jsonl, small_session};
use crate::session::format::{read, rfc3339, ReadOptions, SessionError, VERSION};
use crate::session::recorder::Recorder;

fn strict(text: &str) -> Result<crate::session::Loaded, SessionError> {
    read(text.as_bytes(), ReadOptions::default())
}

fn lenient(text: &str) -> Result<crate::session::Loaded, SessionError> {
    read(
        text.as_bytes(),
        ReadOptions {
            lenient: true,
            ..ReadOptions::default()
        },
    )
}

fn lines() -> Vec<String> {
    small_jsonl().lines().map(str::to_string).collect()
}

#[test]
fn a_written_session_reads_back_the_same() {
    let s = small_session();
    let loaded = strict(&small_jsonl()).unwrap();
    assert_eq!(loaded.session, s);
    assert_eq!(loaded.warning, None);
    assert!(small_jsonl().starts_with(&format!(
        "{{\"format\":\"tokenskip-session\",\"version\":{VERSION},\"created\":"
    )));
}

#[test]
fn header_problems_name_the_version_or_format() {
    let v0 = r#"{"format":"tokenskip-session","version":0,"created":"x","app":"0.0.1","model":"demo","scorer":"rules"}"#;
    let e = strict(v0).unwrap_err();
    assert_eq!(e, SessionError::OldVersion { found: 0 });
    assert!(e.to_string().contains("version 0"), "{e}");
    let v9 = v0.replace("\"version\":0", "\"version\":9");
    assert!(strict(&v9)
        .unwrap_err()
        .to_string()
        .contains("version 9 is newer"));
    let other = v0.replace("tokenskip-session", "asciicast");
    assert!(strict(&other)
        .unwrap_err()
        .to_string()
        .contains("\"asciicast\""));
    assert_eq!(strict("").unwrap_err(), SessionError::Empty);
    let headless = lines()[1..].join("\n");
    let e = strict(&headless).unwrap_err();
    assert!(e.to_string().contains("header line is missing"), "{e}");
    // Lenient reading cannot skip a bad header.
    assert!(lenient(v0).is_err());
}

#[test]
fn bad_records_give_their_line_number() {
    let mut l = lines();
    l[3] = r#"{"t_ms":5,"action":{"type":"teleport","to":"mars"}}"#.into();
    let text = l.join("\n");
    let e = strict(&text).unwrap_err();
    assert_eq!(
        e,
        SessionError::UnknownAction {
            line: 4,
            kind: "teleport".into()
        }
    );
    // Lenient: the valid prefix (lines 2-3) with the problem as a warning.
    let got = lenient(&text).unwrap();
    assert_eq!(got.session.records.len(), 2);
    assert_eq!(got.warning.unwrap().line(), Some(4));

    let mut l = lines();
    l[2] = r#"{"t_ms":5,"action":{"type":"set_ratio","steps":"many"}}"#.into();
    let e = strict(&l.join("\n")).unwrap_err();
    assert!(matches!(e, SessionError::BadAction { line: 3, .. }), "{e}");
    assert!(e.to_string().contains("set_ratio"), "{e}");

    let mut l = lines();
    l[2] = "{not json".into();
    assert!(matches!(
        strict(&l.join("\n")).unwrap_err(),
        SessionError::BadJson { line: 3, .. }
    ));
}

#[test]
fn reordered_lines_are_caught() {
    let mut l = lines();
    l.swap(3, 5);
    let e = strict(&l.join("\n")).unwrap_err();
    assert!(
        matches!(e, SessionError::TimeGoesBack { line: 5, .. }),
        "{e}"
    );
}

#[test]
fn a_cut_short_file_replays_up_to_the_last_whole_line() {
    let text = small_jsonl();
    let cut = &text[..text.len() - 10];
    assert!(matches!(
        strict(cut).unwrap_err(),
        SessionError::Truncated { .. }
    ));
    let got = lenient(cut).unwrap();
    assert_eq!(got.session.records.len(), lines().len() - 2);
    assert!(got.warning.unwrap().to_string().contains("cut short"));
}

#[test]
fn huge_lines_and_invalid_utf8_are_errors_not_crashes() {
    let mut text = small_jsonl().into_bytes();
    text.extend(std::iter::repeat_n(b'x', 5000));
    text.push(b'\n');
    let opts = ReadOptions {
        lenient: false,
        max_line_bytes: 4096,
    };
    let e = read(&text[..], opts).unwrap_err();
    assert!(
        matches!(e, SessionError::LineTooLong { max: 4096, .. }),
        "{e}"
    );

    let mut bytes = small_jsonl().into_bytes();
    let at = bytes.iter().position(|&b| b == b'\n').unwrap() + 5;
    bytes[at] = 0xff;
    let e = read(&bytes[..], ReadOptions::default()).unwrap_err();
    assert!(matches!(e, SessionError::NotUtf8 { line: 2, .. }), "{e}");
}

#[test]
fn the_recorder_writes_each_line_as_it_goes_and_saves_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let s = small_session();
    let live = dir.path().join("live.jsonl");
    let mut rec = Recorder::to_file(&s.header, &live).unwrap();
    for (i, r) in s.records.iter().enumerate() {
        rec.record(r.t_ms, &r.action).unwrap();
        // Flushed per line: the file already holds the header and i + 1 records.
        let on_disk = std::fs::read_to_string(&live).unwrap();
        assert_eq!(on_disk.lines().count(), i + 2);
    }
    let got = read(
        std::fs::File::open(&live)
            .map(std::io::BufReader::new)
            .unwrap(),
        ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(got.session, s);

    let saved = dir.path().join("saved.jsonl");
    assert_eq!(rec.save_as(&saved).unwrap(), s.records.len());
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        std::fs::read(&live).unwrap()
    );
    // No temp file left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    assert!(rec
        .save_as(&dir.path().join("no/such/dir/x.jsonl"))
        .is_err());
}

#[test]
fn created_is_rfc3339_utc() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
}
