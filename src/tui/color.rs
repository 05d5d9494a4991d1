//! Colour depth: detection (`--color`, `NO_COLOR`, `COLORTERM`, `TERM`) and mapping
//! theme colours (24-bit) down to the xterm 256-colour palette or the 16 ANSI colours.
//!
//! Many SSH sessions have no `COLORTERM`, and a truecolor escape on a 256-colour
//! terminal shows wrong colours, so truecolor is only used when announced.

use ratatui::style::Color;
use serde::{Deserialize, Serialize};

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorDepth {
    TrueColor,
    #[serde(rename = "256")]
    Ansi256,
    #[serde(rename = "16")]
    Ansi16,
    /// No colour at all: heat as bold / normal / dim, drops in brackets.
    Never,
}

impl std::str::FromStr for ColorDepth {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "truecolor" | "24bit" => Ok(ColorDepth::TrueColor),
            "256" => Ok(ColorDepth::Ansi256),
            "16" => Ok(ColorDepth::Ansi16),
            "never" | "none" | "off" => Ok(ColorDepth::Never),
            other => Err(format!(
                "unknown colour depth {other:?} (expected truecolor, 256, 16 or never)"
            )),
        }
    }
}

/// The depth to use: an explicit choice wins; then `NO_COLOR` (any non-empty value);
/// then `COLORTERM=truecolor|24bit`; then `TERM` (see [`depth_from_term`]). `env` looks
/// a variable up (a closure, so tests need no process environment).
///
/// `ssh` forwards `TERM` but not `COLORTERM` (unless both ends set `SendEnv`/`AcceptEnv`),
/// so over SSH the decision is usually `TERM`'s.
pub fn detect(explicit: Option<ColorDepth>, env: impl Fn(&str) -> Option<String>) -> ColorDepth {
    if let Some(d) = explicit {
        return d;
    }
    if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return ColorDepth::Never;
    }
    let colorterm = env("COLORTERM").unwrap_or_default().to_ascii_lowercase();
    if colorterm == "truecolor" || colorterm == "24bit" {
        return ColorDepth::TrueColor;
    }
    depth_from_term(&env("TERM").unwrap_or_default())
}

/// Terminals whose own `TERM` name promises 24-bit colour (set by the terminal itself, and
/// forwarded by ssh).
const TRUECOLOR_TERMS: [&str; 5] = ["xterm-kitty", "alacritty", "wezterm", "foot", "contour"];

/// The depth `TERM` alone implies (no `COLORTERM`, the usual case over ssh):
/// - `*-direct`, `*truecolor*`, `*24bit*`, and the names of terminals that only exist with
///   24-bit colour (`xterm-kitty`, `alacritty`, `wezterm`, `foot`, `contour`) -> truecolor;
/// - `*256color*` (`xterm-256color`, `screen-256color`, `tmux-256color`) -> 256;
/// - empty, `dumb`, `unknown`, and the monochrome `vt52`..`vt220` -> no colour;
/// - anything else (`xterm`, `screen`, `tmux`, `linux`, `rxvt`, `ansi`, `vt320`+...) -> 16.
pub fn depth_from_term(term: &str) -> ColorDepth {
    let term = term.trim().to_ascii_lowercase();
    let base = term.split('-').next().unwrap_or_default();
    if term.is_empty() || matches!(term.as_str(), "dumb" | "unknown") {
        ColorDepth::Never
    } else if matches!(base, "vt52" | "vt100" | "vt102" | "vt220") && !term.contains("color") {
        ColorDepth::Never
    } else if term.ends_with("-direct")
        || term.contains("truecolor")
        || term.contains("24bit")
        || TRUECOLOR_TERMS
            .iter()
            .any(|t| term == *t || term.starts_with(&format!("{t}-")))
    {
        ColorDepth::TrueColor
    } else if term.contains("256color") {
        ColorDepth::Ansi256
    } else {
        ColorDepth::Ansi16
    }
}

/// Parses `#rrggbb` (or `#rgb`).
pub fn parse_hex(s: &str) -> Option<(u8, u8, u8)> {
    let h = s.strip_prefix('#')?;
    let channel = |i: usize, len: usize| {
        let v = u8::from_str_radix(h.get(i * len..(i + 1) * len)?, 16).ok()?;
        Some(if len == 1 { v * 17 } else { v })
    };
    match h.len() {
        6 => Some((channel(0, 2)?, channel(1, 2)?, channel(2, 2)?)),
        3 => Some((channel(0, 1)?, channel(1, 1)?, channel(2, 1)?)),
        _ => None,
    }
}

/// The 16 ANSI colours with xterm's default RGB values, in index order.
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// Squared distance weighted for perceived brightness (a cheap "redmean"-like metric).
fn dist(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).unsigned_abs();
    let (r, g, b2) = (d(a.0, b.0), d(a.1, b.1), d(a.2, b.2));
    2 * r * r + 4 * g * g + 3 * b2 * b2
}

const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

fn cube_index(v: u8) -> usize {
    CUBE.iter()
        .enumerate()
        .min_by_key(|(_, &c)| (i32::from(c) - i32::from(v)).unsigned_abs())
        .map_or(0, |(i, _)| i)
}

/// Nearest xterm-256 index (6x6x6 cube or the 24 greys; the first 16 are left out
/// because terminals redefine them).
pub fn to_256(rgb: (u8, u8, u8)) -> u8 {
    let (ri, gi, bi) = (cube_index(rgb.0), cube_index(rgb.1), cube_index(rgb.2));
    let cube = (CUBE[ri], CUBE[gi], CUBE[bi]);
    let cube_idx = 16 + 36 * ri + 6 * gi + bi;
    let avg = (u32::from(rgb.0) + u32::from(rgb.1) + u32::from(rgb.2)) / 3;
    let grey_i = ((avg.saturating_sub(8)) / 10).min(23);
    let grey_v = (8 + 10 * grey_i) as u8;
    if dist(rgb, (grey_v, grey_v, grey_v)) < dist(rgb, cube) {
        232 + grey_i as u8
    } else {
        cube_idx as u8
    }
}

/// Nearest of the 16 ANSI colours.
pub fn to_16(rgb: (u8, u8, u8)) -> Color {
    ANSI16
        .iter()
        .min_by_key(|(_, c)| dist(rgb, *c))
        .map_or(Color::Reset, |(c, _)| *c)
}

/// A theme colour at `depth` (`None`: no colour).
pub fn at_depth(rgb: (u8, u8, u8), depth: ColorDepth) -> Option<Color> {
    match depth {
        ColorDepth::TrueColor => Some(Color::Rgb(rgb.0, rgb.1, rgb.2)),
        ColorDepth::Ansi256 => Some(Color::Indexed(to_256(rgb))),
        ColorDepth::Ansi16 => Some(to_16(rgb)),
        ColorDepth::Never => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn detection_order() {
        assert_eq!(
            detect(Some(ColorDepth::Ansi16), env(&[("COLORTERM", "truecolor")])),
            ColorDepth::Ansi16
        );
        assert_eq!(
            detect(None, env(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")])),
            ColorDepth::Never
        );
        assert_eq!(
            detect(None, env(&[("NO_COLOR", ""), ("COLORTERM", "24bit")])),
            ColorDepth::TrueColor
        );
        assert_eq!(
            detect(None, env(&[("TERM", "xterm-256color")])),
            ColorDepth::Ansi256
        );
        assert_eq!(detect(None, env(&[("TERM", "screen")])), ColorDepth::Ansi16);
        assert_eq!(detect(None, env(&[("TERM", "dumb")])), ColorDepth::Never);
        assert_eq!("256".parse::<ColorDepth>(), Ok(ColorDepth::Ansi256));
        assert!("rainbow"
            .parse::<ColorDepth>()
            .unwrap_err()
            .contains("truecolor, 256, 16 or never"));
    }

    /// What TERM alone (no COLORTERM, as over a plain ssh) decides.
    #[test]
    fn term_decides_without_colorterm() {
        let cases = [
            ("xterm-256color", ColorDepth::Ansi256),
            ("screen-256color", ColorDepth::Ansi256),
            ("tmux-256color", ColorDepth::Ansi256),
            ("XTERM-256COLOR", ColorDepth::Ansi256),
            ("xterm", ColorDepth::Ansi16),
            ("xterm-color", ColorDepth::Ansi16),
            ("screen", ColorDepth::Ansi16),
            ("screen.xterm-new", ColorDepth::Ansi16),
            ("tmux", ColorDepth::Ansi16),
            ("linux", ColorDepth::Ansi16),
            ("rxvt-unicode", ColorDepth::Ansi16),
            ("xterm-direct", ColorDepth::TrueColor),
            ("xterm-truecolor", ColorDepth::TrueColor),
            ("xterm-kitty", ColorDepth::TrueColor),
            ("alacritty", ColorDepth::TrueColor),
            ("foot-extra", ColorDepth::TrueColor),
            ("wezterm", ColorDepth::TrueColor),
            ("vt100", ColorDepth::Never),
            ("vt220", ColorDepth::Never),
            ("dumb", ColorDepth::Never),
            ("unknown", ColorDepth::Never),
            ("", ColorDepth::Never),
        ];
        for (term, want) in cases {
            assert_eq!(depth_from_term(term), want, "TERM={term:?}");
            assert_eq!(detect(None, env(&[("TERM", term)])), want, "TERM={term:?}");
        }
        // COLORTERM still wins when it is forwarded; NO_COLOR over everything.
        assert_eq!(
            detect(None, env(&[("TERM", "xterm"), ("COLORTERM", "truecolor")])),
            ColorDepth::TrueColor
        );
        assert_eq!(
            detect(None, env(&[("TERM", "xterm-kitty"), ("NO_COLOR", "1")])),
            ColorDepth::Never
        );
    }

    #[test]
    fn mapping_down_keeps_pure_colours() {
        assert_eq!(parse_hex("#ff0000"), Some((255, 0, 0)));
        assert_eq!(parse_hex("#f00"), Some((255, 0, 0)));
        assert_eq!(parse_hex("ff0000"), None);
        assert_eq!(to_256((255, 0, 0)), 196);
        assert_eq!(to_256((128, 128, 128)), 244);
        assert_eq!(to_16((250, 5, 5)), Color::LightRed);
        assert_eq!(to_16((10, 10, 10)), Color::Black);
    }

    proptest! {
        #[test]
        fn hex_round_trips(r: u8, g: u8, b: u8) {
            prop_assert_eq!(parse_hex(&format!("#{r:02x}{g:02x}{b:02x}")), Some((r, g, b)));
            prop_assert!(to_256((r, g, b)) >= 16);
        }
    }
}
