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

use super::align::{align, layer_keys};
use super::files::file_deltas;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::Serialize;

use crate::analyze::waste::{Finding, ImagePath, Summary, WasteKind};
use crate::ci::checks::{evaluate_diff, Gate};
use crate::load::image::display_command;
use crate::load::index::Index;
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

pub(crate) fn delta(old: u64, new: u64) -> i64 {
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

/// Compare two images (each its index and the report made from it) and
/// check `gate`'s diff rules over them.
pub fn diff(old: (&Index, &Report), new: (&Index, &Report), gate: &Gate) -> Diff {
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
        checks: evaluate_diff(os, ns, gate),
    }
}

// ---------------------------------------------------------------- layers

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
