//! Suggestions: group findings by cause and say what to write instead.
//! (Filled in by the suggestions work; see issue "Findings that teach".)

use crate::analysis::{Report, Suggestion};
use crate::index::Index;
use crate::rules::Rules;

/// Options for suggestions (a Dockerfile to cite, when given).
#[derive(Debug, Clone, Default)]
pub struct SuggestOptions {
    pub dockerfile: Option<std::path::PathBuf>,
}

pub fn suggest(_index: &Index, _report: &Report, _rules: &Rules, _opts: &SuggestOptions) -> crate::Result<Vec<Suggestion>> {
    Ok(Vec::new())
}
