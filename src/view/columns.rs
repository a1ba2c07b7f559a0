//! Compact columns of the index that a tree build reads (issue 14, target 7).
//!
//! A per-layer tree reads every node's change at the layer and the size of
//! its stored file. Through the index that is a 24-byte change (behind a
//! one-or-many indirection) and a 64-byte inode record per node; these
//! columns hold only the 8 bytes of each change and the 8 of each size that
//! the build needs, copied once when the view opens. Parents and children
//! are read from the index's own columns.
//!
//! Memory: 4 bytes per node plus 8 per change plus 8 per stored file: about
//! 20 bytes per path (20 MB for 1M paths), once per view.

use crate::load::index::{Index, InodeId, NodeId, NodeKind, Op, NO_INODE};

/// What a tree needs of one change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ch {
    pub inode: InodeId,
    pub layer: u16,
    pub op: Op,
    pub kind: NodeKind,
}

/// The node table as columns (see the module doc).
pub struct Columns {
    change_start: Vec<u32>,
    changes: Vec<Ch>,
    /// Size of each stored file (by inode).
    pub(crate) inode_size: Vec<u64>,
    /// The nodes (ascending) with a change whose stored file has more than
    /// one path (hard links): a build counts each stored file once per tree.
    pub(crate) linked: Vec<NodeId>,
}

impl Columns {
    pub fn new(index: &Index) -> Columns {
        let n = index.node_count();
        let mut change_start = Vec::with_capacity(n + 1);
        let mut changes = Vec::with_capacity(n + n / 8);
        for id in 0..n as NodeId {
            change_start.push(changes.len() as u32);
            changes.extend(index.changes(id).iter().map(|c| Ch {
                inode: c.inode,
                layer: c.layer,
                op: c.op,
                kind: c.kind,
            }));
        }
        change_start.push(changes.len() as u32);
        // Paths of each stored file (a removal keeps the inode it removed
        // but never counts).
        let stored = |c: &&Ch| c.inode != NO_INODE && c.op != Op::Remove;
        let mut paths = vec![0u8; index.inodes.len()];
        for c in changes.iter().filter(stored) {
            let p = &mut paths[c.inode as usize];
            *p = p.saturating_add(1);
        }
        let linked = (0..n)
            .filter(|&id| {
                let cs = &changes[change_start[id] as usize..change_start[id + 1] as usize];
                cs.iter()
                    .filter(stored)
                    .any(|c| paths[c.inode as usize] > 1)
            })
            .map(|id| id as NodeId)
            .collect();
        Columns {
            change_start,
            changes,
            inode_size: index.inodes.iter().map(|i| i.size).collect(),
            linked,
        }
    }

    /// Nodes.
    pub fn len(&self) -> usize {
        self.change_start.len() - 1
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The node's changes, in layer order.
    pub(crate) fn changes(&self, id: NodeId) -> &[Ch] {
        let s = self.change_start[id as usize] as usize;
        let e = self.change_start[id as usize + 1] as usize;
        &self.changes[s..e]
    }

    /// Bytes held (for the README's memory figure).
    pub fn heap_bytes(&self) -> usize {
        self.change_start.capacity() * 4
            + self.changes.capacity() * std::mem::size_of::<Ch>()
            + self.inode_size.capacity() * 8
            + self.linked.capacity() * 4
    }
}
