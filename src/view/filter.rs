//! The Files view's path filter: text, glob or regex, matched on whole
//! paths as bytes.

/// A path filter: `/re/` or `re:…` is a regex, a pattern with `*?[` a glob
/// (anywhere in the path unless it starts with `/`), else a substring
/// (case-insensitive when it has no upper-case letter).
#[derive(Debug, Clone)]
pub enum PathFilter {
    Sub { pat: Vec<u8>, fold: bool },
    Glob(globset::GlobMatcher),
    Regex(regex::bytes::Regex),
}

impl PathFilter {
    pub fn parse(text: &str) -> Result<Option<PathFilter>, String> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let re = t
            .strip_prefix("re:")
            .or_else(|| t.strip_prefix('/').and_then(|r| r.strip_suffix('/')))
            .filter(|r| !r.is_empty());
        if let Some(r) = re {
            return regex::bytes::Regex::new(r)
                .map(|r| Some(PathFilter::Regex(r)))
                .map_err(|e| format!("bad regex: {e}"));
        }
        if t.contains(['*', '?', '[']) {
            let g = if t.starts_with('/') {
                t.to_string()
            } else {
                format!("**/{t}")
            };
            return globset::GlobBuilder::new(&g)
                .literal_separator(true)
                .build()
                .map(|g| Some(PathFilter::Glob(g.compile_matcher())))
                .map_err(|e| format!("bad glob: {e}"));
        }
        let fold = !t.chars().any(|c| c.is_uppercase());
        Ok(Some(PathFilter::Sub {
            pat: t.as_bytes().to_vec(),
            fold,
        }))
    }

    pub fn is_match(&self, path: &[u8]) -> bool {
        match self {
            PathFilter::Sub { pat, fold } => contains(path, pat, *fold),
            PathFilter::Glob(g) => match std::str::from_utf8(path) {
                Ok(s) => g.is_match(s),
                Err(_) => g.is_match(String::from_utf8_lossy(path).as_ref()),
            },
            PathFilter::Regex(r) => r.is_match(path),
        }
    }

    /// [`is_match`](Self::is_match) for a path whose parent directory's
    /// path matched or not (`parent`): a path containing the text contains
    /// it below, so only the occurrences reaching into the last component
    /// are searched (a tree walk then costs the names' lengths, not the
    /// paths'). Globs and regexes match the whole path.
    pub fn is_match_below(&self, path: &[u8], parent: bool) -> bool {
        match self {
            PathFilter::Sub { pat, fold } => {
                if parent {
                    return true;
                }
                let parent_len = path.iter().rposition(|&b| b == b'/').unwrap_or(0);
                let from = (parent_len + 1).saturating_sub(pat.len());
                contains(&path[from..], pat, *fold)
            }
            _ => self.is_match(path),
        }
    }
}

/// Does `hay` contain `pat` (ASCII case folded when `fold`: `pat` has no
/// upper-case letter)?
fn contains(hay: &[u8], pat: &[u8], fold: bool) -> bool {
    if pat.len() > hay.len() {
        return false;
    }
    if fold {
        hay.windows(pat.len())
            .any(|w| w.iter().zip(pat).all(|(a, b)| a.to_ascii_lowercase() == *b))
    } else {
        hay.windows(pat.len()).any(|w| w == pat)
    }
}

#[cfg(test)]
mod tests {
    use super::PathFilter;

    fn m(pat: &str, path: &str) -> bool {
        PathFilter::parse(pat)
            .unwrap()
            .expect("a filter")
            .is_match(path.as_bytes())
    }

    #[test]
    fn substring_folds_case_unless_the_pattern_has_a_capital() {
        assert!(m("saved", "/root/Saved.txt"));
        assert!(!m("Saved", "/root/saved.txt"));
        assert!(m("Saved", "/root/Saved.txt"));
        assert!(!m("saved.txt.old", "/a/saved.txt"));
    }

    #[test]
    fn globs_match_at_any_depth_unless_anchored() {
        assert!(m("*.txt", "/root/example/somefile1.txt"));
        assert!(!m("*.txt", "/root/example"));
        assert!(m("/root/*", "/root/saved.txt"));
        assert!(!m("/root/*", "/root/example/somefile1.txt"));
        assert!(m("som?file[0-9].txt", "/a/somefile1.txt"));
    }

    /// Matching below a parent agrees with matching the whole path, for
    /// occurrences before, across and after the last `/`.
    #[test]
    fn matching_below_a_parent_agrees_with_the_whole_path() {
        let paths = [
            "/usr",
            "/usr/lib",
            "/usr/lib/x",
            "/a/b",
            "/ab",
            "/xa/bc/d",
            "/b/Ab",
        ];
        for pat in ["a/b", "us", "lib/", "/x", "b", "ab", "Ab", "*b"] {
            let f = PathFilter::parse(pat).unwrap().unwrap();
            for p in paths {
                let parent = &p[..p.rfind('/').unwrap()];
                let pm = !parent.is_empty() && f.is_match(parent.as_bytes());
                assert_eq!(
                    f.is_match_below(p.as_bytes(), pm),
                    f.is_match(p.as_bytes()),
                    "{pat} in {p}"
                );
            }
        }
        let f = PathFilter::parse("a/b").unwrap().unwrap();
        assert!(f.is_match_below(b"/xa/b", false));
        assert!(!f.is_match_below(b"/xa/c", false));
    }

    #[test]
    fn regexes_and_bad_input() {
        assert!(m("/^/tmp/", "/tmp/x"));
        assert!(!m("re:^/tmp/", "/root/tmp/x"));
        // Non-UTF-8 paths are matched as bytes.
        assert!(PathFilter::parse("re:x\\xff")
            .unwrap()
            .is_some_and(|f| !f.is_match(b"/x\xff")));
        assert!(PathFilter::parse("re:(").is_err());
        assert!(PathFilter::parse("[").is_err());
        assert!(PathFilter::parse("  ").unwrap().is_none());
    }
}
