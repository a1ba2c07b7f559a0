//! The two final filesystems as one tree, for the comparison view: every path
//! present in either image, depth first in name order, each marked with its
//! change (a path only on one side: `added`/`removed`, with everything under
//! it; a file whose size changed: `grown`/`shrunk`) and directories flagged
//! when something below them changed. UI-free, so it is tested without the TUI.

use crate::compare::diff::FileStatus;
use crate::compare::files::merge_children;
use crate::load::index::{Index, NodeId, NodeKind, Op, NO_INODE, ROOT};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub depth: u16,
    pub name: Vec<u8>,
    pub dir: bool,
    /// This path's own change.
    pub mark: Option<FileStatus>,
    /// A directory with a changed path below it.
    pub changed_below: bool,
    pub old_bytes: Option<u64>,
    pub new_bytes: Option<u64>,
}

impl TreeRow {
    pub fn changed(&self) -> bool {
        self.mark.is_some() || self.changed_below
    }
}

fn state(index: &Index, id: Option<NodeId>) -> Option<(NodeKind, u64)> {
    let id = id?;
    if id == ROOT {
        return Some((NodeKind::Dir, 0));
    }
    let c = index.changes(id).last()?;
    if c.op == Op::Remove {
        return None;
    }
    let size = if c.kind == NodeKind::File && c.inode != NO_INODE {
        index.inodes[c.inode as usize].size
    } else {
        0
    };
    Some((c.kind, size))
}

/// A path still to visit: (old node, new node, depth, inherited mark, name).
type Pending = (
    Option<NodeId>,
    Option<NodeId>,
    u16,
    Option<FileStatus>,
    Vec<u8>,
);

/// Rows of the merged tree (the root itself is not a row).
pub fn tree(oi: &Index, ni: &Index) -> Vec<TreeRow> {
    let mut rows: Vec<TreeRow> = Vec::new();
    // (old node, new node, depth, inherited mark)
    let mut stack: Vec<Pending> = Vec::new();
    let push_children =
        |stack: &mut Vec<_>, o: Option<NodeId>, n: Option<NodeId>, depth: u16, m| {
            let (oo, nn) = (o.unwrap_or(ROOT), n.unwrap_or(ROOT));
            let kids: Vec<(&[u8], Option<NodeId>, Option<NodeId>)> = match (o, n) {
                (Some(_), Some(_)) => merge_children(oi, oo, ni, nn),
                (Some(_), None) => oi
                    .children(oo)
                    .iter()
                    .map(|&c| (oi.name(c), Some(c), None))
                    .collect(),
                _ => ni
                    .children(nn)
                    .iter()
                    .map(|&c| (ni.name(c), None, Some(c)))
                    .collect(),
            };
            for (name, a, b) in kids.into_iter().rev() {
                stack.push((a, b, depth, m, name.to_vec()));
            }
        };
    push_children(&mut stack, Some(ROOT), Some(ROOT), 0, None);
    // Index in `rows` of each open directory, to flag it when a change shows up below.
    let mut open: Vec<usize> = Vec::new();
    while let Some((o, n, depth, inherited, name)) = stack.pop() {
        let (so, sn) = (state(oi, o), state(ni, n));
        if so.is_none() && sn.is_none() {
            continue;
        }
        let o = so.and(o);
        let n = sn.and(n);
        let dir_o = so.is_some_and(|s| s.0 == NodeKind::Dir);
        let dir_n = sn.is_some_and(|s| s.0 == NodeKind::Dir);
        let mark = inherited.or(match (so, sn) {
            (Some(_), None) => Some(FileStatus::Removed),
            (None, Some(_)) => Some(FileStatus::Added),
            (Some(a), Some(b)) if dir_o != dir_n => {
                // A directory replaced by a file or the reverse.
                Some(if b.1 >= a.1 {
                    FileStatus::Added
                } else {
                    FileStatus::Removed
                })
            }
            (Some(a), Some(b)) if !dir_o && a.1 != b.1 => Some(if b.1 > a.1 {
                FileStatus::Grown
            } else {
                FileStatus::Shrunk
            }),
            _ => None,
        });
        open.truncate(depth as usize);
        if mark.is_some() {
            for &d in &open {
                rows[d].changed_below = true;
            }
        }
        let dir = if dir_o && dir_n {
            true
        } else {
            dir_n || (sn.is_none() && dir_o)
        };
        rows.push(TreeRow {
            depth,
            name,
            dir,
            mark,
            changed_below: false,
            old_bytes: so.filter(|s| s.0 != NodeKind::Dir).map(|s| s.1),
            new_bytes: sn.filter(|s| s.0 != NodeKind::Dir).map(|s| s.1),
        });
        if dir {
            open.push(rows.len() - 1);
            let (o, n) = if dir_o && dir_n {
                (o, n)
            } else if dir_n {
                (None, n)
            } else {
                (o, None)
            };
            push_children(&mut stack, o, n, depth + 1, mark);
        }
    }
    rows
}
