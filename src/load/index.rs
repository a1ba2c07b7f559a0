//! The merged view of all layers: an arena of every path that ever existed,
//! each with its per-layer history, plus every stored regular file ("inode")
//! and the event that hid it, if any. Built by applying layers in order with
//! overlay semantics (whiteouts, opaque directories, replacement).

use crate::load::capture::Captured;
use crate::load::image::{ImageMeta, LayerRef};
use crate::load::layer::{Compression, EntryKind};

mod apply;
mod build;
mod lookup;
pub use build::IndexBuilder;

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
    /// Index of the symlink or hard-link target (see [`Index::link`]),
    /// else u32::MAX (IMPLICIT_DIR for a directory without an entry).
    pub link: u32,
}

/// `Change::link` of a directory created implicitly.
const IMPLICIT_DIR: u32 = u32::MAX - 1;

impl Change {
    /// The directory was created implicitly (no entry of its own).
    pub fn implicit(&self) -> bool {
        self.kind == NodeKind::Dir && self.link == IMPLICIT_DIR
    }
}

/// `Change::layer` of a node's slot in `Index::changes1` when the node has
/// no change (the root).
const NO_CHANGE: u16 = u16::MAX;
/// `Change::layer` of the slot when the node has several changes: they
/// are `more[inode..inode + link]`.
const SEVERAL: u16 = u16::MAX - 1;

impl Change {
    /// The slot of a node without changes.
    const NONE: Change = Change {
        layer: NO_CHANGE,
        op: Op::Add,
        kind: NodeKind::Dir,
        inode: NO_INODE,
        mode: 0,
        uid: 0,
        gid: 0,
        link: u32::MAX,
    };

    /// The slot of a node whose changes are `list[at..at + len]`.
    fn several(at: u32, len: u32) -> Change {
        Change {
            layer: SEVERAL,
            inode: at,
            link: len,
            ..Change::NONE
        }
    }

    /// The changes a slot stands for, `list` holding the several ones.
    fn slice<'a>(&'a self, list: &'a [Change]) -> &'a [Change] {
        match self.layer {
            NO_CHANGE => &[],
            SEVERAL => &list[self.inode as usize..][..self.link as usize],
            _ => std::slice::from_ref(self),
        }
    }
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

/// One regular file as stored in one layer; hard links share it. 32 bytes:
/// one per stored file, the index's largest column. Whether and how it was
/// hidden is kept apart ([`Index::hidden`]), by the few that are.
#[derive(Debug, Clone)]
pub struct Inode {
    pub layer: u16,
    pub size: u64,
    /// The content hash (xxh3-128) as two halves: no 16-byte alignment.
    pub(crate) hash: [u64; 2],
    /// The path it was stored at.
    pub node: NodeId,
}

impl Inode {
    /// The content hash (xxh3-128).
    pub fn hash(&self) -> u128 {
        (self.hash[1] as u128) << 64 | self.hash[0] as u128
    }
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
    /// For a blob stored uncompressed: its estimated gzip size, what a
    /// registry would serve (see [`crate::load::source::Source::gzip_estimate`]).
    pub gzip_estimate: Option<u64>,
}

/// An oddity that does not stop the analysis (a path stored twice in one
/// layer, a whiteout of nothing, a hard link to a missing file, …).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    pub layer: Option<usize>,
    pub path: Option<ImagePath>,
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

/// The merged image. Nodes are stored as columns (structure of arrays):
/// names in one byte arena, parents, children as one sorted range per
/// directory, and the usual single change inline, the nodes with several
/// keeping theirs in one overflow list. Read them through the accessors.
#[derive(Debug, Clone)]
pub struct Index {
    pub image: ImageMeta,
    pub layers: Vec<Layer>,
    /// Every node's name, back to back: node `i`'s is
    /// `names[name_at[i]..name_at[i + 1]]`.
    names: Vec<u8>,
    name_at: Vec<u32>,
    parents: Vec<NodeId>,
    /// Node `i`'s children are `child_list[child_at[i]..child_at[i + 1]]`,
    /// sorted by name.
    child_at: Vec<u32>,
    child_list: Vec<NodeId>,
    /// Node `i`'s change when it has exactly one, else a marker (see
    /// [`Change::slice`]) into `more`.
    changes1: Vec<Change>,
    more: Vec<Change>,
    pub inodes: Vec<Inode>,
    /// The hidden inodes, by inode id, with how they were hidden.
    hides: Vec<(InodeId, Hide)>,
    /// Link targets, back to back: `link_bytes[link_at[i]..link_at[i + 1]]`.
    link_bytes: Vec<u8>,
    link_at: Vec<usize>,
    /// Oddities met while loading and merging, in layer order.
    pub warnings: Vec<Warning>,
    /// What was kept of some files' content, by inode (increasing).
    pub captured: Vec<(InodeId, Captured)>,
}

impl Index {
    /// Number of nodes (paths that ever existed, the root included); ids
    /// are `0..node_count()`.
    pub fn node_count(&self) -> usize {
        self.parents.len()
    }

    /// Every node id, the root (0) first.
    pub fn node_ids(&self) -> std::ops::Range<NodeId> {
        0..self.parents.len() as NodeId
    }

    /// The node's last path component (empty for the root).
    pub fn name(&self, id: NodeId) -> &[u8] {
        let i = id as usize;
        &self.names[self.name_at[i] as usize..self.name_at[i + 1] as usize]
    }

    /// Every node's name back to back, in id order, and where each starts:
    /// node `i`'s is `names[at[i]..at[i + 1]]` (a search over all names at once).
    pub fn names(&self) -> (&[u8], &[u32]) {
        (&self.names, &self.name_at)
    }

    /// The node's directory (the root's is the root).
    pub fn parent(&self, id: NodeId) -> NodeId {
        self.parents[id as usize]
    }

    /// The node's children, sorted by name.
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        let i = id as usize;
        &self.child_list[self.child_at[i] as usize..self.child_at[i + 1] as usize]
    }

    /// What each layer did to the node, in layer order.
    pub fn changes(&self, id: NodeId) -> &[Change] {
        self.changes1[id as usize].slice(&self.more)
    }

    /// The node's last change (its state in the final filesystem, or its
    /// removal); None for the root.
    pub fn last_change(&self, id: NodeId) -> Option<&Change> {
        self.changes(id).last()
    }

    /// The target a symlink or hard-link change records, if any.
    pub fn link(&self, c: &Change) -> Option<&[u8]> {
        if c.link == u32::MAX {
            return None;
        }
        let i = c.link as usize;
        (i + 1 < self.link_at.len()).then(|| &self.link_bytes[self.link_at[i]..self.link_at[i + 1]])
    }

    /// The child of `dir` named `name`, if any.
    pub fn child(&self, dir: NodeId, name: &[u8]) -> Option<NodeId> {
        let ch = self.children(dir);
        let pos = ch.binary_search_by(|&c| self.name(c).cmp(name)).ok()?;
        Some(ch[pos])
    }

    /// Absolute path of a node, as bytes: one allocation of its length,
    /// filled from its end.
    pub fn path(&self, id: NodeId) -> Vec<u8> {
        if id == ROOT {
            return b"/".to_vec();
        }
        let mut len = 0;
        let mut n = id;
        while n != ROOT {
            len += 1 + self.name(n).len();
            n = self.parent(n);
        }
        let mut out = vec![0; len];
        let mut end = len;
        n = id;
        while n != ROOT {
            let name = self.name(n);
            let start = end - name.len();
            out[start..end].copy_from_slice(name);
            out[start - 1] = b'/';
            end = start - 1;
            n = self.parent(n);
        }
        out
    }

    /// The node's state as of `layer` (inclusive): the last change at or
    /// before it, if the path is present then.
    pub fn state_at(&self, id: NodeId, layer: usize) -> Option<&Change> {
        if id == ROOT {
            return None;
        }
        let (_, c) = self.change_at(id, layer)?;
        (c.op != Op::Remove).then_some(c)
    }

    /// The node's last change at or before `layer` (a removal included),
    /// with its position in the node's change list.
    pub fn change_at(&self, id: NodeId, layer: usize) -> Option<(usize, &Change)> {
        let ch = self.changes(id);
        let i = ch.iter().rposition(|c| (c.layer as usize) <= layer)?;
        Some((i, &ch[i]))
    }

    /// Is the node present in the final merged filesystem?
    pub fn visible(&self, id: NodeId) -> bool {
        id == ROOT || self.last_change(id).is_some_and(|c| c.op != Op::Remove)
    }

    pub fn find(&self, path: &[u8]) -> Option<NodeId> {
        let mut id = ROOT;
        for comp in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            id = self.child(id, comp)?;
        }
        Some(id)
    }

    /// How `inode` was hidden (its last name removed or replaced), or None
    /// while it is visible.
    pub fn hidden(&self, inode: InodeId) -> Option<&Hide> {
        let i = self
            .hides
            .binary_search_by_key(&inode, |(ino, _)| *ino)
            .ok()?;
        Some(&self.hides[i].1)
    }

    /// Every hidden inode with how it was hidden, in inode order.
    pub fn hides(&self) -> &[(InodeId, Hide)] {
        &self.hides
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

/// A path inside the image: written as a string when it is UTF-8, else as
/// `{"bytes_base64": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImagePath(pub Vec<u8>);

impl ImagePath {
    pub fn display(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl serde::Serialize for ImagePath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(t) => s.serialize_str(t),
            Err(_) => {
                use base64::Engine;
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(
                    "bytes_base64",
                    &base64::engine::general_purpose::STANDARD.encode(&self.0),
                )?;
                m.end()
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for ImagePath {
    /// The two forms `serialize` writes: a string, or `{"bytes_base64": …}`
    /// for a path that is not UTF-8. A visitor, not an untagged enum: that
    /// would buffer every path before trying each form (reading a cached
    /// report holds tens of thousands of paths).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Form;
        impl<'de> serde::de::Visitor<'de> for Form {
            type Value = ImagePath;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a path: a string or {\"bytes_base64\": string}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ImagePath, E> {
                Ok(ImagePath(v.as_bytes().to_vec()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<ImagePath, E> {
                Ok(ImagePath(v.into_bytes()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<ImagePath, A::Error> {
                use base64::Engine;
                use serde::de::Error;
                let mut bytes = None;
                while let Some(k) = m.next_key::<std::borrow::Cow<'de, str>>()? {
                    if k != "bytes_base64" || bytes.is_some() {
                        return Err(A::Error::custom(format!("unexpected path field {k:?}")));
                    }
                    let b64: std::borrow::Cow<'de, str> = m.next_value()?;
                    bytes = Some(
                        base64::engine::general_purpose::STANDARD
                            .decode(b64.as_bytes())
                            .map_err(A::Error::custom)?,
                    );
                }
                bytes
                    .map(ImagePath)
                    .ok_or_else(|| A::Error::missing_field("bytes_base64"))
            }
        }
        d.deserialize_any(Form)
    }
}

// The index's per-path costs, kept in check (issue 14: ≤ 150 bytes per entry).
const _: () = assert!(std::mem::size_of::<Change>() == 24);
const _: () = assert!(std::mem::size_of::<Inode>() == 32);

#[cfg(test)]
mod path_serde_tests {
    use super::ImagePath;

    #[test]
    fn a_path_reads_back_as_written_in_both_forms() {
        for p in [&b"/usr/bin/a \"quoted\" \\ name"[..], b"/caf\xe9.txt", b""] {
            let json = serde_json::to_string(&ImagePath(p.to_vec())).unwrap();
            let back: ImagePath = serde_json::from_str(&json).unwrap();
            assert_eq!(back.0, p, "{json}");
        }
        for bad in [
            r#"{"other": "x"}"#,
            r#"{}"#,
            r#"{"bytes_base64": "!!"}"#,
            "3",
        ] {
            assert!(serde_json::from_str::<ImagePath>(bad).is_err(), "{bad}");
        }
    }
}
