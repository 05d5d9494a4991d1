//! Learning-rate schedules, as transformers defines them (`get_*_schedule_with_warmup`).

/// The shape of the learning-rate curve after warmup.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    Cosine,
    Linear,
    Constant,
}

/// Warmup steps for a ratio, rounded up as transformers' `get_warmup_steps` does.
pub fn warmup_steps(ratio: f64, total: u64) -> u64 {
    (ratio * total as f64).ceil() as u64
}

/// The learning rate used for optimizer step `step` (0-based) of `total`.
pub fn lr_at(schedule: Schedule, base: f64, step: u64, warmup: u64, total: u64) -> f64 {
    if step < warmup {
        return base * step as f64 / warmup.max(1) as f64;
    }
    let progress = (step - warmup) as f64 / (total.saturating_sub(warmup)).max(1) as f64;
    let factor = match schedule {
        Schedule::Cosine => (0.5 * (1.0 + (std::f64::consts::PI * progress).cos())).max(0.0),
        Schedule::Linear => (1.0 - progress).max(0.0),
        Schedule::Constant => 1.0,
    };
    base * factor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_with_warmup_matches_transformers() {
        // get_cosine_schedule_with_warmup(num_warmup_steps=1, num_training_steps=3), lr 5e-3:
        // steps 0, 1, 2 use 0, 5e-3, 2.5e-3.
        let lrs: Vec<f64> = (0..3)
            .map(|s| lr_at(Schedule::Cosine, 5e-3, s, 1, 3))
            .collect();
        assert!(
            (lrs[0]).abs() < 1e-12
                && (lrs[1] - 5e-3).abs() < 1e-12
                && (lrs[2] - 2.5e-3).abs() < 1e-12,
            "{lrs:?}"
        );
        assert_eq!(warmup_steps(0.1, 95), 10);
    }
}
