//! Building the [`Index`](super::Index): layers applied in order with
//! overlay semantics (whiteouts and opaque markers first, then entries in tar
//! order), each path's history and each stored file's fate recorded.

use std::hash::{BuildHasher, Hasher};

use rustc_hash::{FxBuildHasher, FxHashMap};

use super::*;
use crate::load::layer::LayerIndex;

/// Current state of a path during the merge.
#[derive(Clone, Copy)]
pub(super) struct Cur {
    pub(super) present: bool,
    pub(super) kind: NodeKind,
    pub(super) inode: InodeId,
}

pub(super) struct Builder {
    pub(super) nodes: Vec<Node>,
    pub(super) cur: Vec<Cur>,
    /// (parent, hash of name) → child. A hash collision between two names of
    /// one directory is resolved by scanning that directory's children.
    pub(super) lookup: FxHashMap<(NodeId, u32), NodeId>,
    pub(super) inodes: Vec<Inode>,
    pub(super) links: Vec<Box<[u8]>>,
    pub(super) warnings: Warnings,
    /// What the layer being applied put at each path so far (kind, whether
    /// by an entry of its own), to warn about paths stored twice.
    /// By node: (layer + 1, kind, by an entry of its own) of what that
    /// layer put there; 0 for none. Only the current layer's marks count.
    pub(super) placed: Vec<(u16, NodeKind, bool)>,
    pub(super) captured: Vec<(InodeId, Captured)>,
}

pub(super) const ABSENT: Cur = Cur {
    present: false,
    kind: NodeKind::Dir,
    inode: NO_INODE,
};

impl Builder {
    fn new() -> Self {
        let root = Node {
            name: Name::new(b""),
            parent: ROOT,
            children: Vec::new(),
            changes: Vec::new(),
        };
        Builder {
            nodes: vec![root],
            cur: vec![Cur {
                present: true,
                kind: NodeKind::Dir,
                inode: NO_INODE,
            }],
            lookup: FxHashMap::default(),
            inodes: Vec::new(),
            links: Vec::new(),
            warnings: Warnings::default(),
            placed: vec![(0, NodeKind::Dir, false)],
            captured: Vec::new(),
        }
    }

    pub(super) fn path_of(&self, id: NodeId) -> Vec<u8> {
        let mut parts = Vec::new();
        let mut n = id;
        while n != ROOT {
            parts.push(&self.nodes[n as usize].name);
            n = self.nodes[n as usize].parent;
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
        let cur = self.cur[id as usize];
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

    pub(super) fn name_hash(name: &[u8]) -> u32 {
        let mut h = FxBuildHasher.build_hasher();
        h.write(name);
        let v = h.finish();
        (v ^ (v >> 32)) as u32
    }

    pub(super) fn lookup(&self, parent: NodeId, name: &[u8], hash: u32) -> Option<NodeId> {
        let id = *self.lookup.get(&(parent, hash))?;
        if *self.nodes[id as usize].name == *name {
            return Some(id);
        }
        self.nodes[parent as usize]
            .children
            .iter()
            .copied()
            .find(|&c| *self.nodes[c as usize].name == *name)
    }

    pub(super) fn child(&mut self, parent: NodeId, name: &[u8]) -> NodeId {
        let hash = Self::name_hash(name);
        if let Some(id) = self.lookup(parent, name, hash) {
            return id;
        }
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            name: Name::new(name),
            parent,
            children: Vec::new(),
            changes: Vec::new(),
        });
        self.cur.push(ABSENT);
        self.placed.push((0, NodeKind::Dir, false));
        self.nodes[parent as usize].children.push(id);
        self.lookup.entry((parent, hash)).or_insert(id);
        id
    }

    pub(super) fn find(&self, path: &[u8]) -> Option<NodeId> {
        let mut id = ROOT;
        for comp in path.split(|&b| b == b'/') {
            id = self.lookup(id, comp, Self::name_hash(comp))?;
        }
        Some(id)
    }

    /// Record what this layer stored at `id` and make it present. One change
    /// per layer: a path stored again within the same layer (or removed by
    /// its whiteout first) keeps the last word, and stays an Add if it began
    /// as one.
    pub(super) fn store(&mut self, id: NodeId, change: Change) {
        let changes = &mut self.nodes[id as usize].changes;
        let op = match changes.last() {
            Some(prev) if prev.layer == change.layer => {
                let op = if prev.op == Op::Add {
                    Op::Add
                } else {
                    change.op
                };
                changes.pop();
                op
            }
            _ => change.op,
        };
        push_change(changes, Change { op, ..change });
        self.cur[id as usize] = Cur {
            present: true,
            kind: change.kind,
            inode: change.inode,
        };
    }

    pub(super) fn sorted_children(&self, id: NodeId) -> Vec<NodeId> {
        let mut ch = self.nodes[id as usize].children.clone();
        ch.sort_by(|a, b| {
            self.nodes[*a as usize]
                .name
                .cmp(&self.nodes[*b as usize].name)
        });
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
            let c = self.cur[n as usize];
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
            self.cur[n as usize] = ABSENT;
            self.placed[n as usize].0 = 0;
            removed.insert(n, c.kind);
            push_change(
                &mut self.nodes[n as usize].changes,
                Change {
                    layer,
                    op: Op::Remove,
                    kind: c.kind,
                    inode: c.inode,
                    mode: 0,
                    uid: 0,
                    gid: 0,
                    link: u32::MAX,
                    implicit: false,
                },
            );
            if c.inode != NO_INODE && self.drop_name(c.inode) {
                let ino = &self.inodes[c.inode as usize];
                stats.removed_bytes += ino.size;
                // Several names gone in one layer: report the name the
                // bytes were stored under when it is one of them.
                let stored = ino.node;
                let node = if stored != n
                    && !self.cur[stored as usize].present
                    && self.nodes[stored as usize]
                        .changes
                        .last()
                        .is_some_and(|ch| ch.layer == layer && ch.op == Op::Remove)
                {
                    stored
                } else {
                    n
                };
                self.inodes[c.inode as usize].hidden = Some(Hide { layer, node, cause });
                hidden_here.insert(n, c.inode);
                hidden_here.insert(node, c.inode);
            }
        }
    }

    /// One name of `inode` is gone: true when it was its last (from then on
    /// its bytes are hidden).
    pub(super) fn drop_name(&mut self, inode: InodeId) -> bool {
        let ino = &mut self.inodes[inode as usize];
        ino.names -= 1;
        ino.names == 0
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
            let ino = &mut self.inodes[inode as usize];
            ino.hidden = Some(Hide {
                layer,
                node: id,
                cause: HideCause::Replaced {
                    same_content: new_hash == Some(ino.hash),
                },
            });
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
        let ino = &mut self.inodes[old as usize];
        let same_content = new_hash == Some(ino.hash);
        if let Some(h) = &mut ino.hidden {
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
        let before = self.cur[id as usize];
        if before.present && before.kind == NodeKind::Dir {
            if let Some(e) = entry {
                // Record a metadata change only when something differs.
                let last = self.nodes[id as usize]
                    .changes
                    .iter()
                    .rev()
                    .find(|c| c.op != Op::Remove)
                    .copied();
                let differs = last.is_none_or(|c| {
                    c.implicit || c.mode != e.mode || c.uid != e.uid as u32 || c.gid != e.gid as u32
                });
                let same_layer = self.nodes[id as usize]
                    .changes
                    .last()
                    .is_some_and(|c| c.layer == layer);
                if differs && !same_layer {
                    push_change(
                        &mut self.nodes[id as usize].changes,
                        Change {
                            layer,
                            op: if last.is_none() { Op::Add } else { Op::Modify },
                            kind: NodeKind::Dir,
                            inode: NO_INODE,
                            mode: e.mode,
                            uid: e.uid as u32,
                            gid: e.gid as u32,
                            link: u32::MAX,
                            implicit: false,
                        },
                    );
                } else if differs {
                    let c = self.nodes[id as usize].changes.last_mut().unwrap();
                    c.mode = e.mode;
                    c.uid = e.uid as u32;
                    c.gid = e.gid as u32;
                    c.implicit = false;
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
            Some(e) => (e.mode, e.uid as u32, e.gid as u32, false),
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
            link: u32::MAX,
            implicit,
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
    /// Apply the next layer (in manifest order).
    pub fn push(&mut self, r: LayerRef, compressed_bytes: u64, mut ix: LayerIndex) {
        let i = self.layers.len() as u16;
        let stats = self.b.apply(i, &mut ix);
        self.layers.push(Layer {
            r,
            compressed_bytes,
            compression: ix.compression,
            estargz: ix.estargz,
            stats,
        });
    }

    pub fn finish(self, image: ImageMeta) -> Index {
        let IndexBuilder { b, layers: out } = self;
        let Builder {
            mut nodes,
            inodes,
            links,
            warnings: layer_warnings,
            captured,
            ..
        } = b;
        let mut warnings = Warnings::default();
        for w in &image.warnings {
            warnings.push(w.clone());
        }
        warnings.extend(layer_warnings);
        // Sort children by name for deterministic output and display.
        for i in 0..nodes.len() {
            if nodes[i].children.len() < 2 {
                continue;
            }
            let mut ch = std::mem::take(&mut nodes[i].children);
            ch.sort_unstable_by(|a, b| nodes[*a as usize].name.cmp(&nodes[*b as usize].name));
            nodes[i].children = ch;
        }
        Index {
            image,
            layers: out,
            nodes,
            inodes,
            links,
            warnings: warnings.into_vec(),
            captured,
        }
    }
}
