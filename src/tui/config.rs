//! User configuration: `<config dir>/config.toml` (e.g.
//! `~/.config/tokenskip-studio/config.toml`) merged over the built-in defaults, and the
//! theme resolution that follows from it and the command line.
//!
//! A mistake in the file (unknown key, bad value) never stops the TUI: the defaults are
//! used and the message names the file, line and key, shown in the status bar.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::color::{self, ColorDepth};
use super::theme::{self, Theme, DEFAULT_THEME};

/// The settings file. Every field is optional: absent means the built-in default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Theme name: a built-in (dark, light, high-contrast, viridis, cividis) or
    /// `themes/NAME.toml` in the config dir.
    pub theme: Option<String>,
    /// `auto`, `truecolor`, `256`, `16` or `never`.
    pub color: Option<String>,
}

/// `~/.config/tokenskip-studio` (or the platform's equivalent).
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "tokenskip-studio").map(|d| d.config_dir().to_path_buf())
}

/// Reads `dir/config.toml`. Missing file: defaults, no message.
pub fn load(dir: Option<&Path>) -> (Config, Option<String>) {
    let Some(path) = dir.map(|d| d.join("config.toml")) else {
        return (Config::default(), None);
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return (Config::default(), None);
    };
    match toml::from_str::<Config>(&text) {
        Ok(c) => (c, None),
        Err(e) => (
            Config::default(),
            Some(format!(
                "{}: {} (using defaults)",
                path.display(),
                e.to_string().trim().replace('\n', " ")
            )),
        ),
    }
}

/// What the views draw with, and what went wrong choosing it.
pub struct Look {
    pub theme: Theme,
    pub warnings: Vec<String>,
}

/// Picks depth and theme: command line over config file over defaults; a bad theme or
/// depth falls back to the default with a warning.
pub fn resolve(
    cli_theme: Option<&str>,
    cli_color: Option<ColorDepth>,
    dir: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Look {
    let (cfg, warning) = load(dir);
    let mut warnings: Vec<String> = warning.into_iter().collect();
    let cfg_color = match cfg.color.as_deref() {
        None | Some("auto") => None,
        Some(c) => match c.parse::<ColorDepth>() {
            Ok(d) => Some(d),
            Err(e) => {
                warnings.push(format!("config.toml: color: {e}"));
                None
            }
        },
    };
    let depth = color::detect(cli_color.or(cfg_color), env);
    let name = cli_theme.or(cfg.theme.as_deref()).unwrap_or(DEFAULT_THEME);
    let themes_dir = dir.map(|d| d.join("themes"));
    let theme = match theme::load(name, themes_dir.as_deref(), depth) {
        Ok(t) => t,
        Err(e) => {
            warnings.push(format!("{e}; using the {DEFAULT_THEME} theme"));
            Theme::fallback(depth)
        }
    };
    Look { theme, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_config_keeps_defaults_and_says_where() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "theme = \"light\"\n[keys]\nq = \"quit\"\n",
        )
        .unwrap();
        let look = resolve(None, Some(ColorDepth::TrueColor), Some(dir.path()), |_| {
            None
        });
        assert_eq!(look.theme.name, "dark");
        assert!(
            look.warnings[0].contains("config.toml") && look.warnings[0].contains("keys"),
            "{:?}",
            look.warnings
        );
    }

    #[test]
    fn config_and_cli_choose_theme_and_depth() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "theme = \"viridis\"\ncolor = \"16\"\n",
        )
        .unwrap();
        let look = resolve(None, None, Some(dir.path()), |_| None);
        assert_eq!(
            (look.theme.name.as_str(), look.theme.depth),
            ("viridis", ColorDepth::Ansi16)
        );
        let look = resolve(
            Some("nope"),
            Some(ColorDepth::Never),
            Some(dir.path()),
            |_| None,
        );
        assert_eq!(look.theme.name, "dark");
        assert!(
            look.warnings[0].contains("\"nope\" not found"),
            "{:?}",
            look.warnings
        );
    }
}
