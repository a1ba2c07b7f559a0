//! The merged view of all layers: an arena of every path that ever existed,
//! each with its per-layer history, plus every stored regular file ("inode")
//! and the event that hid it, if any. Built by applying layers in order with
//! overlay semantics (whiteouts, opaque directories, replacement).

use std::hash::{BuildHasher, Hasher};

use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::load::capture::Captured;
use crate::load::image::{ImageMeta, LayerRef};
use crate::load::layer::{Compression, EntryKind, LayerIndex};

pub type NodeId = u32;
pub type InodeId = u32;
pub const ROOT: NodeId = 0;
pub const NO_INODE: InodeId = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    File,
    Dir,
    Symlink,
    /// Character device (e.g. `/dev/null`).
    Char,
    /// Block device.
    Block,
    /// Named pipe.
    Fifo,
}

impl NodeKind {
    /// The kind of node an entry makes; None for a whiteout, which removes one.
    fn of(k: EntryKind) -> Option<NodeKind> {
        Some(match k {
            EntryKind::File | EntryKind::HardLink => NodeKind::File,
            EntryKind::Dir | EntryKind::Opaque => NodeKind::Dir,
            EntryKind::Symlink => NodeKind::Symlink,
            EntryKind::Char => NodeKind::Char,
            EntryKind::Block => NodeKind::Block,
            EntryKind::Fifo => NodeKind::Fifo,
            EntryKind::Whiteout => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// The path did not exist below this layer.
    Add,
    /// The path existed and this layer stored it again.
    Modify,
    /// The path was removed by this layer.
    Remove,
}

/// What one layer did to one path.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub layer: u16,
    pub op: Op,
    pub kind: NodeKind,
    /// The stored file (for `File`), else `NO_INODE`.
    pub inode: InodeId,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Index into `Index::links` for symlink targets, else u32::MAX.
    pub link: u32,
    /// The directory was created implicitly (no entry of its own).
    pub implicit: bool,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: Box<[u8]>,
    pub parent: NodeId,
    /// Sorted by name once the index is built.
    pub children: Vec<NodeId>,
    /// In layer order.
    pub changes: Vec<Change>,
}

/// Why a stored file stopped being visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HideCause {
    /// Another entry took its (last) path; `same_content` when the new entry
    /// is a regular file whose content hash equals the hidden file's.
    Replaced { same_content: bool },
    /// A `.wh.` whiteout of the path or of an ancestor.
    Whiteout,
    /// An opaque directory marker on an ancestor.
    Opaque,
    /// An ancestor directory was replaced by a non-directory.
    ParentReplaced,
}

#[derive(Debug, Clone, Copy)]
pub struct Hide {
    pub layer: u16,
    /// The path whose removal hid the last name.
    pub node: NodeId,
    pub cause: HideCause,
}

/// One regular file as stored in one layer; hard links share it.
#[derive(Debug, Clone)]
pub struct Inode {
    pub layer: u16,
    pub size: u64,
    pub hash: u128,
    /// The path it was stored at.
    pub node: NodeId,
    pub hidden: Option<Hide>,
    /// Names it has in the merged filesystem at the end (0 when hidden).
    pub names: u32,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LayerStats {
    /// Sum of sizes of regular-file entries.
    pub bytes: u64,
    /// Non-directory, non-whiteout entries in the tar.
    pub files: u64,
    /// Non-directory paths new in this layer.
    pub added: u64,
    /// Non-directory paths that existed and were stored again.
    pub modified: u64,
    /// Non-directory paths removed from lower layers.
    pub removed: u64,
    pub added_bytes: u64,
    pub modified_bytes: u64,
    pub removed_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct Layer {
    pub r: LayerRef,
    /// Stored (possibly compressed) blob size.
    pub compressed_bytes: u64,
    pub compression: Compression,
    pub estargz: bool,
    pub stats: LayerStats,
}

/// An oddity that does not stop the analysis (a path stored twice in one
/// layer, a whiteout of nothing, a hard link to a missing file, …).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    pub layer: Option<usize>,
    pub path: Option<crate::analyze::waste::ImagePath>,
    pub message: String,
}

/// Most warnings listed; the rest are counted in one last warning.
pub const MAX_WARNINGS: usize = 1000;

/// A bounded list of warnings.
#[derive(Debug, Clone, Default)]
pub struct Warnings {
    list: Vec<Warning>,
    dropped: u64,
}

impl Warnings {
    pub fn push(&mut self, w: Warning) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(w);
        } else {
            self.dropped += 1;
        }
    }

    pub fn extend(&mut self, other: Warnings) {
        self.dropped += other.dropped;
        for w in other.list {
            self.push(w);
        }
    }

    /// The warnings, the unlisted ones counted in a last entry.
    pub fn into_vec(mut self) -> Vec<Warning> {
        if self.dropped > 0 {
            self.list.push(Warning {
                layer: None,
                path: None,
                message: format!("{} more warnings not listed", self.dropped),
            });
        }
        self.list
    }
}

#[derive(Debug, Clone)]
pub struct Index {
    pub image: ImageMeta,
    pub layers: Vec<Layer>,
    pub nodes: Vec<Node>,
    pub inodes: Vec<Inode>,
    pub links: Vec<Box<[u8]>>,
    /// Oddities met while loading and merging, in layer order.
    pub warnings: Vec<Warning>,
    /// What was kept of some files' content, by inode (increasing).
    pub captured: Vec<(InodeId, Captured)>,
}

/// Current state of a path during the merge.
#[derive(Clone, Copy)]
struct Cur {
    present: bool,
    kind: NodeKind,
    inode: InodeId,
}

struct Builder {
    nodes: Vec<Node>,
    cur: Vec<Cur>,
    /// (parent, hash of name) → child. A hash collision between two names of
    /// one directory is resolved by scanning that directory's children.
    lookup: FxHashMap<(NodeId, u32), NodeId>,
    inodes: Vec<Inode>,
    links: Vec<Box<[u8]>>,
    warnings: Warnings,
    /// What the layer being applied put at each path so far (kind, whether
    /// by an entry of its own), to warn about paths stored twice.
    placed: FxHashMap<NodeId, (NodeKind, bool)>,
    captured: Vec<(InodeId, Captured)>,
}

const ABSENT: Cur = Cur {
    present: false,
    kind: NodeKind::Dir,
    inode: NO_INODE,
};

impl Builder {
    fn new() -> Self {
        let root = Node {
            name: Box::new([]),
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
            placed: FxHashMap::default(),
            captured: Vec::new(),
        }
    }

    fn path_of(&self, id: NodeId) -> Vec<u8> {
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

    fn warn(&mut self, layer: u16, id: Option<NodeId>, message: impl Into<String>) {
        let path = id.map(|id| crate::analyze::waste::ImagePath(self.path_of(id)));
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
    fn place(&mut self, layer: u16, id: NodeId, kind: NodeKind, explicit: bool) {
        let cur = self.cur[id as usize];
        if let Some(&(old, old_explicit)) = self.placed.get(&id) {
            if old != NodeKind::Dir || kind != NodeKind::Dir || (old_explicit && explicit) {
                self.warn(
                    layer,
                    Some(id),
                    "stored more than once in this layer; the last entry wins",
                );
            }
        }
        if explicit || !(cur.present && cur.kind == NodeKind::Dir) {
            self.placed.insert(id, (kind, explicit));
        }
    }

    fn name_hash(name: &[u8]) -> u32 {
        let mut h = FxBuildHasher.build_hasher();
        h.write(name);
        let v = h.finish();
        (v ^ (v >> 32)) as u32
    }

    fn lookup(&self, parent: NodeId, name: &[u8], hash: u32) -> Option<NodeId> {
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

    fn child(&mut self, parent: NodeId, name: &[u8]) -> NodeId {
        let hash = Self::name_hash(name);
        if let Some(id) = self.lookup(parent, name, hash) {
            return id;
        }
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            name: Box::from(name),
            parent,
            children: Vec::new(),
            changes: Vec::new(),
        });
        self.cur.push(ABSENT);
        self.nodes[parent as usize].children.push(id);
        self.lookup.entry((parent, hash)).or_insert(id);
        id
    }

    fn find(&self, path: &[u8]) -> Option<NodeId> {
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
    fn store(&mut self, id: NodeId, change: Change) {
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
        changes.push(Change { op, ..change });
        self.cur[id as usize] = Cur {
            present: true,
            kind: change.kind,
            inode: change.inode,
        };
    }

    fn sorted_children(&self, id: NodeId) -> Vec<NodeId> {
        let mut ch = self.nodes[id as usize].children.clone();
        ch.sort_by(|a, b| {
            self.nodes[*a as usize]
                .name
                .cmp(&self.nodes[*b as usize].name)
        });
        ch
    }

    /// Mark a present node (and its present subtree) removed by `layer`.
    fn remove(
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
            self.placed.remove(&n);
            removed.insert(n, c.kind);
            self.nodes[n as usize].changes.push(Change {
                layer,
                op: Op::Remove,
                kind: c.kind,
                inode: c.inode,
                mode: 0,
                uid: 0,
                gid: 0,
                link: u32::MAX,
                implicit: false,
            });
            if c.inode != NO_INODE {
                let ino = &mut self.inodes[c.inode as usize];
                ino.names -= 1;
                stats.removed_bytes += if ino.names == 0 { ino.size } else { 0 };
                if ino.names == 0 {
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
    }

    fn apply(&mut self, layer: u16, ix: &mut LayerIndex) -> LayerStats {
        let mut captures = std::mem::take(&mut ix.captures).into_iter().peekable();
        let mut stats = LayerStats::default();
        self.placed.clear();
        // Inodes hidden by this layer's deletions, by the path they were at:
        // if this layer stores that path again, the event is a replacement.
        let mut hidden_here: FxHashMap<NodeId, InodeId> = FxHashMap::default();
        let mut removed1: FxHashMap<NodeId, NodeKind> = FxHashMap::default();
        // Paths present before this layer that its deletions removed (for
        // counting a re-store as "modified" rather than "added").
        // Phase 1: whiteouts and opaque markers act on the lower layers only.
        for e in &ix.entries {
            match e.kind {
                EntryKind::Whiteout => {
                    let id = self
                        .find(&e.path)
                        .filter(|&id| self.cur[id as usize].present);
                    if id.is_none() {
                        let id = self.find(&e.path);
                        let msg = "whiteout of a path that no lower layer holds";
                        match id {
                            Some(id) => self.warn(layer, Some(id), msg),
                            None => {
                                let p = crate::analyze::waste::ImagePath(
                                    [b"/".as_slice(), &e.path].concat(),
                                );
                                self.warnings.push(Warning {
                                    layer: Some(layer as usize),
                                    path: Some(p),
                                    message: msg.into(),
                                });
                            }
                        }
                    }
                    if let Some(id) = id {
                        self.remove(
                            id,
                            layer,
                            HideCause::Whiteout,
                            &mut stats,
                            &mut hidden_here,
                            &mut removed1,
                        );
                    }
                }
                EntryKind::Opaque => {
                    let id = if e.path.is_empty() {
                        Some(ROOT)
                    } else {
                        self.find(&e.path)
                    };
                    if let Some(id) = id {
                        if self.cur[id as usize].present
                            && self.cur[id as usize].kind == NodeKind::Dir
                        {
                            let children = self.sorted_children(id);
                            for ch in children {
                                self.remove(
                                    ch,
                                    layer,
                                    HideCause::Opaque,
                                    &mut stats,
                                    &mut hidden_here,
                                    &mut removed1,
                                );
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let removed_in_phase1 = std::mem::take(&mut removed1);
        let mut parent_cache: Option<(Vec<u8>, NodeId)> = None;
        let mut removed2: FxHashMap<NodeId, NodeKind> = FxHashMap::default();
        // Phase 2: entries in tar order.
        for (entry_index, e) in ix.entries.iter().enumerate() {
            let Some(kind) = NodeKind::of(e.kind) else {
                continue;
            };
            if e.kind == EntryKind::File {
                stats.bytes += e.size;
            }
            if !matches!(e.kind, EntryKind::Dir | EntryKind::Opaque) {
                stats.files += 1;
            }
            // Walk / create ancestors as directories. Tar entries come
            // grouped by directory: reuse the previous entry's parent when
            // the directory part is the same (it was made a directory then,
            // and only a non-directory stored over a directory can undo that,
            // which clears the cache).
            let (dir_part, last): (&[u8], Option<&[u8]>) = if e.path.is_empty() {
                (&[], None)
            } else {
                match e.path.iter().rposition(|&b| b == b'/') {
                    Some(i) => (&e.path[..i], Some(&e.path[i + 1..])),
                    None => (&[], Some(&e.path[..])),
                }
            };
            let parent = match &parent_cache {
                Some((p, id)) if **p == *dir_part => *id,
                _ => {
                    let mut parent = ROOT;
                    if !dir_part.is_empty() {
                        for comp in dir_part.split(|&b| b == b'/') {
                            let id = self.child(parent, comp);
                            self.ensure_dir(
                                id,
                                layer,
                                &mut stats,
                                &mut hidden_here,
                                &removed_in_phase1,
                                None,
                            );
                            parent = id;
                        }
                    }
                    parent_cache = Some((dir_part.to_vec(), parent));
                    parent
                }
            };
            let Some(last) = last else { continue }; // opaque marker at the root
            let id = self.child(parent, last);
            if kind == NodeKind::Dir {
                // A directory entry, or the directory an opaque marker names
                // (which carries no metadata of its own).
                let meta = (e.kind == EntryKind::Dir).then_some(e);
                self.ensure_dir(
                    id,
                    layer,
                    &mut stats,
                    &mut hidden_here,
                    &removed_in_phase1,
                    meta,
                );
                continue;
            }
            // A non-directory at `id`.
            let new_inode = match e.kind {
                EntryKind::File => {
                    let ino = self.inodes.len() as InodeId;
                    self.inodes.push(Inode {
                        layer,
                        size: e.size,
                        hash: e.hash,
                        node: id,
                        hidden: None,
                        names: 0,
                    });
                    while captures
                        .peek()
                        .is_some_and(|(i, _)| (*i as usize) < entry_index)
                    {
                        captures.next();
                    }
                    if let Some((_, c)) = captures.next_if(|(i, _)| *i as usize == entry_index) {
                        self.captured.push((ino, c));
                    }
                    ino
                }
                EntryKind::HardLink => {
                    let target = e.link.as_deref().and_then(|t| self.find(t));
                    match target {
                        Some(t)
                            if self.cur[t as usize].present
                                && self.cur[t as usize].inode != NO_INODE =>
                        {
                            self.cur[t as usize].inode
                        }
                        _ => {
                            self.warn(
                                layer,
                                Some(id),
                                "hard link to a file that is not in the image; counted as an empty file",
                            );
                            NO_INODE
                        }
                    }
                }
                _ => NO_INODE,
            };
            self.place(layer, id, kind, true);
            let (by_file, by_hash) = if new_inode != NO_INODE {
                (true, self.inodes[new_inode as usize].hash)
            } else {
                (false, 0)
            };
            let before = self.cur[id as usize];
            let existed = before.present || removed_in_phase1.contains_key(&id);
            if before.present {
                if before.kind == NodeKind::Dir {
                    parent_cache = None;
                    let children = self.sorted_children(id);
                    for ch in children {
                        self.remove(
                            ch,
                            layer,
                            HideCause::ParentReplaced,
                            &mut stats,
                            &mut hidden_here,
                            &mut removed2,
                        );
                    }
                } else if before.inode != NO_INODE && before.inode != new_inode {
                    let ino = &mut self.inodes[before.inode as usize];
                    ino.names -= 1;
                    if ino.names == 0 {
                        ino.hidden = Some(Hide {
                            layer,
                            node: id,
                            cause: HideCause::Replaced {
                                same_content: by_file && by_hash == ino.hash,
                            },
                        });
                    }
                } else if before.inode != NO_INODE {
                    // The same inode linked again at its own path: no change in names.
                    self.inodes[before.inode as usize].names -= 1;
                }
            } else if let Some(&old) = hidden_here.get(&id) {
                // Deleted by this layer's whiteout and stored again: a replacement.
                let ino = &mut self.inodes[old as usize];
                let same_content = by_file && by_hash == ino.hash;
                if let Some(h) = &mut ino.hidden {
                    if h.layer == layer {
                        h.cause = HideCause::Replaced { same_content };
                        h.node = id;
                    }
                }
                hidden_here.remove(&id);
            }
            if new_inode != NO_INODE {
                self.inodes[new_inode as usize].names += 1;
            }
            if existed {
                stats.modified += 1;
                stats.modified_bytes += if e.kind == EntryKind::File { e.size } else { 0 };
                if !before.present
                    && removed_in_phase1
                        .get(&id)
                        .is_some_and(|k| *k != NodeKind::Dir)
                {
                    // counted as removed in phase 1; stored again, it is a modification
                    stats.removed = stats.removed.saturating_sub(1);
                }
            } else {
                stats.added += 1;
                stats.added_bytes += if e.kind == EntryKind::File { e.size } else { 0 };
            }
            let link = match (&e.kind, &e.link) {
                (EntryKind::Symlink, Some(l)) | (EntryKind::HardLink, Some(l)) => {
                    self.links.push(l.clone());
                    (self.links.len() - 1) as u32
                }
                _ => u32::MAX,
            };
            let change = Change {
                layer,
                op: if existed { Op::Modify } else { Op::Add },
                kind,
                inode: new_inode,
                mode: e.mode,
                uid: e.uid as u32,
                gid: e.gid as u32,
                link,
                implicit: false,
            };
            self.store(id, change);
        }
        stats
    }

    /// Make `id` a present directory (creating it implicitly, or replacing a
    /// non-directory), recording an entry's metadata when given.
    fn ensure_dir(
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
                    self.nodes[id as usize].changes.push(Change {
                        layer,
                        op: if last.is_none() { Op::Add } else { Op::Modify },
                        kind: NodeKind::Dir,
                        inode: NO_INODE,
                        mode: e.mode,
                        uid: e.uid as u32,
                        gid: e.gid as u32,
                        link: u32::MAX,
                        implicit: false,
                    });
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
                let ino = &mut self.inodes[before.inode as usize];
                ino.names -= 1;
                if ino.names == 0 {
                    ino.hidden = Some(Hide {
                        layer,
                        node: id,
                        cause: HideCause::Replaced {
                            same_content: false,
                        },
                    });
                }
            }
            stats.modified += 1;
        } else if let Some(&old) = hidden_here.get(&id) {
            if let Some(h) = &mut self.inodes[old as usize].hidden {
                if h.layer == layer {
                    h.cause = HideCause::Replaced {
                        same_content: false,
                    };
                    h.node = id;
                }
            }
            hidden_here.remove(&id);
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

impl Index {
    /// Merge per-layer indexes in order.
    pub fn build(
        image: ImageMeta,
        refs: Vec<LayerRef>,
        compressed: Vec<u64>,
        layers: Vec<LayerIndex>,
    ) -> Index {
        let mut b = IndexBuilder::default();
        for ((r, ix), csize) in refs.into_iter().zip(layers).zip(compressed) {
            b.push(r, csize, ix);
        }
        b.finish(image)
    }

    /// Absolute path of a node, as bytes.
    pub fn path(&self, id: NodeId) -> Vec<u8> {
        let mut parts = Vec::new();
        let mut n = id;
        while n != ROOT {
            parts.push(&self.nodes[n as usize].name);
            n = self.nodes[n as usize].parent;
        }
        if parts.is_empty() {
            return b"/".to_vec();
        }
        let mut out = Vec::new();
        for p in parts.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(p);
        }
        out
    }

    /// The node's state as of `layer` (inclusive): the last change at or
    /// before it, if the path is present then.
    pub fn state_at(&self, id: NodeId, layer: usize) -> Option<&Change> {
        if id == ROOT {
            return None;
        }
        let c = self.nodes[id as usize]
            .changes
            .iter()
            .rev()
            .find(|c| (c.layer as usize) <= layer)?;
        (c.op != Op::Remove).then_some(c)
    }

    /// Is the node present in the final merged filesystem?
    pub fn visible(&self, id: NodeId) -> bool {
        id == ROOT
            || self.nodes[id as usize]
                .changes
                .last()
                .is_some_and(|c| c.op != Op::Remove)
    }

    pub fn find(&self, path: &[u8]) -> Option<NodeId> {
        let mut id = ROOT;
        for comp in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            let ch = &self.nodes[id as usize].children;
            let pos = ch
                .binary_search_by(|c| (*self.nodes[*c as usize].name).cmp(comp))
                .ok()?;
            id = ch[pos];
        }
        Some(id)
    }

    /// What was kept of an inode's content, if anything.
    pub fn captured(&self, inode: InodeId) -> Option<&Captured> {
        let i = self
            .captured
            .binary_search_by_key(&inode, |(ino, _)| *ino)
            .ok()?;
        Some(&self.captured[i].1)
    }

    pub fn total_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.stats.bytes).sum()
    }
}
