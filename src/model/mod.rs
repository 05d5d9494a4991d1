//! model (module root: declarations and re-exports only).
