//! importance (module root: declarations and re-exports only).
