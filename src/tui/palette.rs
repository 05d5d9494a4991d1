//! The `:` command palette: parsing a typed command line into what it asks for. Pure,
//! so `update` can run it and tests can check every command as data.

/// Commands the palette knows, for the error message and the help.
pub const COMMANDS: &str =
    "ratio G, scorer S, word, token, gen, gen-at, jobs, charts, chart PATH, train/prune/eval ARGS, run ARGS, cancel [ID], save FILE, help, quit";

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Ratio in steps of 0.05 (1..=20).
    Ratio(u8),
    Scorer(String),
    Word,
    Token,
    Generate {
        at_ratio: bool,
    },
    Jobs,
    /// Show or hide the charts pane.
    Charts,
    /// Load a trainer_log.jsonl or summary.json into the charts pane.
    Chart(String),
    /// Run `tokenskip-studio ARGS --progress json` as a job.
    Run(Vec<String>),
    Cancel(Option<u64>),
    /// Write the session recorded so far to a file (JSONL, see `session::format`).
    Save(String),
    Help,
    Quit,
}

/// Splits a command line into words: whitespace separates, double or single quotes
/// group (`--prompt "two words"`), a backslash escapes the next character.
pub fn split_args(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                cur.extend(chars.next());
                has = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                has = true;
            }
            (None, c) if c.is_whitespace() => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => {
                cur.push(c);
                has = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("unclosed {q} quote"));
    }
    if has {
        out.push(cur);
    }
    Ok(out)
}

/// Parses one palette line (without the leading `:`).
pub fn parse(line: &str) -> Result<Command, String> {
    let words = split_args(line)?;
    let Some((head, rest)) = words.split_first() else {
        return Err(format!("empty command (commands: {COMMANDS})"));
    };
    let one = |what: &str| -> Result<&String, String> {
        match rest {
            [x] => Ok(x),
            _ => Err(format!("{head} takes one argument: {what}")),
        }
    };
    Ok(match head.as_str() {
        "ratio" | "r" => {
            let g: f64 = one("a ratio in (0, 1], e.g. 0.6")?
                .parse()
                .map_err(|_| "ratio takes a number in (0, 1], e.g. 0.6".to_string())?;
            if !(g > 0.0 && g <= 1.0) {
                return Err(format!("ratio {g} is outside (0, 1]"));
            }
            Command::Ratio(((g * 20.0).round() as u8).clamp(1, 20))
        }
        "scorer" | "s" => {
            Command::Scorer(one("a scorer spec such as rules or surprisal:demo")?.clone())
        }
        "word" | "words" => Command::Word,
        "token" | "tokens" => Command::Token,
        "gen" | "generate" => Command::Generate { at_ratio: false },
        "gen-at" => Command::Generate { at_ratio: true },
        "jobs" | "j" => Command::Jobs,
        "charts" => Command::Charts,
        "chart" => Command::Chart(one("a trainer_log.jsonl or summary.json path")?.clone()),
        "train" | "prune" | "eval" => Command::Run(words.clone()),
        "run" if !rest.is_empty() => Command::Run(rest.to_vec()),
        "run" => {
            return Err("run takes a subcommand and its arguments, e.g. run train --help".into())
        }
        "cancel" | "x" => match rest {
            [] => Command::Cancel(None),
            [id] => Command::Cancel(Some(
                id.trim_start_matches('#')
                    .parse()
                    .map_err(|_| format!("cancel takes a job number, not {id:?}"))?,
            )),
            _ => return Err("cancel takes at most one job number".into()),
        },
        "save" | "w" => {
            Command::Save(one("a file to write the session to, e.g. talk.jsonl")?.clone())
        }
        "help" | "?" => Command::Help,
        "quit" | "q" => Command::Quit,
        other => return Err(format!("unknown command {other:?} (commands: {COMMANDS})")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn commands_parse() {
        assert_eq!(parse("ratio 0.35"), Ok(Command::Ratio(7)));
        assert_eq!(
            parse(" scorer surprisal:demo "),
            Ok(Command::Scorer("surprisal:demo".into()))
        );
        assert_eq!(
            parse("train --model demo --data 'my data.json'"),
            Ok(Command::Run(vec![
                "train".into(),
                "--model".into(),
                "demo".into(),
                "--data".into(),
                "my data.json".into()
            ]))
        );
        assert_eq!(
            parse("run bench-generate"),
            Ok(Command::Run(vec!["bench-generate".into()]))
        );
        assert_eq!(parse("charts"), Ok(Command::Charts));
        assert_eq!(
            parse("chart out/e/summary.json"),
            Ok(Command::Chart("out/e/summary.json".into()))
        );
        assert!(parse("chart").is_err());
        assert_eq!(parse("cancel #3"), Ok(Command::Cancel(Some(3))));
        assert_eq!(
            parse("save 'my talk.jsonl'"),
            Ok(Command::Save("my talk.jsonl".into()))
        );
        assert!(parse("save").unwrap_err().contains("file"));
        assert!(parse("ratio 1.5").unwrap_err().contains("outside"));
        assert!(parse("frobnicate").unwrap_err().contains("commands: ratio"));
        assert!(parse("run").is_err());
        assert!(split_args("a \"b").unwrap_err().contains("unclosed"));
        assert_eq!(split_args(r#"a\ b "" c"#).unwrap(), vec!["a b", "", "c"]);
    }

    proptest! {
        #[test]
        fn quoting_round_trips(words in prop::collection::vec("[a-z \"'\\\\]{0,6}", 0..5)) {
            let line: Vec<String> = words
                .iter()
                .map(|w| format!("\"{}\"", w.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect();
            prop_assert_eq!(split_args(&line.join(" ")).unwrap(), words);
        }

        #[test]
        fn parse_never_panics(line in ".{0,40}") {
            let _ = parse(&line);
        }
    }
}
