//! Building the [`Index`](super::Index): layers applied in order with
//! overlay semantics (whiteouts and opaque markers first, then entries in tar
//! order), each path's history and each stored file's fate recorded.
//!
//! Nodes are columns from the start: names in one arena, parents, children
//! as linked lists (made sorted ranges at the end), the single change of
//! most nodes inline. A node's current state is its last change.

use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

use super::lookup::Lookup;
use super::*;
use crate::load::layer::LayerIndex;

/// Current state of a path during the merge.
#[derive(Clone, Copy)]
pub(super) struct Cur {
    pub(super) present: bool,
    pub(super) kind: NodeKind,
    pub(super) inode: InodeId,
}

/// Most bytes of names the index holds (offsets are 32-bit).
const MAX_NAME_BYTES: usize = u32::MAX as usize;

pub(super) struct Builder {
    names: Vec<u8>,
    name_at: Vec<u32>,
    parents: Vec<NodeId>,
    /// Children as linked lists (0, the root, ends a list: it is no one's
    /// child), newest first.
    first_child: Vec<NodeId>,
    next_sibling: Vec<NodeId>,
    /// The node's change, or a marker: no change yet, or several, then
    /// `multi[inode]` holds them.
    changes1: Vec<Change>,
    multi: Vec<Vec<Change>>,
    /// (parent, name) → node, with each key's hash: growing the table
    /// rehashes without reading the names, and most probes that are not
    /// the key are told apart without them.
    lookup: Lookup,
    pub(super) inodes: Vec<Inode>,
    /// The names each inode has so far (0 once hidden): merge only.
    pub(super) inode_names: Vec<u32>,
    /// How inodes were hidden, by inode.
    hides: FxHashMap<InodeId, Hide>,
    /// The names (path, inode) the layer being applied removed so far.
    pub(super) gone_names: FxHashSet<(NodeId, InodeId)>,
    link_bytes: Vec<u8>,
    link_at: Vec<usize>,
    pub(super) warnings: Warnings,
    /// What the layer being applied put at each path so far (kind, whether
    /// by an entry of its own), to warn about paths stored twice.
    /// By node: (layer + 1, kind, by an entry of its own) of what that
    /// layer put there; 0 for none. Only the current layer's marks count.
    pub(super) placed: Vec<(u16, NodeKind, bool)>,
    pub(super) captured: Vec<(InodeId, Captured)>,
    /// The names outgrew their 32-bit offsets: the load fails.
    too_big: bool,
}

pub(super) const ABSENT: Cur = Cur {
    present: false,
    kind: NodeKind::Dir,
    inode: NO_INODE,
};

/// The lookup key's hash, 32 bits of it kept.
pub(super) fn key_hash(parent: NodeId, name: &[u8]) -> u32 {
    let mut h = FxHasher::default();
    h.write_u32(parent);
    h.write(name);
    let x = h.finish();
    (x ^ (x >> 32)) as u32
}

impl Builder {
    fn new() -> Self {
        Builder {
            names: Vec::new(),
            name_at: vec![0, 0],
            parents: vec![ROOT],
            first_child: vec![ROOT],
            next_sibling: vec![ROOT],
            changes1: vec![Change::NONE],
            multi: Vec::new(),
            lookup: Lookup::new(),
            inodes: Vec::new(),
            inode_names: Vec::new(),
            hides: FxHashMap::default(),
            gone_names: FxHashSet::default(),
            link_bytes: Vec::new(),
            link_at: vec![0],
            warnings: Warnings::default(),
            placed: vec![(0, NodeKind::Dir, false)],
            captured: Vec::new(),
            too_big: false,
        }
    }

    /// Make room in the node and inode columns for what `ix` may add (a
    /// node an entry, an inode a file), its pages present at once (see
    /// [`super::lookup::populate`]) instead of faulted in one at a time
    /// as the merge pushes. An entry whose path is not new leaves its room
    /// to the next layers.
    fn prepare(&mut self, ix: &LayerIndex) {
        use super::lookup::populate;
        let nodes = ix.entries.len();
        let files = ix
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::File)
            .count();
        populate(&mut self.name_at, nodes);
        populate(&mut self.parents, nodes);
        populate(&mut self.first_child, nodes);
        populate(&mut self.next_sibling, nodes);
        populate(&mut self.changes1, nodes);
        populate(&mut self.placed, nodes);
        populate(&mut self.inodes, files);
        populate(&mut self.inode_names, files);
    }

    pub(super) fn name(&self, id: NodeId) -> &[u8] {
        let i = id as usize;
        &self.names[self.name_at[i] as usize..self.name_at[i + 1] as usize]
    }

    pub(super) fn parent(&self, id: NodeId) -> NodeId {
        self.parents[id as usize]
    }

    /// The node's changes so far, in layer order.
    pub(super) fn changes(&self, id: NodeId) -> &[Change] {
        let c = &self.changes1[id as usize];
        if c.layer == SEVERAL {
            &self.multi[c.inode as usize]
        } else {
            c.slice(&[])
        }
    }

    /// The node's last change, to amend.
    pub(super) fn last_change_mut(&mut self, id: NodeId) -> Option<&mut Change> {
        let c = &mut self.changes1[id as usize];
        match c.layer {
            NO_CHANGE => None,
            SEVERAL => self.multi[c.inode as usize].last_mut(),
            _ => Some(c),
        }
    }

    /// Append a change to a node's history. Most paths have one change in
    /// their life: it stays inline; the rare others get a list, grown one
    /// at a time.
    pub(super) fn push_change(&mut self, id: NodeId, c: Change) {
        let slot = &mut self.changes1[id as usize];
        match slot.layer {
            NO_CHANGE => *slot = c,
            SEVERAL => {
                let list = &mut self.multi[slot.inode as usize];
                if list.len() == list.capacity() {
                    list.reserve_exact(1);
                }
                list.push(c);
            }
            _ => {
                let k = self.multi.len() as u32;
                self.multi.push(vec![*slot, c]);
                *slot = Change::several(k, 0);
            }
        }
    }

    /// Drop a node's last change.
    fn pop_change(&mut self, id: NodeId) {
        let slot = &mut self.changes1[id as usize];
        match slot.layer {
            NO_CHANGE => {}
            SEVERAL => {
                self.multi[slot.inode as usize].pop();
            }
            _ => *slot = Change::NONE,
        }
    }

    /// The node's current state: its last change, unless a removal.
    pub(super) fn cur(&self, id: NodeId) -> Cur {
        if id == ROOT {
            return Cur {
                present: true,
                kind: NodeKind::Dir,
                inode: NO_INODE,
            };
        }
        match self.changes(id).last() {
            Some(c) if c.op != Op::Remove => Cur {
                present: true,
                kind: c.kind,
                inode: c.inode,
            },
            _ => ABSENT,
        }
    }

    /// Keep a link target; its index for [`Change::link`].
    pub(super) fn add_link(&mut self, target: &[u8]) -> u32 {
        self.link_bytes.extend_from_slice(target);
        self.link_at.push(self.link_bytes.len());
        (self.link_at.len() - 2) as u32
    }

    pub(super) fn path_of(&self, id: NodeId) -> Vec<u8> {
        let mut parts = Vec::new();
        let mut n = id;
        while n != ROOT {
            parts.push(self.name(n));
            n = self.parent(n);
        }
        let mut out = Vec::new();
        for p in parts.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(p);
        }
        if out.is_empty() {
            out.push(b'/');
        }
        out
    }

    pub(super) fn warn(&mut self, layer: u16, id: Option<NodeId>, message: impl Into<String>) {
        let path = id.map(|id| ImagePath(self.path_of(id)));
        self.warnings.push(Warning {
            layer: Some(layer as usize),
            path,
            message: message.into(),
        });
    }

    /// Note that this layer puts a `kind` at `id` (`explicit`: an entry of
    /// its own, else a directory a deeper entry implies), warning when the
    /// layer already put something there: the last entry wins. Directories
    /// meeting directories are no news unless both are entries.
    pub(super) fn place(&mut self, layer: u16, id: NodeId, kind: NodeKind, explicit: bool) {
        let cur = self.cur(id);
        let (mark, old, old_explicit) = self.placed[id as usize];
        if mark == layer + 1
            && (old != NodeKind::Dir || kind != NodeKind::Dir || (old_explicit && explicit))
        {
            self.warn(
                layer,
                Some(id),
                "stored more than once in this layer; the last entry wins",
            );
        }
        if explicit || !(cur.present && cur.kind == NodeKind::Dir) {
            self.placed[id as usize] = (layer + 1, kind, explicit);
        }
    }

    pub(super) fn lookup(&self, parent: NodeId, name: &[u8]) -> Option<NodeId> {
        let h = key_hash(parent, name);
        self.lookup.find(h, |c| {
            self.parents[c as usize] == parent && self.name(c) == name
        })
    }

    /// Hint that the child `name` of `parent` will be looked up soon.
    pub(super) fn prefetch(&self, hash: u32) {
        self.lookup.prefetch(hash);
    }

    pub(super) fn child(&mut self, parent: NodeId, name: &[u8]) -> NodeId {
        self.child_hashed(parent, name, key_hash(parent, name)).0
    }

    /// The child `name` of `parent` (whose key hash is `hash`), made when
    /// there is none: true then.
    pub(super) fn child_hashed(
        &mut self,
        parent: NodeId,
        name: &[u8],
        hash: u32,
    ) -> (NodeId, bool) {
        let Builder {
            lookup,
            names,
            name_at,
            parents,
            too_big,
            ..
        } = self;
        let (id, made) = lookup.find_or_insert(
            hash,
            |c| {
                let i = c as usize;
                parents[i] == parent && names[name_at[i] as usize..name_at[i + 1] as usize] == *name
            },
            || parents.len() as NodeId,
        );
        if !made {
            return (id, false);
        }
        if names.len() + name.len() > MAX_NAME_BYTES {
            *too_big = true;
        } else {
            names.extend_from_slice(name);
        }
        name_at.push(names.len() as u32);
        parents.push(parent);
        self.changes1.push(Change::NONE);
        self.placed.push((0, NodeKind::Dir, false));
        self.next_sibling.push(self.first_child[parent as usize]);
        self.first_child.push(ROOT);
        self.first_child[parent as usize] = id;
        (id, true)
    }

    pub(super) fn find(&self, path: &[u8]) -> Option<NodeId> {
        let mut id = ROOT;
        for comp in path.split(|&b| b == b'/') {
            id = self.lookup(id, comp)?;
        }
        Some(id)
    }

    /// Record what this layer stored at `id` and make it present. One change
    /// per layer: a path stored again within the same layer (or removed by
    /// its whiteout first) keeps the last word, and stays an Add if it began
    /// as one.
    pub(super) fn store(&mut self, id: NodeId, change: Change) {
        let op = match self.changes(id).last() {
            Some(prev) if prev.layer == change.layer => {
                let op = if prev.op == Op::Add {
                    Op::Add
                } else {
                    change.op
                };
                self.pop_change(id);
                op
            }
            _ => change.op,
        };
        self.push_change(id, Change { op, ..change });
    }

    pub(super) fn sorted_children(&self, id: NodeId) -> Vec<NodeId> {
        let mut ch = Vec::new();
        let mut c = self.first_child[id as usize];
        while c != ROOT {
            ch.push(c);
            c = self.next_sibling[c as usize];
        }
        ch.sort_unstable_by(|a, b| self.name(*a).cmp(self.name(*b)));
        ch
    }

    /// [`Self::remove`] every child of the directory `id`, in name order.
    pub(super) fn remove_children(
        &mut self,
        id: NodeId,
        layer: u16,
        cause: HideCause,
        stats: &mut LayerStats,
        hidden_here: &mut FxHashMap<NodeId, InodeId>,
        removed: &mut FxHashMap<NodeId, NodeKind>,
    ) {
        for ch in self.sorted_children(id) {
            self.remove(ch, layer, cause, stats, hidden_here, removed);
        }
    }

    /// Mark a present node (and its present subtree) removed by `layer`.
    pub(super) fn remove(
        &mut self,
        id: NodeId,
        layer: u16,
        cause: HideCause,
        stats: &mut LayerStats,
        hidden_here: &mut FxHashMap<NodeId, InodeId>,
        removed: &mut FxHashMap<NodeId, NodeKind>,
    ) {
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let c = self.cur(n);
            if !c.present {
                continue;
            }
            if c.kind == NodeKind::Dir {
                // Pop children in name order, so that when several names of
                // one inode go in one event, the last in path order decides.
                let mut ch = self.sorted_children(n);
                ch.reverse();
                stack.extend(ch);
            } else {
                stats.removed += 1;
            }
            self.placed[n as usize].0 = 0;
            removed.insert(n, c.kind);
            self.push_change(
                n,
                Change {
                    layer,
                    op: Op::Remove,
                    kind: c.kind,
                    inode: c.inode,
                    mode: 0,
                    uid: 0,
                    gid: 0,
                    link: u32::MAX,
                },
            );
            if c.inode != NO_INODE {
                self.gone_names.insert((n, c.inode));
            }
            if c.inode != NO_INODE && self.drop_name(c.inode) {
                let ino = &self.inodes[c.inode as usize];
                stats.removed_bytes += ino.size;
                // Several names gone in one layer: report the name the
                // bytes were stored under when it is one of them (removed
                // by this layer while still a name of this inode, not a
                // directory or another file that took the path since).
                let stored = ino.node;
                let node = if stored != n
                    && !self.cur(stored).present
                    && self.gone_names.contains(&(stored, c.inode))
                {
                    stored
                } else {
                    n
                };
                self.hides.insert(c.inode, Hide { layer, node, cause });
                hidden_here.insert(n, c.inode);
                hidden_here.insert(node, c.inode);
            }
        }
    }

    /// One name of `inode` is gone: true when it was its last (from then on
    /// its bytes are hidden).
    pub(super) fn drop_name(&mut self, inode: InodeId) -> bool {
        let names = &mut self.inode_names[inode as usize];
        *names -= 1;
        *names == 0
    }

    /// `inode` loses its name at `id` to what `layer` stores there; with no
    /// name left it is hidden, replaced (by content with hash `new_hash`, if
    /// a file).
    pub(super) fn unname_replaced(
        &mut self,
        inode: InodeId,
        layer: u16,
        id: NodeId,
        new_hash: Option<u128>,
    ) {
        if self.drop_name(inode) {
            let same_content = new_hash == Some(self.inodes[inode as usize].hash());
            self.hides.insert(
                inode,
                Hide {
                    layer,
                    node: id,
                    cause: HideCause::Replaced { same_content },
                },
            );
        }
    }

    /// `old`, hidden by this layer's deletion at `id`, sees `id` stored
    /// again by the same layer: the event is a replacement.
    pub(super) fn rehide_replaced(
        &mut self,
        old: Option<InodeId>,
        layer: u16,
        id: NodeId,
        new_hash: Option<u128>,
    ) {
        let Some(old) = old else { return };
        let same_content = new_hash == Some(self.inodes[old as usize].hash());
        if let Some(h) = self.hides.get_mut(&old) {
            if h.layer == layer {
                h.cause = HideCause::Replaced { same_content };
                h.node = id;
            }
        }
    }

    /// Make `id` a present directory (creating it implicitly, or replacing a
    /// non-directory), recording an entry's metadata when given.
    pub(super) fn ensure_dir(
        &mut self,
        id: NodeId,
        layer: u16,
        stats: &mut LayerStats,
        hidden_here: &mut FxHashMap<NodeId, InodeId>,
        removed_in_phase1: &FxHashMap<NodeId, NodeKind>,
        entry: Option<&crate::load::layer::Entry>,
    ) {
        self.place(layer, id, NodeKind::Dir, entry.is_some());
        let before = self.cur(id);
        if before.present && before.kind == NodeKind::Dir {
            if let Some(e) = entry {
                // Record a metadata change only when something differs.
                let last = self
                    .changes(id)
                    .iter()
                    .rev()
                    .find(|c| c.op != Op::Remove)
                    .copied();
                let differs = last.is_none_or(|c| {
                    c.implicit() || c.mode != e.mode || c.uid != e.uid || c.gid != e.gid
                });
                let same_layer = self.changes(id).last().is_some_and(|c| c.layer == layer);
                if differs && !same_layer {
                    self.push_change(
                        id,
                        Change {
                            layer,
                            op: if last.is_none() { Op::Add } else { Op::Modify },
                            kind: NodeKind::Dir,
                            inode: NO_INODE,
                            mode: e.mode,
                            uid: e.uid,
                            gid: e.gid,
                            link: u32::MAX,
                        },
                    );
                } else if differs {
                    if let Some(c) = self.last_change_mut(id) {
                        c.mode = e.mode;
                        c.uid = e.uid;
                        c.gid = e.gid;
                        c.link = u32::MAX;
                    }
                }
            }
            return;
        }
        let mut existed = removed_in_phase1.contains_key(&id);
        if before.present {
            existed = true;
            // A non-directory replaced by a directory.
            if before.inode != NO_INODE {
                self.unname_replaced(before.inode, layer, id, None);
            }
            stats.modified += 1;
        } else {
            self.rehide_replaced(hidden_here.remove(&id), layer, id, None);
        }
        let (mode, uid, gid, implicit) = match entry {
            Some(e) => (e.mode, e.uid, e.gid, false),
            None => (0o755, 0, 0, true),
        };
        let change = Change {
            layer,
            op: if existed { Op::Modify } else { Op::Add },
            kind: NodeKind::Dir,
            inode: NO_INODE,
            mode,
            uid,
            gid,
            link: if implicit { IMPLICIT_DIR } else { u32::MAX },
        };
        self.store(id, change);
    }
}

/// Merges layer indexes in order, one at a time, so each layer's entries can
/// be dropped as soon as it is applied (and merging overlaps indexing).
pub struct IndexBuilder {
    b: Builder,
    layers: Vec<Layer>,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        IndexBuilder {
            b: Builder::new(),
            layers: Vec::new(),
        }
    }
}

impl IndexBuilder {
    /// Apply the next layer (in manifest order). `recycle`: layers still
    /// to be indexed will reuse its buffers (see [`LayerIndex::recycle`]).
    pub fn push(
        &mut self,
        r: LayerRef,
        compressed_bytes: u64,
        mut ix: LayerIndex,
        recycle: bool,
    ) -> std::result::Result<(), String> {
        let i = self.layers.len() as u16;
        // Room for the layer's paths at once, rather than growing (and
        // rehashing) step by step.
        self.b.lookup.reserve(ix.entries.len());
        self.b.prepare(&ix);
        let stats = self.b.apply(i, &mut ix);
        if self.b.too_big {
            return Err(format!(
                "the image's path names take more than the {MAX_NAME_BYTES}-byte limit"
            ));
        }
        self.layers.push(Layer {
            r,
            compressed_bytes,
            compression: ix.compression,
            estargz: ix.estargz,
            stats,
            gzip_estimate: None,
        });
        if recycle {
            ix.recycle();
        }
        Ok(())
    }

    pub fn finish(self, image: ImageMeta) -> Index {
        let IndexBuilder { b, layers: out } = self;
        let Builder {
            mut names,
            mut name_at,
            mut parents,
            first_child,
            next_sibling,
            mut changes1,
            multi,
            lookup,
            mut inodes,
            inode_names,
            hides,
            mut link_bytes,
            mut link_at,
            warnings: layer_warnings,
            placed,
            captured,
            ..
        } = b;
        drop((lookup, placed, first_child, next_sibling, inode_names));
        let mut warnings = Warnings::default();
        for w in &image.warnings {
            warnings.push(w.clone());
        }
        warnings.extend(layer_warnings);
        // Changes of the nodes with several, in one list.
        let mut more = Vec::with_capacity(multi.iter().map(Vec::len).sum());
        for slot in changes1.iter_mut().filter(|c| c.layer == SEVERAL) {
            let list = &multi[slot.inode as usize];
            *slot = Change::several(more.len() as u32, list.len() as u32);
            more.extend_from_slice(list);
        }
        drop(multi);
        // Children as one range per directory, sorted by name for
        // deterministic output and display.
        let n = parents.len();
        let mut child_at = vec![0u32; n + 1];
        // Counted into with `+=`: made present first (see `prefault`).
        super::lookup::prefault(&mut child_at);
        for &p in &parents[1..] {
            child_at[p as usize + 1] += 1;
        }
        for i in 0..n {
            child_at[i + 1] += child_at[i];
        }
        let mut fill: Vec<u32> = child_at[..n].to_vec();
        let mut child_list = vec![ROOT; n.saturating_sub(1)];
        for (id, &p) in parents.iter().enumerate().skip(1) {
            child_list[fill[p as usize] as usize] = id as NodeId;
            fill[p as usize] += 1;
        }
        drop(fill);
        let name = |c: NodeId| {
            let i = c as usize;
            &names[name_at[i] as usize..name_at[i + 1] as usize]
        };
        for i in 0..n {
            let range = &mut child_list[child_at[i] as usize..child_at[i + 1] as usize];
            if range.len() > 1 {
                range.sort_unstable_by(|a, b| name(*a).cmp(name(*b)));
            }
        }
        // The columns grew by doubling: give back what is spare (large
        // blocks are remapped, not copied).
        names.shrink_to_fit();
        name_at.shrink_to_fit();
        parents.shrink_to_fit();
        changes1.shrink_to_fit();
        inodes.shrink_to_fit();
        let mut hides: Vec<(InodeId, Hide)> = hides.into_iter().collect();
        hides.sort_unstable_by_key(|(ino, _)| *ino);
        link_bytes.shrink_to_fit();
        link_at.shrink_to_fit();
        Index {
            image,
            layers: out,
            names,
            name_at,
            parents,
            child_at,
            child_list,
            changes1,
            more,
            inodes,
            hides,
            link_bytes,
            link_at,
            warnings: warnings.into_vec(),
            captured,
        }
    }
}
