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
            PathFilter::Sub { pat, fold } => {
                if pat.len() > path.len() {
                    return false;
                }
                if *fold {
                    path.windows(pat.len())
                        .any(|w| w.iter().zip(pat).all(|(a, b)| a.to_ascii_lowercase() == *b))
                } else {
                    path.windows(pat.len()).any(|w| w == &pat[..])
                }
            }
            PathFilter::Glob(g) => match std::str::from_utf8(path) {
                Ok(s) => g.is_match(s),
                Err(_) => g.is_match(String::from_utf8_lossy(path).as_ref()),
            },
            PathFilter::Regex(r) => r.is_match(path),
        }
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
