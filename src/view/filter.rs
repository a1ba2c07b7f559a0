//! The Files view's path filter: text, glob or regex, matched on whole
//! paths as bytes.

use crate::load::index::{Index, NodeId, ROOT};

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

impl PathFilter {
    /// Which nodes match, by node id (the root matches nothing; `include`
    /// may say no to a file, whose entry is then left false; directories
    /// are always visited). A substring without `/` can only occur in a
    /// path within one name, so a node matches when its directory does or
    /// its own name contains the text: one pass in id order (a parent's id
    /// is below its children's), no path is built. Other filters are
    /// matched on whole paths by a depth-first walk.
    pub fn match_nodes(&self, index: &Index, include: impl Fn(NodeId) -> bool) -> Vec<bool> {
        let n = index.node_count();
        let mut m = vec![false; n];
        match self {
            PathFilter::Sub { pat, fold } if !pat.contains(&b'/') => {
                // Every name at once: one search over the names' arena (a
                // SIMD literal search), an occurrence counting when it lies
                // within one name; then the directories' matches go down.
                let (names, at) = index.names();
                let re =
                    regex::bytes::RegexBuilder::new(&regex::escape(&String::from_utf8_lossy(pat)))
                        .case_insensitive(*fold)
                        .unicode(false)
                        .build();
                match re {
                    Ok(re) => {
                        let mut from = 0;
                        while let Some(hit) = re.find_at(names, from) {
                            // The node whose name holds the hit's start.
                            let id = at.partition_point(|&s| s as usize <= hit.start()) - 1;
                            if id + 1 >= at.len() {
                                break;
                            }
                            let end = at[id + 1] as usize;
                            if hit.end() <= end && include(id as NodeId) {
                                m[id] = true;
                            }
                            // Another hit in this name, or one crossing into
                            // the next, starts a match no earlier than the
                            // next name.
                            from = end.max(hit.start() + 1);
                        }
                    }
                    Err(_) => {
                        for (id, hit) in m.iter_mut().enumerate().skip(1) {
                            *hit = include(id as NodeId)
                                && contains(index.name(id as NodeId), pat, *fold);
                        }
                    }
                }
                for id in 1..n {
                    let parent = index.parent(id as NodeId) as usize;
                    m[id] |= m[parent];
                }
            }
            _ => {
                let mut path = Vec::with_capacity(256);
                crate::analyze::waste::walk(index, ROOT, &mut path, include, &mut |ch, p| {
                    // The parent was visited first (the root matches nothing).
                    let parent = index.parent(ch) as usize;
                    m[ch as usize] = self.is_match_below(p, m[parent]);
                });
            }
        }
        m
    }
}

/// Does `hay` contain `pat` (ASCII case folded when `fold`: `pat` has no
/// upper-case letter)?
fn contains(hay: &[u8], pat: &[u8], fold: bool) -> bool {
    let Some((&first, rest)) = pat.split_first() else {
        return true;
    };
    if pat.len() > hay.len() {
        return false;
    }
    // Candidates start where the first byte is (either case when folded),
    // found by memchr; the rest is compared there.
    let last_start = hay.len() - pat.len();
    let mut from = 0;
    while from <= last_start {
        let window = &hay[from..=last_start];
        let found = if fold {
            memchr::memchr2(first, first.to_ascii_uppercase(), window)
        } else {
            memchr::memchr(first, window)
        };
        let Some(i) = found else {
            return false;
        };
        let at = from + i + 1;
        let tail = &hay[at..at + rest.len()];
        if (fold && tail.eq_ignore_ascii_case(rest)) || (!fold && tail == rest) {
            return true;
        }
        from = from + i + 1;
    }
    false
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

    /// Matching every node at once agrees with matching each node's path,
    /// for substrings within a name (the name pass), across names and
    /// globs (the walk), with and without case folding.
    #[test]
    fn matching_every_node_agrees_with_each_path() {
        let (ix, _) = crate::testing::three_layers();
        for pat in ["b", "BIN", "Bin", "i", "lib/b", "/e", "*b*", "t/", "sh"] {
            let f = PathFilter::parse(pat).unwrap().unwrap();
            let m = f.match_nodes(&ix, |_| true);
            assert!(!m[0]);
            for id in 1..ix.node_count() as u32 {
                assert_eq!(
                    m[id as usize],
                    f.is_match(&ix.path(id)),
                    "{pat} in {:?}",
                    ix.path(id)
                );
            }
        }
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
