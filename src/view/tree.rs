//! The file tree as of one layer: which nodes are shown, their change marks
//! and aggregated sizes, and their display order. Built once per
//! (layer, mode, filters, sort) in O(nodes); navigation and drawing then only
//! touch the rows on screen (preorder next/prev over a compact child table).

use rustc_hash::{FxHashMap, FxHashSet};

use super::columns::Columns;
use super::filter::PathFilter;
use crate::analyze::waste::Analysis;
use crate::analyze::waste::WasteKind;
use crate::load::index::{Index, NodeId, NodeKind, Op, NO_INODE, ROOT};

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
    pub(super) fn class(self) -> usize {
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
/// Shown in this mode if the filters let it.
const CANDIDATE: u8 = 8;
/// Its bytes count towards its parent's size.
const COUNTED: u8 = 16;
/// Marked modified for a shown change below it (not by a change of its own).
const BELOW: u8 = 32;

/// What [`Tree::finish`] redoes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Redo {
    /// Everything after the nodes' own flags, marks and sizes.
    Sizes,
    /// Which nodes are shown and the directories' marks, then the lists.
    Shown,
    /// Only the children lists (the sort changed).
    Lists,
}

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

pub fn hide_kinds(report: &Analysis) -> HideKinds {
    report
        .waste
        .iter()
        .filter_map(|f| Some(((f.node, f.hidden_by_layer? as u16), f.kind)))
        .collect()
}

impl Tree {
    /// Build from the index alone (copies its columns first; a view that
    /// rebuilds keeps a [`Columns`] and calls [`Tree::build_with`]).
    pub fn build(index: &Index, kinds: &HideKinds, key: Key, filter: Option<&PathFilter>) -> Tree {
        Tree::build_with(index, &Columns::new(index), kinds, key, filter, None)
    }

    /// Build from the columns, reusing the buffers of `old` (a tree dropped
    /// from a cache) when given: no fresh pages to fault in.
    pub fn build_with(
        index: &Index,
        cols: &Columns,
        kinds: &HideKinds,
        key: Key,
        filter: Option<&PathFilter>,
        old: Option<Tree>,
    ) -> Tree {
        let n = cols.len();
        let (layer, mode) = (key.layer, key.mode);
        let mut tree = Tree::recycle(old, key);
        let (flags, mark, size) = (&mut tree.flags, &mut tree.mark, &mut tree.size);
        refill(flags, n, 0);
        refill(mark, n, Mark::Unchanged);
        refill(size, n, 0);
        // Hard links: a directory counts each stored file once.
        let mut seen = vec![false; cols.inode_size.len()];
        flags[ROOT as usize] = DIR | PRESENT;
        // Content this layer moved away (for marking where it went).
        let moved: FxHashSet<u128> = kinds
            .iter()
            .filter(|((_, l), k)| *l as usize == layer && **k == WasteKind::Moved)
            .filter_map(|((node, _), _)| {
                let (_, c) = index.change_at(*node, layer)?;
                (c.inode != NO_INODE).then(|| index.inodes[c.inode as usize].hash())
            })
            .collect();
        for id in 1..n {
            let chs = cols.changes(id as NodeId);
            let Some(ci) = chs.iter().rposition(|c| (c.layer as usize) <= layer) else {
                continue;
            };
            let c = chs[ci];
            let here = c.layer as usize == layer;
            let present = c.op != Op::Remove;
            let mut f = 0;
            if c.kind == NodeKind::Dir {
                f |= DIR;
            }
            if present {
                f |= PRESENT;
            }
            if match mode {
                Mode::Merged => present || here,
                Mode::LayerOnly => here,
            } {
                f |= CANDIDATE;
            }
            if c.inode != NO_INODE {
                let sz = cols.inode_size[c.inode as usize];
                size[id] = sz;
                if present
                    && (mode == Mode::Merged || here)
                    && !std::mem::replace(&mut seen[c.inode as usize], true)
                {
                    f |= COUNTED;
                }
            }
            flags[id] = f;
            if here {
                let moved_here = c.kind == NodeKind::File
                    && c.inode != NO_INODE
                    && !moved.is_empty()
                    && cols.inode_size[c.inode as usize] > 0
                    && moved.contains(&index.inodes[c.inode as usize].hash());
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
                                .is_some_and(|p| chs[p].kind == NodeKind::Dir);
                        if same || dir_meta {
                            Mark::MetaOnly
                        } else {
                            Mark::Modified
                        }
                    }
                };
            }
        }
        tree.finish(index, filter, Redo::Sizes);
        tree
    }

    /// A tree for `key` with the buffers of `old` (or none yet), to fill.
    fn recycle(old: Option<Tree>, key: Key) -> Tree {
        match old {
            Some(t) => Tree {
                key,
                shown_count: 0,
                ..t
            },
            None => Tree {
                key,
                flags: Vec::new(),
                mark: Vec::new(),
                size: Vec::new(),
                start: Vec::new(),
                list: Vec::new(),
                pos: Vec::new(),
                shown_count: 0,
            },
        }
    }

    /// The tree for `key` from this one when they differ only in what a
    /// rebuild reads neither the changes nor the sizes for: the sort (only
    /// the children lists are redone), the change-type toggles or the path
    /// filter (which nodes are shown, the directories' marks, the lists).
    /// Marks, sizes and the other flags are copied. None when the layer or
    /// the mode differ. Equal to [`Tree::build_with`] for the same key.
    pub fn derive(
        &self,
        index: &Index,
        key: Key,
        filter: Option<&PathFilter>,
        old: Option<Tree>,
    ) -> Option<Tree> {
        if !self.derivable(&key) {
            return None;
        }
        let same_shown = key.types == self.key.types && key.filter == self.key.filter;
        let mut tree = Tree::recycle(old, key);
        let (flags, mark) = (&mut tree.flags, &mut tree.mark);
        copy_into(flags, &self.flags);
        copy_into(mark, &self.mark);
        copy_into(&mut tree.size, &self.size);
        let redo = if same_shown {
            Redo::Lists
        } else {
            // Back to the marks of the layer's own changes.
            for (f, m) in flags.iter_mut().zip(mark.iter_mut()) {
                if *f & BELOW != 0 {
                    *m = Mark::Unchanged;
                }
                *f &= !(SHOWN | BELOW);
            }
            Redo::Shown
        };
        tree.finish(index, filter, redo);
        Some(tree)
    }

    /// Can the tree for `key` be derived from this one?
    pub fn derivable(&self, key: &Key) -> bool {
        key.layer == self.key.layer && key.mode == self.key.mode
    }

    /// The passes after the nodes' own flags, marks and sizes: which nodes
    /// are shown, the directories' sizes (with `Redo::Sizes`) and marks,
    /// and the children lists in display order.
    fn finish(&mut self, index: &Index, filter: Option<&PathFilter>, redo: Redo) {
        let n = self.flags.len();
        let key = &self.key;
        let (flags, mark, size) = (&mut self.flags, &mut self.mark, &mut self.size);
        let (start, list, pos) = (&mut self.start, &mut self.list, &mut self.pos);
        if redo != Redo::Lists {
            // Path filter: one pass over the names, or a walk over the paths.
            let matched: Option<Vec<bool>> = filter
                .map(|f| f.match_nodes(index, |ch| flags[ch as usize] & (CANDIDATE | DIR) != 0));
            let all_types = key.types.all();
            // Self-shown nodes: candidates the filters let through.
            if matched.is_none() && all_types {
                for f in &mut flags[1..] {
                    *f |= (*f & CANDIDATE) / CANDIDATE * SHOWN;
                }
            } else {
                for id in 1..n {
                    if flags[id] & CANDIDATE == 0 {
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
            }
            // Children have larger ids than their parents: one reverse pass
            // aggregates sizes, shows the ancestors of shown nodes and marks the
            // directories changed below. Siblings mostly have consecutive ids,
            // so a run of them is summed in registers and added to the parent
            // once.
            let mut run = Run::default();
            for id in (1..n).rev() {
                let p = index.parent(id as NodeId) as usize;
                if p != run.parent {
                    run.flush(flags, size, mark);
                    run = Run {
                        parent: p,
                        ..Run::default()
                    };
                }
                let f = flags[id];
                if f & COUNTED != 0 && redo == Redo::Sizes {
                    run.size += size[id];
                    run.flags |= COUNTED;
                }
                if f & SHOWN != 0 {
                    run.flags |= SHOWN;
                    run.changed |= mark[id] != Mark::Unchanged;
                }
            }
            run.flush(flags, size, mark);
            flags[ROOT as usize] |= SHOWN;
        }
        refill(start, n + 1, 0);
        refill(pos, n, 0);
        list.clear();
        list.reserve(n);
        // Size order: integer keys (size descending, then name rank) sorted
        // unstably give the stable order without a comparison closure.
        let mut keys: Vec<u64> = Vec::new();
        let mut wide: Vec<u128> = Vec::new();
        let mut group: Vec<NodeId> = Vec::new();
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
            for &c in index.children(id as NodeId) {
                if flags[c as usize] & SHOWN != 0 {
                    list.push(c);
                }
            }
            if key.sort == Sort::Size && list.len() - from > 1 {
                group.clear();
                group.extend_from_slice(&list[from..]);
                let rank = |k: u64| group[(k & 0xffff_ffff) as usize];
                if group.iter().all(|&c| size[c as usize] <= u32::MAX as u64) {
                    keys.clear();
                    keys.extend(
                        group.iter().enumerate().map(|(i, &c)| {
                            (u64::from(!(size[c as usize] as u32)) << 32) | i as u64
                        }),
                    );
                    keys.sort_unstable();
                    for (slot, &k) in list[from..].iter_mut().zip(&keys) {
                        *slot = rank(k);
                    }
                } else {
                    wide.clear();
                    wide.extend(
                        group
                            .iter()
                            .enumerate()
                            .map(|(i, &c)| (u128::from(!size[c as usize]) << 32) | i as u128),
                    );
                    wide.sort_unstable();
                    for (slot, &k) in list[from..].iter_mut().zip(&wide) {
                        *slot = rank(k as u64);
                    }
                }
            }
            for (i, &c) in list[from..].iter().enumerate() {
                pos[c as usize] = i as u32;
            }
        }
        start[n] = list.len() as u32;
        self.shown_count = shown_count;
    }

    /// Bytes held (for the README's memory figure).
    pub fn heap_bytes(&self) -> usize {
        self.flags.capacity()
            + self.mark.capacity() * std::mem::size_of::<Mark>()
            + self.size.capacity() * 8
            + (self.start.capacity() + self.list.capacity() + self.pos.capacity()) * 4
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
    /// Position of a shown node among its parent's shown children.
    pub fn position(&self, id: NodeId) -> usize {
        self.pos[id as usize] as usize
    }
    /// Is this shown node the last of its parent's shown children?
    pub fn is_last(&self, index: &Index, id: NodeId) -> bool {
        let p = index.parent(id);
        self.pos[id as usize] as usize + 1 == self.children(p).len()
    }
}

/// What a run of siblings adds to their parent (see the reverse pass).
struct Run {
    parent: usize,
    size: u64,
    flags: u8,
    /// A shown sibling has a change mark.
    changed: bool,
}

impl Default for Run {
    fn default() -> Self {
        Run {
            parent: usize::MAX,
            size: 0,
            flags: 0,
            changed: false,
        }
    }
}

impl Run {
    fn flush(&self, flags: &mut [u8], size: &mut [u64], mark: &mut [Mark]) {
        let p = self.parent;
        if p == usize::MAX {
            return;
        }
        size[p] += self.size;
        flags[p] |= self.flags;
        if self.changed && p != ROOT as usize && mark[p] == Mark::Unchanged {
            mark[p] = Mark::Modified;
            flags[p] |= BELOW;
        }
    }
}

/// `v` as a copy of `from`, keeping its allocation.
fn copy_into<T: Copy>(v: &mut Vec<T>, from: &[T]) {
    v.clear();
    v.extend_from_slice(from);
}

/// `v` as `n` copies of `x`, keeping its allocation.
fn refill<T: Copy>(v: &mut Vec<T>, n: usize, x: T) {
    v.clear();
    v.resize(n, x);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::three_layers;
    use crate::view::nav::{Expansion, Nav};

    fn key(layer: usize, mode: Mode) -> Key {
        Key {
            layer,
            mode,
            sort: Sort::Name,
            types: Types::default(),
            filter: String::new(),
        }
    }

    /// Every row, everything expanded: (path, mark).
    fn rows(index: &Index, tree: &Tree) -> Vec<(String, Mark)> {
        let exp = Expansion::default();
        let nav = Nav {
            index,
            tree,
            exp: &exp,
        };
        let mut out = Vec::new();
        let mut cur = nav.first();
        while let Some(n) = cur {
            out.push((
                String::from_utf8_lossy(&index.path(n)).into_owned(),
                tree.mark(n),
            ));
            cur = nav.next(n);
        }
        out
    }

    fn build(key: Key, filter: Option<&PathFilter>) -> (Index, Tree) {
        let (index, report) = three_layers();
        let tree = Tree::build(&index, &hide_kinds(&report), key, filter);
        (index, tree)
    }

    fn size(index: &Index, tree: &Tree, path: &str) -> u64 {
        tree.size[index.find(path.as_bytes()).unwrap() as usize]
    }

    #[test]
    fn merged_tree_marks_what_the_layer_did() {
        let (ix, t) = build(key(1, Mode::Merged), None);
        use Mark::*;
        let want = [
            ("/bin", Modified),
            ("/bin/sh", Unchanged),
            ("/bin/x", Removed),
            ("/etc", Modified),
            ("/etc/a", Modified),
            ("/etc/b", Added),
            ("/usr", Unchanged),
            ("/usr/lib", Unchanged),
            ("/usr/lib/big", Unchanged),
        ];
        let got = rows(&ix, &t);
        assert_eq!(got, want.map(|(p, m)| (p.to_string(), m)));
        assert_eq!(t.shown_count, 9);
        assert!(!t.present(ix.find(b"/bin/x").unwrap()));
        // Directory sizes count present files only: bin/sh 4; etc/a 6 + etc/b 1.
        assert_eq!(size(&ix, &t, "/bin"), 4);
        assert_eq!(size(&ix, &t, "/etc"), 7);
        assert_eq!(size(&ix, &t, "/usr"), 10);
    }

    #[test]
    fn layer_only_shows_the_layers_changes_with_moves_and_chmods() {
        let (ix, t) = build(key(2, Mode::LayerOnly), None);
        use Mark::*;
        let want = [
            ("/etc", Modified),
            ("/etc/b", MetaOnly),
            ("/opt", Added),
            ("/opt/big", MovedHere),
            ("/usr", Modified),
            ("/usr/lib", Modified),
            ("/usr/lib/big", Moved),
        ];
        assert_eq!(rows(&ix, &t), want.map(|(p, m)| (p.to_string(), m)));
        // Only this layer's stored bytes count: the chmodded etc/b and opt/big.
        assert_eq!(size(&ix, &t, "/etc"), 1);
        assert_eq!(size(&ix, &t, "/opt"), 10);
    }

    #[test]
    fn size_sort_orders_siblings_by_their_bytes() {
        let (ix, t) = build(
            Key {
                sort: Sort::Size,
                ..key(2, Mode::Merged)
            },
            None,
        );
        let top: Vec<String> = t
            .children(ROOT)
            .iter()
            .map(|&n| String::from_utf8_lossy(&ix.path(n)).into_owned())
            .collect();
        // opt 10, etc 6 + 1, bin 4, usr 0 (its file moved away).
        assert_eq!(top, ["/opt", "/etc", "/bin", "/usr"]);
    }

    #[test]
    fn type_toggles_and_path_filters_keep_the_ancestors() {
        let (ix, t) = build(
            Key {
                types: Types([true, true, true, false]),
                ..key(1, Mode::Merged)
            },
            None,
        );
        let paths: Vec<String> = rows(&ix, &t).into_iter().map(|r| r.0).collect();
        assert_eq!(paths, ["/bin", "/bin/x", "/etc", "/etc/a", "/etc/b"]);
        let f = PathFilter::parse("big").unwrap().unwrap();
        let (ix, t) = build(key(0, Mode::Merged), Some(&f));
        let paths: Vec<String> = rows(&ix, &t).into_iter().map(|r| r.0).collect();
        assert_eq!(paths, ["/usr", "/usr/lib", "/usr/lib/big"]);
        assert!(!t.shown(ix.find(b"/bin").unwrap()));
    }

    #[test]
    fn change_at_is_the_last_change_at_or_before_the_layer() {
        let (ix, _) = three_layers();
        let a = ix.find(b"/etc/a").unwrap();
        assert_eq!(ix.change_at(a, 0).unwrap().1.layer, 0);
        assert_eq!(ix.change_at(a, 2).unwrap().1.layer, 1);
        let b = ix.find(b"/etc/b").unwrap();
        assert!(ix.change_at(b, 0).is_none());
    }
}
