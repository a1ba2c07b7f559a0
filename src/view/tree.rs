//! The file tree as of one layer: which nodes are shown, their change marks
//! and aggregated sizes, and their display order. Built once per
//! (layer, mode, filters, sort) in O(nodes); navigation and drawing then only
//! touch the rows on screen (preorder next/prev over a compact child table).

use std::sync::{Arc, Mutex, MutexGuard};

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

// Base flags: what the layer and mode say of a node.
const DIR: u8 = 2;
const PRESENT: u8 = 4;
/// Shown in this mode if the filters let it.
const CANDIDATE: u8 = 8;
/// Its bytes count towards its parent's size.
const COUNTED: u8 = 16;
// Visibility flags: what the change types and the path filter let through.
const SHOWN: u8 = 1;
/// Marked modified for a shown change below it (not by a change of its own).
const BELOW: u8 = 2;
/// A directory holding counted bytes (only while the sizes are summed).
const HOLDS: u8 = 4;

/// What a tree of one layer and mode holds whatever its sort, change types
/// and filter: shared by the trees derived from it, never copied.
struct Base {
    flags: Vec<u8>,
    /// The marks of the layer's own changes.
    mark: Vec<Mark>,
    /// File size, or aggregated size of the directory's counted contents.
    size: Vec<u64>,
}

/// Children lists in display order, made when a directory is first asked
/// for (drawn, or walked past): a frame asks for a few dozen, so a sort key
/// costs what is on screen, not a sort of every directory.
#[derive(Default)]
struct Lists {
    kids: FxHashMap<NodeId, Arc<[NodeId]>>,
    /// Position of a listed node in its parent's list.
    pos: FxHashMap<NodeId, u32>,
}

/// One layer's tree. Root is never a row; its shown children are the top level.
pub struct Tree {
    pub key: Key,
    base: Arc<Base>,
    /// SHOWN and BELOW of each node, for this tree's change types and filter.
    vis: Arc<Vec<u8>>,
    lists: Mutex<Lists>,
    /// The list of every node without shown children.
    empty: Arc<[NodeId]>,
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
    /// from a cache, or a spare) when given and no other tree shares them:
    /// no fresh pages to fault in.
    ///
    /// Without a path filter, one reverse pass over the nodes does it all:
    /// each node's own flags, mark and size from its change at the layer,
    /// then (its children being done, as their ids are larger) whether it
    /// is shown, its directory mark and size, and what it adds to its
    /// parent. A path filter is matched on the nodes' flags first, so it
    /// takes two passes: the nodes' own values, then [`visible`].
    pub fn build_with(
        index: &Index,
        cols: &Columns,
        kinds: &HideKinds,
        key: Key,
        filter: Option<&PathFilter>,
        old: Option<Tree>,
    ) -> Tree {
        Tree::build_split(index, cols, kinds, key, filter, old, None)
    }

    /// [`Tree::build_with`], its pass without a path filter split in two
    /// at node `split` when given (the reference check splits small trees
    /// everywhere; by itself a build splits only large ones).
    pub(crate) fn build_split(
        index: &Index,
        cols: &Columns,
        kinds: &HideKinds,
        key: Key,
        filter: Option<&PathFilter>,
        old: Option<Tree>,
        split: Option<usize>,
    ) -> Tree {
        let n = cols.len();
        let (base, vis) = old.map(Tree::buffers).unwrap_or_default();
        let mut base = base.unwrap_or(Base {
            flags: Vec::new(),
            mark: Vec::new(),
            size: Vec::new(),
        });
        let mut vis = vis.unwrap_or_default();
        let own = Own::new(index, cols, kinds, &key);
        let shown_count = match filter {
            None => own.fused(&mut base, &mut vis, &key, split),
            Some(_) => {
                own.forward(&mut base);
                let parts = (&base.flags[..], &base.mark[..], &mut base.size[..]);
                visible::<true>(index, parts, &mut vis, &key, filter)
            }
        };
        debug_assert_eq!(base.flags.len(), n);
        Tree::new(key, Arc::new(base), Arc::new(vis), shown_count)
    }

    fn new(key: Key, base: Arc<Base>, vis: Arc<Vec<u8>>, shown_count: usize) -> Tree {
        Tree {
            key,
            base,
            vis,
            lists: Mutex::default(),
            empty: Arc::from(Vec::new()),
            shown_count,
        }
    }

    /// A tree holding only buffers for `n` nodes, every page written (so
    /// faulted in): built on by [`Tree::build_with`] as `old`, never shown.
    pub(crate) fn spare(n: usize) -> Tree {
        let base = Base {
            flags: vec![1; n],
            mark: vec![Mark::Unchanged; n],
            size: vec![1; n],
        };
        let key = Key {
            layer: usize::MAX,
            mode: Mode::Merged,
            sort: Sort::Name,
            types: Types::default(),
            filter: String::new(),
        };
        Tree::new(key, Arc::new(base), Arc::new(vec![1; n]), 0)
    }

    /// The buffers of a dropped tree that no other tree shares.
    fn buffers(self) -> (Option<Base>, Option<Vec<u8>>) {
        (Arc::into_inner(self.base), Arc::into_inner(self.vis))
    }

    /// The tree for `key` from this one when they differ only in what a
    /// rebuild reads neither the changes nor the sizes for: the sort (the
    /// tree shares everything; only the children lists, made as they are
    /// drawn, differ), the change-type toggles or the path filter (which
    /// nodes are shown and the directories' marks are redone). The marks,
    /// sizes and flags of the layer and mode are shared, not copied. None
    /// when the layer or the mode differ. Equal to [`Tree::build_with`] for
    /// the same key.
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
        let base = self.base.clone();
        if key.types == self.key.types && key.filter == self.key.filter {
            return Some(Tree::new(key, base, self.vis.clone(), self.shown_count));
        }
        let mut vis = old.and_then(|o| o.buffers().1).unwrap_or_default();
        let parts = (&base.flags[..], &base.mark[..], &mut [][..]);
        let shown_count = visible::<false>(index, parts, &mut vis, &key, filter);
        Some(Tree::new(key, base, Arc::new(vis), shown_count))
    }

    /// Can the tree for `key` be derived from this one?
    pub fn derivable(&self, key: &Key) -> bool {
        key.layer == self.key.layer && key.mode == self.key.mode
    }

    /// Bytes held (for the README's memory figure; shared parts counted in
    /// every tree sharing them).
    pub fn heap_bytes(&self) -> usize {
        let b = &self.base;
        let lists = self.lock();
        b.flags.capacity()
            + b.mark.capacity() * std::mem::size_of::<Mark>()
            + b.size.capacity() * 8
            + self.vis.capacity()
            + lists.pos.capacity() * 8
            + lists.kids.values().map(|k| k.len() * 4 + 16).sum::<usize>()
    }

    fn lock(&self) -> MutexGuard<'_, Lists> {
        // Nothing a panic could leave half done: lists are inserted whole.
        self.lists.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn shown(&self, id: NodeId) -> bool {
        self.vis[id as usize] & SHOWN != 0
    }
    pub fn is_dir(&self, id: NodeId) -> bool {
        self.base.flags[id as usize] & DIR != 0
    }
    /// Present in the merged filesystem at this layer (false for whiteouts).
    pub fn present(&self, id: NodeId) -> bool {
        self.base.flags[id as usize] & PRESENT != 0
    }
    pub fn mark(&self, id: NodeId) -> Mark {
        if self.vis[id as usize] & BELOW != 0 {
            Mark::Modified
        } else {
            self.base.mark[id as usize]
        }
    }
    /// File size, or the aggregated size of the directory's counted contents.
    pub fn size(&self, id: NodeId) -> u64 {
        self.base.size[id as usize]
    }

    /// The shown children of a node, in display order.
    pub fn children(&self, index: &Index, id: NodeId) -> Arc<[NodeId]> {
        if !self.shown(id) || index.children(id).is_empty() {
            return self.empty.clone();
        }
        let mut lists = self.lock();
        if let Some(k) = lists.kids.get(&id) {
            return k.clone();
        }
        let kids: Arc<[NodeId]> = self.list(index, id).into();
        for (i, &c) in kids.iter().enumerate() {
            lists.pos.insert(c, i as u32);
        }
        lists.kids.insert(id, kids.clone());
        kids
    }

    /// The shown children of `id` in display order: the index's order
    /// (names), or by size, largest first (ties in name order).
    fn list(&self, index: &Index, id: NodeId) -> Vec<NodeId> {
        let mut list: Vec<NodeId> = index
            .children(id)
            .iter()
            .copied()
            .filter(|&c| self.shown(c))
            .collect();
        if self.key.sort == Sort::Size && list.len() > 1 {
            // Integer keys (size descending, then name rank) sorted unstably
            // give the stable order without a comparison closure.
            let size = &self.base.size;
            let mut keys: Vec<u128> = list
                .iter()
                .enumerate()
                .map(|(i, &c)| (u128::from(!size[c as usize]) << 32) | i as u128)
                .collect();
            keys.sort_unstable();
            let group = list.clone();
            for (slot, &k) in list.iter_mut().zip(&keys) {
                *slot = group[(k & 0xffff_ffff) as usize];
            }
        }
        list
    }

    /// Position of a shown node among its parent's shown children.
    pub fn position(&self, index: &Index, id: NodeId) -> usize {
        if let Some(&p) = self.lock().pos.get(&id) {
            return p as usize;
        }
        self.children(index, index.parent(id));
        self.lock().pos.get(&id).map_or(0, |&p| p as usize)
    }
    /// Is this shown node the last of its parent's shown children?
    pub fn is_last(&self, index: &Index, id: NodeId) -> bool {
        let p = index.parent(id);
        self.position(index, id) + 1 == self.children(index, p).len()
    }
}

/// What a build reads to decide each node's own flags, mark and size at
/// one layer and mode.
struct Own<'a> {
    index: &'a Index,
    cols: &'a Columns,
    kinds: &'a HideKinds,
    layer: usize,
    mode: Mode,
    /// Content this layer moved away (for marking where it went).
    moved: FxHashSet<u128>,
    /// Nodes (ascending) whose stored file another node with a smaller id
    /// shows too (hard links): a directory counts each stored file once.
    dups: Vec<NodeId>,
}

impl<'a> Own<'a> {
    fn new(index: &'a Index, cols: &'a Columns, kinds: &'a HideKinds, key: &Key) -> Own<'a> {
        let (layer, mode) = (key.layer, key.mode);
        let moved = kinds
            .iter()
            .filter(|((_, l), k)| *l as usize == layer && **k == WasteKind::Moved)
            .filter_map(|((node, _), _)| {
                let (_, c) = index.change_at(*node, layer)?;
                (c.inode != NO_INODE).then(|| index.inodes[c.inode as usize].hash())
            })
            .collect();
        let mut own = Own {
            index,
            cols,
            kinds,
            layer,
            mode,
            moved,
            dups: Vec::new(),
        };
        // Only the nodes with a linked stored file can be dups.
        let mut seen = FxHashSet::default();
        for &id in &cols.linked {
            if let (f, _, _, Some(inode)) = own.node(id as usize, false) {
                if f & COUNTED != 0 && !seen.insert(inode) {
                    own.dups.push(id);
                }
            }
        }
        own
    }

    /// The node's flags, mark and own size (a dup is not COUNTED), and the
    /// stored file it shows.
    #[inline(always)]
    fn node(&self, id: usize, dup: bool) -> (u8, Mark, u64, Option<u32>) {
        let (layer, mode) = (self.layer, self.mode);
        let chs = self.cols.changes(id as NodeId);
        let Some(ci) = chs.iter().rposition(|c| (c.layer as usize) <= layer) else {
            return (0, Mark::Unchanged, 0, None);
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
        let mut sz = 0;
        let mut inode = None;
        if c.inode != NO_INODE {
            sz = self.cols.inode_size[c.inode as usize];
            inode = Some(c.inode);
            if present && (mode == Mode::Merged || here) && !dup {
                f |= COUNTED;
            }
        }
        if !here {
            return (f, Mark::Unchanged, sz, inode);
        }
        let kind = || self.kinds.get(&(id as NodeId, layer as u16));
        let moved_here = c.kind == NodeKind::File
            && c.inode != NO_INODE
            && !self.moved.is_empty()
            && sz > 0
            && self
                .moved
                .contains(&self.index.inodes[c.inode as usize].hash());
        let m = match c.op {
            _ if moved_here && c.op != Op::Remove => Mark::MovedHere,
            Op::Add => Mark::Added,
            Op::Remove => match kind() {
                Some(WasteKind::Moved) => Mark::Moved,
                _ => Mark::Removed,
            },
            Op::Modify => {
                // The analysis decided whether the copy this layer
                // replaced had the same content.
                let same = kind() == Some(&WasteKind::MetadataOnly);
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
        (f, m, sz, inode)
    }

    /// Every node's own flags, mark and size, pushed in id order (no
    /// clearing pass first).
    fn forward(&self, base: &mut Base) {
        let n = self.cols.len();
        let (flags, mark, size) = (&mut base.flags, &mut base.mark, &mut base.size);
        flags.clear();
        flags.reserve(n);
        mark.clear();
        mark.reserve(n);
        size.clear();
        size.reserve(n);
        flags.push(DIR | PRESENT);
        mark.push(Mark::Unchanged);
        size.push(0);
        let mut dups = self.dups.iter().peekable();
        for id in 1..n {
            let dup = dups.next_if(|&&d| d as usize == id).is_some();
            let (f, m, sz, _) = self.node(id, dup);
            flags.push(f);
            mark.push(m);
            size.push(sz);
        }
    }

    /// The whole tree without a path filter in one reverse pass (see
    /// [`Tree::build_with`]): [`visible`] with the nodes' own values made
    /// as it goes. A directory's size is its own plus what its children
    /// flushed (HOLDS says some did: no clearing pass over the sizes), and
    /// BELOW, flushed before the directory's own mark is known, is dropped
    /// when it has one. Returns the number of shown nodes.
    ///
    /// From [`SPLIT_NODES`] nodes on (or at `split`, for the tests) the
    /// pass is split in two at half the nodes: a second thread does the
    /// upper ids while this one does the lower ones ([`Own::fused_range`]),
    /// then what the upper part added to directories of the lower one is
    /// lifted into them and their ancestors ([`lift`]).
    fn fused(&self, base: &mut Base, vis: &mut Vec<u8>, key: &Key, split: Option<usize>) -> usize {
        let n = self.cols.len();
        // Every entry is written below; only the flushed bits need zeros.
        fit(&mut base.flags, n, 0);
        fit(&mut base.mark, n, Mark::Unchanged);
        fit(&mut base.size, n, 0);
        refill(vis, n, 0);
        let m = match split {
            Some(m) => m.clamp(1, n),
            None if n >= SPLIT_NODES => n / 2,
            None => n,
        };
        // Without a thread to spare, the whole pass runs here.
        self.fused_at(base, vis, key, m)
            .or_else(|| self.fused_at(base, vis, key, n))
            .expect("a pass on one thread")
    }

    /// [`Own::fused`] split at `m` (`m == n`: not split). None when no
    /// thread could be started (nothing was written then).
    fn fused_at(&self, base: &mut Base, vis: &mut [u8], key: &Key, m: usize) -> Option<usize> {
        let n = vis.len();
        let d = self.dups.partition_point(|&d| (d as usize) < m);
        let (dups_lower, dups_upper) = self.dups.split_at(d);
        let (fa, fb) = base.flags.split_at_mut(m);
        let (ma, mb) = base.mark.split_at_mut(m);
        let (sa, sb) = base.size.split_at_mut(m);
        let (va, vb) = vis.split_at_mut(m);
        let mut lower = Part {
            off: 0,
            flags: fa,
            mark: ma,
            size: sa,
            vis: va,
        };
        let mut upper = Part {
            off: m,
            flags: fb,
            mark: mb,
            size: sb,
            vis: vb,
        };
        let (mut shown, lifts) = if m == n {
            self.fused_range(&mut lower, dups_lower, key)
        } else {
            std::thread::scope(|s| {
                let h = std::thread::Builder::new()
                    .name("imgscope-tree-half".into())
                    .spawn_scoped(s, || self.fused_range(&mut upper, dups_upper, key))
                    .ok()?;
                let (a, none) = self.fused_range(&mut lower, dups_lower, key);
                debug_assert!(none.is_empty(), "the lower part holds the root");
                let (b, lifts) = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                Some((a + b, lifts))
            })?
        };
        let (flags, mark, size) = (&mut base.flags[..], &mut base.mark[..], &mut base.size[..]);
        let r = ROOT as usize;
        flags[r] = DIR | PRESENT;
        mark[r] = Mark::Unchanged;
        if vis[r] & HOLDS == 0 {
            size[r] = 0;
        }
        for run in &lifts {
            shown += lift(self.index, flags, mark, size, vis, run);
        }
        vis[r] |= SHOWN;
        Some(shown)
    }

    /// The fused pass over the nodes of `part` (but the root), in reverse.
    /// Their children are all in the part (larger ids), so each node is
    /// done when it is passed; what a run of siblings adds to a parent
    /// before the part is returned (to [`lift`]), with the number of shown
    /// nodes of the part.
    fn fused_range(&self, part: &mut Part, dups: &[NodeId], key: &Key) -> (usize, Vec<Run>) {
        let off = part.off;
        let (flags, mark, size, vis) = (
            &mut *part.flags,
            &mut *part.mark,
            &mut *part.size,
            &mut *part.vis,
        );
        let types = key.types;
        let all_types = types.all();
        let mut dups = dups.iter().rev().peekable();
        let mut run = Run::default();
        let mut shown = 0;
        let mut lifts = Vec::new();
        for id in (off.max(1)..off + flags.len()).rev() {
            let p = self.index.parent(id as NodeId) as usize;
            if p != run.parent {
                run.flush_part(off, vis, size, &mut lifts);
                run = Run {
                    parent: p,
                    ..Run::default()
                };
            }
            let dup = dups.next_if(|&&d| d as usize == id).is_some();
            let (f, m, own, _) = self.node(id, dup);
            let i = id - off;
            flags[i] = f;
            mark[i] = m;
            let mut v = vis[i];
            if m != Mark::Unchanged {
                v &= !BELOW;
            }
            let sz = if v & HOLDS != 0 { own + size[i] } else { own };
            size[i] = sz;
            if f & CANDIDATE != 0
                && (if f & DIR != 0 {
                    all_types
                } else {
                    types.0[m.class()]
                })
            {
                v |= SHOWN;
            }
            vis[i] = v;
            if f & COUNTED != 0 || v & HOLDS != 0 {
                run.size += sz;
                run.holds = true;
            }
            if v & SHOWN != 0 {
                shown += 1;
                run.shown = true;
                run.changed |= v & BELOW != 0 || m != Mark::Unchanged;
            }
        }
        run.flush_part(off, vis, size, &mut lifts);
        (shown, lifts)
    }
}

/// Nodes from which a build without a path filter runs on two threads
/// (below, starting one costs more than it saves).
const SPLIT_NODES: usize = 1 << 16;

/// The nodes `off..off + flags.len()` of a tree being built: their
/// entries of each column.
struct Part<'s> {
    off: usize,
    flags: &'s mut [u8],
    mark: &'s mut [Mark],
    size: &'s mut [u64],
    vis: &'s mut [u8],
}

/// What a run of siblings of the upper part of a split build adds to their
/// parent, a node of the lower part and done: its size (and HOLDS), SHOWN
/// and BELOW, carried up its ancestors as far as they change them, as the
/// pass on one thread would have. Returns the nodes newly shown (the root
/// not counted).
fn lift(
    index: &Index,
    flags: &[u8],
    mark: &[Mark],
    size: &mut [u64],
    vis: &mut [u8],
    run: &Run,
) -> usize {
    let r = ROOT as usize;
    if run.holds {
        // A node that held no counted bytes before now passes its whole
        // size on, not only what was added.
        let (mut x, mut add) = (run.parent, run.size);
        loop {
            let counted = flags[x] & COUNTED != 0 || vis[x] & HOLDS != 0;
            vis[x] |= HOLDS;
            size[x] += add;
            if x == r {
                break;
            }
            if !counted {
                add = size[x];
            }
            x = index.parent(x as NodeId) as usize;
        }
    }
    let mut shown = 0;
    if run.shown {
        let (mut x, mut changed) = (run.parent, run.changed);
        loop {
            let v = vis[x];
            let mut now = v | SHOWN;
            if changed && x != r && mark[x] == Mark::Unchanged {
                now |= BELOW;
            }
            vis[x] = now;
            if now == v || x == r {
                break;
            }
            shown += usize::from(v & SHOWN == 0);
            changed = now & BELOW != 0 || mark[x] != Mark::Unchanged;
            x = index.parent(x as NodeId) as usize;
        }
    }
    shown
}

/// Which nodes are shown (`vis`, refilled) for the key's change types and
/// filter, and the directories marked modified for a shown change below
/// them; with `SIZES`, also the directories' sizes (`size` holds the files'
/// sizes; `flags` and `mark` are the nodes' own). Returns the number of
/// shown nodes.
fn visible<const SIZES: bool>(
    index: &Index,
    (flags, mark, size): (&[u8], &[Mark], &mut [u64]),
    vis: &mut Vec<u8>,
    key: &Key,
    filter: Option<&PathFilter>,
) -> usize {
    let n = flags.len();
    refill(vis, n, 0);
    // Path filter: one pass over the names, or a walk over the paths.
    let matched: Option<Vec<bool>> =
        filter.map(|f| f.match_nodes(index, |ch| flags[ch as usize] & (CANDIDATE | DIR) != 0));
    let all_types = key.types.all();
    let plain = matched.is_none() && all_types;
    // Children have larger ids than their parents: one reverse pass decides
    // which nodes are shown by themselves (candidates the filters let
    // through), shows the ancestors of shown nodes, marks the directories
    // changed below and (with SIZES) aggregates sizes. Siblings mostly have
    // consecutive ids, so a run of them is summed in registers and added to
    // the parent once.
    let mut run = Run::default();
    let mut shown = 0;
    for id in (1..n).rev() {
        let p = index.parent(id as NodeId) as usize;
        if p != run.parent {
            run.flush::<SIZES>(vis, size, mark);
            run = Run {
                parent: p,
                ..Run::default()
            };
        }
        let f = flags[id];
        let mut v = vis[id];
        if f & CANDIDATE != 0
            && (plain || {
                let path_ok = matched.as_ref().is_none_or(|m| m[id]);
                path_ok
                    && if f & DIR != 0 {
                        all_types
                    } else {
                        key.types.0[mark[id].class()]
                    }
            })
        {
            v |= SHOWN;
            vis[id] = v;
        }
        if SIZES && (f & COUNTED != 0 || v & HOLDS != 0) {
            run.size += size[id];
            run.holds = true;
        }
        if v & SHOWN != 0 {
            // Final: its children's runs were flushed before it.
            shown += 1;
            run.shown = true;
            run.changed |= v & BELOW != 0 || mark[id] != Mark::Unchanged;
        }
    }
    run.flush::<SIZES>(vis, size, mark);
    vis[ROOT as usize] |= SHOWN;
    shown
}

/// What a run of siblings adds to their parent (see [`visible`]).
#[derive(Clone, Copy)]
struct Run {
    parent: usize,
    size: u64,
    /// A sibling holds counted bytes.
    holds: bool,
    shown: bool,
    /// A shown sibling has a change mark.
    changed: bool,
}

impl Default for Run {
    fn default() -> Self {
        Run {
            parent: usize::MAX,
            size: 0,
            holds: false,
            shown: false,
            changed: false,
        }
    }
}

impl Run {
    fn flush<const SIZES: bool>(&self, vis: &mut [u8], size: &mut [u64], mark: &[Mark]) {
        let p = self.parent;
        if p == usize::MAX {
            return;
        }
        if SIZES && self.holds {
            size[p] += self.size;
            vis[p] |= HOLDS;
        }
        if self.shown {
            vis[p] |= SHOWN;
        }
        if self.changed && p != ROOT as usize && mark[p] == Mark::Unchanged && vis[p] & BELOW == 0 {
            vis[p] |= BELOW;
        }
    }
}

impl Run {
    /// [`Run::flush`] in the fused pass over the nodes from `off` on: the
    /// parent's size is set by its first holding run (HOLDS not yet set)
    /// and added to by the next, and BELOW is set whatever the parent's
    /// own mark (not known yet). A parent before `off` gets the run later,
    /// from [`lift`].
    fn flush_part(&self, off: usize, vis: &mut [u8], size: &mut [u64], lifts: &mut Vec<Run>) {
        let p = self.parent;
        if p == usize::MAX {
            return;
        }
        if p < off {
            if self.holds || self.shown {
                lifts.push(*self);
            }
            return;
        }
        let i = p - off;
        if self.holds {
            if vis[i] & HOLDS != 0 {
                size[i] += self.size;
            } else {
                size[i] = self.size;
                vis[i] |= HOLDS;
            }
        }
        if self.shown {
            vis[i] |= SHOWN;
        }
        if self.changed && p != ROOT as usize {
            vis[i] |= BELOW;
        }
    }
}

/// `v` with `n` entries, keeping its allocation; the entries of a buffer
/// already that long are left as they are (the caller writes them all).
fn fit<T: Copy>(v: &mut Vec<T>, n: usize, x: T) {
    if v.len() != n {
        refill(v, n, x);
    }
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
        tree.size(index.find(path.as_bytes()).unwrap())
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
            .children(&ix, ROOT)
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
