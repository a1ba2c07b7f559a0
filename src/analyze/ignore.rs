//! Ignores (`--ignore GLOB`): paths whose findings count for nothing. The
//! analysis leaves them out of every figure and says what it left out.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::analyze::rules::bytes_as_path;

/// Paths whose findings count for nothing (`--ignore GLOB`).
///
/// Globs are matched against absolute paths inside the image, `*` stays
/// within one path component and `**` crosses them. A glob without a `/`
/// matches a name at any depth (`*.pyc`); one not starting with `/` is
/// taken from the root. A finding is ignored when its path or any directory
/// above it matches, so `/usr/share/doc` ignores everything under it.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    pub globs: Vec<String>,
    set: GlobSet,
}

impl Ignore {
    pub fn new(globs: &[String]) -> Result<Ignore, String> {
        let mut b = GlobSetBuilder::new();
        for g in globs {
            let t = g.trim();
            if t.is_empty() {
                return Err("an empty --ignore glob".into());
            }
            let t = t.trim_end_matches('/');
            let pattern = if !t.contains('/') {
                format!("/**/{t}")
            } else if t.starts_with('/') || t.starts_with("**") {
                t.to_string()
            } else {
                format!("/{t}")
            };
            let glob = GlobBuilder::new(&pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("--ignore {g:?}: {e}"))?;
            b.add(glob);
        }
        Ok(Ignore {
            globs: globs.to_vec(),
            set: b.build().map_err(|e| e.to_string())?,
        })
    }

    /// No glob: nothing is ignored.
    pub fn none() -> Ignore {
        Ignore::default()
    }

    pub fn is_empty(&self) -> bool {
        self.globs.is_empty()
    }

    /// Whether `path` (absolute, as in findings) or one of its parent
    /// directories matches.
    pub fn matches(&self, path: &[u8]) -> bool {
        let mut end = path.len();
        loop {
            let p = &path[..end];
            if !p.is_empty() && self.set.is_match(bytes_as_path(p)) {
                return true;
            }
            match p.iter().rposition(|&c| c == b'/') {
                Some(0) | None => return false,
                Some(i) => end = i,
            }
        }
    }
}

/// What ignores left out of an analysis.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Ignored {
    pub globs: Vec<String>,
    /// Findings dropped from `waste`.
    pub findings: usize,
    /// Their bytes: `hidden_bytes + cache_bytes`.
    pub bytes: u64,
    pub hidden_bytes: u64,
    pub cache_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_globs() {
        let ig = Ignore::new(&[
            "/usr/share/doc".into(),
            "*.pyc".into(),
            "opt/*/cache/**".into(),
        ])
        .unwrap();
        assert!(ig.matches(b"/usr/share/doc"));
        assert!(ig.matches(b"/usr/share/doc/a/b.txt"));
        assert!(!ig.matches(b"/usr/share/docs/x"));
        assert!(ig.matches(b"/a/b/c.pyc"));
        assert!(ig.matches(b"/x.pyc"));
        assert!(ig.matches(b"/opt/app/cache/x/y"));
        assert!(!ig.matches(b"/opt/app/b/cache/x"));
        assert!(!ig.matches(b"/"));
        let ig = Ignore::new(&["**/cache".into(), "var/log/".into()]).unwrap();
        assert!(ig.matches(b"/x/cache/y"));
        assert!(ig.matches(b"/cache"));
        assert!(ig.matches(b"/var/log/a.log"));
        assert!(!ig.matches(b"/var/logs"));
        assert!(Ignore::new(&["a[".into()]).is_err());
    }
}
