//! Where the bytes sit: the final filesystem as a tree of byte totals, each
//! node with the bytes every layer added to it, plus the hidden bytes per
//! kind and each layer's split into visible / cache / hidden bytes. This is
//! what a treemap draws (the HTML report embeds it).
//!
//! Small files are rolled up so the tree stays small for any image: a file
//! below `threshold` (1/10,000 of the visible bytes), or a directory below it,
//! becomes part of its parent's "N small files" node. Top-level directories
//! are always kept. Every regular file is counted once, at its first name in
//! name order (as in the waste analysis), so the root's bytes are exactly the
//! report's `visible_bytes`.

use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

use crate::analyze::waste::{walk_visible, Analysis as Report, WasteKind};
use crate::load::index::{Index, NodeId, NodeKind, NO_INODE, ROOT};

/// Files and directories below `visible_bytes / ROLLUP_DIVISOR` are rolled up.
pub const ROLLUP_DIVISOR: u64 = 10_000;
/// Below this depth everything is rolled up (pathologically deep trees).
pub const MAX_DEPTH: usize = 32;

/// Bytes per layer: `[layer, bytes]` pairs sorted by layer, zeros left out.
pub type LayerBytes = Vec<(usize, u64)>;

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct SizeNode {
    /// The name (lossy UTF-8 for display); empty for a roll-up.
    #[serde(rename = "n")]
    pub name: String,
    /// Bytes of the regular files below (or of this file).
    #[serde(rename = "b")]
    pub bytes: u64,
    /// Bytes by the layer that stored the visible copy.
    #[serde(rename = "l")]
    pub layers: LayerBytes,
    /// Regular files below (1 for a file; the rolled-up count for a roll-up).
    #[serde(rename = "f")]
    pub files: u64,
    /// What the node is.
    #[serde(rename = "k")]
    pub kind: SizeKind,
    /// The cache rule of a cache file or cache roll-up (`cache` when the
    /// rolled-up files match several rules).
    #[serde(rename = "x", skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Bytes of cache files below (directories).
    #[serde(rename = "cb", skip_serializing_if = "is_zero", default)]
    pub cache_bytes: u64,
    /// Children, largest first (directories).
    #[serde(rename = "c", skip_serializing_if = "Vec::is_empty", default)]
    pub children: Vec<SizeNode>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SizeKind {
    Dir,
    File,
    /// "N small files": files and small directories rolled into one node.
    Small,
}

/// The hidden bytes of one waste kind.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct HiddenArea {
    #[serde(deserialize_with = "super::interned::name")]
    pub kind: super::interned::Name,
    pub bytes: u64,
    pub findings: u64,
    /// By the layer that stored the hidden copy.
    pub layers: LayerBytes,
}

/// One layer's bytes: visible (not cache), cache, hidden. What is left of
/// the layer's bytes is hidden waste that `--ignore` removed from the report.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq, Eq, Default)]
pub struct LayerSplit {
    pub visible: u64,
    pub cache: u64,
    pub hidden: u64,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct SizeTree {
    /// `/`: the final filesystem.
    pub root: SizeNode,
    /// Hidden bytes per kind, largest first (kinds with findings only).
    pub hidden: Vec<HiddenArea>,
    /// Total bytes minus visible and hidden-by-finding bytes: hidden bytes
    /// whose findings `--ignore` dropped.
    pub ignored_hidden: u64,
    pub layers: Vec<LayerSplit>,
    /// Files and directories smaller than this are rolled up.
    pub threshold: u64,
}

#[derive(Default)]
struct Agg {
    bytes: u64,
    cache: u64,
    files: u64,
    cache_files: u64,
    layers: LayerBytes,
    cache_layers: LayerBytes,
}

fn add_layer(v: &mut LayerBytes, layer: usize, bytes: u64) {
    if bytes == 0 {
        return;
    }
    match v.binary_search_by_key(&layer, |p| p.0) {
        Ok(i) => v[i].1 += bytes,
        Err(i) => v.insert(i, (layer, bytes)),
    }
}

fn merge(into: &mut LayerBytes, from: &LayerBytes) {
    for &(l, b) in from {
        add_layer(into, l, b);
    }
}

fn minus(a: &LayerBytes, b: &LayerBytes) -> LayerBytes {
    let mut out = a.clone();
    for &(l, x) in b {
        if let Ok(i) = out.binary_search_by_key(&l, |p| p.0) {
            out[i].1 -= x;
        }
    }
    out.retain(|p| p.1 > 0);
    out
}

struct FileRec<'a> {
    size: u64,
    layer: usize,
    rule: Option<&'a str>,
}

/// The size tree of the final filesystem, with the report's hidden and
/// cache findings (so ignored findings stay out of the waste areas).
pub fn size_tree(index: &Index, report: &Report) -> SizeTree {
    let cache_rule: HashMap<NodeId, &str> = report
        .waste
        .iter()
        .filter(|f| f.kind == WasteKind::Cache)
        .filter_map(|f| f.rule.as_deref().map(|r| (f.node, r)))
        .collect();

    // Each visible regular file once (first name), added to every ancestor.
    let mut files: HashMap<NodeId, FileRec> = HashMap::default();
    let mut dirs: HashMap<NodeId, Agg> = HashMap::default();
    let mut seen = rustc_hash::FxHashSet::default();
    let mut path = Vec::new();
    walk_visible(index, ROOT, &mut path, &mut |id, _| {
        let Some(c) = index.changes(id).last() else {
            return;
        };
        if c.kind != NodeKind::File || c.inode == NO_INODE || !seen.insert(c.inode) {
            return;
        }
        let ino = &index.inodes[c.inode as usize];
        let rule = cache_rule.get(&id).copied();
        let layer = ino.layer as usize;
        let mut p = index.parent(id);
        loop {
            let a = dirs.entry(p).or_default();
            a.bytes += ino.size;
            a.files += 1;
            add_layer(&mut a.layers, layer, ino.size);
            if rule.is_some() {
                a.cache += ino.size;
                a.cache_files += 1;
                add_layer(&mut a.cache_layers, layer, ino.size);
            }
            if p == ROOT {
                break;
            }
            p = index.parent(p);
        }
        files.insert(
            id,
            FileRec {
                size: ino.size,
                layer,
                rule,
            },
        );
    });

    let visible = dirs.get(&ROOT).map_or(0, |a| a.bytes);
    let threshold = (visible / ROLLUP_DIVISOR).max(1);
    let b = Build {
        index,
        files: &files,
        dirs: &dirs,
        threshold,
    };
    let root = b.dir(ROOT, "/".to_string(), 0);

    // Hidden bytes per kind, from the report's findings.
    let mut hidden: Vec<HiddenArea> = Vec::new();
    let mut split = vec![LayerSplit::default(); index.layers.len()];
    for f in &report.waste {
        if let Some(s) = split.get_mut(f.stored_in_layer) {
            if f.kind == WasteKind::Cache {
                s.cache += f.bytes;
            } else {
                s.hidden += f.bytes;
            }
        }
        if f.kind == WasteKind::Cache {
            continue;
        }
        let kind = f.kind.as_str();
        let i = match hidden.iter().position(|h| h.kind == kind) {
            Some(i) => i,
            None => {
                hidden.push(HiddenArea {
                    kind,
                    bytes: 0,
                    findings: 0,
                    layers: Vec::new(),
                });
                hidden.len() - 1
            }
        };
        let h = &mut hidden[i];
        h.bytes += f.bytes;
        h.findings += 1;
        add_layer(&mut h.layers, f.stored_in_layer, f.bytes);
    }
    hidden.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.kind.cmp(b.kind)));
    for f in files.values() {
        if let (Some(s), None) = (split.get_mut(f.layer), f.rule) {
            s.visible += f.size;
        }
    }
    let hidden_sum: u64 = hidden.iter().map(|h| h.bytes).sum();
    SizeTree {
        root,
        hidden,
        ignored_hidden: index
            .total_bytes()
            .saturating_sub(visible)
            .saturating_sub(hidden_sum),
        layers: split,
        threshold,
    }
}

struct Build<'a> {
    index: &'a Index,
    files: &'a HashMap<NodeId, FileRec<'a>>,
    dirs: &'a HashMap<NodeId, Agg>,
    threshold: u64,
}

/// A roll-up being filled.
#[derive(Default)]
struct Roll {
    bytes: u64,
    files: u64,
    layers: LayerBytes,
    rule: Option<String>,
}

impl Roll {
    fn add(&mut self, bytes: u64, files: u64, layers: &LayerBytes, rule: Option<&str>) {
        self.bytes += bytes;
        self.files += files;
        merge(&mut self.layers, layers);
        if let Some(r) = rule {
            self.rule = match self.rule.take() {
                None => Some(r.to_string()),
                Some(old) if old == r => Some(old),
                Some(_) => Some("cache".to_string()),
            };
        }
    }

    fn node(self) -> Option<SizeNode> {
        (self.bytes > 0).then(|| SizeNode {
            name: String::new(),
            bytes: self.bytes,
            layers: self.layers,
            files: self.files,
            kind: SizeKind::Small,
            cache_bytes: if self.rule.is_some() { self.bytes } else { 0 },
            rule: self.rule,
            children: Vec::new(),
        })
    }
}

impl Build<'_> {
    fn dir(&self, id: NodeId, name: String, depth: usize) -> SizeNode {
        let agg = &self.dirs[&id];
        let mut children = Vec::new();
        let mut small = Roll::default();
        let mut small_cache = Roll::default();
        for &ch in self.index.children(id) {
            let child_name = || String::from_utf8_lossy(self.index.name(ch)).into();
            if let Some(f) = self.files.get(&ch) {
                if f.size >= self.threshold && depth < MAX_DEPTH {
                    children.push(SizeNode {
                        name: child_name(),
                        bytes: f.size,
                        layers: vec![(f.layer, f.size)],
                        files: 1,
                        kind: SizeKind::File,
                        rule: f.rule.map(str::to_string),
                        cache_bytes: if f.rule.is_some() { f.size } else { 0 },
                        children: Vec::new(),
                    });
                } else {
                    let roll = if f.rule.is_some() {
                        &mut small_cache
                    } else {
                        &mut small
                    };
                    roll.add(f.size, 1, &vec![(f.layer, f.size)], f.rule);
                }
                continue;
            }
            // Only directories holding regular files have an aggregate.
            let Some(a) = self.dirs.get(&ch) else {
                continue;
            };
            if depth == 0 || (a.bytes >= self.threshold && depth < MAX_DEPTH) {
                children.push(self.dir(ch, child_name(), depth + 1));
            } else {
                small.add(
                    a.bytes - a.cache,
                    a.files - a.cache_files,
                    &minus(&a.layers, &a.cache_layers),
                    None,
                );
                if a.cache_files > 0 {
                    small_cache.add(a.cache, a.cache_files, &a.cache_layers, Some("cache"));
                }
            }
        }
        children.extend(small.node());
        children.extend(small_cache.node());
        children.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
        SizeNode {
            name,
            bytes: agg.bytes,
            layers: agg.layers.clone(),
            files: agg.files,
            kind: SizeKind::Dir,
            rule: None,
            cache_bytes: agg.cache,
            children,
        }
    }
}
