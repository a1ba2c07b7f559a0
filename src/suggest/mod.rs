//! Suggestions: group findings by their cause and say what to write instead.
//!
//! Each rule is a small module that takes the findings it understands (never
//! one another rule already took), groups them by the layers involved, and
//! emits one [`Suggestion`] per group whose `saves_bytes` is the sum of the
//! bytes of the findings it lists. The rules run in a fixed order, most
//! specific first: base-image files, package-manager caches, chained cleanup
//! (and download–extract–delete), moves and overwrites (a move takes along
//! the metadata-only copies of the file before it), metadata-only copies.
//! Copies a layer hid itself (a path stored twice in one tar) are claimed
//! first, by their own rule. The multi-stage rule is apart: it claims no finding, and its saving is the
//! visible bytes a build toolchain occupies.
//!
//! Texts and data live in `assets/suggestions.toml`.

mod base;
mod chain;
pub mod dockerfile;
mod duplicate;
mod installed;
mod metadata;
mod moves;
mod multistage;
mod optional;
mod packages;
pub mod report;
pub mod steps;
pub mod texts;
pub mod valid;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use crate::analyze::rules::Rules;
use crate::analyze::waste::{Analysis, Finding, WasteKind};
use crate::load::index::{Index, NodeId, NodeKind, Op, NO_INODE, ROOT};
use dockerfile::Dockerfile;
pub use report::{Edit, Report, Suggestion, SuggestionKind};
use steps::Steps;

/// For each finding of the report, the suggestion that covers it (an index
/// into `report.suggestions`; the first, the largest, when several do), for
/// outputs that go from a finding to its fix.
pub fn suggestion_of_findings(report: &Report) -> Vec<Option<usize>> {
    let mut v = vec![None; report.waste.len()];
    for (si, s) in report.suggestions.iter().enumerate() {
        for &i in &s.findings {
            if let Some(slot) = v.get_mut(i) {
                slot.get_or_insert(si);
            }
        }
    }
    v
}

/// What squashing would remove, with its cost, as a sentence.
pub fn squash_note(hidden_bytes: u64) -> String {
    texts::fill(
        &texts::texts().why.squash,
        &[("bytes", &crate::units::bytes_text(hidden_bytes))],
    )
}

/// A layer's command for display: the base rootfs (`ADD file:<sha> in /`)
/// is named as such, with its digest shortened.
pub fn layer_command(cmd: &str) -> String {
    if !steps::is_rootfs(cmd) {
        return cmd.to_string();
    }
    let src = cmd.split_whitespace().nth(1).unwrap_or("");
    let short: String = src.chars().take(17).collect();
    let ell = if short.len() < src.len() { "…" } else { "" };
    format!("ADD {short}{ell} in /  (the base image's root file system)")
}

/// The report of an analysis: the analysis with what to change in the
/// Dockerfile (`df`, `--dockerfile` parsed, whose lines are cited), largest
/// saving first.
pub fn suggest(
    index: &Index,
    analysis: Analysis,
    rules: &Rules,
    df: Option<&Dockerfile>,
) -> Report {
    suggest_scanned(index, analysis, rules, df, || prescan(index, rules))
}

/// What the suggestions read of the index alone (the multi-stage rule's
/// scan of the final filesystem): it needs no analysis, so [`prescan`]
/// can run beside it.
#[derive(Debug)]
pub struct Prescan(multistage::Scan);

/// The index-only part of [`suggest`] (see [`Prescan`]).
pub fn prescan(index: &Index, rules: &Rules) -> Prescan {
    Prescan(multistage::scan(index, rules))
}

/// [`suggest`] with the [`prescan`] of the same index and rules from
/// `scan`, asked for only when the rule that reads it runs (the rules
/// before it need not wait for a prescan running on another thread).
pub fn suggest_scanned(
    index: &Index,
    analysis: Analysis,
    rules: &Rules,
    df: Option<&Dockerfile>,
    scan: impl FnOnce() -> Prescan,
) -> Report {
    let steps = Steps::new(
        &analysis.layers,
        df,
        &analysis.image.base,
        &index.image.history,
    );
    let cx = Ctx::new(index, &analysis, rules, steps);
    let mut claims = Claims {
        taken: vec![false; analysis.waste.len()],
    };
    let mut out = Vec::new();
    // Copies hidden by their own layer first: the rules below relate a
    // storing layer to a strictly later hiding one.
    duplicate::run(&cx, &mut claims, &mut out);
    base::run(&cx, &mut claims, &mut out);
    packages::run(&cx, &mut claims, &mut out);
    chain::run(&cx, &mut claims, &mut out);
    // Moves first: a move may take the metadata-only copies before it.
    moves::run(&cx, &mut claims, &mut out);
    metadata::run(&cx, &mut claims, &mut out);
    multistage::run(&cx, scan().0, &mut out);
    optional::run(&cx, &mut out);
    installed::run(&cx, &mut out);
    for sg in &mut out {
        sg.saves_compressed_bytes = crate::analyze::pull::saving(
            &analysis.layers,
            &analysis.waste,
            &sg.findings,
            &sg.layers,
            sg.saves_bytes,
        );
    }
    // An After is valid Dockerfile, or it is not printed: the reason is.
    for sg in &mut out {
        if let Some(why) = valid::invalid(&sg.after) {
            sg.after.clear();
            sg.no_after = why;
            sg.edit = None;
        }
    }
    // Two groups, each largest saving first: the user's layers, then the
    // base image's waste (a choice of base, not a fix of the user's
    // instructions).
    out.sort_by(|a, b| {
        a.in_base
            .cmp(&b.in_base)
            .then_with(|| b.saves_bytes.cmp(&a.saves_bytes))
            .then_with(|| a.id.cmp(&b.id))
    });
    Report {
        analysis,
        suggestions: out,
    }
}

/// Which findings a suggestion already covers.
pub(crate) struct Claims {
    taken: Vec<bool>,
}

/// What every rule reads.
pub(crate) struct Ctx<'a> {
    pub index: &'a Index,
    pub report: &'a Analysis,
    pub rules: &'a Rules,
    pub steps: Steps,
    pub texts: &'static texts::Texts,
    /// For each hiding layer, the layers that stored what it hid.
    pub hid_from: HashMap<usize, BTreeSet<usize>>,
    /// Visible files a suggestion already counts (the rules that save
    /// visible bytes count each once, in the order they run).
    pub visible: std::cell::RefCell<crate::analyze::waste::InodeSet>,
}

impl<'a> Ctx<'a> {
    fn new(index: &'a Index, report: &'a Analysis, rules: &'a Rules, steps: Steps) -> Self {
        let mut hid_from: HashMap<usize, BTreeSet<usize>> = HashMap::default();
        for f in &report.waste {
            if let Some(b) = f.hidden_by_layer {
                hid_from.entry(b).or_default().insert(f.stored_in_layer);
            }
        }
        Ctx {
            index,
            report,
            rules,
            steps,
            texts: texts::texts(),
            hid_from,
            visible: std::cell::RefCell::new(crate::analyze::waste::InodeSet::new(index)),
        }
    }

    /// Count visible inode `ino` for the calling suggestion: false when an
    /// earlier one counts it already.
    pub fn claim_inode(&self, ino: crate::load::index::InodeId) -> bool {
        ino != NO_INODE && self.visible.borrow_mut().insert(ino)
    }

    /// [`Ctx::claim_inode`] of the visible file at `node`.
    pub fn claim_node(&self, node: NodeId) -> bool {
        self.index
            .changes(node)
            .last()
            .is_some_and(|c| c.kind == NodeKind::File && self.claim_inode(c.inode))
    }

    pub fn finding(&self, i: usize) -> &Finding {
        &self.report.waste[i]
    }

    /// Unclaimed findings grouped by the key `key` gives them (None: skip).
    pub fn group<K: Ord>(
        &self,
        claims: &Claims,
        key: impl Fn(&Finding) -> Option<K>,
    ) -> BTreeMap<K, Vec<usize>> {
        let mut g: BTreeMap<K, Vec<usize>> = BTreeMap::new();
        for (i, f) in self.report.waste.iter().enumerate() {
            if claims.taken[i] {
                continue;
            }
            if let Some(k) = key(f) {
                g.entry(k).or_default().push(i);
            }
        }
        g
    }

    /// Can these layers become one RUN without changing what it does to
    /// other layers' files: all RUNs of this Dockerfile whose commands can be
    /// joined, each after the first hiding only what the ones before it in the
    /// list stored.
    pub fn joinable(&self, layers: &[usize]) -> bool {
        layers.iter().enumerate().all(|(k, &l)| {
            let s = self.steps.get(l);
            s.is_run()
                && !s.base
                && s.body.is_some()
                && (k == 0
                    || self
                        .hid_from
                        .get(&l)
                        .is_none_or(|from| from.iter().all(|x| layers[..k].contains(x))))
        })
    }

    /// Does layer `b` hide only what layer `a` stored?
    pub fn hides_only_from(&self, b: usize, a: usize) -> bool {
        self.hid_from
            .get(&b)
            .is_some_and(|s| s.len() == 1 && s.contains(&a))
    }

    pub fn bytes(&self, findings: &[usize]) -> u64 {
        findings.iter().map(|&i| self.report.waste[i].bytes).sum()
    }

    /// "/path" for one finding, "3 files under /dir" for several.
    pub fn what(&self, findings: &[usize]) -> String {
        // Borrowed where the path is UTF-8 (most): tens of thousands of
        // findings (a `chmod -R`) make no string each.
        what_of(
            findings
                .iter()
                .map(|&i| utf8_lossy(&self.report.waste[i].path.0))
                .collect(),
        )
    }

    pub fn what_paths(&self, paths: &[String]) -> String {
        what_of(paths.iter().map(|p| Cow::Borrowed(p.as_str())).collect())
    }

    /// Distinct base names of the findings' paths (at most `max`).
    pub fn names(&self, findings: &[usize], max: usize) -> Vec<String> {
        let mut v: BTreeSet<String> = BTreeSet::new();
        for &i in findings {
            let p = self.report.waste[i].path.display();
            if let Some(n) = p.rsplit('/').next().filter(|n| n.len() >= 3) {
                v.insert(n.to_string());
            }
            if v.len() >= max {
                break;
            }
        }
        v.into_iter().collect()
    }

    /// The change `layer` made to `node`, if any.
    pub fn change_at(&self, node: NodeId, layer: usize) -> Option<&crate::load::index::Change> {
        self.index
            .changes(node)
            .iter()
            .find(|c| c.layer as usize == layer)
    }

    /// The content hash of the copy a finding is about.
    pub fn stored_hash(&self, f: &Finding) -> Option<u128> {
        let c = self.change_at(f.node, f.stored_in_layer)?;
        (c.op != Op::Remove && c.inode != NO_INODE)
            .then(|| self.index.inodes[c.inode as usize].hash())
    }

    /// Are all non-directories under `node` (itself included) that exist just
    /// before layer `b` stored by layer `a`?
    fn owned_by(&self, node: NodeId, a: usize, b: usize, memo: &mut HashMap<NodeId, bool>) -> bool {
        if let Some(&m) = memo.get(&node) {
            return m;
        }
        let mut ok = true;
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            // A subtree already judged (a child, when walking up from a
            // deep path) is not scanned again: the walk up stays linear.
            if n != node {
                if let Some(&m) = memo.get(&n) {
                    if m {
                        continue;
                    }
                    ok = false;
                    break;
                }
            }
            let Some(c) = self.index.state_at(n, b - 1) else {
                continue;
            };
            if c.kind == NodeKind::Dir {
                stack.extend(self.index.children(n).iter().copied());
            } else if c.layer as usize != a {
                ok = false;
                break;
            }
        }
        memo.insert(node, ok);
        ok
    }

    /// The path to delete in layer `a` so that what layer `b` removes of a
    /// finding never reaches a layer: its highest ancestor that `b` removed
    /// and that holds nothing but what `a` stored (else the path itself).
    pub fn rm_target(
        &self,
        i: usize,
        a: usize,
        b: usize,
        memo: &mut HashMap<NodeId, bool>,
    ) -> NodeId {
        let f = &self.report.waste[i];
        let mut target = f.node;
        let mut n = f.node;
        loop {
            let removed_here = self.change_at(n, b).is_some_and(|c| c.op == Op::Remove);
            if !removed_here || !self.owned_by(n, a, b, memo) {
                break;
            }
            target = n;
            let p = self.index.parent(n);
            if p == ROOT {
                break;
            }
            n = p;
        }
        target
    }

    /// [`Ctx::rm_target`] of each finding, without those inside another.
    /// Several targets in a directory that layer `b` emptied become `DIR/*`.
    pub fn rm_targets(&self, findings: &[usize], a: usize, b: usize) -> Vec<String> {
        let mut memo = HashMap::default();
        let mut by_parent: BTreeMap<NodeId, Vec<NodeId>> = BTreeMap::new();
        for &i in findings {
            let t = self.rm_target(i, a, b, &mut memo);
            by_parent.entry(self.index.parent(t)).or_default().push(t);
        }
        let mut all: BTreeSet<String> = BTreeSet::new();
        for (parent, mut ts) in by_parent {
            ts.sort_unstable();
            ts.dedup();
            let emptied = parent != ROOT
                && self.index.children(parent).iter().all(|&c| {
                    self.index.state_at(c, b - 1).is_none()
                        || self.change_at(c, b).is_some_and(|x| x.op == Op::Remove)
                });
            if ts.len() > 2 && emptied {
                all.insert(format!("{}/*", self.path_of(parent)));
            } else {
                all.extend(ts.into_iter().map(|t| self.path_of(t)));
            }
        }
        drop_nested(all)
    }

    pub fn path_of(&self, node: NodeId) -> String {
        String::from_utf8_lossy(&self.index.path(node)).into_owned()
    }

    /// RUN steps strictly between `a` and `b` whose text names one of `names`:
    /// they use the files, so a fix that joins A and B must keep them between.
    pub fn mids(&self, a: usize, b: usize, names: &[String]) -> Vec<usize> {
        (a + 1..b)
            .filter(|&l| {
                let s = self.steps.get(l);
                s.is_run() && !s.base && names.iter().any(|n| s.text.contains(n.as_str()))
            })
            .collect()
    }

    /// Unclaimed findings of `kind` by (storing layer, hiding layer).
    pub fn pairs(&self, claims: &Claims, kind: WasteKind) -> BTreeMap<(usize, usize), Vec<usize>> {
        self.group(claims, |f| {
            (f.kind == kind).then_some((f.stored_in_layer, f.hidden_by_layer?))
        })
    }

    /// Add the suggestion of a group to `out` and claim its findings,
    /// unless it would save nothing.
    pub fn emit(&self, claims: &mut Claims, out: &mut Vec<Suggestion>, d: Draft) {
        let saves = self.bytes(&d.findings);
        if saves == 0 {
            return;
        }
        for &i in &d.findings {
            debug_assert!(!claims.taken[i], "finding {i} claimed twice");
            claims.taken[i] = true;
        }
        let mut findings = d.findings;
        findings.sort_unstable();
        let mut layers = d.layers;
        layers.sort_unstable();
        layers.dedup();
        let mut vars: Vec<(&str, &str)> = d.vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let bytes = crate::units::bytes_text(saves);
        vars.push(("bytes", &bytes));
        // Pronouns that agree with {what}.
        let one = findings
            .iter()
            .all(|&i| self.report.waste[i].path == self.report.waste[findings[0]].path);
        let (it, its, it_is) = if one {
            ("it", "its", "it is")
        } else {
            ("them", "their", "they are")
        };
        vars.extend([("it", it), ("its", its), ("it_is", it_is)]);
        let t = self.texts.rule(d.rule);
        out.push(Suggestion {
            id: d.id,
            title: texts::fill(&t.title, &vars),
            before: self.steps.before(&layers),
            dockerfile_lines: self.steps.lines(&layers),
            layers,
            saves_bytes: saves,
            saves_compressed_bytes: 0,
            after: d.after,
            why: texts::fill(&t.why, &vars),
            in_base: matches!(
                d.rule,
                SuggestionKind::BaseImage | SuggestionKind::BaseCache
            ),
            kind: d.rule,
            findings,
            no_after: String::new(),
            edit: d.edit,
        });
    }
}

/// A suggestion before its saving and texts are filled in.
pub(crate) struct Draft {
    /// The `[rule.NAME]` of assets/suggestions.toml.
    pub rule: SuggestionKind,
    pub id: String,
    /// Values of the title's and why's placeholders.
    pub vars: Vec<(&'static str, String)>,
    pub layers: Vec<usize>,
    pub findings: Vec<usize>,
    pub after: String,
    /// The After as an edit of the steps (see [`report::Edit`]).
    pub edit: Option<Edit>,
}

impl Draft {
    /// A suggestion about what layer `b` did to files of layer `a`.
    pub fn pair(
        cx: &Ctx,
        rule: SuggestionKind,
        (a, b): (usize, usize),
        findings: Vec<usize>,
        after: String,
    ) -> Draft {
        Draft {
            rule,
            id: format!("{}:{}", rule.as_str(), layer_id(&[a, b])),
            vars: vec![
                ("a", a.to_string()),
                ("b", b.to_string()),
                ("what", cx.what(&findings)),
            ],
            layers: vec![a, b],
            findings,
            after,
            edit: None,
        }
    }

    pub fn var(mut self, k: &'static str, v: impl Into<String>) -> Draft {
        self.vars.retain(|(n, _)| *n != k);
        self.vars.push((k, v.into()));
        self
    }
}

/// An edit that puts `text` in place of the first of `layers` and removes
/// the others (they moved into it).
pub fn join_edit(layers: &[usize], text: &str) -> Option<Edit> {
    let (&first, rest) = layers.split_first()?;
    let mut steps = vec![(first, Some(text.to_string()))];
    steps.extend(rest.iter().map(|&l| (l, None)));
    Some(Edit { steps, stage: None })
}

/// The paths that are not inside another one of the set (a trailing `/*`
/// counts as its directory). O(n × depth).
pub fn drop_nested(all: BTreeSet<String>) -> Vec<String> {
    let plain: std::collections::HashSet<&str> =
        all.iter().map(|t| t.trim_end_matches("/*")).collect();
    all.iter()
        .filter(|t| {
            let t = t.trim_end_matches("/*");
            !t.match_indices('/')
                .skip(1)
                .any(|(pos, _)| plain.contains(&t[..pos]))
        })
        .cloned()
        .collect()
}

/// Is `path` strictly inside directory `dir`?
pub fn is_inside(path: &str, dir: &str) -> bool {
    path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
}

/// The deepest directory holding all paths ("/" when none is shared).
pub fn common_dir<'p>(mut paths: impl Iterator<Item = &'p str>) -> String {
    let Some(first) = paths.next() else {
        return "/".into();
    };
    let mut dir: Vec<&str> = first.split('/').filter(|c| !c.is_empty()).collect();
    dir.pop();
    for p in paths {
        if dir.is_empty() {
            break;
        }
        // The leading components of p's parent that match (no allocation).
        let mut comps = p.split('/').filter(|c| !c.is_empty()).peekable();
        let mut same = 0;
        while let Some(c) = comps.next() {
            if comps.peek().is_none() || same == dir.len() || dir[same] != c {
                break;
            }
            same += 1;
        }
        dir.truncate(same);
    }
    format!("/{}", dir.join("/"))
}

/// "nothing", the one path, "N files under DIR" or "FIRST and N more
/// files" for a list of paths (each counted once, the first in order).
fn what_of(paths: Vec<Cow<'_, str>>) -> String {
    // Counted in a hash set, not sorted: a `chmod -R` gives tens of
    // thousands (the common directory is the same in any order).
    let mut distinct: rustc_hash::FxHashSet<&str> =
        rustc_hash::FxHashSet::with_capacity_and_hasher(paths.len(), Default::default());
    distinct.extend(paths.iter().map(|p| &**p));
    match distinct.len() {
        0 => "nothing".into(),
        1 => paths[0].to_string(),
        n => {
            let dir = common_dir(paths.iter().map(|p| &**p));
            if dir == "/" {
                let first = distinct.iter().min().expect("two paths or more");
                format!("{first} and {} more files", n - 1)
            } else {
                format!("{n} files under {dir}")
            }
        }
    }
}

/// `String::from_utf8_lossy`, with the standard validation's fast path
/// first (most paths are UTF-8; the lossy decoder checks them a character
/// at a time).
pub(crate) fn utf8_lossy(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// `L4-L9` style layer list for ids.
pub fn layer_id(layers: &[usize]) -> String {
    layers
        .iter()
        .map(|l| format!("L{l}"))
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rootfs_command() {
        assert_eq!(
            layer_command(
                "ADD file:ce026b62356eec3ad1214f92be2c9dc063fe205bd5e600be3492c4dfb17148bd in /"
            ),
            "ADD file:ce026b62356e… in /  (the base image's root file system)"
        );
        assert_eq!(layer_command("RUN x"), "RUN x");
    }

    #[test]
    fn nested_paths_dropped() {
        let set: BTreeSet<String> = ["/a", "/a/b", "/a-b/c", "/x/*", "/x/y", "/xy"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(drop_nested(set), ["/a", "/a-b/c", "/x/*", "/xy"]);
    }

    #[test]
    fn common_dirs() {
        assert_eq!(common_dir(["/a/b/c", "/a/b/d"].into_iter()), "/a/b");
        assert_eq!(common_dir(["/a/b/c", "/x/y"].into_iter()), "/");
        assert_eq!(common_dir(["/a/b/c"].into_iter()), "/a/b");
        assert_eq!(common_dir(["/a/b/c", "/a/b"].into_iter()), "/a");
        assert_eq!(common_dir(["/a/b/c", "/a/b/c/d/e"].into_iter()), "/a/b");
        assert_eq!(
            what_of(["/a/b/c", "/a/x", "/a/b/c"].map(Cow::Borrowed).to_vec()),
            "2 files under /a"
        );
        assert_eq!(
            what_of(["/z/1", "/b/2"].map(Cow::Borrowed).to_vec()),
            "/b/2 and 1 more files"
        );
        assert_eq!(layer_id(&[4, 9]), "L4-L9");
    }
}
