//! `tokenskip-studio replay` from the outside: exports write only the --out file, bad
//! session files give one line naming the file and line, and nothing panics.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"));
    c.env("HF_HUB_OFFLINE", "1")
        .arg("--log-file")
        .arg(std::env::temp_dir().join("tss-session-test.log"));
    c
}

fn root(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    let s = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!s.contains("panicked"), "{s}");
    s
}

#[test]
fn exports_write_only_the_out_file() {
    let dir = tempfile::tempdir().unwrap();
    let demo = root("sessions/demo.jsonl");
    let cast = dir.path().join("demo.cast");
    let o = run(&[
        "replay",
        demo.to_str().unwrap(),
        "--export",
        "cast",
        "--out",
        cast.to_str().unwrap(),
        "--speed",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&cast).unwrap();
    assert!(text.starts_with("{\"version\":2,\"width\":120,\"height\":40"));

    let html = dir.path().join("demo.html");
    let o = run(&[
        "replay",
        demo.to_str().unwrap(),
        "--export",
        "html",
        "--gammas",
        "1.0,0.7,0.4",
        "--out",
        html.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("γ = 0.40"));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// A replay writes only its --out file: no log, no config, nothing under HOME.
#[test]
fn a_replay_writes_nothing_else() {
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let html = out.path().join("p.html");
    let o = Command::new(env!("CARGO_BIN_EXE_tokenskip-studio"))
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .current_dir(home.path())
        .args([
            "replay",
            root("sessions/demo.jsonl").to_str().unwrap(),
            "--export",
            "html",
            "--out",
        ])
        .arg(&html)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(html.exists());
    assert_eq!(
        std::fs::read_dir(home.path()).unwrap().count(),
        0,
        "replay wrote under HOME"
    );
}

#[test]
fn damaged_files_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(root("sessions/demo.jsonl")).unwrap();
    let mut lines: Vec<&str> = demo.lines().collect();
    lines[4] = r#"{"t_ms":1,"action":{"type":"warp_drive"}}"#;
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let out = dir.path().join("x.cast");
    let args = [
        "replay",
        bad.to_str().unwrap(),
        "--export",
        "cast",
        "--out",
        out.to_str().unwrap(),
    ];
    // Strict: an error naming the file, the line and the action type.
    let mut strict = args.to_vec();
    strict.push("--strict");
    let o = run(&strict);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("bad.jsonl") && e.contains("line 5") && e.contains("warp_drive"),
        "{e}"
    );
    // Default: the valid prefix is exported, with a warning.
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("warning") && e.contains("line 5") && e.contains("3 actions"),
        "{e}"
    );

    let o = run(&[
        "replay",
        root("tests/fixtures/sessions/old-v0.jsonl")
            .to_str()
            .unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("version 0"));

    let o = run(&["replay", dir.path().join("missing.jsonl").to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cannot open the session"));
}

#[test]
fn bad_flags_say_what_to_use() {
    let demo = root("sessions/demo.jsonl");
    let d = demo.to_str().unwrap();
    let o = run(&["replay", d, "--speed", "0"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a speed"));
    let o = run(&["replay", d, "--export", "cast"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--out"));
    // Without a terminal, the replay UI says how to make a file instead.
    let o = run(&["replay", d]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--export"), "{}", stderr(&o));
    let o = run(&[
        "replay",
        d,
        "--export",
        "html",
        "--out",
        "/dev/null",
        "--gammas",
        "1.5",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("outside (0, 1]"));
}
