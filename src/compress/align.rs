//! Alignment between the full and the compressed token sequences, for the side-by-side
//! view: which compressed position each full token went to, and back.
//!
//! The compressed sequence is the kept tokens in order (as counted by the mask; a token
//! the text rendering elided still has its position), so both directions are plain
//! index maps and need no text matching.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alignment {
    /// For each full token: its index in the compressed sequence, or `None` if dropped.
    pub full_to_compressed: Vec<Option<usize>>,
    /// For each compressed token: its index in the full sequence (strictly increasing).
    pub compressed_to_full: Vec<usize>,
}

impl Alignment {
    pub fn from_mask(mask: &[bool]) -> Self {
        let mut compressed_to_full = Vec::with_capacity(mask.iter().filter(|&&k| k).count());
        let full_to_compressed = mask
            .iter()
            .enumerate()
            .map(|(i, &keep)| {
                keep.then(|| {
                    compressed_to_full.push(i);
                    compressed_to_full.len() - 1
                })
            })
            .collect();
        Self {
            full_to_compressed,
            compressed_to_full,
        }
    }

    /// Full-sequence range of the tokens dropped just before compressed token `c` (what
    /// the side-by-side view shows as a gap marker); empty when none were.
    pub fn dropped_before(&self, c: usize) -> std::ops::Range<usize> {
        let end = self
            .compressed_to_full
            .get(c)
            .copied()
            .unwrap_or(self.full_to_compressed.len());
        let start = match c {
            0 => 0,
            _ => self.compressed_to_full.get(c - 1).map_or(end, |&p| p + 1),
        };
        start..end.max(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_both_ways() {
        let a = Alignment::from_mask(&[true, false, false, true, true, false]);
        assert_eq!(
            a.full_to_compressed,
            vec![Some(0), None, None, Some(1), Some(2), None]
        );
        assert_eq!(a.compressed_to_full, vec![0, 3, 4]);
        for (c, &f) in a.compressed_to_full.iter().enumerate() {
            assert_eq!(a.full_to_compressed[f], Some(c));
        }
    }

    #[test]
    fn dropped_runs_between_kept_tokens() {
        let a = Alignment::from_mask(&[false, true, false, false, true, false]);
        assert_eq!(a.dropped_before(0), 0..1);
        assert_eq!(a.dropped_before(1), 2..4);
        // Past the last kept token: the trailing drop.
        assert_eq!(a.dropped_before(2), 5..6);
    }

    #[test]
    fn all_dropped() {
        let a = Alignment::from_mask(&[false, false]);
        assert!(a.compressed_to_full.is_empty());
        assert_eq!(a.dropped_before(0), 0..2);
    }
}
