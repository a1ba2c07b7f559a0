//! `imgscope diff`: the final filesystems compared path by path, a directory
//! present on one side only rolled up into one line.

use rustc_hash::FxHashSet as HashSet;

use super::diff::{delta, FileDelta, FileStatus};
use crate::analyze::waste::{walk_visible, ImagePath};
use crate::load::index::{Index, NodeId, NodeKind, Op, NO_INODE, ROOT};

/// The final state of a node: its kind, if present.
fn present(index: &Index, id: NodeId) -> Option<NodeKind> {
    let c = index.changes(id).last()?;
    (c.op != Op::Remove).then_some(c.kind)
}

/// Bytes of a visible node counted once per stored file (hard links once, at
/// their first name in walk order).
struct Counter<'a> {
    index: &'a Index,
    seen: HashSet<u32>,
}

impl Counter<'_> {
    fn file(&mut self, id: NodeId) -> u64 {
        let c = self.index.changes(id).last().expect("present");
        if c.kind != NodeKind::File || c.inode == NO_INODE || !self.seen.insert(c.inode) {
            return 0;
        }
        self.index.inodes[c.inode as usize].size
    }

    /// (bytes, non-directory entries) below a directory.
    fn tree(&mut self, id: NodeId, path: &mut Vec<u8>) -> (u64, u64) {
        let (mut bytes, mut files) = (0, 0);
        let index = self.index;
        walk_visible(index, id, path, &mut |ch, _| {
            if present(index, ch) != Some(NodeKind::Dir) {
                files += 1;
                bytes += self.file(ch);
            }
        });
        (bytes, files)
    }
}

pub(crate) fn file_deltas(oi: &Index, ni: &Index) -> Vec<FileDelta> {
    let mut oc = Counter {
        index: oi,
        seen: HashSet::default(),
    };
    let mut nc = Counter {
        index: ni,
        seen: HashSet::default(),
    };
    let mut out = Vec::new();
    // Depth first in name order on both sides (the order hard links are
    // counted in); a stack of (old node, new node, path).
    let mut stack: Vec<(Option<NodeId>, Option<NodeId>, Vec<u8>)> =
        vec![(Some(ROOT), Some(ROOT), Vec::new())];
    while let Some((o, n, mut path)) = stack.pop() {
        let ok = o.and_then(|id| {
            if id == ROOT {
                Some(NodeKind::Dir)
            } else {
                present(oi, id)
            }
        });
        let nk = n.and_then(|id| {
            if id == ROOT {
                Some(NodeKind::Dir)
            } else {
                present(ni, id)
            }
        });
        if ok == Some(NodeKind::Dir) && nk == Some(NodeKind::Dir) {
            let (o, n) = (o.unwrap(), n.unwrap());
            let mut kids = merge_children(oi, o, ni, n);
            kids.reverse();
            for (name, a, b) in kids {
                let mut p = path.clone();
                p.push(b'/');
                p.extend_from_slice(name);
                stack.push((a, b, p));
            }
            continue;
        }
        // One side: its bytes and file count (a directory rolled up).
        let mut one = |c: &mut Counter, id: Option<NodeId>, kind: Option<NodeKind>| {
            let id = id?;
            match kind? {
                NodeKind::Dir => {
                    let (b, f) = c.tree(id, &mut path);
                    (f > 0).then_some((b, f, true))
                }
                _ => Some((c.file(id), 1, false)),
            }
        };
        let a = one(&mut oc, o, ok);
        let b = one(&mut nc, n, nk);
        match (a, b) {
            (Some((ab, _, false)), Some((bb, _, false))) => {
                if ab != bb {
                    out.push(FileDelta {
                        path: ImagePath(path.clone()),
                        status: if bb > ab {
                            FileStatus::Grown
                        } else {
                            FileStatus::Shrunk
                        },
                        old_bytes: Some(ab),
                        new_bytes: Some(bb),
                        bytes_delta: delta(ab, bb),
                        dir: false,
                        files: 1,
                    });
                }
            }
            (a, b) => {
                if let Some((ab, files, dir)) = a {
                    out.push(FileDelta {
                        path: ImagePath(path.clone()),
                        status: FileStatus::Removed,
                        old_bytes: Some(ab),
                        new_bytes: None,
                        bytes_delta: delta(ab, 0),
                        dir,
                        files,
                    });
                }
                if let Some((bb, files, dir)) = b {
                    out.push(FileDelta {
                        path: ImagePath(path.clone()),
                        status: FileStatus::Added,
                        old_bytes: None,
                        new_bytes: Some(bb),
                        bytes_delta: delta(0, bb),
                        dir,
                        files,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| {
        b.bytes_delta
            .unsigned_abs()
            .cmp(&a.bytes_delta.unsigned_abs())
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.dir.cmp(&b.dir))
    });
    out
}

/// Children of two directories joined by name (both lists are sorted).
pub(crate) fn merge_children<'a>(
    oi: &'a Index,
    o: NodeId,
    ni: &'a Index,
    n: NodeId,
) -> Vec<(&'a [u8], Option<NodeId>, Option<NodeId>)> {
    let a = oi.children(o);
    let b = ni.children(n);
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() || j < b.len() {
        let na = a.get(i).map(|&c| oi.name(c));
        let nb = b.get(j).map(|&c| ni.name(c));
        match (na, nb) {
            (Some(x), Some(y)) if x == y => {
                out.push((x, Some(a[i]), Some(b[j])));
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                out.push((x, Some(a[i]), None));
                i += 1;
            }
            (Some(x), None) => {
                out.push((x, Some(a[i]), None));
                i += 1;
            }
            (_, Some(y)) => {
                out.push((y, None, Some(b[j])));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}
