//! View models of an analysed image for interactive front ends (the TUI):
//! UI-free, so they are tested without the `tui` feature.
//!
//! - `tree`: the file tree as of one layer (shown nodes, change marks,
//!   aggregated sizes, display order), built once per layer/mode/filter/sort.
//! - `columns`: the few index columns a tree build reads, copied once.
//! - `nav`: expansion, preorder row navigation and the cursor over a tree.
//! - `filter`: the path filter (text, glob or regex).
//! - `prefetch`: built trees kept, and the neighbouring layers' trees built
//!   ahead on a background thread.
//!
//! Stage: reads `analyze` (the index and the report); nothing below imports it.

pub mod columns;
pub mod filter;
pub mod nav;
pub mod prefetch;
pub mod tree;

pub use columns::Columns;
pub use filter::PathFilter;
pub use nav::{Cursor, Expansion, Nav};
pub use prefetch::Trees;
pub use tree::{hide_kinds, HideKinds, Key, Mark, Mode, Sort, Tree, Types};

#[cfg(test)]
mod check;
