//! Compact columns of the index that a tree build reads (issue 14, target 7).
//!
//! A per-layer tree visits every node several times (its change at the
//! layer, its parent for the size roll-up, its children for the display
//! order). Read through the index, each visit touches the node's whole
//! record; these columns hold only what the build needs, copied once when the
//! view opens, so a rebuild streams a few dense arrays instead.
//!
//! Memory: 4 bytes per node for the parent, 8 for the child table (start and
//! list), 4 + 8 per change for the change table, 8 per stored file for its
//! size: about 30 bytes per path (30 MB for 1M paths), once per view.

use crate::load::index::{Index, InodeId, NodeId, NodeKind, Op};

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
    pub(crate) parent: Vec<NodeId>,
    child_start: Vec<u32>,
    child_list: Vec<NodeId>,
    change_start: Vec<u32>,
    changes: Vec<Ch>,
    /// Size of each stored file (by inode).
    pub(crate) inode_size: Vec<u64>,
}

impl Columns {
    pub fn new(index: &Index) -> Columns {
        let n = index.node_count();
        let mut parent = Vec::with_capacity(n);
        let mut child_start = Vec::with_capacity(n + 1);
        let mut child_list = Vec::with_capacity(n);
        let mut change_start = Vec::with_capacity(n + 1);
        let mut changes = Vec::with_capacity(n + n / 8);
        for id in 0..n as NodeId {
            parent.push(index.parent(id));
            child_start.push(child_list.len() as u32);
            child_list.extend_from_slice(index.children(id));
            change_start.push(changes.len() as u32);
            changes.extend(index.changes(id).iter().map(|c| Ch {
                inode: c.inode,
                layer: c.layer,
                op: c.op,
                kind: c.kind,
            }));
        }
        child_start.push(child_list.len() as u32);
        change_start.push(changes.len() as u32);
        Columns {
            parent,
            child_start,
            child_list,
            change_start,
            changes,
            inode_size: index.inodes.iter().map(|i| i.size).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The node's children, sorted by name (as `Index::children`).
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        let s = self.child_start[id as usize] as usize;
        let e = self.child_start[id as usize + 1] as usize;
        &self.child_list[s..e]
    }

    /// The node's changes, in layer order.
    pub(crate) fn changes(&self, id: NodeId) -> &[Ch] {
        let s = self.change_start[id as usize] as usize;
        let e = self.change_start[id as usize + 1] as usize;
        &self.changes[s..e]
    }

    /// Bytes held (for the README's memory figure).
    pub fn heap_bytes(&self) -> usize {
        self.parent.capacity() * 4
            + self.child_start.capacity() * 4
            + self.child_list.capacity() * 4
            + self.change_start.capacity() * 4
            + self.changes.capacity() * std::mem::size_of::<Ch>()
            + self.inode_size.capacity() * 8
    }
}
