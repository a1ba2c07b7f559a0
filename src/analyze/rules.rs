//! Cache/temp rules (`assets/cache-rules.toml`) and optional rules
//! (`assets/optional-rules.toml`): data compiled to glob sets.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use super::globfilter::{DirFilter, GlobFilter};
use crate::load::index::{Index, NodeId};

pub const DEFAULT_RULES: &str = include_str!("../../assets/cache-rules.toml");
pub const DEFAULT_OPTIONAL_RULES: &str = include_str!("../../assets/optional-rules.toml");

/// A cache/temp rule: matching visible files are waste.
#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub id: String,
    pub manager: String,
    pub title: String,
    pub globs: Vec<String>,
    pub fix: String,
}

/// An optional rule: matching visible files are a trade-off, not waste.
#[derive(Debug, Clone, Deserialize)]
pub struct OptionalRule {
    pub id: String,
    pub manager: String,
    pub title: String,
    pub globs: Vec<String>,
    /// Paths the rule never takes (licence texts).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// A `*.pyc` outside `__pycache__` counts only when its `.py` is visible.
    #[serde(default)]
    pub beside_source: bool,
    /// What removing them costs.
    pub tradeoff: String,
    pub fix: String,
    /// For a suggestion on a RUN: a command to run before it, joined with `&&`.
    #[serde(default)]
    pub run_before: Option<String>,
    /// For a suggestion on a RUN: a command to run at its end.
    #[serde(default)]
    pub run_after: Option<String>,
    /// For a suggestion on a COPY/ADD: a `.dockerignore` line.
    #[serde(default)]
    pub dockerignore: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RuleFile<R> {
    rule: Vec<R>,
}

fn glob(g: &str, id: &str) -> Result<Glob, String> {
    GlobBuilder::new(g)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("rule {id}: bad glob {g:?}: {e}"))
}

/// The globs of a list of rules, each glob knowing its rule.
#[derive(Debug, Clone)]
struct Matcher {
    set: GlobSet,
    owner: Vec<usize>,
}

impl Matcher {
    fn new<'a>(rules: impl Iterator<Item = (&'a str, &'a [String])>) -> Result<Matcher, String> {
        let mut b = GlobSetBuilder::new();
        let mut owner = Vec::new();
        for (i, (id, globs)) in rules.enumerate() {
            for g in globs {
                b.add(glob(g, id)?);
                owner.push(i);
            }
        }
        Ok(Matcher {
            set: b.build().map_err(|e| e.to_string())?,
            owner,
        })
    }

    /// The rules (file order) of the globs `globs` (numbered as added).
    fn owners(&self, globs: &[u32]) -> Vec<usize> {
        let mut v: Vec<usize> = globs.iter().map(|&g| self.owner[g as usize]).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The rules (file order) with a glob matching `path`.
    fn matches(&self, path: &[u8]) -> Vec<usize> {
        let cand = globset::Candidate::new(bytes_as_path(path));
        let mut v: Vec<usize> = self
            .set
            .matches_candidate(&cand)
            .into_iter()
            .map(|g| self.owner[g])
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[derive(Debug, Clone)]
pub struct Rules {
    pub rules: Vec<Rule>,
    pub optional: Vec<OptionalRule>,
    cache: Matcher,
    optional_match: Matcher,
    optional_exclude: Matcher,
    /// The pre-test of the cache and optional globs.
    filter: GlobFilter,
    /// The pre-tests of each kind of glob alone (see [`RuleDirs`]).
    cache_filter: GlobFilter,
    optional_filter: GlobFilter,
    exclude_filter: GlobFilter,
    /// Count optional files as waste (see [`Rules::optional_as_waste`]).
    pub optional_is_waste: bool,
}

impl Rules {
    /// Cache rules from `text`, no optional rules.
    pub fn parse(text: &str) -> Result<Rules, String> {
        Rules::parse_with(text, "rule = []")
    }

    /// Cache rules from `cache`, optional rules from `optional`.
    pub fn parse_with(cache: &str, optional: &str) -> Result<Rules, String> {
        let cache: RuleFile<Rule> =
            toml::from_str(cache).map_err(|e| format!("bad cache rules file: {e}"))?;
        let optional: RuleFile<OptionalRule> =
            toml::from_str(optional).map_err(|e| format!("bad optional rules file: {e}"))?;
        let filter = GlobFilter::new(
            cache
                .rule
                .iter()
                .flat_map(|r| &r.globs)
                .chain(optional.rule.iter().flat_map(|r| &r.globs))
                .map(String::as_str),
        );
        let filter_of =
            |globs: &mut dyn Iterator<Item = &String>| GlobFilter::new(globs.map(String::as_str));
        Ok(Rules {
            filter,
            cache_filter: filter_of(&mut cache.rule.iter().flat_map(|r| &r.globs)),
            optional_filter: filter_of(&mut optional.rule.iter().flat_map(|r| &r.globs)),
            exclude_filter: filter_of(&mut optional.rule.iter().flat_map(|r| &r.exclude)),
            cache: Matcher::new(cache.rule.iter().map(|r| (r.id.as_str(), &r.globs[..])))?,
            optional_match: Matcher::new(
                optional.rule.iter().map(|r| (r.id.as_str(), &r.globs[..])),
            )?,
            optional_exclude: Matcher::new(
                optional
                    .rule
                    .iter()
                    .map(|r| (r.id.as_str(), &r.exclude[..])),
            )?,
            rules: cache.rule,
            optional: optional.rule,
            optional_is_waste: false,
        })
    }

    pub fn builtin() -> Rules {
        Rules::parse_with(DEFAULT_RULES, DEFAULT_OPTIONAL_RULES).expect("built-in rules parse")
    }

    pub fn empty() -> Rules {
        Rules::parse("rule = []").expect("empty rules")
    }

    /// The same rules, with what optional rules take counted as waste
    /// (`--count-optional-as-waste`): the analysis reports those files as
    /// `cache` findings carrying the optional rule's id.
    pub fn optional_as_waste(mut self) -> Rules {
        self.optional_is_waste = true;
        self
    }

    /// A pre-test of [`Rules::matching`] and [`Rules::optional_matching`]:
    /// a path it rules out matches neither.
    pub fn filter(&self) -> &GlobFilter {
        &self.filter
    }

    /// [`Rules::matching`] and [`Rules::optional_matching`] for the nodes of
    /// `index`, each glob set asked only where its own pre-test lets a path
    /// through.
    pub fn dirs<'a>(&'a self, index: &'a Index) -> RuleDirs<'a> {
        RuleDirs {
            rules: self,
            any: DirFilter::new(&self.filter, index),
            cache: DirFilter::new(&self.cache_filter, index),
            optional: DirFilter::new(&self.optional_filter, index),
            exclude: DirFilter::new(&self.exclude_filter, index),
        }
    }

    /// The first cache rule (in file order) whose glob matches an absolute
    /// path.
    pub fn matching(&self, path: &[u8]) -> Option<&Rule> {
        self.cache.matches(path).first().map(|&i| &self.rules[i])
    }

    /// The shortest ancestor directory of `dir/` (itself included) inside
    /// which rule `rule` takes everything (`/root/.cache/pip` for a wheel
    /// under it), if any.
    pub fn owning_dir(&self, dir: &str, rule: &str) -> Option<String> {
        let with_slash = format!("{dir}/");
        with_slash
            .match_indices('/')
            .skip(1)
            .map(|(pos, _)| &with_slash[..pos])
            .find(|d| {
                self.matching(format!("{d}/x").as_bytes())
                    .is_some_and(|r| r.id == rule)
            })
            .map(str::to_string)
    }

    /// The first optional rule that takes a visible file at `path`;
    /// `visible(p)` says whether another path is visible (for
    /// `beside_source`).
    pub fn optional_matching(
        &self,
        path: &[u8],
        visible: &dyn Fn(&[u8]) -> bool,
    ) -> Option<&OptionalRule> {
        self.optional_matching_excluding(path, visible, true)
    }

    /// [`Rules::optional_matching`]; `may_exclude` false when no exclude
    /// glob can match `path` (its pre-test said so).
    fn optional_matching_excluding(
        &self,
        path: &[u8],
        visible: &dyn Fn(&[u8]) -> bool,
        may_exclude: bool,
    ) -> Option<&OptionalRule> {
        let mut excluded =
            |i: usize| may_exclude && self.optional_exclude.matches(path).contains(&i);
        self.optional_first(
            self.optional_match.matches(path),
            path,
            visible,
            &mut excluded,
        )
    }

    /// The first of the optional rules `candidates` (whose globs match
    /// `path`) that takes it, `excluded(i)` telling whether rule `i`'s
    /// exclude globs match it.
    fn optional_first(
        &self,
        candidates: Vec<usize>,
        path: &[u8],
        visible: &dyn Fn(&[u8]) -> bool,
        excluded: &mut dyn FnMut(usize) -> bool,
    ) -> Option<&OptionalRule> {
        candidates
            .into_iter()
            .find(|&i| !excluded(i) && self.optional_applies(i, path, visible))
            .map(|i| &self.optional[i])
    }

    fn optional_applies(&self, i: usize, path: &[u8], visible: &dyn Fn(&[u8]) -> bool) -> bool {
        let r = &self.optional[i];
        if r.beside_source && path.ends_with(b".pyc") && !in_pycache(path) {
            let src = &path[..path.len() - 1];
            return visible(src);
        }
        true
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn get_optional(&self, id: &str) -> Option<&OptionalRule> {
        self.optional.iter().find(|r| r.id == id)
    }
}

/// The rules' glob sets over the nodes of one index, behind a pre-test
/// per kind of glob (cache, optional, exclude; see
/// [`super::globfilter`]): a path no glob of a kind can match is not
/// matched against that kind's glob set. The answers are
/// [`Rules::matching`]'s and [`Rules::optional_matching`]'s.
pub struct RuleDirs<'a> {
    rules: &'a Rules,
    /// The pre-test of all cache and optional globs together: most paths
    /// are ruled out by one test.
    any: DirFilter<'a>,
    cache: DirFilter<'a>,
    optional: DirFilter<'a>,
    exclude: DirFilter<'a>,
}

impl<'a> RuleDirs<'a> {
    /// Could a cache or an optional rule take `node`? `false` is exact.
    pub fn may_match(&mut self, node: NodeId) -> bool {
        self.any.may_match(node)
    }

    /// [`Rules::matching`] of `path`, the path of `node`.
    pub fn matching(&mut self, node: NodeId, path: &[u8]) -> Option<&'a Rule> {
        if !self.cache.may_match(node) {
            return None;
        }
        let rules = self.rules;
        match self.cache.matches(node) {
            Some(globs) => rules.cache.owners(&globs).first().map(|&i| &rules.rules[i]),
            None => rules.matching(path),
        }
    }

    /// [`Rules::optional_matching`] of `path`, the path of `node`.
    pub fn optional_matching(
        &mut self,
        node: NodeId,
        path: &[u8],
        visible: &dyn Fn(&[u8]) -> bool,
    ) -> Option<&'a OptionalRule> {
        if !self.optional.may_match(node) {
            return None;
        }
        let rules = self.rules;
        let candidates = match self.optional.matches(node) {
            Some(globs) => rules.optional_match.owners(&globs),
            None => rules.optional_match.matches(path),
        };
        if candidates.is_empty() {
            return None;
        }
        // The rules whose exclude globs match, asked once.
        let excluded = match self.exclude.matches(node) {
            Some(globs) => rules.optional_exclude.owners(&globs),
            None if self.exclude.may_match(node) => rules.optional_exclude.matches(path),
            None => Vec::new(),
        };
        rules.optional_first(candidates, path, visible, &mut |i| excluded.contains(&i))
    }
}

/// The built-in optional rule `id` (its title, trade-off and fix), for views
/// that explain an optional file. Parsed once.
pub fn builtin_optional(id: &str) -> Option<&'static OptionalRule> {
    static RULES: std::sync::OnceLock<Vec<OptionalRule>> = std::sync::OnceLock::new();
    RULES
        .get_or_init(|| {
            toml::from_str::<RuleFile<OptionalRule>>(DEFAULT_OPTIONAL_RULES)
                .map(|f| f.rule)
                .unwrap_or_default()
        })
        .iter()
        .find(|r| r.id == id)
}

fn in_pycache(path: &[u8]) -> bool {
    path.windows(b"/__pycache__/".len())
        .any(|w| w == b"/__pycache__/")
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
            id("/usr/lib/python3/dist-packages/x/__pycache__/a.pyc"),
            None
        );
        assert_eq!(id("/tmp/a/b").as_deref(), Some("tmp"));
        assert_eq!(id("/usr/bin/tmp"), None);
        assert_eq!(id("/tmpfoo"), None);
    }

    #[test]
    fn builtin_optional_rules() {
        let r = Rules::builtin();
        let sources = ["/app/m.py"];
        let visible = |p: &[u8]| sources.iter().any(|s| s.as_bytes() == p);
        let id = |p: &str| {
            r.optional_matching(p.as_bytes(), &visible)
                .map(|r| r.id.clone())
        };
        assert_eq!(
            id("/usr/lib/python3/dist-packages/x/__pycache__/a.cpython-311.pyc").as_deref(),
            Some("python-bytecode")
        );
        assert_eq!(id("/app/m.pyc").as_deref(), Some("python-bytecode"));
        assert_eq!(id("/app/sourceless.pyc"), None);
        assert_eq!(
            id("/usr/share/doc/gcc/changelog.gz").as_deref(),
            Some("docs")
        );
        assert_eq!(id("/usr/share/doc/gcc/copyright"), None);
        assert_eq!(
            id("/usr/share/man/man1/ls.1.gz").as_deref(),
            Some("man-pages")
        );
        assert_eq!(
            id("/usr/share/locale/de/LC_MESSAGES/apt.mo").as_deref(),
            Some("locales")
        );
        assert_eq!(id("/usr/share/locale/locale.alias"), None);
        assert_eq!(id("/usr/bin/python3"), None);
    }
}
