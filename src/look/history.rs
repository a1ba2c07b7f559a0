//! Every version of one path the image holds ([`history`]): each layer
//! that stored the path (type, size, mode, uid:gid, content hash, link
//! target), which later layer hid that version and how (overwritten, the
//! same bytes stored again — metadata only —, removed, moved), and which
//! version the final image shows. From the index alone.

use super::show;
use crate::load::index::{Change, HideCause, Index, InodeId, NodeId, NodeKind, Op, NO_INODE};

/// How a version stopped being the one in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// Stored again with other content (or another type).
    Overwritten,
    /// Stored again with the same content: only the metadata changed
    /// (chmod, chown, touch), the bytes are shipped twice.
    MetadataOnly,
    /// Deleted; `why` says how when it is more than the path's own
    /// whiteout (an opaque directory, its directory replaced or removed).
    Removed { why: Option<&'static str> },
    /// Deleted by a layer that stored the same bytes at `to` (a `mv`).
    Moved { to: Vec<u8> },
}

impl How {
    /// The word the history shows.
    pub fn word(&self) -> &'static str {
        match self {
            How::Overwritten => "overwritten",
            How::MetadataOnly => "metadata only",
            How::Removed { .. } => "removed",
            How::Moved { .. } => "moved",
        }
    }

    /// The word and its detail, escaped: `moved to /opt/app`.
    pub fn describe(&self) -> String {
        match self {
            How::Removed { why: Some(w) } => format!("removed ({w})"),
            How::Moved { to } => format!("moved to {}", show(to)),
            h => h.word().to_string(),
        }
    }
}

/// One version of a path: what one layer stored there.
#[derive(Debug, Clone)]
pub struct Entry {
    pub layer: usize,
    /// Added (the path was absent below) or modified (stored again).
    pub op: Op,
    pub kind: NodeKind,
    /// The stored file (regular files), else None.
    pub inode: Option<InodeId>,
    /// A regular file's size.
    pub size: Option<u64>,
    /// xxh3-128 of a regular file's content.
    pub hash: Option<u128>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// A symlink's target, a hard link's (the path whose file it shares).
    pub link: Option<Vec<u8>>,
    /// The layer that hid this version, and how; None while in force.
    pub hidden: Option<(usize, How)>,
    /// The version the final image shows.
    pub visible: bool,
}

/// The path's versions, oldest first (removals are not versions: they are
/// the `hidden` of the version before).
pub fn history(index: &Index, id: NodeId) -> Vec<Entry> {
    let changes = index.changes(id);
    let visible = index.visible(id);
    let mut out = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        if c.op == Op::Remove {
            continue;
        }
        let file = c.kind == NodeKind::File && c.inode != NO_INODE;
        let ino = file.then(|| &index.inodes[c.inode as usize]);
        let next = changes.get(i + 1);
        out.push(Entry {
            layer: c.layer as usize,
            op: c.op,
            kind: c.kind,
            inode: file.then_some(c.inode),
            size: ino.map(|i| i.size),
            hash: ino.map(|i| i.hash()),
            mode: c.mode,
            uid: c.uid,
            gid: c.gid,
            link: index.link(c).map(<[u8]>::to_vec),
            hidden: next.map(|n| (n.layer as usize, how(index, id, c, n))),
            visible: visible && next.is_none(),
        });
    }
    out
}

/// How change `n` hid version `c` of node `id`.
fn how(index: &Index, id: NodeId, c: &Change, n: &Change) -> How {
    if n.op == Op::Remove {
        return removed(index, id, c, n.layer);
    }
    let same = match (c.kind, n.kind) {
        (NodeKind::File, NodeKind::File) if c.inode != NO_INODE && n.inode != NO_INODE => {
            index.inodes[c.inode as usize].hash() == index.inodes[n.inode as usize].hash()
        }
        (NodeKind::Symlink, NodeKind::Symlink) => index.link(c) == index.link(n),
        (a, b) => a == b && a != NodeKind::File,
    };
    if same {
        How::MetadataOnly
    } else {
        How::Overwritten
    }
}

/// How layer `by` removed version `c` of `id`: the stored file's hide
/// record says which way; a removal of a file whose bytes layer `by`
/// stored elsewhere is a move (the waste analysis's rule).
fn removed(index: &Index, id: NodeId, c: &Change, by: u16) -> How {
    let hide = (c.inode != NO_INODE)
        .then(|| index.hidden(c.inode))
        .flatten()
        .filter(|h| h.layer == by);
    if let Some(h) = hide {
        if let Some(to) = moved_to(index, c.inode, by) {
            return How::Moved { to };
        }
        let why = match h.cause {
            HideCause::Opaque => Some("an opaque directory"),
            HideCause::ParentReplaced => Some("its directory replaced by a non-directory"),
            HideCause::Whiteout if h.node != id && above(index, h.node, id) => {
                Some("its directory removed")
            }
            _ => None,
        };
        return How::Removed { why };
    }
    // Not a stored file (or one still named elsewhere): was a directory
    // above removed by the same layer?
    let parent = index.parent(id);
    let dir_removed = index
        .change_at(parent, by as usize)
        .is_some_and(|(_, pc)| pc.op == Op::Remove && pc.layer == by);
    How::Removed {
        why: dir_removed.then_some("its directory removed"),
    }
}

/// Is `dir` an ancestor of `id`?
fn above(index: &Index, dir: NodeId, id: NodeId) -> bool {
    let mut n = id;
    while n != crate::load::index::ROOT {
        n = index.parent(n);
        if n == dir {
            return true;
        }
    }
    false
}

/// Where layer `by` stored the bytes of `inode` again (not at a path it
/// hid itself), if it did.
fn moved_to(index: &Index, inode: InodeId, by: u16) -> Option<Vec<u8>> {
    let ino = &index.inodes[inode as usize];
    if ino.size == 0 {
        return None;
    }
    let hash = ino.hash();
    index
        .inodes
        .iter()
        .enumerate()
        .find(|(j, o)| {
            *j != inode as usize
                && o.layer == by
                && o.size == ino.size
                && o.hash() == hash
                && index.hidden(*j as InodeId).is_none_or(|h| h.layer != by)
        })
        .map(|(_, o)| index.path(o.node))
}
