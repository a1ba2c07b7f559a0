//! Waste analysis: a pure, deterministic function of the index.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use serde::{Deserialize, Serialize};

use super::binaries::{Binary, Insight};
use super::packages::{Package, PackageSummary};
use crate::analyze::base::Base;
use crate::analyze::ignore::{Ignore, Ignored};
use crate::analyze::rules::Rules;
use crate::load::image::display_command;
use crate::load::index::{HideCause, Index, InodeId, NodeId, NodeKind, Op, NO_INODE, ROOT};

pub use crate::load::index::ImagePath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WasteKind {
    Removed,
    Overwritten,
    MetadataOnly,
    Moved,
    Cache,
}

impl WasteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WasteKind::Removed => "removed",
            WasteKind::Overwritten => "overwritten",
            WasteKind::MetadataOnly => "metadata_only",
            WasteKind::Moved => "moved",
            WasteKind::Cache => "cache",
        }
    }
    pub const ALL: [WasteKind; 5] = [
        WasteKind::Removed,
        WasteKind::Overwritten,
        WasteKind::MetadataOnly,
        WasteKind::Moved,
        WasteKind::Cache,
    ];
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub path: ImagePath,
    pub kind: WasteKind,
    pub bytes: u64,
    /// Estimated download bytes: `bytes` at its layer's compression ratio
    /// (see [`crate::analyze::pull`]).
    pub compressed_bytes: u64,
    pub stored_in_layer: usize,
    pub hidden_by_layer: Option<usize>,
    pub rule: Option<String>,
    /// Stored by a layer of the base image (see [`crate::analyze::base`]):
    /// only another base can remove it.
    pub in_base: bool,
    /// The package that owns the path (`dpkg:gcc-12`), when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The node of `path` in the index (for navigation).
    #[serde(skip)]
    pub node: NodeId,
}

/// A visible file an optional rule takes: a trade-off, not waste.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OptionalFile {
    pub path: ImagePath,
    pub bytes: u64,
    /// The layer that stored the visible copy.
    pub layer: usize,
    pub rule: String,
    /// The node of `path` in the index (for navigation).
    #[serde(skip)]
    pub node: NodeId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageReport {
    pub source: String,
    pub format: String,
    pub tags: Vec<String>,
    pub os: String,
    pub architecture: String,
    /// The base-image boundary and how it was found.
    pub base: super::base::Base,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Summary {
    pub total_bytes: u64,
    pub visible_bytes: u64,
    pub hidden_bytes: u64,
    pub cache_bytes: u64,
    /// Visible files optional rules take (never in `wasted_bytes`).
    pub optional_bytes: u64,
    pub wasted_bytes: u64,
    pub waste_ratio: f64,
    pub efficiency: f64,
    pub layer_count: usize,
    pub file_count: u64,
    /// What squashing the image into one layer would remove: the hidden
    /// bytes (at the price of layer sharing with images on the same base).
    pub squash_saves_bytes: u64,
    /// Pull size: the stored (compressed) layer blobs.
    pub compressed_bytes: u64,
    /// The download: `compressed_bytes`, with each layer stored
    /// uncompressed counted at its estimated gzip size (what a registry
    /// serves; see [`LayerReport::pull_estimate`]).
    #[serde(skip)]
    pub pull_bytes: u64,
    /// How many layers `pull_bytes` counts at an estimate.
    #[serde(skip)]
    pub pull_estimated_layers: usize,
    /// Estimated download bytes of the waste (see [`crate::analyze::pull`]).
    pub wasted_compressed_bytes: u64,
    /// Bytes of the layers after the base image's (all of them when the
    /// boundary is unknown).
    pub user_bytes: u64,
    /// Wasted bytes stored by those layers: what the user's own Dockerfile
    /// can stop wasting.
    pub user_wasted_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerReport {
    pub index: usize,
    pub digest: String,
    pub diff_id: String,
    pub created_by: String,
    pub bytes: u64,
    pub compressed_bytes: u64,
    pub files: u64,
    pub added: u64,
    pub modified: u64,
    pub removed: u64,
    pub wasted_bytes: u64,
    /// One of the base image's layers.
    pub in_base: bool,
    /// `created_by` without the `/bin/sh -c #(nop)` noise.
    #[serde(skip)]
    pub command: String,
    /// A blob stored uncompressed: its estimated gzip size.
    #[serde(skip)]
    pub pull_estimate: Option<u64>,
}

impl LayerReport {
    /// What pulling the layer downloads: its blob, or for a blob stored
    /// uncompressed, its estimated gzip size.
    pub fn pull_bytes(&self) -> u64 {
        self.pull_estimate.unwrap_or(self.compressed_bytes)
    }
}

/// What the analysis of an index found: SPEC.md's report up to `waste`
/// (suggestions and checks are later stages' values).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Analysis {
    pub schema: u32,
    pub image: ImageReport,
    pub summary: Summary,
    pub layers: Vec<LayerReport>,
    pub waste: Vec<Finding>,
    /// Visible files a team may remove at a cost: largest first.
    pub optional: Vec<OptionalFile>,
    /// Oddities that did not stop the analysis (written after `checks`).
    #[serde(skip)]
    pub warnings: Vec<crate::load::index::Warning>,
    /// Installed (and removed-but-wasting) packages, largest first
    /// (written after `warnings`).
    #[serde(skip)]
    pub packages: Vec<Package>,
    /// The split of visible and wasted bytes between packages and none.
    #[serde(skip)]
    pub package_summary: PackageSummary,
    /// What the binaries and the minimal-image checks find.
    #[serde(skip)]
    pub insights: Vec<Insight>,
    /// Every visible ELF executable and shared library.
    #[serde(skip)]
    pub binaries: Vec<Binary>,
    /// Which package owns each path (for the suggestions and the views).
    #[serde(skip)]
    pub owners: super::packages::Owners,
    /// What `--ignore` left out, when ignores were given (written last).
    #[serde(skip)]
    pub ignored: Option<Ignored>,
}

impl Analysis {
    pub fn bytes_of(&self, kind: WasteKind) -> u64 {
        self.waste
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| f.bytes)
            .sum()
    }
}

/// [`analyze_with`] with the base-image boundary the image itself shows
/// (annotations, history).
pub fn analyze(index: &Index, rules: &Rules, ignore: &Ignore) -> Analysis {
    let base = super::base::detect(index, &Default::default()).unwrap_or_default();
    analyze_based(index, rules, ignore, base)
}

/// The base-image boundary from what the image shows and what the caller
/// knows (`hints`: `--base`, `--dockerfile`; see [`super::base`]), then
/// [`analyze_based`]. Fails when `--base` is not a prefix of the image.
pub fn analyze_with(
    index: &Index,
    rules: &Rules,
    ignore: &Ignore,
    hints: &super::base::Hints,
) -> crate::Result<Analysis> {
    let base = super::base::detect(index, hints)?;
    Ok(analyze_based(index, rules, ignore, base))
}

/// Compute every finding and total, leaving out the findings `ignore`
/// matches (`visible_bytes` and `total_bytes` do not change, so with ignores
/// `hidden_bytes = total − visible − ignored.hidden_bytes`), with the
/// base-image boundary `base`. Deterministic: the output is sorted.
pub fn analyze_based(index: &Index, rules: &Rules, ignore: &Ignore, base: Base) -> Analysis {
    let report = findings(index, rules, ignore, base);
    complete(
        index,
        report,
        super::packages::prepare(index),
        super::binaries::scan(index),
    )
}

/// The rest of [`analyze_based`] after [`findings`], with the package
/// databases read by [`super::packages::prepare`] and the binaries found by
/// [`super::binaries::scan`] (both need only the index, so they can run
/// beside [`findings`]): the packages and the binaries.
pub fn complete(
    index: &Index,
    mut report: Analysis,
    packages: super::packages::Prepared,
    binaries: super::binaries::Scan<'_>,
) -> Analysis {
    let t0 = std::time::Instant::now();
    let owners = packages.apply(index, &mut report);
    let t1 = std::time::Instant::now();
    super::binaries::run(index, &mut report, &owners, binaries);
    report.owners = owners;
    if std::env::var_os("IMGSCOPE_TIMINGS").is_some() {
        eprintln!(
            "timings: package attribution {:.3}s, binaries {:.3}s",
            (t1 - t0).as_secs_f64(),
            t1.elapsed().as_secs_f64()
        );
    }
    report
}

/// [`analyze_based`] without the packages and the binaries.
pub fn findings(index: &Index, rules: &Rules, ignore: &Ignore, base: Base) -> Analysis {
    let mut ignored = Ignored {
        globs: ignore.globs.clone(),
        ..Ignored::default()
    };
    let mut keep = |f: &Finding| {
        if ignore.is_empty() || !ignore.matches(&f.path.0) {
            return true;
        }
        ignored.findings += 1;
        ignored.bytes += f.bytes;
        if f.kind == WasteKind::Cache {
            ignored.cache_bytes += f.bytes;
        } else {
            ignored.hidden_bytes += f.bytes;
        }
        false
    };
    let total_bytes = index.total_bytes();
    // For `moved`: of the non-empty files removed (not replaced), the
    // (layer that removed it, hash) pairs whose layer stored the same
    // content too, at a path it left in place: a copy the layer hid itself
    // (a file under a directory it then replaced with a file) is no move's
    // destination. Only removed files' pairs are looked up among all files.
    let removed: HashSet<(u16, u128)> = index
        .hides()
        .iter()
        .filter(|(_, h)| !matches!(h.cause, HideCause::Replaced { .. }))
        .map(|&(ino, h)| (h.layer, &index.inodes[ino as usize]))
        .filter(|(_, i)| i.size > 0)
        .map(|(layer, i)| (layer, i.hash()))
        .collect();
    let stored: HashSet<(u16, u128)> = if removed.is_empty() {
        HashSet::default()
    } else {
        let own: HashSet<InodeId> = index
            .hides()
            .iter()
            .filter(|(ino, h)| index.inodes[*ino as usize].layer == h.layer)
            .map(|&(ino, _)| ino)
            .collect();
        index
            .inodes
            .iter()
            .enumerate()
            .filter(|(n, i)| {
                i.size > 0
                    && removed.contains(&(i.layer, i.hash()))
                    && !own.contains(&(*n as InodeId))
            })
            .map(|(_, i)| (i.layer, i.hash()))
            .collect()
    };

    // Every hidden inode is a finding, and a few cache files.
    let mut waste = Vec::with_capacity(index.hides().len());
    let mut visible_bytes = 0u64;
    // Which paths the rules cannot match, decided per directory.
    let mut dirs = rules.dirs(index);
    // The hidden inodes come in inode order, as the walk does.
    let mut hides = index.hides().iter().peekable();
    for (i, ino) in index.inodes.iter().enumerate() {
        let Some((_, h)) = hides.next_if(|(h, _)| *h as usize == i) else {
            visible_bytes += ino.size;
            continue;
        };
        let kind = match h.cause {
            HideCause::Replaced { same_content: true } => WasteKind::MetadataOnly,
            HideCause::Replaced { .. } => WasteKind::Overwritten,
            HideCause::Whiteout | HideCause::Opaque | HideCause::ParentReplaced => {
                if ino.size > 0 && stored.contains(&(h.layer, ino.hash())) {
                    WasteKind::Moved
                } else {
                    WasteKind::Removed
                }
            }
        };
        let path = index.path(h.node);
        // A cache rule's id, else an optional rule's: bytecode deleted in a
        // later layer is still hidden waste, tagged with what it was.
        let rule = if dirs.may_match(h.node) {
            dirs.matching(h.node, &path)
                .map(|r| r.id.clone())
                .or_else(|| {
                    dirs.optional_matching(h.node, &path, &|_| true)
                        .map(|r| r.id.clone())
                })
        } else {
            None
        };
        let f = Finding {
            path: ImagePath(path),
            kind,
            bytes: ino.size,
            compressed_bytes: 0,
            stored_in_layer: ino.layer as usize,
            hidden_by_layer: Some(h.layer as usize),
            rule,
            in_base: base.contains(ino.layer as usize),
            package: None,
            node: h.node,
        };
        if keep(&f) {
            waste.push(f);
        }
    }

    // Walk the final filesystem once, depth first in name order: cache
    // findings and optional files (each visible inode once, at its first
    // name) and file count.
    let visible = |p: &[u8]| index.find(p).is_some_and(|n| index.visible(n));
    let mut optional = Vec::new();
    let mut optional_bytes = 0u64;
    let mut cache_bytes = 0u64;
    let mut file_count = 0u64;
    let mut seen = InodeSet::new(index);
    let mut path = Vec::new();
    walk_visible(index, ROOT, &mut path, &mut |id, p| {
        let c = index.changes(id).last().expect("visible node has a change");
        if c.kind == NodeKind::Dir {
            return;
        }
        file_count += 1;
        if c.kind != NodeKind::File || c.inode == NO_INODE || !seen.insert(c.inode) {
            return;
        }
        if !dirs.may_match(id) {
            return;
        }
        let ino = &index.inodes[c.inode as usize];
        let rule = match dirs.matching(id, p) {
            Some(rule) => &rule.id,
            None => match dirs.optional_matching(id, p, &visible) {
                Some(o) if !rules.optional_is_waste => {
                    optional_bytes += ino.size;
                    optional.push(OptionalFile {
                        path: ImagePath(p.to_vec()),
                        bytes: ino.size,
                        layer: ino.layer as usize,
                        rule: o.id.clone(),
                        node: id,
                    });
                    return;
                }
                Some(o) => &o.id,
                None => return,
            },
        };
        let f = Finding {
            path: ImagePath(p.to_vec()),
            kind: WasteKind::Cache,
            bytes: ino.size,
            compressed_bytes: 0,
            stored_in_layer: ino.layer as usize,
            hidden_by_layer: None,
            rule: Some(rule.clone()),
            in_base: base.contains(ino.layer as usize),
            package: None,
            node: id,
        };
        if keep(&f) {
            cache_bytes += ino.size;
            waste.push(f);
        }
    });
    sort_stable_by_keyed(
        &mut optional,
        |f| std::cmp::Reverse(f.bytes),
        |a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)),
    );
    let hidden_bytes = total_bytes - visible_bytes - ignored.hidden_bytes;

    sort_stable_by_keyed(
        &mut waste,
        |f| std::cmp::Reverse(f.bytes),
        |a, b| {
            b.bytes
                .cmp(&a.bytes)
                .then_with(|| a.path.cmp(&b.path))
                .then_with(|| a.stored_in_layer.cmp(&b.stored_in_layer))
                .then_with(|| a.kind.cmp(&b.kind))
        },
    );

    let mut layer_waste: HashMap<usize, u64> = HashMap::default();
    for f in &waste {
        *layer_waste.entry(f.stored_in_layer).or_default() += f.bytes;
    }
    let layers = index
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| LayerReport {
            index: i,
            digest: l.r.digest.clone(),
            diff_id: l.r.diff_id.clone(),
            created_by: l.r.created_by.clone(),
            bytes: l.stats.bytes,
            compressed_bytes: l.compressed_bytes,
            files: l.stats.files,
            added: l.stats.added,
            modified: l.stats.modified,
            removed: l.stats.removed,
            wasted_bytes: layer_waste.get(&i).copied().unwrap_or(0),
            in_base: base.contains(i),
            command: display_command(&l.r.created_by),
            pull_estimate: l.gzip_estimate,
        })
        .collect::<Vec<_>>();
    for f in &mut waste {
        f.compressed_bytes = super::pull::estimate(&layers, f.stored_in_layer, f.bytes);
    }

    let wasted_bytes = hidden_bytes + cache_bytes;
    let waste_ratio = if total_bytes == 0 {
        0.0
    } else {
        wasted_bytes as f64 / total_bytes as f64
    };
    let image = &index.image;
    Analysis {
        schema: 1,
        image: ImageReport {
            source: image.source.clone(),
            format: image.format.as_str().to_string(),
            tags: image.tags.clone(),
            os: image.os.clone(),
            architecture: image.architecture.clone(),
            base,
        },
        summary: Summary {
            total_bytes,
            visible_bytes,
            hidden_bytes,
            cache_bytes,
            optional_bytes,
            wasted_bytes,
            waste_ratio,
            efficiency: 1.0 - waste_ratio,
            layer_count: index.layers.len(),
            file_count,
            squash_saves_bytes: hidden_bytes,
            compressed_bytes: layers.iter().map(|l| l.compressed_bytes).sum(),
            pull_bytes: layers.iter().map(|l| l.pull_bytes()).sum(),
            pull_estimated_layers: layers.iter().filter(|l| l.pull_estimate.is_some()).count(),
            wasted_compressed_bytes: waste.iter().map(|f| f.compressed_bytes).sum(),
            user_bytes: layers.iter().filter(|l| !l.in_base).map(|l| l.bytes).sum(),
            user_wasted_bytes: waste.iter().filter(|f| !f.in_base).map(|f| f.bytes).sum(),
        },
        layers,
        waste,
        optional,
        warnings: index.warnings.clone(),
        ignored: (!ignore.is_empty()).then_some(ignored),
        packages: Vec::new(),
        package_summary: PackageSummary::default(),
        insights: Vec::new(),
        binaries: Vec::new(),
        owners: Default::default(),
    }
}

/// `v.sort_by(cmp)` (stable), without the stable sort's scratch copy of
/// the elements: a permutation of positions is sorted (ties by position),
/// then applied in place. The findings are large and many (a `chmod -R`
/// makes tens of thousands), and fresh pages for a scratch copy of them
/// cost more than the sort.
pub fn sort_stable_by<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> std::cmp::Ordering) {
    let mut perm: Vec<usize> = (0..v.len()).collect();
    perm.sort_unstable_by(|&a, &b| cmp(&v[a], &v[b]).then(a.cmp(&b)));
    permute(v, perm);
}

/// [`sort_stable_by`] for a `cmp` that orders by `key` first: each
/// position is sorted with its element's key beside it, so the elements
/// themselves are read only where two keys are equal.
pub fn sort_stable_by_keyed<T, K: Ord + Copy>(
    v: &mut [T],
    key: impl Fn(&T) -> K,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    let mut keyed: Vec<(K, usize)> = v.iter().map(key).zip(0..).collect();
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| cmp(&v[a.1], &v[b.1]))
            .then(a.1.cmp(&b.1))
    });
    permute(v, keyed.into_iter().map(|(_, i)| i).collect());
}

/// Put the element at `perm[j]` at position j, in place.
fn permute<T>(v: &mut [T], mut perm: Vec<usize>) {
    // Each cycle of the permutation is followed once, by swaps (done
    // positions point to themselves).
    for i in 0..perm.len() {
        let mut j = i;
        loop {
            let k = perm[j];
            perm[j] = j;
            if k == i {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

/// A set of inodes of one index (one bit each).
pub struct InodeSet(Vec<u64>);

impl InodeSet {
    pub fn new(index: &Index) -> InodeSet {
        InodeSet(vec![0; index.inodes.len().div_ceil(64)])
    }

    /// Add `inode`; false when it was there already.
    pub fn insert(&mut self, inode: InodeId) -> bool {
        let (w, bit) = ((inode / 64) as usize, 1u64 << (inode % 64));
        let new = self.0[w] & bit == 0;
        self.0[w] |= bit;
        new
    }
}

/// Depth-first walk over nodes present in the final filesystem, children in
/// name order, with the absolute path of each.
pub fn walk_visible(
    index: &Index,
    start: NodeId,
    path: &mut Vec<u8>,
    f: &mut impl FnMut(NodeId, &[u8]),
) {
    let present = |ch: NodeId| index.changes(ch).last().is_some_and(|c| c.op != Op::Remove);
    walk(index, start, path, present, f);
}

/// Every regular file of the final filesystem once (a hard-link group at its
/// first name in path order), with its path and inode.
pub fn walk_visible_files(index: &Index, f: &mut impl FnMut(NodeId, &[u8], InodeId)) {
    let mut seen = InodeSet::new(index);
    let mut path = Vec::new();
    walk_visible(index, ROOT, &mut path, &mut |id, p| {
        let Some(c) = index.changes(id).last() else {
            return;
        };
        if c.kind == NodeKind::File && c.inode != NO_INODE && seen.insert(c.inode) {
            f(id, p, c.inode);
        }
    });
}

/// Depth-first walk below `start` over the nodes `include` accepts (an
/// excluded node's subtree is skipped), children in name order, calling `f`
/// with each node and its absolute path. Iterative, for very deep trees.
pub fn walk(
    index: &Index,
    start: NodeId,
    path: &mut Vec<u8>,
    include: impl Fn(NodeId) -> bool,
    f: &mut impl FnMut(NodeId, &[u8]),
) {
    let mut stack: Vec<(NodeId, usize, usize)> = vec![(start, 0, path.len())];
    while let Some(top) = stack.last_mut() {
        let (id, next, _) = *top;
        let children = index.children(id);
        if next >= children.len() {
            let (_, _, len) = stack.pop().unwrap();
            path.truncate(len);
            continue;
        }
        top.1 += 1;
        let ch = children[next];
        if !include(ch) {
            continue;
        }
        let len = path.len();
        path.push(b'/');
        path.extend_from_slice(index.name(ch));
        f(ch, path);
        // A node without children (every file) is done here: no turn on
        // the stack.
        if index.children(ch).is_empty() {
            path.truncate(len);
        } else {
            stack.push((ch, 0, len));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{sort_stable_by, sort_stable_by_keyed};
    use proptest::prelude::*;

    proptest! {
        /// The same order as the standard stable sort, ties included.
        #[test]
        fn sorts_as_the_stable_sort_does(v in proptest::collection::vec((0u8..4, 0u16..1000), 0..300)) {
            let mut want = v.clone();
            want.sort_by_key(|x| std::cmp::Reverse(x.0)); // the standard stable sort
            let mut got = v;
            sort_stable_by(&mut got, |a, b| b.0.cmp(&a.0));
            prop_assert_eq!(got, want);
        }

        /// With a key that orders first, the same order again.
        #[test]
        fn keyed_sorts_as_the_stable_sort_does(v in proptest::collection::vec((0u8..4, 0u8..3, 0u16..1000), 0..300)) {
            let mut want = v.clone();
            want.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut got = v;
            sort_stable_by_keyed(&mut got, |x| std::cmp::Reverse(x.0), |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            prop_assert_eq!(got, want);
        }
    }
}
