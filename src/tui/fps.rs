//! The frame cap (`--fps N`): at most N frames a second, drawn only when something
//! changed. Shared by the local TUI and the SSH viewers.

use std::time::{Duration, Instant};

/// Frames per second when `--fps` is not given.
pub const DEFAULT_FPS: u32 = 30;
/// The highest accepted `--fps` (more only costs bandwidth: terminals do not show it).
pub const MAX_FPS: u32 = 120;

/// Parses and checks `--fps` (1 to 120).
pub fn parse_fps(s: &str) -> Result<u32, String> {
    let n: u32 = s
        .trim()
        .parse()
        .map_err(|_| format!("--fps {s:?} is not a whole number (expected 1 to {MAX_FPS})"))?;
    if n == 0 || n > MAX_FPS {
        return Err(format!(
            "--fps {n} is out of range: expected 1 to {MAX_FPS} frames per second \
             (lower, e.g. 10, saves bandwidth over a slow ssh link)"
        ));
    }
    Ok(n)
}

/// The shortest time between two frames at `fps` (`fps` 0 is treated as 1).
pub fn frame_interval(fps: u32) -> Duration {
    Duration::from_micros(1_000_000 / u64::from(fps.max(1)))
}

/// Decides when to draw: only after something changed (`mark`), and at most once per
/// frame interval. The local TUI loop, the SSH viewers and `bench-tty` all use it, so
/// what the benchmark measures is what the loops do.
#[derive(Debug, Clone)]
pub struct FrameGate {
    interval: Duration,
    last: Option<Instant>,
    dirty: bool,
}

impl FrameGate {
    /// A gate at `fps` whose first frame is due at once.
    pub fn new(fps: u32) -> Self {
        FrameGate {
            interval: frame_interval(fps),
            last: None,
            dirty: true,
        }
    }

    /// Something changed: a frame is wanted.
    pub fn mark(&mut self) {
        self.dirty = true;
    }

    /// How long until the wanted frame may be drawn; `None` when nothing changed
    /// (then the loop may block until input arrives).
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        if !self.dirty {
            return None;
        }
        Some(self.last.map_or(Duration::ZERO, |t| {
            self.interval
                .saturating_sub(now.saturating_duration_since(t))
        }))
    }

    /// Whether to draw now.
    pub fn ready(&self, now: Instant) -> bool {
        self.wait(now) == Some(Duration::ZERO)
    }

    /// A frame was drawn at `now`.
    pub fn drawn(&mut self, now: Instant) {
        self.last = Some(now);
        self.dirty = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fps_range_is_checked() {
        assert_eq!(parse_fps("30"), Ok(30));
        assert_eq!(parse_fps(" 1 "), Ok(1));
        assert_eq!(parse_fps("120"), Ok(120));
        assert!(parse_fps("0").unwrap_err().contains("expected 1 to 120"));
        assert!(parse_fps("121").unwrap_err().contains("out of range"));
        assert!(parse_fps("fast")
            .unwrap_err()
            .contains("not a whole number"));
        assert!(parse_fps("-5").is_err());
        assert_eq!(frame_interval(30), Duration::from_micros(33_333));
        assert_eq!(frame_interval(0), Duration::from_secs(1));
    }

    #[test]
    fn gate_draws_only_changes_and_caps_the_rate() {
        let t0 = Instant::now();
        let mut g = FrameGate::new(10);
        assert!(g.ready(t0));
        g.drawn(t0);
        assert_eq!(g.wait(t0), None, "nothing changed: nothing to draw");
        g.mark();
        assert_eq!(
            g.wait(t0 + Duration::from_millis(40)),
            Some(Duration::from_millis(60))
        );
        assert!(!g.ready(t0 + Duration::from_millis(99)));
        assert!(g.ready(t0 + Duration::from_millis(100)));
    }
}
