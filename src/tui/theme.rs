//! Themes: TOML files with a `[palette]` of named colours, semantic `[ui]` keys and a
//! `[heat]` scale, with helix-style `inherits`. Built-ins are compiled in
//! (`include_str!`); user themes in `<config dir>/themes/NAME.toml` override or add.
//! A bad theme is reported (file, line, key) and the caller falls back to `dark`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use thiserror::Error;

use super::color::{at_depth, parse_hex, ColorDepth};

pub const DEFAULT_THEME: &str = "dark";

/// Built-in themes: (name, TOML).
pub const BUILTIN: [(&str, &str); 5] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("viridis", include_str!("../../themes/viridis.toml")),
    ("cividis", include_str!("../../themes/cividis.toml")),
];

/// The `[ui]` keys a theme may set.
pub const UI_KEYS: [&str; 12] = [
    "background",
    "text",
    "muted",
    "accent",
    "title",
    "border",
    "selection.bg",
    "cursor.bg",
    "status.info",
    "status.warn",
    "status.error",
    "slider",
];

#[derive(Debug, Error, PartialEq)]
pub enum ThemeError {
    #[error("theme {name:?} not found in {dir} (available: {available})")]
    NotFound {
        name: String,
        dir: String,
        available: String,
    },
    #[error("theme file {file}: {message}")]
    Parse { file: String, message: String },
    #[error("theme file {file}: unknown key [ui] {key:?} (known: {})", UI_KEYS.join(", "))]
    UnknownKey { file: String, key: String },
    #[error("theme file {file}: {key} = {value:?} is neither #rrggbb nor a [palette] name")]
    BadColor {
        file: String,
        key: String,
        value: String,
    },
    #[error("theme file {file}: the heat scale needs 2 to 16 colours, found {found}")]
    HeatSize { file: String, found: usize },
    #[error("theme {name:?}: `inherits` goes round in a loop")]
    InheritLoop { name: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    inherits: Option<String>,
    #[serde(default)]
    palette: BTreeMap<String, String>,
    #[serde(default)]
    ui: BTreeMap<String, String>,
    heat: Option<HeatFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeatFile {
    scale: Vec<String>,
}

pub type Rgb = (u8, u8, u8);

/// A resolved theme at one colour depth: what the views draw with.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub depth: ColorDepth,
    ui: BTreeMap<String, Rgb>,
    heat: Vec<Rgb>,
}

/// Where a theme's text comes from: a user file first, then the built-ins.
fn source(name: &str, user_dir: Option<&Path>) -> Option<(String, String)> {
    if let Some(dir) = user_dir {
        let p = dir.join(format!("{name}.toml"));
        if let Ok(text) = std::fs::read_to_string(&p) {
            return Some((p.display().to_string(), text));
        }
    }
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, t)| (format!("<built-in {n}.toml>"), (*t).to_string()))
}

/// Names of all themes: built-ins plus `*.toml` in `user_dir`.
pub fn available(user_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
    if let Some(Ok(rd)) = user_dir.map(std::fs::read_dir) {
        for e in rd.flatten() {
            let p: PathBuf = e.path();
            if p.extension().is_some_and(|x| x == "toml") {
                if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                    if !names.iter().any(|n| n == stem) {
                        names.push(stem.to_string());
                    }
                }
            }
        }
    }
    names
}

/// Loads theme `name` (following `inherits`) at `depth`.
pub fn load(name: &str, user_dir: Option<&Path>, depth: ColorDepth) -> Result<Theme, ThemeError> {
    let mut chain: Vec<(String, ThemeFile)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut next = Some(name.to_string());
    while let Some(n) = next {
        if seen.contains(&n) || seen.len() > 8 {
            return Err(ThemeError::InheritLoop { name: n });
        }
        seen.push(n.clone());
        let (file, text) = source(&n, user_dir).ok_or_else(|| ThemeError::NotFound {
            name: n.clone(),
            dir: user_dir.map_or("(no config dir)".into(), |d| d.display().to_string()),
            available: available(user_dir).join(", "),
        })?;
        let parsed: ThemeFile = toml::from_str(&text).map_err(|e| ThemeError::Parse {
            file: file.clone(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        next = parsed.inherits.clone().filter(|p| *p != n);
        chain.push((file, parsed));
    }
    // Merge from the root ancestor down: palettes and ui keys override, heat replaces.
    let mut palette: BTreeMap<String, String> = BTreeMap::new();
    let mut ui: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut heat: Option<(String, Vec<String>)> = None;
    for (file, t) in chain.iter().rev() {
        palette.extend(t.palette.clone());
        for (k, v) in &t.ui {
            if !UI_KEYS.contains(&k.as_str()) {
                return Err(ThemeError::UnknownKey {
                    file: file.clone(),
                    key: k.clone(),
                });
            }
            ui.insert(k.clone(), (file.clone(), v.clone()));
        }
        if let Some(h) = &t.heat {
            heat = Some((file.clone(), h.scale.clone()));
        }
    }
    let resolve = |file: &str, key: &str, v: &str| {
        let raw = palette.get(v).map_or(v, String::as_str);
        parse_hex(raw).ok_or_else(|| ThemeError::BadColor {
            file: file.to_string(),
            key: key.to_string(),
            value: v.to_string(),
        })
    };
    let mut resolved = BTreeMap::new();
    for (k, (file, v)) in &ui {
        resolved.insert(k.clone(), resolve(file, &format!("[ui] {k}"), v)?);
    }
    let (hfile, hscale) = heat.unwrap_or_default();
    if !(2..=16).contains(&hscale.len()) {
        return Err(ThemeError::HeatSize {
            file: hfile,
            found: hscale.len(),
        });
    }
    let heat = hscale
        .iter()
        .enumerate()
        .map(|(i, v)| resolve(&hfile, &format!("[heat] scale[{i}]"), v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Theme {
        name: name.to_string(),
        depth,
        ui: resolved,
        heat,
    })
}

impl Theme {
    /// The built-in default (`dark`); falls back to a plain theme if it could not load.
    pub fn fallback(depth: ColorDepth) -> Theme {
        load(DEFAULT_THEME, None, depth).unwrap_or(Theme {
            name: DEFAULT_THEME.into(),
            depth,
            ui: BTreeMap::new(),
            heat: vec![(80, 80, 200), (220, 60, 60)],
        })
    }

    fn color(&self, key: &str) -> Option<Color> {
        self.ui.get(key).and_then(|&c| at_depth(c, self.depth))
    }

    /// Foreground style of a `[ui]` key (plain when colourless).
    pub fn fg(&self, key: &str) -> Style {
        let s = self.base();
        match self.color(key) {
            Some(c) => s.fg(c),
            None => s,
        }
    }

    /// The screen's base style (background, if the theme sets one).
    pub fn base(&self) -> Style {
        match self.color("background") {
            Some(c) => Style::default().bg(c),
            None => Style::default(),
        }
    }

    pub fn muted(&self) -> Style {
        if self.depth == ColorDepth::Never {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            self.fg("muted")
        }
    }

    /// The selected list row / token cursor: a background, or reverse video.
    pub fn highlight(&self, key: &str) -> Style {
        match self.color(key) {
            Some(c) => Style::default()
                .bg(c)
                .fg(self.contrast(self.ui.get(key).copied())),
            None => Style::default().add_modifier(Modifier::REVERSED),
        }
    }

    /// Number of heat levels (legend cells).
    pub fn heat_levels(&self) -> usize {
        self.heat.len()
    }

    /// The heat colour of a 0..=1 value, as RGB (for exports: HTML pages).
    pub fn heat_rgb(&self, v: f32) -> Rgb {
        self.heat
            .get(self.heat_bucket(v))
            .copied()
            .unwrap_or((128, 128, 128))
    }

    /// A `[ui]` colour as RGB, if the theme sets it.
    pub fn ui_rgb(&self, key: &str) -> Option<Rgb> {
        self.ui.get(key).copied()
    }

    /// Bucket of a 0..=1 heat value.
    pub fn heat_bucket(&self, v: f32) -> usize {
        let n = self.heat.len().max(1);
        ((v.clamp(0.0, 1.0) * (n - 1) as f32).round() as usize).min(n - 1)
    }

    /// Black or white text, whichever reads better on `bg`.
    fn contrast(&self, bg: Option<Rgb>) -> Color {
        let Some((r, g, b)) = bg else {
            return Color::Reset;
        };
        let luma = 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
        let c = if luma > 140.0 {
            (0, 0, 0)
        } else {
            (255, 255, 255)
        };
        at_depth(c, self.depth).unwrap_or(Color::Reset)
    }

    /// A token's style: heat as background (with readable text); dropped tokens dimmed
    /// and struck through. Without colour: bold / normal / dim by heat.
    pub fn heat(&self, v: f32, dropped: bool) -> Style {
        let mut s = if self.depth == ColorDepth::Never {
            let m = if v >= 0.67 {
                Modifier::BOLD
            } else if v < 0.34 {
                Modifier::DIM
            } else {
                Modifier::empty()
            };
            Style::default().add_modifier(m)
        } else {
            let rgb = self.heat[self.heat_bucket(v)];
            let bg = at_depth(rgb, self.depth).unwrap_or(Color::Reset);
            Style::default().bg(bg).fg(self.contrast(Some(rgb)))
        };
        if dropped {
            s = s.add_modifier(Modifier::DIM | Modifier::CROSSED_OUT);
        }
        s
    }

    /// The legend cell of heat level `i`.
    pub fn heat_level(&self, i: usize) -> Style {
        let n = self.heat.len().max(2);
        self.heat(i as f32 / (n - 1) as f32, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_loads_at_every_depth() {
        for (name, _) in BUILTIN {
            for depth in [
                ColorDepth::TrueColor,
                ColorDepth::Ansi256,
                ColorDepth::Ansi16,
                ColorDepth::Never,
            ] {
                let t = load(name, None, depth).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(t.heat_levels() >= 2);
            }
        }
    }

    #[test]
    fn user_theme_inherits_and_bad_ones_name_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(
            p.join("mine.toml"),
            "inherits = \"viridis\"\n[ui]\ntext = \"#010203\"\n",
        )
        .unwrap();
        let t = load("mine", Some(p), ColorDepth::TrueColor).unwrap();
        assert_eq!(t.fg("text").fg, Some(Color::Rgb(1, 2, 3)));
        assert_eq!(t.heat_levels(), 8);
        std::fs::write(p.join("typo.toml"), "[ui]\ntxet = \"#000000\"\n").unwrap();
        let e = load("typo", Some(p), ColorDepth::TrueColor)
            .unwrap_err()
            .to_string();
        assert!(e.contains("typo.toml") && e.contains("txet"), "{e}");
        std::fs::write(p.join("broken.toml"), "[palette]\nfg = \n").unwrap();
        let e = load("broken", Some(p), ColorDepth::TrueColor)
            .unwrap_err()
            .to_string();
        assert!(e.contains("broken.toml") && e.contains("line 2"), "{e}");
        std::fs::write(
            p.join("badcol.toml"),
            "inherits = \"dark\"\n[ui]\ntext = \"purple\"\n",
        )
        .unwrap();
        let e = load("badcol", Some(p), ColorDepth::TrueColor)
            .unwrap_err()
            .to_string();
        assert!(e.contains("[ui] text") && e.contains("purple"), "{e}");
        std::fs::write(p.join("loop.toml"), "inherits = \"loop2\"\n").unwrap();
        std::fs::write(p.join("loop2.toml"), "inherits = \"loop\"\n").unwrap();
        assert!(matches!(
            load("loop", Some(p), ColorDepth::TrueColor),
            Err(ThemeError::InheritLoop { .. })
        ));
        let e = load("solar", Some(p), ColorDepth::TrueColor)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("solar") && e.contains("available: dark, light"),
            "{e}"
        );
    }

    #[test]
    fn no_colour_heat_uses_weight_and_strike() {
        let t = Theme::fallback(ColorDepth::Never);
        assert!(t.heat(0.9, false).add_modifier.contains(Modifier::BOLD));
        assert!(t.heat(0.1, false).add_modifier.contains(Modifier::DIM));
        assert!(t
            .heat(0.5, true)
            .add_modifier
            .contains(Modifier::CROSSED_OUT));
        assert_eq!(t.heat(0.9, false).bg, None);
    }
}
