//! Comparing analyses: `diff` (two images: which Dockerfile change bought
//! which bytes) and `share` (many images: what a host storing them all pays).
//! Pure functions over loaded indexes and their reports; sorted output.
//! A stage after `analyze`/`suggest`; `render` draws the results.

pub mod align;
pub mod diff;
pub mod files;
pub mod share;
pub mod tree;

pub use diff::{diff, Diff, FileStatus, LayerStatus};
pub use share::{share, Share};
