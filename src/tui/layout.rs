//! Screen regions from the terminal size, with no ratatui types: `update` uses them for
//! mouse hit-testing and cursor scrolling, the views convert them to `Rect`s, so both
//! always agree on where things are.

/// A rectangle of cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Area {
    pub x: u16,
    pub y: u16,
    pub w: u16,
    pub h: u16,
}

impl Area {
    pub fn contains(&self, col: u16, row: u16) -> bool {
        col >= self.x && col < self.x + self.w && row >= self.y && row < self.y + self.h
    }

    /// The area inside a one-cell border.
    pub fn inner(&self) -> Area {
        Area {
            x: self.x.saturating_add(1),
            y: self.y.saturating_add(1),
            w: self.w.saturating_sub(2),
            h: self.h.saturating_sub(2),
        }
    }
}

/// Where everything goes. Areas are empty (w or h 0) when they do not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Regions {
    pub header: Area,
    /// Question list, bordered.
    pub list: Area,
    /// Prompt box, one line.
    pub prompt: Area,
    /// Full CoT pane, bordered.
    pub full: Area,
    /// Compressed CoT pane, bordered.
    pub compressed: Area,
    /// The model's own CoT at gamma (`G`), under the compressed pane; empty unless split.
    pub model: Area,
    pub legend: Area,
    pub slider: Area,
    pub stats: Area,
    pub inspector: Area,
    pub status: Area,
}

/// Width of the question list for a terminal `cols` wide.
fn list_width(cols: u16) -> u16 {
    (cols / 4).clamp(16, 36)
}

/// Lays out a `cols` x `rows` screen (the caller checks the minimum size first).
pub fn regions(cols: u16, rows: u16) -> Regions {
    let row = |y: u16| Area {
        x: 0,
        y,
        w: cols,
        h: u16::from(y < rows),
    };
    let bottom = 5u16.min(rows.saturating_sub(1));
    let body_y = 1u16.min(rows);
    let body_h = rows.saturating_sub(1 + bottom);
    let lw = list_width(cols).min(cols);
    let right_x = lw;
    let right_w = cols.saturating_sub(lw);
    let pane_y = body_y + 1;
    let pane_h = body_h.saturating_sub(1);
    let full_w = right_w / 2;
    let base = rows.saturating_sub(bottom);
    Regions {
        header: row(0),
        list: Area {
            x: 0,
            y: body_y,
            w: lw,
            h: body_h,
        },
        prompt: Area {
            x: right_x,
            y: body_y,
            w: right_w,
            h: u16::from(body_h > 0),
        },
        full: Area {
            x: right_x,
            y: pane_y,
            w: full_w,
            h: pane_h,
        },
        compressed: Area {
            x: right_x + full_w,
            y: pane_y,
            w: right_w - full_w,
            h: pane_h,
        },
        model: Area::default(),
        legend: row(base),
        slider: row(base + 1),
        stats: row(base + 2),
        inspector: row(base + 3),
        status: row(base + 4),
    }
}

/// Splits the compressed pane: pruned on top, the model's CoT at gamma below.
pub fn split_model(mut r: Regions) -> Regions {
    let top = r.compressed.h / 2;
    r.model = Area {
        y: r.compressed.y + top,
        h: r.compressed.h - top,
        ..r.compressed
    };
    r.compressed.h = top;
    r
}

/// The track of the ratio slider inside `slider`: label before, value after.
pub fn slider_track(slider: Area) -> Area {
    const LABEL: u16 = 12; // "ratio γ 0.05 "
    const VALUE: u16 = 12; // " 1.00  (0.60)"
    Area {
        x: slider.x + LABEL.min(slider.w),
        y: slider.y,
        w: slider.w.saturating_sub(LABEL + VALUE),
        h: slider.h,
    }
}

/// The ratio step (1..=20) for a click at column `col` on the slider track.
pub fn ratio_at(track: Area, col: u16) -> u8 {
    if track.w <= 1 {
        return 20;
    }
    let offset = f64::from(col.saturating_sub(track.x).min(track.w - 1));
    let frac = offset / f64::from(track.w - 1);
    (1.0 + frac * 19.0).round().clamp(1.0, 20.0) as u8
}

/// The column of the slider knob for ratio `steps`.
pub fn knob_col(track: Area, steps: u8) -> u16 {
    if track.w <= 1 {
        return track.x;
    }
    let frac = f64::from(steps.clamp(1, 20) - 1) / 19.0;
    track.x + (frac * f64::from(track.w - 1)).round() as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_tile_the_minimum_screen() {
        let r = regions(60, 16);
        assert_eq!(r.status.y, 15);
        assert_eq!(r.legend.y, 11);
        assert_eq!(r.list.h, 10);
        assert_eq!(r.full.y + r.full.h, 11);
        assert_eq!(r.full.w + r.compressed.w + r.list.w, 60);
    }

    #[test]
    fn slider_round_trips() {
        let track = slider_track(regions(120, 40).slider);
        for steps in 1..=20 {
            assert_eq!(ratio_at(track, knob_col(track, steps)), steps);
        }
        assert_eq!(ratio_at(track, 0), 1);
        assert_eq!(ratio_at(track, 119), 20);
    }
}
