//! The texts and data of the suggestion rules, from `assets/suggestions.toml`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::analyze::globfilter::GlobFilter;
use crate::analyze::waste::WasteKind;
use crate::suggest::SuggestionKind;

pub const SUGGESTIONS: &str = include_str!("../../assets/suggestions.toml");

#[derive(Debug, Deserialize)]
pub struct Why {
    pub removed: String,
    pub overwritten: String,
    pub metadata_only: String,
    pub moved: String,
    pub cache: String,
    pub squash: String,
}

#[derive(Debug, Deserialize)]
pub struct RuleText {
    pub title: String,
    pub why: String,
    #[serde(default)]
    pub sarif_short: Option<String>,
    #[serde(default)]
    pub sarif_full: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SarifText {
    pub short: String,
    pub full: String,
}

#[derive(Debug, Deserialize)]
pub struct Manager {
    pub name: String,
    #[serde(default)]
    pub commands: Vec<String>,
    #[serde(default)]
    pub flag: Option<String>,
    #[serde(default)]
    pub drop: Vec<String>,
    #[serde(default)]
    pub append: Option<String>,
    #[serde(default)]
    pub mounts: Vec<String>,
    #[serde(default)]
    pub tmpfs: Option<String>,
    /// Cache directories (a path's last components, `.npm/_logs`) that
    /// `append` does not empty: removed by name after it.
    #[serde(default)]
    pub leaves: Vec<String>,
    pub fix: String,
}

#[derive(Debug, Deserialize)]
pub struct Toolchain {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    pub markers: Vec<String>,
    pub globs: Vec<String>,
    pub builds: Vec<String>,
}

impl Toolchain {
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Deserialize)]
pub struct Texts {
    pub why: Why,
    pub sarif: SarifText,
    pub rule: BTreeMap<String, RuleText>,
    pub manager: Vec<Manager>,
    pub toolchain: Vec<Toolchain>,
}

impl Texts {
    pub fn rule(&self, kind: SuggestionKind) -> &RuleText {
        self.rule
            .get(kind.as_str())
            .unwrap_or_else(|| panic!("assets/suggestions.toml has no [rule.{kind}]"))
    }

    /// The SARIF rule texts of a suggestion kind: short and full description.
    pub fn sarif(&self, kind: SuggestionKind) -> (&str, &str) {
        let t = self.rule.get(kind.as_str());
        (
            t.and_then(|t| t.sarif_short.as_deref())
                .unwrap_or(&self.sarif.short),
            t.and_then(|t| t.sarif_full.as_deref())
                .unwrap_or(&self.sarif.full),
        )
    }

    pub fn manager(&self, name: &str) -> Option<&Manager> {
        self.manager.iter().find(|m| m.name == name)
    }

    pub fn why(&self, kind: WasteKind) -> &str {
        match kind {
            WasteKind::Removed => &self.why.removed,
            WasteKind::Overwritten => &self.why.overwritten,
            WasteKind::MetadataOnly => &self.why.metadata_only,
            WasteKind::Moved => &self.why.moved,
            WasteKind::Cache => &self.why.cache,
        }
    }
}

/// The built-in texts (parsed once).
pub fn texts() -> &'static Texts {
    static T: OnceLock<Texts> = OnceLock::new();
    T.get_or_init(|| toml::from_str(SUGGESTIONS).expect("assets/suggestions.toml parses"))
}

/// Fill `{name}` placeholders; other braces are left alone.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Globs over absolute paths, with the same syntax as the cache rules:
/// `*` does not cross `/`, `**` does.
pub fn glob(g: &str) -> Glob {
    GlobBuilder::new(g)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .unwrap_or_else(|e| panic!("assets/suggestions.toml: bad glob {g:?}: {e}"))
}

/// One glob set over many groups of globs; `owner[i]` is the group of glob i.
pub struct GroupedGlobs {
    pub set: GlobSet,
    pub owner: Vec<usize>,
    /// The set's pre-test: a path it rules out is in no group.
    pub filter: GlobFilter,
}

impl GroupedGlobs {
    pub fn new<'a>(groups: impl Iterator<Item = &'a [String]>) -> GroupedGlobs {
        let mut b = GlobSetBuilder::new();
        let mut owner = Vec::new();
        let mut all = Vec::new();
        for (i, globs) in groups.enumerate() {
            for g in globs {
                b.add(glob(g));
                owner.push(i);
                all.push(g.as_str());
            }
        }
        GroupedGlobs {
            set: b.build().expect("glob set builds"),
            owner,
            filter: GlobFilter::new(all),
        }
    }

    /// [`GroupedGlobs::groups`] of `path`, the path of `node`, decided per
    /// directory by `dirs` (over [`GroupedGlobs::filter`]) where it can:
    /// `path()` is asked only otherwise.
    pub fn groups_at<P: AsRef<[u8]>>(
        &self,
        dirs: &mut crate::analyze::globfilter::DirFilter,
        node: crate::load::index::NodeId,
        path: impl FnOnce() -> P,
    ) -> Vec<usize> {
        match dirs.matches(node) {
            Some(globs) => {
                let mut g: Vec<usize> = globs.iter().map(|&i| self.owner[i as usize]).collect();
                g.dedup();
                g
            }
            None => self.groups(path().as_ref()),
        }
    }

    /// The first of [`GroupedGlobs::groups_at`], without listing them.
    pub fn first_group_at<P: AsRef<[u8]>>(
        &self,
        dirs: &mut crate::analyze::globfilter::DirFilter,
        node: crate::load::index::NodeId,
        path: impl FnOnce() -> P,
    ) -> Option<usize> {
        // A group's globs come after the earlier groups': the least glob
        // matching is of the least group.
        match dirs.least_match(node, |i| self.owner[i as usize]) {
            Some(g) => g,
            None => self.groups(path().as_ref()).first().copied(),
        }
    }

    /// The groups whose globs match `path`, each once, in order.
    pub fn groups(&self, path: &[u8]) -> Vec<usize> {
        let cand = globset::Candidate::new(crate::analyze::rules::bytes_as_path(path));
        let mut g: Vec<usize> = self
            .set
            .matches_candidate(&cand)
            .into_iter()
            .map(|i| self.owner[i])
            .collect();
        g.sort_unstable();
        g.dedup();
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_parse_and_name_every_rule() {
        let t = texts();
        // Recommends and strip write their own texts (suggest/installed.rs).
        for k in SuggestionKind::ALL {
            if !matches!(k, SuggestionKind::Recommends | SuggestionKind::Strip) {
                assert!(!t.rule(k).title.is_empty(), "{k}");
            }
        }
        // Every manager of the cache rules has its fix text.
        for r in crate::analyze::rules::Rules::builtin().rules {
            assert!(t.manager(&r.manager).is_some(), "manager {}", r.manager);
        }
        for tc in &t.toolchain {
            for g in tc.markers.iter().chain(&tc.globs) {
                glob(g);
            }
        }
    }

    #[test]
    fn toolchain_globs_match_absolute_paths() {
        let t = texts();
        let g = GroupedGlobs::new(t.toolchain.iter().map(|t| t.markers.as_slice()));
        let name = |p: &str| -> Vec<&str> {
            g.groups(p.as_bytes())
                .into_iter()
                .map(|i| t.toolchain[i].name.as_str())
                .collect()
        };
        assert_eq!(name("/usr/lib/gcc/x86_64-linux-gnu/12/cc1"), ["gcc"]);
        assert_eq!(
            name("/usr/libexec/gcc/x86_64-alpine-linux-musl/13.2.1/cc1"),
            ["gcc"]
        );
        assert_eq!(
            name("/usr/lib/jvm/java-17-openjdk-amd64/bin/javac"),
            ["jdk"]
        );
        assert_eq!(name("/usr/local/go/bin/go"), ["go"]);
        assert_eq!(name("/usr/local/cargo/bin/rustc"), ["rust"]);
        assert_eq!(name("/usr/bin/x86_64-linux-gnu-gcc-12"), ["gcc"]);
        assert!(name("/usr/bin/gcc-ar").is_empty());
        assert!(name("/usr/lib/jvm/x/bin/java").is_empty());
    }

    #[test]
    fn fill_keeps_shell_braces() {
        assert_eq!(
            fill("{a} -exec rm {} +", &[("a", "find")]),
            "find -exec rm {} +"
        );
    }
}
