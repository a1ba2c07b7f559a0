//! Applying one layer to the merge: its whiteouts and opaque markers act on
//! the lower layers first, then its entries are stored in tar order.

use rustc_hash::FxHashMap;

use super::build::{key_hash, Builder};
use super::*;
use crate::load::layer::LayerIndex;

impl Builder {
    pub(super) fn apply(&mut self, layer: u16, ix: &mut LayerIndex) -> LayerStats {
        let mut captures = std::mem::take(&mut ix.captures).into_iter().peekable();
        let mut stats = LayerStats::default();
        self.gone_names.clear();
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
                    let id = self.find(ix.path(e)).filter(|&id| self.cur(id).present);
                    if id.is_none() {
                        let id = self.find(ix.path(e));
                        let msg = "whiteout of a path that no lower layer holds";
                        match id {
                            Some(id) => self.warn(layer, Some(id), msg),
                            None => {
                                let p = ImagePath([b"/".as_slice(), ix.path(e)].concat());
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
                    let id = if ix.path(e).is_empty() {
                        Some(ROOT)
                    } else {
                        self.find(ix.path(e))
                    };
                    if let Some(id) = id {
                        if self.cur(id).present && self.cur(id).kind == NodeKind::Dir {
                            self.remove_children(
                                id,
                                layer,
                                HideCause::Opaque,
                                &mut stats,
                                &mut hidden_here,
                                &mut removed1,
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        let removed_in_phase1 = std::mem::take(&mut removed1);
        let mut parent_cache: Option<(Vec<u8>, NodeId)> = None;
        let mut removed2: FxHashMap<NodeId, NodeKind> = FxHashMap::default();
        // Key hashes of entries ahead, computed (and their table slots
        // prefetched) while the entry `AHEAD` places before is applied:
        // (entry, parent, hash).
        let mut ahead = [(usize::MAX, ROOT, 0u32); RING];
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
            let (dir_part, last) = split(ix.path(e));
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
            // The entry `AHEAD` places on, when in the same directory: its
            // slot is fetched while this one and those between are applied.
            if let Some(next) = ix.entries.get(entry_index + AHEAD) {
                if let (Some(_), (d, Some(name))) = (NodeKind::of(next.kind), split(ix.path(next)))
                {
                    if d == dir_part {
                        let h = key_hash(parent, name);
                        self.prefetch(h);
                        ahead[(entry_index + AHEAD) % RING] = (entry_index + AHEAD, parent, h);
                    }
                }
            }
            let Some(last) = last else { continue }; // opaque marker at the root
            let hash = match ahead[entry_index % RING] {
                (i, p, h) if i == entry_index && p == parent => h,
                _ => key_hash(parent, last),
            };
            let (id, made) = self.child_hashed(parent, last, hash);
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
                    });
                    self.inode_names.push(0);
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
                    let target = ix.link(e).and_then(|t| self.find(t));
                    match target {
                        Some(t) if self.cur(t).present && self.cur(t).inode != NO_INODE => {
                            self.cur(t).inode
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
            let existed = if made {
                // A path new to the image: nothing there to replace, hide or
                // warn about.
                self.placed[id as usize] = (layer + 1, kind, true);
                false
            } else {
                self.place(layer, id, kind, true);
                // The content hash of what is stored now, when it is a file.
                let new_hash =
                    (new_inode != NO_INODE).then(|| self.inodes[new_inode as usize].hash());
                let before = self.cur(id);
                let existed = before.present || removed_in_phase1.contains_key(&id);
                if before.present {
                    if before.kind == NodeKind::Dir {
                        parent_cache = None;
                        self.remove_children(
                            id,
                            layer,
                            HideCause::ParentReplaced,
                            &mut stats,
                            &mut hidden_here,
                            &mut removed2,
                        );
                    } else if before.inode != NO_INODE && before.inode != new_inode {
                        self.unname_replaced(before.inode, layer, id, new_hash);
                    } else if before.inode != NO_INODE {
                        // The same inode linked again at its own path: no change in names.
                        self.drop_name(before.inode);
                    }
                } else {
                    self.rehide_replaced(hidden_here.remove(&id), layer, id, new_hash);
                }
                if existed
                    && !before.present
                    && removed_in_phase1
                        .get(&id)
                        .is_some_and(|k| *k != NodeKind::Dir)
                {
                    // counted as removed in phase 1; stored again, it is a modification
                    stats.removed = stats.removed.saturating_sub(1);
                }
                existed
            };
            if new_inode != NO_INODE {
                self.inode_names[new_inode as usize] += 1;
            }
            if existed {
                stats.modified += 1;
                stats.modified_bytes += if e.kind == EntryKind::File { e.size } else { 0 };
            } else {
                stats.added += 1;
                stats.added_bytes += if e.kind == EntryKind::File { e.size } else { 0 };
            }
            let link = match (&e.kind, ix.link(e)) {
                (EntryKind::Symlink, Some(l)) | (EntryKind::HardLink, Some(l)) => self.add_link(l),
                _ => u32::MAX,
            };
            let change = Change {
                layer,
                op: if existed { Op::Modify } else { Op::Add },
                kind,
                inode: new_inode,
                mode: e.mode,
                uid: e.uid,
                gid: e.gid,
                link,
            };
            self.store(id, change);
        }
        stats
    }
}

/// How many entries ahead the merge computes a key hash and fetches its
/// table slot (a few probes' worth of memory latency).
const AHEAD: usize = 8;
/// Slots of the ring of hashes computed ahead (more than `AHEAD`).
const RING: usize = 16;

/// A relative path's directory part and last component (None for the
/// root, the empty path).
fn split(path: &[u8]) -> (&[u8], Option<&[u8]>) {
    if path.is_empty() {
        return (&[], None);
    }
    match memchr::memrchr(b'/', path) {
        Some(i) => (&path[..i], Some(&path[i + 1..])),
        None => (&[], Some(path)),
    }
}
