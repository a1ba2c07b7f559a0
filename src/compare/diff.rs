//! `imgscope diff OLD NEW`: two analyses compared.
//!
//! Layers are aligned first by diff_id (identical bytes: a shared base or a
//! build-cache hit), then by instruction (the same `created_by`, or one
//! close enough in words, e.g. the same RUN with `&& rm -rf …` appended),
//! then by position between already aligned layers when the instruction kind
//! (RUN, COPY, ADD) agrees. Alignment never crosses: layer order is kept.
//! Findings are matched by (kind, path, the aligned layer that caused them).
//! The final filesystems are compared path by path, a directory present on
//! one side only rolled up into one line.
//!
//! The result is symmetric: `diff(B, A)` is the mirror of `diff(A, B)` (old
//! and new swapped, deltas negated, `added`/`removed` and
//! `fixed`/`introduced` exchanged). The alignment is computed in a canonical
//! orientation (decided by the two layer lists alone) and mirrored when the
//! arguments come the other way round, so no tie-break can break that.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::Serialize;

use crate::analyze::index::{Index, NodeId, NodeKind, Op, NO_INODE, ROOT};
use crate::analyze::waste::{walk_visible, Finding, ImagePath, Summary, WasteKind};
use crate::load::image::display_command;
use crate::suggest::Report;

/// One image of the comparison: where it came from and its totals.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub source: String,
    pub tags: Vec<String>,
    #[serde(flatten)]
    pub summary: Summary,
    /// Sum of the layers' stored (pull) sizes, where the archive tells them.
    pub pull_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerStatus {
    /// Identical bytes (same diff_id).
    Same,
    /// The corresponding layer of the other image, with different bytes.
    Changed,
    /// Only in the new image.
    Added,
    /// Only in the old image.
    Removed,
}

impl LayerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LayerStatus::Same => "same",
            LayerStatus::Changed => "changed",
            LayerStatus::Added => "added",
            LayerStatus::Removed => "removed",
        }
    }
}

/// One row of the aligned layer lists.
#[derive(Debug, Clone, Serialize)]
pub struct LayerRow {
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub status: LayerStatus,
    pub old_bytes: u64,
    pub new_bytes: u64,
    pub bytes_delta: i64,
    pub wasted_delta: i64,
    pub pull_delta: i64,
    pub created_by_old: Option<String>,
    pub created_by_new: Option<String>,
}

impl LayerRow {
    /// The instruction without `/bin/sh -c #(nop)` noise, new side first.
    pub fn command(&self) -> String {
        self.created_by_new
            .as_deref()
            .or(self.created_by_old.as_deref())
            .map(display_command)
            .unwrap_or_default()
    }
}

/// A finding present on both sides whose bytes differ.
#[derive(Debug, Clone, Serialize)]
pub struct ChangedFinding {
    pub old: Finding,
    pub new: Finding,
    pub bytes_delta: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Added,
    Removed,
    Grown,
    Shrunk,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Added => "added",
            FileStatus::Removed => "removed",
            FileStatus::Grown => "grown",
            FileStatus::Shrunk => "shrunk",
        }
    }
}

/// A path of the final filesystems whose presence or size differs. A
/// directory on one side only is one row (`dir`, with its file count).
#[derive(Debug, Clone, Serialize)]
pub struct FileDelta {
    pub path: ImagePath,
    pub status: FileStatus,
    pub old_bytes: Option<u64>,
    pub new_bytes: Option<u64>,
    pub bytes_delta: i64,
    pub dir: bool,
    /// Files under a rolled-up directory (1 for a file).
    pub files: u64,
}

/// How much of one of the old image's suggestions the new image realised.
/// For a suggestion made of findings (`basis: "findings"`): the bytes of its
/// findings that are gone, plus what its changed findings shrank by. For one
/// about visible bytes (`basis: "visible"`, a toolchain to move to a build
/// stage): its saving less what the same suggestion still saves in the new
/// image.
#[derive(Debug, Clone, Serialize)]
pub struct Realised {
    pub id: String,
    pub title: String,
    pub saves_bytes: u64,
    pub realised_bytes: u64,
    pub basis: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub schema: u32,
    pub old: Side,
    pub new: Side,
    pub layers: Vec<LayerRow>,
    pub fixed: Vec<Finding>,
    pub introduced: Vec<Finding>,
    pub changed: Vec<ChangedFinding>,
    pub files: Vec<FileDelta>,
    pub total_delta: i64,
    pub visible_delta: i64,
    pub wasted_delta: i64,
    pub hidden_delta: i64,
    pub cache_delta: i64,
    pub pull_delta: i64,
    /// The old image's suggestions and how much of each the new one realised.
    pub realised: Vec<Realised>,
    /// The new image's suggestions: the fixes that remain.
    pub remaining: Vec<crate::suggest::Suggestion>,
    /// The `--ci` rules (`max-growth`, `max-waste-growth`), when given.
    pub checks: Vec<crate::ci::checks::Check>,
}

fn delta(old: u64, new: u64) -> i64 {
    (new as i128 - old as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn side(index: &Index, report: &Report) -> Side {
    Side {
        source: report.image.source.clone(),
        tags: report.image.tags.clone(),
        summary: report.summary.clone(),
        pull_bytes: index.layers.iter().map(|l| l.compressed_bytes).sum(),
    }
}

/// Compare two images. Each is its index and the report made from it.
pub fn diff(old: (&Index, &Report), new: (&Index, &Report)) -> Diff {
    let (oi, or) = old;
    let (ni, nr) = new;
    let pairs = align(&layer_keys(or), &layer_keys(nr));
    let layers = rows(or, nr, &pairs);
    let (fixed, introduced, changed) = match_findings(or, nr, &layers);
    let files = file_deltas(oi, ni);
    let realised = realised(or, nr, &fixed, &changed);
    let (os, ns) = (&or.summary, &nr.summary);
    let old_side = side(oi, or);
    let new_side = side(ni, nr);
    Diff {
        schema: 1,
        total_delta: delta(os.total_bytes, ns.total_bytes),
        visible_delta: delta(os.visible_bytes, ns.visible_bytes),
        wasted_delta: delta(os.wasted_bytes, ns.wasted_bytes),
        hidden_delta: delta(os.hidden_bytes, ns.hidden_bytes),
        cache_delta: delta(os.cache_bytes, ns.cache_bytes),
        pull_delta: delta(old_side.pull_bytes, new_side.pull_bytes),
        old: old_side,
        new: new_side,
        layers,
        fixed,
        introduced,
        changed,
        files,
        realised,
        remaining: nr.suggestions.clone(),
        checks: Vec::new(),
    }
}

// ---------------------------------------------------------------- layers

/// What the alignment looks at in a layer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LayerKey {
    pub diff_id: String,
    pub command: String,
}

fn layer_keys(r: &Report) -> Vec<LayerKey> {
    r.layers
        .iter()
        .map(|l| LayerKey {
            diff_id: l.diff_id.clone(),
            command: display_command(&l.created_by),
        })
        .collect()
}

/// The instruction kind: `RUN`, `COPY`, `ADD`, … (the first word).
fn verb(command: &str) -> &str {
    command.split_whitespace().next().unwrap_or("")
}

/// Words of a command, `&&`, `;` and `\` separators dropped.
fn words(command: &str) -> Vec<&str> {
    let mut w: Vec<&str> = command
        .split_whitespace()
        .filter(|t| !matches!(*t, "&&" | ";" | "\\" | "||"))
        .collect();
    w.sort_unstable();
    w
}

/// Dice coefficient of the two commands' word multisets, 0..=1.
pub fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < wa.len() && j < wb.len() {
        match wa[i].cmp(wb[j]) {
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    2.0 * common as f64 / (wa.len() + wb.len()) as f64
}

/// Two commands are "the same instruction, edited" from this similarity on.
const SIMILAR: f64 = 0.5;

/// Aligned pairs (old index, new index), increasing on both sides.
pub fn align(old: &[LayerKey], new: &[LayerKey]) -> Vec<(usize, usize)> {
    // Canonical orientation: the alignment of (A, B) is the mirror of the
    // alignment of (B, A) by construction.
    if old > new {
        let mut p: Vec<(usize, usize)> = align_oriented(new, old)
            .into_iter()
            .map(|(a, b)| (b, a))
            .collect();
        p.sort_unstable();
        return p;
    }
    align_oriented(old, new)
}

fn align_oriented(old: &[LayerKey], new: &[LayerKey]) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    // Accept candidates in order unless one crosses or reuses a layer.
    let accept = |pairs: &mut Vec<(usize, usize)>, mut cands: Vec<(f64, usize, usize)>| {
        cands.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| a.1.abs_diff(a.2).cmp(&b.1.abs_diff(b.2)))
                .then_with(|| (a.1 + a.2).cmp(&(b.1 + b.2)))
                .then_with(|| (a.1, a.2).cmp(&(b.1, b.2)))
        });
        for (_, i, j) in cands {
            let ok = pairs
                .iter()
                .all(|&(a, b)| a != i && b != j && ((a < i) == (b < j)));
            if ok {
                pairs.push((i, j));
            }
        }
    };
    // 1. identical bytes
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::default();
    for (j, k) in new.iter().enumerate() {
        by_id.entry(k.diff_id.as_str()).or_default().push(j);
    }
    let mut cands = Vec::new();
    for (i, k) in old.iter().enumerate() {
        for &j in by_id.get(k.diff_id.as_str()).into_iter().flatten() {
            cands.push((1.0, i, j));
        }
    }
    accept(&mut pairs, cands);
    // 2. the same or a similar instruction
    let mut cands = Vec::new();
    for (i, a) in old.iter().enumerate() {
        for (j, b) in new.iter().enumerate() {
            if verb(&a.command) != verb(&b.command) {
                continue;
            }
            let s = similarity(&a.command, &b.command);
            if s >= SIMILAR {
                cands.push((s, i, j));
            }
        }
    }
    accept(&mut pairs, cands);
    // 3. by position between aligned layers, when the instruction kind agrees
    pairs.sort_unstable();
    let mut bounds = vec![(None, None)];
    bounds.extend(pairs.iter().map(|&(i, j)| (Some(i), Some(j))));
    let mut extra = Vec::new();
    for w in 0..bounds.len() {
        let lo = bounds[w];
        let hi = bounds.get(w + 1).copied();
        let from_o = lo.0.map_or(0, |i| i + 1);
        let from_n = lo.1.map_or(0, |j| j + 1);
        let to_o = hi.and_then(|h| h.0).unwrap_or(old.len());
        let to_n = hi.and_then(|h| h.1).unwrap_or(new.len());
        for (i, j) in (from_o..to_o).zip(from_n..to_n) {
            if verb(&old[i].command) == verb(&new[j].command) {
                extra.push((i, j));
            }
        }
    }
    pairs.extend(extra);
    pairs.sort_unstable();
    pairs
}

fn rows(or: &Report, nr: &Report, pairs: &[(usize, usize)]) -> Vec<LayerRow> {
    let row = |o: Option<usize>, n: Option<usize>| {
        let ol = o.map(|i| &or.layers[i]);
        let nl = n.map(|j| &nr.layers[j]);
        let status = match (ol, nl) {
            (Some(a), Some(b)) if a.diff_id == b.diff_id => LayerStatus::Same,
            (Some(_), Some(_)) => LayerStatus::Changed,
            (Some(_), None) => LayerStatus::Removed,
            _ => LayerStatus::Added,
        };
        let ob = ol.map_or(0, |l| l.bytes);
        let nb = nl.map_or(0, |l| l.bytes);
        LayerRow {
            old: o,
            new: n,
            status,
            old_bytes: ob,
            new_bytes: nb,
            bytes_delta: delta(ob, nb),
            wasted_delta: delta(
                ol.map_or(0, |l| l.wasted_bytes),
                nl.map_or(0, |l| l.wasted_bytes),
            ),
            pull_delta: delta(
                ol.map_or(0, |l| l.compressed_bytes),
                nl.map_or(0, |l| l.compressed_bytes),
            ),
            created_by_old: ol.map(|l| l.created_by.clone()),
            created_by_new: nl.map(|l| l.created_by.clone()),
        }
    };
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    let flush =
        |out: &mut Vec<LayerRow>, to_i: usize, to_j: usize, i: &mut usize, j: &mut usize| {
            while *i < to_i {
                out.push(row(Some(*i), None));
                *i += 1;
            }
            while *j < to_j {
                out.push(row(None, Some(*j)));
                *j += 1;
            }
        };
    for &(pi, pj) in pairs {
        flush(&mut out, pi, pj, &mut i, &mut j);
        out.push(row(Some(pi), Some(pj)));
        i = pi + 1;
        j = pj + 1;
    }
    flush(&mut out, or.layers.len(), nr.layers.len(), &mut i, &mut j);
    out
}

// -------------------------------------------------------------- findings

/// (kind, path, row of the layer that caused it): what "the same finding"
/// means across two images.
type FindingKey = (WasteKind, ImagePath, usize);

fn cause(f: &Finding) -> usize {
    f.hidden_by_layer.unwrap_or(f.stored_in_layer)
}

fn grouped<'a>(
    waste: &'a [Finding],
    row_of: &HashMap<usize, usize>,
) -> HashMap<FindingKey, Vec<&'a Finding>> {
    let mut g: HashMap<FindingKey, Vec<&Finding>> = HashMap::default();
    for f in waste {
        let row = row_of[&cause(f)];
        g.entry((f.kind, f.path.clone(), row)).or_default().push(f);
    }
    for v in g.values_mut() {
        v.sort_by_key(|f| (row_of[&f.stored_in_layer], f.bytes));
    }
    g
}

/// Largest first, then by path and layers: the report's order. Every field
/// takes part, so findings gathered from a hash map come out in one order.
fn sort_findings(v: &mut [Finding]) {
    v.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.stored_in_layer.cmp(&b.stored_in_layer))
            .then_with(|| a.hidden_by_layer.cmp(&b.hidden_by_layer))
            .then_with(|| a.rule.cmp(&b.rule))
    });
}

fn match_findings(
    or: &Report,
    nr: &Report,
    layers: &[LayerRow],
) -> (Vec<Finding>, Vec<Finding>, Vec<ChangedFinding>) {
    let mut old_row = HashMap::default();
    let mut new_row = HashMap::default();
    for (r, l) in layers.iter().enumerate() {
        if let Some(i) = l.old {
            old_row.insert(i, r);
        }
        if let Some(j) = l.new {
            new_row.insert(j, r);
        }
    }
    let og = grouped(&or.waste, &old_row);
    let ng = grouped(&nr.waste, &new_row);
    let (mut fixed, mut introduced, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    for (key, olds) in &og {
        let news = ng.get(key).map(Vec::as_slice).unwrap_or(&[]);
        for (k, o) in olds.iter().enumerate() {
            match news.get(k) {
                Some(n) if n.bytes != o.bytes => changed.push(ChangedFinding {
                    old: (*o).clone(),
                    new: (*n).clone(),
                    bytes_delta: delta(o.bytes, n.bytes),
                }),
                Some(_) => {}
                None => fixed.push((*o).clone()),
            }
        }
        introduced.extend(news.iter().skip(olds.len()).map(|f| (*f).clone()));
    }
    for (key, news) in &ng {
        if !og.contains_key(key) {
            introduced.extend(news.iter().map(|f| (*f).clone()));
        }
    }
    sort_findings(&mut fixed);
    sort_findings(&mut introduced);
    changed.sort_by(|a, b| {
        b.bytes_delta
            .unsigned_abs()
            .cmp(&a.bytes_delta.unsigned_abs())
            .then_with(|| a.old.path.cmp(&b.old.path))
            .then_with(|| a.old.kind.cmp(&b.old.kind))
            .then_with(|| a.old.stored_in_layer.cmp(&b.old.stored_in_layer))
            .then_with(|| a.new.stored_in_layer.cmp(&b.new.stored_in_layer))
            .then_with(|| a.old.hidden_by_layer.cmp(&b.old.hidden_by_layer))
            .then_with(|| a.new.hidden_by_layer.cmp(&b.new.hidden_by_layer))
            .then_with(|| a.old.bytes.cmp(&b.old.bytes))
    });
    (fixed, introduced, changed)
}

fn realised(
    or: &Report,
    nr: &Report,
    fixed: &[Finding],
    changed: &[ChangedFinding],
) -> Vec<Realised> {
    // A finding is identified by (path, kind, stored_in_layer) within one report.
    type Id<'a> = (&'a ImagePath, WasteKind, usize);
    let gone: HashSet<Id> = fixed
        .iter()
        .map(|f| (&f.path, f.kind, f.stored_in_layer))
        .collect();
    let shrunk: HashMap<Id, u64> = changed
        .iter()
        .filter(|c| c.bytes_delta < 0)
        .map(|c| {
            (
                (&c.old.path, c.old.kind, c.old.stored_in_layer),
                c.bytes_delta.unsigned_abs(),
            )
        })
        .collect();
    or.suggestions
        .iter()
        .map(|s| {
            if s.findings.is_empty() {
                let left = nr
                    .suggestions
                    .iter()
                    .filter(|n| n.id == s.id)
                    .map(|n| n.saves_bytes)
                    .sum::<u64>();
                return Realised {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    saves_bytes: s.saves_bytes,
                    realised_bytes: s.saves_bytes.saturating_sub(left),
                    basis: "visible",
                };
            }
            let realised_bytes = s
                .findings
                .iter()
                .filter_map(|&k| or.waste.get(k))
                .map(|f| {
                    let id = (&f.path, f.kind, f.stored_in_layer);
                    if gone.contains(&id) {
                        f.bytes
                    } else {
                        shrunk.get(&id).copied().unwrap_or(0)
                    }
                })
                .sum();
            Realised {
                id: s.id.clone(),
                title: s.title.clone(),
                saves_bytes: s.saves_bytes,
                realised_bytes,
                basis: "findings",
            }
        })
        .collect()
}

// ----------------------------------------------------------------- files

/// The final state of a node: its kind, if present.
fn present(index: &Index, id: NodeId) -> Option<NodeKind> {
    let c = index.nodes[id as usize].changes.last()?;
    (c.op != Op::Remove).then_some(c.kind)
}

/// Bytes of a visible node counted once per stored file (hard links once, at
/// their first name in walk order).
struct Counter<'a> {
    index: &'a Index,
    seen: HashSet<u32>,
}

impl Counter<'_> {
    fn file(&mut self, id: NodeId) -> u64 {
        let c = self.index.nodes[id as usize]
            .changes
            .last()
            .expect("present");
        if c.kind != NodeKind::File || c.inode == NO_INODE || !self.seen.insert(c.inode) {
            return 0;
        }
        self.index.inodes[c.inode as usize].size
    }

    /// (bytes, non-directory entries) below a directory.
    fn tree(&mut self, id: NodeId, path: &mut Vec<u8>) -> (u64, u64) {
        let (mut bytes, mut files) = (0, 0);
        let index = self.index;
        walk_visible(index, id, path, &mut |ch, _| {
            if present(index, ch) != Some(NodeKind::Dir) {
                files += 1;
                bytes += self.file(ch);
            }
        });
        (bytes, files)
    }
}

fn file_deltas(oi: &Index, ni: &Index) -> Vec<FileDelta> {
    let mut oc = Counter {
        index: oi,
        seen: HashSet::default(),
    };
    let mut nc = Counter {
        index: ni,
        seen: HashSet::default(),
    };
    let mut out = Vec::new();
    // Depth first in name order on both sides (the order hard links are
    // counted in); a stack of (old node, new node, path).
    let mut stack: Vec<(Option<NodeId>, Option<NodeId>, Vec<u8>)> =
        vec![(Some(ROOT), Some(ROOT), Vec::new())];
    while let Some((o, n, mut path)) = stack.pop() {
        let ok = o.and_then(|id| {
            if id == ROOT {
                Some(NodeKind::Dir)
            } else {
                present(oi, id)
            }
        });
        let nk = n.and_then(|id| {
            if id == ROOT {
                Some(NodeKind::Dir)
            } else {
                present(ni, id)
            }
        });
        if ok == Some(NodeKind::Dir) && nk == Some(NodeKind::Dir) {
            let (o, n) = (o.unwrap(), n.unwrap());
            let mut kids = merge_children(oi, o, ni, n);
            kids.reverse();
            for (name, a, b) in kids {
                let mut p = path.clone();
                p.push(b'/');
                p.extend_from_slice(name);
                stack.push((a, b, p));
            }
            continue;
        }
        // One side: its bytes and file count (a directory rolled up).
        let mut one = |c: &mut Counter, id: Option<NodeId>, kind: Option<NodeKind>| {
            let id = id?;
            match kind? {
                NodeKind::Dir => {
                    let (b, f) = c.tree(id, &mut path);
                    (f > 0).then_some((b, f, true))
                }
                _ => Some((c.file(id), 1, false)),
            }
        };
        let a = one(&mut oc, o, ok);
        let b = one(&mut nc, n, nk);
        match (a, b) {
            (Some((ab, _, false)), Some((bb, _, false))) => {
                if ab != bb {
                    out.push(FileDelta {
                        path: ImagePath(path.clone()),
                        status: if bb > ab {
                            FileStatus::Grown
                        } else {
                            FileStatus::Shrunk
                        },
                        old_bytes: Some(ab),
                        new_bytes: Some(bb),
                        bytes_delta: delta(ab, bb),
                        dir: false,
                        files: 1,
                    });
                }
            }
            (a, b) => {
                if let Some((ab, files, dir)) = a {
                    out.push(FileDelta {
                        path: ImagePath(path.clone()),
                        status: FileStatus::Removed,
                        old_bytes: Some(ab),
                        new_bytes: None,
                        bytes_delta: delta(ab, 0),
                        dir,
                        files,
                    });
                }
                if let Some((bb, files, dir)) = b {
                    out.push(FileDelta {
                        path: ImagePath(path.clone()),
                        status: FileStatus::Added,
                        old_bytes: None,
                        new_bytes: Some(bb),
                        bytes_delta: delta(0, bb),
                        dir,
                        files,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| {
        b.bytes_delta
            .unsigned_abs()
            .cmp(&a.bytes_delta.unsigned_abs())
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.dir.cmp(&b.dir))
    });
    out
}

/// Children of two directories joined by name (both lists are sorted).
pub(crate) fn merge_children<'a>(
    oi: &'a Index,
    o: NodeId,
    ni: &'a Index,
    n: NodeId,
) -> Vec<(&'a [u8], Option<NodeId>, Option<NodeId>)> {
    let a = &oi.nodes[o as usize].children;
    let b = &ni.nodes[n as usize].children;
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() || j < b.len() {
        let na = a.get(i).map(|&c| &*oi.nodes[c as usize].name);
        let nb = b.get(j).map(|&c| &*ni.nodes[c as usize].name);
        match (na, nb) {
            (Some(x), Some(y)) if x == y => {
                out.push((x, Some(a[i]), Some(b[j])));
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                out.push((x, Some(a[i]), None));
                i += 1;
            }
            (Some(x), None) => {
                out.push((x, Some(a[i]), None));
                i += 1;
            }
            (_, Some(y)) => {
                out.push((y, None, Some(b[j])));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(id: &str, cmd: &str) -> LayerKey {
        LayerKey {
            diff_id: id.into(),
            command: cmd.into(),
        }
    }

    #[test]
    fn chained_cleanup_aligns_with_the_install() {
        let old = [
            k("a", "ADD file:x in /"),
            k(
                "b",
                "RUN mkdir -p /data && head -c 300 /bin/busybox > /data/big.bin",
            ),
            k("c", "RUN rm -rf /data/big.bin"),
        ];
        let new = [
            k("a", "ADD file:x in /"),
            k(
                "d",
                "RUN mkdir -p /data && head -c 300 /bin/busybox > /data/big.bin && rm -rf /data/big.bin",
            ),
        ];
        assert_eq!(align(&old, &new), vec![(0, 0), (1, 1)]);
        assert_eq!(align(&new, &old), vec![(0, 0), (1, 1)]);
    }

    #[test]
    fn moved_copy_aligns_by_instruction_not_position() {
        let old = [
            k("a", "ADD file:x in /"),
            k("t", "COPY dir:tool in /usr/"),
            k("h", "COPY file:hello in /usr/local/bin/hello"),
        ];
        let new = [
            k("a", "ADD file:x in /"),
            k("h2", "COPY file:hello in /usr/local/bin/hello"),
        ];
        assert_eq!(align(&old, &new), vec![(0, 0), (2, 1)]);
    }

    #[test]
    fn similarity_is_symmetric_and_bounded() {
        let a = "RUN apt-get update && apt-get install -y curl";
        let b = "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*";
        assert_eq!(similarity(a, b), similarity(b, a));
        assert!(similarity(a, b) > SIMILAR && similarity(a, b) < 1.0);
        assert_eq!(similarity("RUN x", "RUN x"), 1.0);
    }
}
