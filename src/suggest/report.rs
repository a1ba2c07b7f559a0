//! The report: the analysis with the suggestions made from it. Built once,
//! by [`super::suggest`], from an [`Analysis`] it takes over.

use serde::Serialize;

use crate::analyze::waste::Analysis;

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub id: String,
    pub title: String,
    pub layers: Vec<usize>,
    pub saves_bytes: u64,
    /// Estimated download bytes it saves (see [`crate::analyze::pull`]).
    pub saves_compressed_bytes: u64,
    pub before: String,
    pub after: String,
    /// Why this wastes bytes, in plain words.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub why: String,
    /// The rule that made it (`chain-cleanup`, `package`, `multi-stage`, …).
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub kind: String,
    /// 1-based Dockerfile lines of its layers (with `--dockerfile`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub dockerfile_lines: Vec<usize>,
    /// Indexes into `Report::waste` of the findings this covers.
    #[serde(skip)]
    pub findings: Vec<usize>,
}

/// SPEC.md's report without its `checks` (a [`crate::ci::checks::Verdict`]
/// holds those): every field of the analysis, then `suggestions`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub analysis: Analysis,
    pub suggestions: Vec<Suggestion>,
}

impl std::ops::Deref for Report {
    type Target = Analysis;
    fn deref(&self) -> &Analysis {
        &self.analysis
    }
}
