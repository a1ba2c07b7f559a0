//! imgscope: where a container image's bytes go, and how to stop wasting them.
//!
//! The stages, each a folder, data flowing one way:
//! `load` (archive, manifests, layers → [`Index`]) → `analyze` (index, waste,
//! cache rules → [`Report`]) → `suggest` (fixes) → `ci` (checks) → `render`
//! (text, JSON, SARIF, …); `view` holds the UI-free view models the TUI
//! draws (the file tree as of a layer). The core never depends on the TUI
//! (`tui`, behind the default `tui` feature).

pub mod analyze;
pub mod ci;
pub mod compare;
pub mod error;
pub mod fix;
pub mod load;
pub mod present;
pub mod render;
pub mod suggest;
#[cfg(feature = "tui")]
pub mod tui;
pub mod units;
pub mod view;

pub use analyze::ignore::Ignore;
pub use analyze::rules::Rules;
pub use analyze::waste::{analyze, Analysis};
pub use error::{Error, Location, Result};
pub use load::index::Index;
pub use load::{load, load_reader, LoadOptions, LoadProgress, ProgressSnapshot};
pub use suggest::{suggest, Report};

/// The report of an index with nothing ignored: findings, totals and
/// suggestions (the base-image boundary, `analyze`, then `suggest`).
pub fn report(index: &Index, rules: &Rules, opts: &suggest::SuggestOptions) -> Result<Report> {
    report_ignoring(index, rules, &Ignore::none(), opts)
}

/// [`report`] leaving out the findings `ignore` matches.
pub fn report_ignoring(
    index: &Index,
    rules: &Rules,
    ignore: &Ignore,
    opts: &suggest::SuggestOptions,
) -> Result<Report> {
    let base = suggest::detect_base(index, opts)?;
    let analysis = analyze::waste::analyze_based(index, rules, ignore, base);
    suggest(index, analysis, rules, opts)
}
