//! The report: the analysis with the suggestions made from it. Built once,
//! by [`super::suggest`], from an [`Analysis`] it takes over.

use serde::{Deserialize, Serialize};

use crate::analyze::waste::Analysis;

/// The rule that made a suggestion; serialised as its kebab-case name
/// (`chain-cleanup`), which is also its `[rule.NAME]` in
/// assets/suggestions.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuggestionKind {
    ChainCleanup,
    DownloadExtract,
    Metadata,
    Move,
    Overwrite,
    Duplicate,
    BaseImage,
    BaseCache,
    Package,
    PackageMerge,
    Optional,
    MultiStage,
    Recommends,
    Strip,
}

impl SuggestionKind {
    pub const ALL: [SuggestionKind; 14] = [
        SuggestionKind::ChainCleanup,
        SuggestionKind::DownloadExtract,
        SuggestionKind::Metadata,
        SuggestionKind::Move,
        SuggestionKind::Overwrite,
        SuggestionKind::Duplicate,
        SuggestionKind::BaseImage,
        SuggestionKind::BaseCache,
        SuggestionKind::Package,
        SuggestionKind::PackageMerge,
        SuggestionKind::Optional,
        SuggestionKind::MultiStage,
        SuggestionKind::Recommends,
        SuggestionKind::Strip,
    ];

    /// The name in JSON and in assets/suggestions.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionKind::ChainCleanup => "chain-cleanup",
            SuggestionKind::DownloadExtract => "download-extract",
            SuggestionKind::Metadata => "metadata",
            SuggestionKind::Move => "move",
            SuggestionKind::Overwrite => "overwrite",
            SuggestionKind::Duplicate => "duplicate",
            SuggestionKind::BaseImage => "base-image",
            SuggestionKind::BaseCache => "base-cache",
            SuggestionKind::Package => "package",
            SuggestionKind::PackageMerge => "package-merge",
            SuggestionKind::Optional => "optional",
            SuggestionKind::MultiStage => "multi-stage",
            SuggestionKind::Recommends => "recommends",
            SuggestionKind::Strip => "strip",
        }
    }
}

impl std::fmt::Display for SuggestionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suggestion {
    pub id: String,
    pub title: String,
    pub layers: Vec<usize>,
    pub saves_bytes: u64,
    /// Estimated download bytes it saves (see [`crate::analyze::pull`]).
    pub saves_compressed_bytes: u64,
    pub before: String,
    pub after: String,
    /// Why no After is printed (empty when there is one, or when the
    /// suggestion is advice without a Dockerfile change): an After is valid
    /// Dockerfile or it is not shown (see [`crate::suggest::valid`]).
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub no_after: String,
    /// Why this wastes bytes, in plain words.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub why: String,
    /// The rule that made it (`chain-cleanup`, `package`, `multi-stage`, …).
    pub kind: SuggestionKind,
    /// 1-based Dockerfile lines of its layers (with `--dockerfile`).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub dockerfile_lines: Vec<usize>,
    /// About waste the base image's layers store: not a line of the user's
    /// Dockerfile to change, but a choice of base (written only when true).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub in_base: bool,
    /// Indexes into `Report::waste` of the findings this covers.
    #[serde(skip)]
    pub findings: Vec<usize>,
    /// The Dockerfile change as an edit of its steps, when the After is
    /// exactly that change (what `imgscope fix` applies).
    #[serde(skip)]
    pub edit: Option<Edit>,
}

/// A change of the Dockerfile's layer-creating steps: each listed layer's
/// instruction is replaced by the text (None: removed). The first layer
/// listed is where a joined RUN goes; the others move up to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub steps: Vec<(usize, Option<String>)>,
    /// The final stage rewritten whole (multi-stage): this text replaces the
    /// Dockerfile from the final stage's `FROM` to its end.
    pub stage: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::SuggestionKind;

    #[test]
    fn kind_names_are_their_json() {
        for k in SuggestionKind::ALL {
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::String(k.as_str().to_string())
            );
        }
    }
}
