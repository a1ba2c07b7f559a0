//! The file tree as of one layer: which nodes are shown, their change marks
//! and aggregated sizes, and their display order. Built once per
//! (layer, mode, filters, sort) in O(nodes); navigation and drawing then only
//! touch the rows on screen (preorder next/prev over a compact child table).

use rustc_hash::{FxHashMap, FxHashSet};

use crate::analysis::{Report, WasteKind};
use crate::index::{Change, Index, NodeId, NodeKind, Op, NO_INODE, ROOT};

/// What the selected layer did to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mark {
    Unchanged,
    Added,
    Modified,
    /// Stored again with identical content (chmod, chown, touch).
    MetaOnly,
    /// Deleted by a layer that stored the same content elsewhere (a `mv`).
    Moved,
    /// Where a moved file went: added by the layer that deleted the same
    /// content at another path.
    MovedHere,
    /// Deleted (whited out) by this layer.
    Removed,
}

impl Mark {
    pub fn symbol(self) -> char {
        match self {
            Mark::Unchanged => ' ',
            Mark::Added => '+',
            Mark::Modified => '~',
            Mark::MetaOnly => '=',
            Mark::Moved => '>',
            Mark::MovedHere => '<',
            Mark::Removed => '-',
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Mark::Unchanged => "unchanged",
            Mark::Added => "added",
            Mark::Modified => "modified",
            Mark::MetaOnly => "metadata only",
            Mark::Moved => "moved away",
            Mark::MovedHere => "moved here",
            Mark::Removed => "removed",
        }
    }
    /// The change-type class the Ctrl+A/R/M/U toggles act on.
    fn class(self) -> usize {
        match self {
            Mark::Added | Mark::MovedHere => 0,
            Mark::Removed | Mark::Moved => 1,
            Mark::Modified | Mark::MetaOnly => 2,
            Mark::Unchanged => 3,
        }
    }
}

/// Merged filesystem as of the layer, or only the layer's own changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Merged,
    LayerOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sort {
    Name,
    Size,
}

/// Which change types are shown: added, removed, modified, unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Types(pub [bool; 4]);

impl Default for Types {
    fn default() -> Self {
        Types([true; 4])
    }
}

impl Types {
    pub fn all(&self) -> bool {
        self.0.iter().all(|b| *b)
    }
}

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

/// What a tree is built for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub layer: usize,
    pub mode: Mode,
    pub sort: Sort,
    pub types: Types,
    /// The filter text as applied (the compiled filter is passed alongside).
    pub filter: String,
}

const SHOWN: u8 = 1;
const DIR: u8 = 2;
const PRESENT: u8 = 4;

/// One layer's tree. Root is never a row; its shown children are the top level.
pub struct Tree {
    pub key: Key,
    flags: Vec<u8>,
    mark: Vec<Mark>,
    /// File size, or aggregated size of the directory's counted contents.
    pub size: Vec<u64>,
    /// Shown children of node i: `list[start[i]..start[i+1]]`, in display order.
    start: Vec<u32>,
    list: Vec<NodeId>,
    /// Position of a shown node in its parent's list.
    pos: Vec<u32>,
    /// Shown nodes (rows when everything is expanded).
    pub shown_count: usize,
}

/// (node, hiding layer) → kind, for marks the index alone cannot tell (moved).
pub type HideKinds = FxHashMap<(NodeId, u16), WasteKind>;

pub fn hide_kinds(report: &Report) -> HideKinds {
    report
        .waste
        .iter()
        .filter_map(|f| Some(((f.node, f.hidden_by_layer? as u16), f.kind)))
        .collect()
}

/// The change that decides `id`'s state at `layer` (the last at or before it).
pub fn change_at(index: &Index, id: NodeId, layer: usize) -> Option<(usize, &Change)> {
    let ch = &index.nodes[id as usize].changes;
    let i = ch.iter().rposition(|c| (c.layer as usize) <= layer)?;
    Some((i, &ch[i]))
}

impl Tree {
    pub fn build(index: &Index, kinds: &HideKinds, key: Key, filter: Option<&PathFilter>) -> Tree {
        let n = index.nodes.len();
        let layer = key.layer;
        let mut flags = vec![0u8; n];
        let mut mark = vec![Mark::Unchanged; n];
        let mut size = vec![0u64; n];
        let mut counted = vec![false; n];
        let mut candidate = vec![false; n];
        // Hard links: a directory counts each stored file once.
        let mut seen = vec![false; index.inodes.len()];
        flags[ROOT as usize] = DIR | PRESENT;
        // Content this layer moved away (for marking where it went).
        let moved: FxHashSet<u128> = kinds
            .iter()
            .filter(|((_, l), k)| *l as usize == layer && **k == WasteKind::Moved)
            .filter_map(|((node, _), _)| {
                let (_, c) = change_at(index, *node, layer)?;
                (c.inode != NO_INODE).then(|| index.inodes[c.inode as usize].hash)
            })
            .collect();
        for id in 1..n {
            let node = &index.nodes[id];
            let Some((ci, c)) = change_at(index, id as NodeId, layer) else {
                continue;
            };
            let here = c.layer as usize == layer;
            let present = c.op != Op::Remove;
            if c.kind == NodeKind::Dir {
                flags[id] |= DIR;
            }
            if present {
                flags[id] |= PRESENT;
            }
            candidate[id] = match key.mode {
                Mode::Merged => present || here,
                Mode::LayerOnly => here,
            };
            if c.inode != NO_INODE {
                size[id] = index.inodes[c.inode as usize].size;
                counted[id] = present
                    && (key.mode == Mode::Merged || here)
                    && !std::mem::replace(&mut seen[c.inode as usize], true);
            }
            if here {
                let moved_here = c.kind == NodeKind::File
                    && c.inode != NO_INODE
                    && !moved.is_empty()
                    && index.inodes[c.inode as usize].size > 0
                    && moved.contains(&index.inodes[c.inode as usize].hash);
                mark[id] = match c.op {
                    _ if moved_here && c.op != Op::Remove => Mark::MovedHere,
                    Op::Add => Mark::Added,
                    Op::Remove => match kinds.get(&(id as NodeId, layer as u16)) {
                        Some(WasteKind::Moved) => Mark::Moved,
                        _ => Mark::Removed,
                    },
                    Op::Modify => {
                        // The analysis decided whether the copy this layer
                        // replaced had the same content.
                        let same = kinds.get(&(id as NodeId, layer as u16))
                            == Some(&WasteKind::MetadataOnly);
                        let dir_meta = c.kind == NodeKind::Dir
                            && ci
                                .checked_sub(1)
                                .is_some_and(|p| node.changes[p].kind == NodeKind::Dir);
                        if same || dir_meta {
                            Mark::MetaOnly
                        } else {
                            Mark::Modified
                        }
                    }
                };
            }
        }
        // Path filter: one depth-first pass with a path buffer.
        let matched: Option<Vec<bool>> = filter.map(|f| {
            let mut m = vec![false; n];
            let mut path = Vec::with_capacity(256);
            crate::analysis::walk(
                index,
                ROOT,
                &mut path,
                |ch| candidate[ch as usize] || flags[ch as usize] & DIR != 0,
                &mut |ch, p| m[ch as usize] = f.is_match(p),
            );
            m
        });
        let all_types = key.types.all();
        // Directories changed below (for their mark) and self-shown nodes.
        for id in 1..n {
            if !candidate[id] {
                continue;
            }
            let path_ok = matched.as_ref().is_none_or(|m| m[id]);
            let ok = if flags[id] & DIR != 0 {
                path_ok && all_types
            } else {
                path_ok && key.types.0[mark[id].class()]
            };
            if ok {
                flags[id] |= SHOWN;
            }
        }
        // Children have larger ids than their parents: one reverse pass
        // aggregates sizes and shows the ancestors of shown nodes.
        for id in (1..n).rev() {
            let p = index.nodes[id].parent as usize;
            if counted[id] {
                size[p] += size[id];
                counted[p] = true;
            }
            if flags[id] & SHOWN != 0 {
                flags[p] |= SHOWN;
                if p != ROOT as usize && mark[p] == Mark::Unchanged && mark[id] != Mark::Unchanged {
                    mark[p] = Mark::Modified;
                }
            }
        }
        flags[ROOT as usize] |= SHOWN;
        let mut start = vec![0u32; n + 1];
        let mut list: Vec<NodeId> = Vec::new();
        let mut pos = vec![0u32; n];
        let mut shown_count = 0;
        for id in 0..n {
            start[id] = list.len() as u32;
            if flags[id] & SHOWN == 0 {
                continue;
            }
            if id != 0 {
                shown_count += 1;
            }
            let from = list.len();
            for &c in &index.nodes[id].children {
                if flags[c as usize] & SHOWN != 0 {
                    list.push(c);
                }
            }
            if key.sort == Sort::Size && list.len() - from > 1 {
                list[from..].sort_by(|a, b| size[*b as usize].cmp(&size[*a as usize]));
            }
            for (i, &c) in list[from..].iter().enumerate() {
                pos[c as usize] = i as u32;
            }
        }
        start[n] = list.len() as u32;
        Tree {
            key,
            flags,
            mark,
            size,
            start,
            list,
            pos,
            shown_count,
        }
    }

    pub fn shown(&self, id: NodeId) -> bool {
        self.flags[id as usize] & SHOWN != 0
    }
    pub fn is_dir(&self, id: NodeId) -> bool {
        self.flags[id as usize] & DIR != 0
    }
    /// Present in the merged filesystem at this layer (false for whiteouts).
    pub fn present(&self, id: NodeId) -> bool {
        self.flags[id as usize] & PRESENT != 0
    }
    pub fn mark(&self, id: NodeId) -> Mark {
        self.mark[id as usize]
    }
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        let s = self.start[id as usize] as usize;
        let e = self.start[id as usize + 1] as usize;
        &self.list[s..e]
    }
    /// Is this shown node the last of its parent's shown children?
    pub fn is_last(&self, index: &Index, id: NodeId) -> bool {
        let p = index.nodes[id as usize].parent;
        self.pos[id as usize] as usize + 1 == self.children(p).len()
    }
}

/// Which directories are expanded: a default plus the exceptions, so
/// collapse-all and expand-all are O(1).
#[derive(Debug, Clone, Default)]
pub struct Expansion {
    pub collapsed_by_default: bool,
    pub flipped: FxHashSet<NodeId>,
}

impl Expansion {
    pub fn expanded(&self, id: NodeId) -> bool {
        id == ROOT || (self.collapsed_by_default == self.flipped.contains(&id))
    }
    pub fn set(&mut self, id: NodeId, expanded: bool) {
        if expanded != self.collapsed_by_default {
            self.flipped.remove(&id);
        } else {
            self.flipped.insert(id);
        }
    }
    pub fn all(&mut self, expanded: bool) {
        self.collapsed_by_default = !expanded;
        self.flipped.clear();
    }
}

/// Preorder navigation over the rows (shown nodes under expanded parents).
pub struct Nav<'a> {
    pub index: &'a Index,
    pub tree: &'a Tree,
    pub exp: &'a Expansion,
}

impl Nav<'_> {
    fn open_children(&self, id: NodeId) -> &[NodeId] {
        if self.exp.expanded(id) {
            self.tree.children(id)
        } else {
            &[]
        }
    }
    pub fn first(&self) -> Option<NodeId> {
        self.tree.children(ROOT).first().copied()
    }
    pub fn last(&self) -> Option<NodeId> {
        let mut n = *self.tree.children(ROOT).last()?;
        while let Some(&c) = self.open_children(n).last() {
            n = c;
        }
        Some(n)
    }
    pub fn next(&self, id: NodeId) -> Option<NodeId> {
        if let Some(&c) = self.open_children(id).first() {
            return Some(c);
        }
        let mut n = id;
        while n != ROOT {
            let p = self.index.nodes[n as usize].parent;
            let sib = self.tree.children(p);
            let i = self.tree.pos[n as usize] as usize + 1;
            if i < sib.len() {
                return Some(sib[i]);
            }
            n = p;
        }
        None
    }
    pub fn prev(&self, id: NodeId) -> Option<NodeId> {
        let p = self.index.nodes[id as usize].parent;
        let i = self.tree.pos[id as usize] as usize;
        if i == 0 {
            return (p != ROOT).then_some(p);
        }
        let mut n = self.tree.children(p)[i - 1];
        while let Some(&c) = self.open_children(n).last() {
            n = c;
        }
        Some(n)
    }
    /// Is the node a row now (shown, and every ancestor expanded)?
    pub fn is_row(&self, id: NodeId) -> bool {
        if id == ROOT || !self.tree.shown(id) {
            return false;
        }
        let mut n = self.index.nodes[id as usize].parent;
        while n != ROOT {
            if !self.exp.expanded(n) {
                return false;
            }
            n = self.index.nodes[n as usize].parent;
        }
        true
    }
    /// The nearest row at or above `id` (its first ancestor that is a row).
    pub fn row_for(&self, id: NodeId) -> Option<NodeId> {
        // The outermost collapsed or unshown ancestor decides.
        let mut chain = Vec::new();
        let mut n = id;
        while n != ROOT {
            chain.push(n);
            n = self.index.nodes[n as usize].parent;
        }
        let mut best = None;
        for &a in chain.iter().rev() {
            if !self.tree.shown(a) {
                break;
            }
            best = Some(a);
            if !self.exp.expanded(a) {
                break;
            }
        }
        best.or_else(|| self.first())
    }
}
