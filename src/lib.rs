//! imgscope: where a container image's bytes go, and how to stop wasting them.
//!
//! The stages, each a folder, data flowing one way:
//! `load` (archive, manifests, layers → [`Index`]) → `analyze` (index, waste,
//! cache rules → [`Report`]) → `suggest` (fixes) → `ci` (checks) → `render`
//! (text, JSON, SARIF, …); `view` holds the UI-free view models the TUI
//! draws (the file tree as of a layer). The core never depends on the TUI
//! (`tui`, behind the default `tui` feature).
//!
//! Every command goes through one entry point, [`analyse`] (load, `--base`,
//! `--dockerfile`, base boundary, ignores, analysis, suggestions), and
//! nothing below it.

mod analyse;
pub mod analyze;
pub mod ci;
pub mod compare;
pub mod error;
pub mod fix;
pub mod load;
pub mod look;
pub mod present;
pub mod render;
pub mod report_cache;
pub mod suggest;
#[doc(hidden)]
pub mod testing;
#[cfg(feature = "tui")]
pub mod tui;
pub mod units;
pub mod view;
use imgscope_xxh3 as xxh3;

pub use analyse::{
    analyse, analyse_index, index_only, report, report_rendered, AnalyseOptions, Analysed,
    DockerfileRead, Reported,
};
pub use analyze::ignore::Ignore;
pub use analyze::rules::Rules;
pub use analyze::waste::{analyze, Analysis};
pub use error::{Error, Location, Result};
pub use load::index::Index;
pub use load::{load, load_reader, LoadOptions, LoadProgress, ProgressSnapshot};
pub use report_cache::Rendered;
pub use suggest::{suggest, Report};
