//! A cheap pre-test for a set of globs over absolute paths, decided once per
//! directory: which file names in a directory could some glob match at all.
//!
//! Matching every path of a million-file image against a `GlobSet` costs
//! more than the rest of the analysis. Most rule globs are anchored
//! (`/var/cache/apt/**`) or need a literal component or extension
//! (`**/.cache/pip/**`, `**/*.pyc`), so for almost every directory no file
//! in it can match, or only names of a given form can. The filter follows
//! each glob's components down the tree as a small set of positions (one
//! bit per component), memoised per directory, and keeps for each directory
//! the tests a file name must pass. It over-approximates: `**` matches any
//! number of components (zero included), a wildcard component only its
//! literal start and end. A glob it cannot read that way (braces, escapes, a
//! `/` inside brackets) makes every path a candidate. So a `false` is exact
//! and a `true` is then decided by the glob set itself.
//!
//! Most globs need no glob set at all: a glob whose components are literals,
//! `**` (never two in a row) or patterns whose only wildcard is `*` is
//! decided exactly by the same per-directory states ([`DirFilter::matches`]):
//! such a glob matches a file when its last component is live in the file's
//! directory and matches the file's name (a trailing `**` must take at least
//! one component, as the glob set's `/.*` does). Only where a glob of
//! another form (`?`, brackets) may complete is the glob set asked.

use rustc_hash::FxHashMap;

use crate::load::index::{Index, NodeId, ROOT};

/// What the filter reads of a tree of paths.
pub trait Tree {
    fn parent(&self, node: NodeId) -> NodeId;
    fn name(&self, node: NodeId) -> &[u8];
}

impl Tree for Index {
    fn parent(&self, node: NodeId) -> NodeId {
        Index::parent(self, node)
    }
    fn name(&self, node: NodeId) -> &[u8] {
        Index::name(self, node)
    }
}

/// One component of a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Comp {
    /// `**`: any number of components.
    Any,
    /// A component without wildcards.
    Lit(Box<[u8]>),
    /// A component with wildcards: what a name must start and end with.
    Wild {
        prefix: Box<[u8]>,
        suffix: Box<[u8]>,
    },
}

impl Comp {
    fn parse(c: &str) -> Option<Comp> {
        if c == "**" {
            return Some(Comp::Any);
        }
        if c.contains("**") {
            return None;
        }
        let meta = |ch: char| matches!(ch, '*' | '?' | '[' | ']');
        Some(match (c.find(meta), c.rfind(meta)) {
            (Some(first), Some(last)) => Comp::Wild {
                prefix: c.as_bytes()[..first].into(),
                suffix: c.as_bytes()[last + 1..].into(),
            },
            _ => Comp::Lit(c.as_bytes().into()),
        })
    }

    /// The byte every name this component takes ends with, if there is
    /// one (a literal's last byte, a pattern's literal end's).
    fn last_byte(&self) -> Option<u8> {
        match self {
            Comp::Any => None,
            Comp::Lit(l) => l.last().copied(),
            Comp::Wild { suffix, .. } => suffix.last().copied(),
        }
    }

    fn matches(&self, name: &[u8]) -> bool {
        match self {
            Comp::Any => true,
            Comp::Lit(l) => **l == *name,
            // No comparison with an empty slice: its dangling pointer makes
            // some `memcmp`s (masked AVX-512 loads) take a slow assist.
            Comp::Wild { prefix, suffix } => {
                name.len() >= prefix.len() + suffix.len()
                    && (prefix.is_empty() || name.starts_with(prefix))
                    && (suffix.is_empty() || name.ends_with(suffix))
            }
        }
    }
}

/// A `*`-only pattern's literal pieces (`a*b*c` → `a`, `b`, `c`) decide a
/// name exactly: it starts with the first, ends with the last and holds the
/// others in order between them.
fn star_matches(pieces: &[Box<[u8]>], name: &[u8]) -> bool {
    let (first, last) = (&pieces[0], &pieces[pieces.len() - 1]);
    if name.len() < first.len() + last.len() || !name.starts_with(first) || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for p in &pieces[1..pieces.len() - 1] {
        if p.is_empty() {
            continue;
        }
        match rest.windows(p.len()).position(|w| w == &p[..]) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// How a glob's last component is decided exactly (see the module's
/// documentation), or None when the glob is not of that form.
fn exact_end(glob: &str, comps: &[Comp]) -> Option<Exact> {
    let parts: Vec<&str> = glob.split('/').collect();
    // The states test a wildcard component by its literal start and end:
    // exact for one `*`; the last component is matched whole.
    let (last, inner) = parts.split_last()?;
    if parts.iter().any(|c| c.contains(['?', '[', ']']))
        || inner
            .iter()
            .any(|c| c.matches('*').count() > 1 && *c != "**")
        || comps
            .windows(2)
            .any(|w| w[0] == Comp::Any && w[1] == Comp::Any)
    {
        return None;
    }
    Some(match comps.last()? {
        Comp::Any => Exact::Any,
        Comp::Lit(_) => Exact::Lit,
        Comp::Wild { .. } => Exact::Star(last.split('*').map(|p| p.as_bytes().into()).collect()),
    })
}

/// An exact glob's last component.
#[derive(Debug, Clone)]
enum Exact {
    Any,
    Lit,
    Star(Vec<Box<[u8]>>),
}

/// Components of a glob, or None when the filter cannot read it.
fn components(glob: &str) -> Option<Vec<Comp>> {
    if glob.contains(['{', '}', '\\']) || glob.ends_with('/') {
        return None;
    }
    // A `/` inside brackets would be split as a separator.
    let mut rest = glob;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let close = after.get(1..)?.find(']')? + 1;
        if after[..close].contains('/') {
            return None;
        }
        rest = &after[close + 1..];
    }
    let comps: Option<Vec<Comp>> = glob.split('/').map(Comp::parse).collect();
    comps.filter(|c| c.len() < 63)
}

/// A glob set's pre-test (see the module's documentation).
#[derive(Debug, Clone, Default)]
pub struct GlobFilter {
    globs: Vec<Vec<Comp>>,
    /// Each readable glob's number among all the globs given.
    ids: Vec<u32>,
    /// Each readable glob's exact decision, if it has one.
    exact: Vec<Option<Exact>>,
    /// Some glob cannot be pre-tested: every path is a candidate.
    always: bool,
}

/// Where the globs stand after a directory's path: the live positions of
/// each glob still alive, and the tests a file name in it must pass.
#[derive(Debug, Clone, Default)]
struct DirState {
    live: Vec<(u32, u64)>,
    /// A name matching any of these may complete a glob.
    tests: Vec<Comp>,
    /// The last bytes a name passing one of `tests` can end with, one bit
    /// each (all of them when a test takes any ending): most names are
    /// told apart by this one bit.
    ends_with: [u64; 4],
    /// Any name may.
    any: bool,
    /// Exact globs whose last component is live here.
    ends: Vec<u32>,
    /// Where a glob without an exact decision may complete: the glob set
    /// decides names passing these tests (or any name).
    loose: Vec<Comp>,
    loose_any: bool,
}

impl GlobFilter {
    pub fn new<'a>(globs: impl IntoIterator<Item = &'a str>) -> GlobFilter {
        let mut f = GlobFilter::default();
        for (id, g) in globs.into_iter().enumerate() {
            match components(g) {
                Some(c) => {
                    f.exact.push(exact_end(g, &c));
                    f.globs.push(c);
                    f.ids.push(id as u32);
                }
                None => f.always = true,
            }
        }
        f
    }

    /// Add the positions `**` can skip to.
    fn closure(&self, g: usize, mut mask: u64) -> u64 {
        let comps = &self.globs[g];
        for (i, c) in comps.iter().enumerate() {
            if mask & (1 << i) != 0 && *c == Comp::Any {
                mask |= 1 << (i + 1);
            }
        }
        mask
    }

    /// Can the components from `i` on match no component at all?
    fn nullable(&self, g: usize, i: usize) -> bool {
        self.globs[g][i..].iter().all(|c| *c == Comp::Any)
    }

    fn state(&self, live: Vec<(u32, u64)>) -> DirState {
        let mut st = DirState {
            live,
            ..DirState::default()
        };
        for &(g, mask) in &st.live {
            let comps = &self.globs[g as usize];
            let exact = self.exact[g as usize].is_some();
            if exact && mask & (1 << (comps.len() - 1)) != 0 {
                st.ends.push(g);
            }
            for (i, c) in comps.iter().enumerate() {
                if mask & (1 << i) == 0 || !self.nullable(g as usize, i + 1) {
                    continue;
                }
                if *c == Comp::Any {
                    st.any = true;
                    st.loose_any |= !exact;
                } else {
                    if !st.tests.contains(c) {
                        st.tests.push(c.clone());
                        match c.last_byte() {
                            Some(b) => st.ends_with[b as usize / 64] |= 1 << (b % 64),
                            None => st.ends_with = [u64::MAX; 4],
                        }
                    }
                    if !exact && !st.loose.contains(c) {
                        st.loose.push(c.clone());
                    }
                }
            }
        }
        st
    }

    /// The positions of glob `g` after one more component `name`.
    fn step(&self, g: usize, mask: u64, name: &[u8]) -> u64 {
        let mut next = 0;
        for (i, c) in self.globs[g].iter().enumerate() {
            if mask & (1 << i) == 0 {
                continue;
            }
            match c {
                Comp::Any => next |= 1 << i,
                c if c.matches(name) => next |= 1 << (i + 1),
                _ => {}
            }
        }
        self.closure(g, next)
    }

    /// Before any component.
    fn start(&self) -> Vec<(u32, u64)> {
        (0..self.globs.len())
            .map(|g| (g as u32, self.closure(g, 1)))
            .collect()
    }

    fn advance(&self, live: &[(u32, u64)], name: &[u8]) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        self.advance_into(live, name, &mut out);
        out
    }

    /// [`GlobFilter::advance`] into `out` (emptied first).
    fn advance_into(&self, live: &[(u32, u64)], name: &[u8], out: &mut Vec<(u32, u64)>) {
        out.clear();
        out.extend(live.iter().filter_map(|&(g, m)| {
            let m = self.step(g as usize, m, name);
            (m != 0).then_some((g, m))
        }));
    }

    /// Does exact glob `g`'s last component take `name`?
    fn completes(&self, g: usize, name: &[u8]) -> bool {
        match &self.exact[g] {
            Some(Exact::Any) => true,
            Some(Exact::Lit) => self.globs[g].last().is_some_and(|c| c.matches(name)),
            Some(Exact::Star(pieces)) => star_matches(pieces, name),
            None => false,
        }
    }

    /// Could a glob match `path` (absolute, `/`-separated)?
    pub fn may_match_path(&self, path: &[u8]) -> bool {
        if self.always {
            return true;
        }
        let mut live = self.start();
        for comp in path.split(|&b| b == b'/') {
            live = self.advance(&live, comp);
        }
        live.iter()
            .any(|&(g, m)| m & (1 << self.globs[g as usize].len()) != 0)
    }
}

/// The filter's per-directory states over one index, memoised by directory.
pub struct DirFilter<'a, T: Tree = Index> {
    filter: &'a GlobFilter,
    tree: &'a T,
    states: Vec<DirState>,
    /// Each distinct state once: under a `**` most directories share one.
    interned: FxHashMap<Vec<(u32, u64)>, u32>,
    memo: FxHashMap<NodeId, u32>,
    last: (NodeId, u32),
    /// Room reused by each lookup: the directories not yet memoised, and
    /// the live positions after one.
    chain: Vec<NodeId>,
    live: Vec<(u32, u64)>,
}

/// The state of a directory no glob can reach into.
const DEAD: u32 = 0;

impl<'a, T: Tree> DirFilter<'a, T> {
    pub fn new(filter: &'a GlobFilter, tree: &'a T) -> DirFilter<'a, T> {
        DirFilter {
            filter,
            tree,
            states: vec![DirState::default()],
            interned: FxHashMap::default(),
            memo: FxHashMap::default(),
            last: (NodeId::MAX, DEAD),
            chain: Vec::new(),
            live: Vec::new(),
        }
    }

    /// Could a glob match the path of `node` (not the root)? `false` is
    /// exact; `true` means: ask the glob set.
    pub fn may_match(&mut self, node: NodeId) -> bool {
        if self.filter.always {
            return true;
        }
        let dir = self.dir(self.tree.parent(node));
        let st = &self.states[dir as usize];
        st.any || {
            let name = self.tree.name(node);
            name.last()
                .is_none_or(|&b| st.ends_with[b as usize / 64] & (1 << (b % 64)) != 0)
                && st.tests.iter().any(|t| t.matches(name))
        }
    }

    /// The globs (numbered as given to [`GlobFilter::new`], increasing)
    /// that match the path of `node`, decided without the glob set; None
    /// when the glob set must decide (a glob without an exact decision may
    /// match, or `node` is the root).
    pub fn matches(&mut self, node: NodeId) -> Option<Vec<u32>> {
        let mut out: Vec<u32> = self.completing(node)?.collect();
        out.sort_unstable();
        Some(out)
    }

    /// The least `rank` of the globs [`DirFilter::matches`] would give
    /// (None inside: no glob matches), without listing them; None when the
    /// glob set must decide.
    pub fn least_match<K: Ord>(
        &mut self,
        node: NodeId,
        rank: impl Fn(u32) -> K,
    ) -> Option<Option<K>> {
        Some(self.completing(node)?.map(rank).min())
    }

    /// The exact globs `node`'s name completes in its directory, as
    /// numbered when given (in no order); None when the glob set must
    /// decide.
    fn completing(&mut self, node: NodeId) -> Option<impl Iterator<Item = u32> + '_> {
        if self.filter.always || node == ROOT {
            return None;
        }
        let dir = self.dir(self.tree.parent(node));
        let st = &self.states[dir as usize];
        let name = self.tree.name(node);
        if st.loose_any || st.loose.iter().any(|t| t.matches(name)) {
            return None;
        }
        let filter = self.filter;
        Some(
            st.ends
                .iter()
                .filter(move |&&g| filter.completes(g as usize, name))
                .map(move |&g| filter.ids[g as usize]),
        )
    }

    fn dir(&mut self, dir: NodeId) -> u32 {
        if self.last.0 != dir {
            self.last = (dir, self.lookup(dir));
        }
        self.last.1
    }

    fn lookup(&mut self, dir: NodeId) -> u32 {
        let mut chain = std::mem::take(&mut self.chain);
        chain.clear();
        let mut d = dir;
        let mut at = loop {
            if let Some(&s) = self.memo.get(&d) {
                break s;
            }
            if d == ROOT {
                // The empty component before an absolute path's first `/`.
                let live = self.filter.advance(&self.filter.start(), b"");
                let s = self.push(&live);
                self.memo.insert(ROOT, s);
                break s;
            }
            chain.push(d);
            d = self.tree.parent(d);
        };
        let mut live = std::mem::take(&mut self.live);
        for &d in chain.iter().rev() {
            if at != DEAD {
                let name = self.tree.name(d);
                self.filter
                    .advance_into(&self.states[at as usize].live, name, &mut live);
                at = self.push(&live);
            }
            self.memo.insert(d, at);
        }
        (self.chain, self.live) = (chain, live);
        at
    }

    fn push(&mut self, live: &[(u32, u64)]) -> u32 {
        if live.is_empty() {
            return DEAD;
        }
        if let Some(&s) = self.interned.get(live) {
            return s;
        }
        let s = self.states.len() as u32;
        self.interned.insert(live.to_vec(), s);
        self.states.push(self.filter.state(live.to_vec()));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use globset::{GlobBuilder, GlobSetBuilder};
    use proptest::prelude::*;

    /// Every glob of the built-in rules and toolchains.
    fn builtin_globs() -> Vec<String> {
        let rules = crate::analyze::rules::Rules::builtin();
        let mut v: Vec<String> = rules.rules.iter().flat_map(|r| r.globs.clone()).collect();
        for o in &rules.optional {
            v.extend(o.globs.iter().chain(&o.exclude).cloned());
        }
        for t in &crate::suggest::texts::texts().toolchain {
            v.extend(t.markers.iter().chain(&t.globs).cloned());
        }
        v.extend(
            [
                "/a/{b,c}/**",
                "/x/[/]y",
                "**/\\*.txt",
                "/p/a**b",
                "/q/*.[ch]",
                "/r/",
            ]
            .map(String::from),
        );
        v
    }

    fn glob_set(globs: &[String]) -> globset::GlobSet {
        let mut b = GlobSetBuilder::new();
        for g in globs {
            b.add(
                GlobBuilder::new(g)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .build()
                    .unwrap(),
            );
        }
        b.build().unwrap()
    }

    #[test]
    fn whole_directories_are_ruled_out() {
        let f = GlobFilter::new(["/var/cache/apt/**", "**/*.pyc", "**/.cache/pip/**"]);
        assert!(f.may_match_path(b"/var/cache/apt/archives/x.deb"));
        assert!(f.may_match_path(b"/usr/lib/x.pyc"));
        assert!(f.may_match_path(b"/root/.cache/pip/x"));
        assert!(!f.may_match_path(b"/usr/lib/x.py"));
        assert!(!f.may_match_path(b"/var/cache/x"));
        assert!(!f.may_match_path(b"/root/.cache/yarn/x"));
        let unreadable = GlobFilter::new(["/a/{b,c}"]);
        assert!(unreadable.may_match_path(b"/z"));
        assert!(!GlobFilter::new([]).may_match_path(b"/z"));
    }

    const NAMES: &[&str] = &[
        "usr",
        "var",
        "lib",
        "cache",
        "apt",
        "archives",
        ".cache",
        "pip",
        "tmp",
        "x.pyc",
        "__pycache__",
        "a.py",
        "doc",
        "share",
        "copyright",
        "LICENSE.txt",
        "gcc",
        "gcc-12",
        "x86_64-linux-gnu",
        "cc1",
        "bin",
        "javac",
        "include",
        "a.h",
        "x.c",
        "go",
        "local",
        "libbfd.so",
        "ld.gold",
        "node.h",
        "a",
        "b",
        "c",
        "y",
        "p",
        "q",
        "r",
        "a*b",
        "{b",
        "*.txt",
        "locale",
        "locale.alias",
        "man",
        "ab",
        "axb",
        "x.h",
        ".npm",
        "_cacache",
    ];

    /// A tree of paths: node 0 is the root.
    #[derive(Default)]
    struct Paths {
        nodes: Vec<(NodeId, Vec<u8>)>,
    }

    impl Tree for Paths {
        fn parent(&self, n: NodeId) -> NodeId {
            self.nodes[n as usize].0
        }
        fn name(&self, n: NodeId) -> &[u8] {
            &self.nodes[n as usize].1
        }
    }

    impl Paths {
        fn add(&mut self, comps: &[&str]) -> NodeId {
            if self.nodes.is_empty() {
                self.nodes.push((ROOT, Vec::new()));
            }
            let mut at = ROOT;
            for c in comps {
                let found = (0..self.nodes.len() as NodeId)
                    .find(|&n| n != ROOT && self.parent(n) == at && self.name(n) == c.as_bytes());
                at = found.unwrap_or_else(|| {
                    self.nodes.push((at, c.as_bytes().to_vec()));
                    (self.nodes.len() - 1) as NodeId
                });
            }
            at
        }
    }

    /// The built-in globs, each with its own filter, and their glob set.
    fn fixtures() -> &'static (Vec<(String, GlobFilter)>, globset::GlobSet) {
        static F: std::sync::OnceLock<(Vec<(String, GlobFilter)>, globset::GlobSet)> =
            std::sync::OnceLock::new();
        F.get_or_init(|| {
            let globs = builtin_globs();
            let set = glob_set(&globs);
            let one = globs
                .into_iter()
                .map(|g| {
                    let f = GlobFilter::new([g.as_str()]);
                    (g, f)
                })
                .collect();
            (one, set)
        })
    }

    /// A path made from glob `g`'s components (`**` as zero to two names,
    /// a wildcard's literal start and end around a filler), each component
    /// replaced by a random name now and then: mostly paths the glob
    /// matches, some near misses.
    fn instantiate(g: &str, seeds: &[usize]) -> Vec<String> {
        let mut seeds = seeds.iter().copied().cycle();
        let mut next = || seeds.next().unwrap_or(0);
        let mut out = Vec::new();
        for c in g.split('/').skip(usize::from(g.starts_with('/'))) {
            if next() % 10 == 0 {
                out.push(NAMES[next() % NAMES.len()].to_string());
                continue;
            }
            match c {
                "**" => {
                    for _ in 0..next() % 3 {
                        out.push(NAMES[next() % NAMES.len()].to_string());
                    }
                }
                c if c.contains(['*', '?', '[']) => {
                    let meta = |ch: char| matches!(ch, '*' | '?' | '[' | ']');
                    let (a, b) = (c.find(meta).unwrap(), c.rfind(meta).unwrap());
                    let fill = ["", "x", "1", "12", "a.b"][next() % 5];
                    out.push(format!("{}{fill}{}", &c[..a], &c[b + 1..]));
                }
                c => out.push(c.to_string()),
            }
        }
        out.retain(|c| !c.is_empty());
        if out.is_empty() {
            out.push("a".into());
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Never `false` where the glob set matches, whether asked by path
        /// or by node (in any order of nodes).
        #[test]
        fn never_rules_out_a_match(
            paths in proptest::collection::vec(
                (0usize..1000, proptest::collection::vec(0usize..1000, 1..12)), 1..6),
        ) {
            let (globs, set) = fixtures();
            // The globs it can read (one it cannot makes every path a candidate).
            let all = GlobFilter::new(
                globs.iter().filter(|(_, f)| !f.always).map(|(g, _)| g.as_str()),
            );
            let mut tree = Paths::default();
            let leaves: Vec<(String, NodeId)> = paths
                .iter()
                .map(|(g, seeds)| {
                    let comps = instantiate(&globs[g % globs.len()].0, seeds);
                    let comps: Vec<&str> = comps.iter().map(String::as_str).collect();
                    let path: String = comps.iter().map(|c| format!("/{c}")).collect();
                    (path, tree.add(&comps))
                })
                .collect();
            let mut dirs = DirFilter::new(&all, &tree);
            for (path, node) in &leaves {
                let hits = set.matches(path);
                for &i in &hits {
                    let (g, one) = &globs[i];
                    prop_assert!(one.may_match_path(path.as_bytes()), "{} {}", g, path);
                }
                prop_assert_eq!(all.may_match_path(path.as_bytes()), dirs.may_match(*node), "{}", path);
                let readable = hits.iter().any(|&i| !globs[i].1.always);
                prop_assert!(!readable || dirs.may_match(*node), "{}", path);
            }
        }
    }

    /// Where [`DirFilter::matches`] decides, it decides as the glob set
    /// does, and it decides most paths (matches among them).
    #[test]
    fn exact_decisions_agree_with_the_glob_set() {
        let (globs, _) = fixtures();
        let mut readable: Vec<String> = globs
            .iter()
            .filter(|(_, f)| !f.always)
            .map(|(g, _)| g.clone())
            .collect();
        readable.extend(["/t/**", "**/u/**", "/v/*a*b*", "/w/x*/**", "/y/**/z"].map(String::from));
        let set = glob_set(&readable);
        let filter = GlobFilter::new(readable.iter().map(String::as_str));
        let mut tree = Paths::default();
        let mut leaves = Vec::new();
        for g in &readable {
            for seed in 0..40usize {
                let comps = instantiate(g, &[seed, seed * 7 + 3, seed / 3, seed * 13 + 1]);
                let comps: Vec<&str> = comps.iter().map(String::as_str).collect();
                let path: String = comps.iter().map(|c| format!("/{c}")).collect();
                leaves.push((path, tree.add(&comps)));
            }
        }
        for p in [
            "/t", "/u", "/x/u", "/v/ab", "/v/ba", "/v/xaxbx", "/w/x", "/w/xy/q", "/y/z", "/y/q/z",
        ] {
            let comps: Vec<&str> = p[1..].split('/').collect();
            leaves.push((p.to_string(), tree.add(&comps)));
        }
        let mut dirs = DirFilter::new(&filter, &tree);
        let (mut decided, mut hits) = (0, 0);
        for (path, node) in &leaves {
            let Some(got) = dirs.matches(*node) else {
                continue;
            };
            let mut want: Vec<u32> = set.matches(path).into_iter().map(|i| i as u32).collect();
            want.sort_unstable();
            assert_eq!(got, want, "{path}");
            decided += 1;
            hits += usize::from(!got.is_empty());
        }
        assert!(
            decided * 10 >= leaves.len() * 8,
            "{decided} of {}",
            leaves.len()
        );
        assert!(hits * 2 >= decided, "{hits} of {decided}");
    }

    /// The generator does make matches: the property is not vacuous.
    #[test]
    fn generated_paths_mostly_match() {
        let (globs, set) = fixtures();
        let mut matched = 0;
        for (i, (g, _)) in globs.iter().enumerate() {
            let path: String = instantiate(g, &[4])
                .iter()
                .map(|c| format!("/{c}"))
                .collect();
            matched += usize::from(set.matches(&path).contains(&i));
        }
        assert!(
            matched * 10 >= globs.len() * 8,
            "{matched} of {}",
            globs.len()
        );
    }
}
