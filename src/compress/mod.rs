//! compress (module root: declarations and re-exports only).

pub mod align;
pub mod engine;
pub mod text;

pub use align::Alignment;
pub use engine::{CompressError, CompressOptions, Compressed, Compressor, Granularity, Kept};
pub use text::{Rendered, TextLayout};
