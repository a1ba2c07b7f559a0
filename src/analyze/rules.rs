//! Cache/temp rules: data in `assets/cache-rules.toml`, compiled to a glob set.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

pub const DEFAULT_RULES: &str = include_str!("../../assets/cache-rules.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub id: String,
    pub manager: String,
    pub title: String,
    pub globs: Vec<String>,
    pub fix: String,
}

#[derive(Debug, Deserialize)]
struct RuleFile {
    rule: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub struct Rules {
    pub rules: Vec<Rule>,
    set: GlobSet,
    owner: Vec<usize>,
}

impl Rules {
    pub fn parse(text: &str) -> Result<Rules, String> {
        let file: RuleFile = toml::from_str(text).map_err(|e| format!("bad rules file: {e}"))?;
        let mut b = GlobSetBuilder::new();
        let mut owner = Vec::new();
        for (i, r) in file.rule.iter().enumerate() {
            for g in &r.globs {
                let glob = GlobBuilder::new(g)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .build()
                    .map_err(|e| format!("rule {}: bad glob {g:?}: {e}", r.id))?;
                b.add(glob);
                owner.push(i);
            }
        }
        Ok(Rules {
            rules: file.rule,
            set: b.build().map_err(|e| e.to_string())?,
            owner,
        })
    }

    pub fn builtin() -> Rules {
        Rules::parse(DEFAULT_RULES).expect("built-in rules parse")
    }

    pub fn empty() -> Rules {
        Rules::parse("rule = []").expect("empty rules")
    }

    /// The first rule (in file order) whose glob matches an absolute path.
    pub fn matching(&self, path: &[u8]) -> Option<&Rule> {
        let cand = globset::Candidate::new(bytes_as_path(path));
        self.set
            .matches_candidate(&cand)
            .into_iter()
            .map(|g| self.owner[g])
            .min()
            .map(|i| &self.rules[i])
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

#[cfg(unix)]
pub fn bytes_as_path(b: &[u8]) -> &std::path::Path {
    use std::os::unix::ffi::OsStrExt;
    std::path::Path::new(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
pub fn bytes_as_path(b: &[u8]) -> std::path::PathBuf {
    std::path::PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn builtin_rules_match() {
        let r = Rules::builtin();
        let id = |p: &str| r.matching(p.as_bytes()).map(|r| r.id.clone());
        assert_eq!(
            id("/var/lib/apt/lists/deb.debian.org_InRelease").as_deref(),
            Some("apt-lists")
        );
        assert_eq!(
            id("/var/cache/apt/archives/x.deb").as_deref(),
            Some("apt-archives")
        );
        assert_eq!(
            id("/var/cache/apt/pkgcache.bin").as_deref(),
            Some("apt-pkgcache")
        );
        assert_eq!(
            id("/root/.cache/pip/wheels/ab/x.whl").as_deref(),
            Some("pip-cache")
        );
        assert_eq!(
            id("/usr/lib/python3/dist-packages/x/__pycache__/a.pyc").as_deref(),
            Some("pycache")
        );
        assert_eq!(id("/tmp/a/b").as_deref(), Some("tmp"));
        assert_eq!(id("/usr/bin/tmp"), None);
        assert_eq!(id("/tmpfoo"), None);
    }
}
