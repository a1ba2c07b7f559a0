//! Looking inside an image: which version of a path is meant
//! ([`resolve`]), its bytes ([`read`]), and every path of a layer
//! ([`ls`]); for a viewer, a capped part of a file as text or hex
//! ([`contents`]), every version of a path ([`history`]) and a line diff
//! of two ([`diff`]). Everything here starts from an [`Index`] (what
//! [`crate::load`] or [`crate::analyse`] builds) and never imports the TUI.
//!
//! A path is given as bytes (non-UTF-8 allowed), with or without a leading
//! `/`. "As of layer N" is the merged filesystem after layers `0..=N`
//! (the last layer when no layer is given): the version layer N stored
//! when it stored one, even if a later layer hides it. Symlinks are
//! followed inside the image only (`..` stops at the image's root, an
//! absolute target starts there); a hard link reads the file it shares.

pub mod contents;
pub mod diff;
pub mod history;
pub mod ls;
pub mod read;

use crate::load::index::{Change, HideCause, Index, InodeId, NodeId, NodeKind, Op, NO_INODE, ROOT};

/// Most symlinks followed while resolving one path (Linux's limit).
pub const MAX_SYMLINKS: usize = 40;

/// Why a path has no readable version at the layer asked for. Each is one
/// line (paths escaped) naming the path and, where it applies, the layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookError {
    /// `--layer N` past the image's last layer.
    NoSuchLayer { layer: usize, layers: usize },
    /// No such path at that layer (never stored, or only above it).
    NotFound { path: Vec<u8>, layer: usize },
    /// A component on the way is a file, not a directory.
    NotADirectory { path: Vec<u8>, layer: usize },
    /// The path is a directory.
    IsDirectory { path: Vec<u8> },
    /// A device or FIFO: it has no contents in the image.
    NotAFile { path: Vec<u8>, kind: NodeKind },
    /// Layer `by` removed the path itself (a whiteout, an opaque parent,
    /// or its directory replaced by a file): `how` says which when known.
    Removed {
        path: Vec<u8>,
        by: usize,
        how: Option<&'static str>,
    },
    /// The path lies inside directory `dir`, which layer `by` removed.
    HiddenInRemovedDir {
        path: Vec<u8>,
        dir: Vec<u8>,
        by: usize,
    },
    /// More than [`MAX_SYMLINKS`] symlinks on the way.
    SymlinkLoop { path: Vec<u8> },
    /// A hard link to a file no layer holds: no bytes to show.
    DanglingHardLink { path: Vec<u8> },
}

/// A path as shown in an error or in text: UTF-8 with every control
/// character escaped, each byte that is not UTF-8 as `\xNN`.
pub fn show(path: &[u8]) -> String {
    let mut s = String::with_capacity(path.len());
    for chunk in path.utf8_chunks() {
        s.push_str(&crate::present::escape::line(chunk.valid()));
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

impl std::fmt::Display for LookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookError::NoSuchLayer { layer, layers } => write!(
                f,
                "--layer {layer}: the image has {layers} layers (0 to {})",
                layers.saturating_sub(1)
            ),
            LookError::NotFound { path, layer } => {
                write!(f, "{}: no such path as of layer {layer}", show(path))
            }
            LookError::NotADirectory { path, layer } => write!(
                f,
                "{}: not a directory as of layer {layer}",
                show(path)
            ),
            LookError::IsDirectory { path } => write!(f, "{}: is a directory", show(path)),
            LookError::NotAFile { path, kind } => write!(
                f,
                "{}: a {} has no contents",
                show(path),
                kind_name(*kind)
            ),
            LookError::Removed { path, by, how } => {
                write!(f, "{}: removed by layer {by}", show(path))?;
                if let Some(how) = how {
                    write!(f, " ({how})")?;
                }
                write!(f, "; --layer with an earlier layer shows what it held")
            }
            LookError::HiddenInRemovedDir { path, dir, by } => write!(
                f,
                "{}: hidden by layer {by}, which removed its directory {} (a whiteout or an opaque directory); --layer with an earlier layer shows what it held",
                show(path),
                show(dir)
            ),
            LookError::SymlinkLoop { path } => write!(
                f,
                "{}: more than {MAX_SYMLINKS} symlinks on the way (a loop?)",
                show(path)
            ),
            LookError::DanglingHardLink { path } => write!(
                f,
                "{}: a hard link to a file that is not in the image",
                show(path)
            ),
        }
    }
}

impl std::error::Error for LookError {}

/// The kind's word in listings and messages.
pub fn kind_name(k: NodeKind) -> &'static str {
    match k {
        NodeKind::File => "file",
        NodeKind::Dir => "directory",
        NodeKind::Symlink => "symlink",
        NodeKind::Char => "character device",
        NodeKind::Block => "block device",
        NodeKind::Fifo => "fifo",
    }
}

/// One version of a path: the change that stored it.
#[derive(Debug, Clone, Copy)]
pub struct Version {
    /// The node the path resolved to (symlinks followed).
    pub node: NodeId,
    /// The change in force as of the layer asked for.
    pub change: Change,
}

/// Where a regular file's bytes are: which layer's tar holds them, under
/// which path, and which of that path's regular-file entries in that tar
/// it is (a path stored twice in one layer has two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub inode: InodeId,
    pub layer: usize,
    /// The entry's path in the layer tar: relative, normalised.
    pub path: Vec<u8>,
    /// 0 for the first regular-file entry at `path` in that layer.
    pub ordinal: usize,
    pub size: u64,
    /// xxh3-128 of the content, as the index recorded it.
    pub hash: u128,
}

impl Stored {
    /// Do bytes of this xxh3-128 digest match what the index recorded? A
    /// file the load left unread (a size no other file has: issue 26) has
    /// no content hash, only its size, which the caller checks.
    pub fn hash_matches(&self, digest: u128) -> bool {
        digest == self.hash || crate::load::layer::is_unread(self.hash)
    }
}

/// The layer "as of": `layer`, checked, or the last one.
pub fn layer_or_last(index: &Index, layer: Option<usize>) -> Result<usize, LookError> {
    let layers = index.layers.len();
    match layer {
        Some(l) if l >= layers => Err(LookError::NoSuchLayer { layer: l, layers }),
        Some(l) => Ok(l),
        None => Ok(layers.saturating_sub(1)),
    }
}

/// The path's components, without empty ones and `.`.
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
}

/// Why node `id` is not present as of `layer` although it was stored
/// before: its change in force is a removal by layer K.
fn removal_error(index: &Index, id: NodeId, layer: usize, asked: &[u8]) -> Option<LookError> {
    let (_, c) = index.change_at(id, layer)?;
    if c.op != Op::Remove {
        return None;
    }
    let by = c.layer as usize;
    // The highest ancestor removed by the same layer: the directory whose
    // removal took this path with it.
    let mut top = id;
    loop {
        let p = index.parent(top);
        if p == ROOT {
            break;
        }
        match index.change_at(p, layer) {
            Some((_, pc)) if pc.op == Op::Remove && pc.layer as usize == by => top = p,
            _ => break,
        }
    }
    if top != id {
        return Some(LookError::HiddenInRemovedDir {
            path: asked.to_vec(),
            dir: index.path(top),
            by,
        });
    }
    let how = (c.inode != NO_INODE)
        .then(|| index.hidden(c.inode))
        .flatten()
        .filter(|h| h.layer as usize == by)
        .map(|h| match h.cause {
            HideCause::Whiteout => "a whiteout",
            HideCause::Opaque => "an opaque directory",
            HideCause::ParentReplaced => "its directory replaced by a non-directory",
            HideCause::Replaced { .. } => "replaced",
        });
    Some(LookError::Removed {
        path: asked.to_vec(),
        by,
        how,
    })
}

/// The path as asked, absolute: `/` and its components.
fn absolute(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() + 1);
    for c in components(path) {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// The node a path names as of `layer`, following symlinks (the last
/// component's too when `follow_last`). Directories on the way must be
/// present as of `layer`.
pub fn lookup(
    index: &Index,
    path: &[u8],
    layer: usize,
    follow_last: bool,
) -> Result<NodeId, LookError> {
    let mut hops = 0usize;
    // Components still to walk, last first (a symlink pushes its target's).
    let mut todo: Vec<Vec<u8>> = components(path).rev().map(<[u8]>::to_vec).collect();
    let mut cur = ROOT;
    while let Some(comp) = todo.pop() {
        if comp == b".." {
            cur = index.parent(cur);
            continue;
        }
        let here = || {
            let mut p = index.path(cur);
            if p != b"/" {
                p.push(b'/');
            }
            p.extend_from_slice(&comp);
            p
        };
        let Some(id) = index.child(cur, &comp) else {
            return Err(LookError::NotFound {
                path: here(),
                layer,
            });
        };
        let Some(state) = index.state_at(id, layer) else {
            let err = removal_error(index, id, layer, &here());
            return Err(match err {
                // A directory on the way was removed: the path is hidden in it.
                Some(LookError::Removed { by, .. }) if !todo.is_empty() => {
                    LookError::HiddenInRemovedDir {
                        path: absolute(path),
                        dir: here(),
                        by,
                    }
                }
                Some(LookError::HiddenInRemovedDir { dir, by, .. }) => {
                    LookError::HiddenInRemovedDir {
                        path: absolute(path),
                        dir,
                        by,
                    }
                }
                Some(e) => e,
                None => LookError::NotFound {
                    path: here(),
                    layer,
                },
            });
        };
        let last = todo.is_empty();
        match state.kind {
            NodeKind::Symlink if !last || follow_last => {
                hops += 1;
                if hops > MAX_SYMLINKS {
                    return Err(LookError::SymlinkLoop {
                        path: path.to_vec(),
                    });
                }
                let target = index.link(state).unwrap_or_default();
                if target.starts_with(b"/") {
                    cur = ROOT;
                }
                todo.extend(components(target).rev().map(<[u8]>::to_vec));
            }
            NodeKind::Dir => cur = id,
            _ if last => cur = id,
            _ => {
                return Err(LookError::NotADirectory {
                    path: here(),
                    layer,
                })
            }
        }
    }
    Ok(cur)
}

/// The version of `path` in force as of `layer` (the last layer when
/// None), symlinks followed; a directory is an error.
pub fn resolve(index: &Index, path: &[u8], layer: Option<usize>) -> Result<Version, LookError> {
    let layer = layer_or_last(index, layer)?;
    let id = lookup(index, path, layer, true)?;
    if id == ROOT {
        return Err(LookError::IsDirectory {
            path: b"/".to_vec(),
        });
    }
    let change = *index
        .state_at(id, layer)
        .expect("lookup returns present nodes");
    match change.kind {
        NodeKind::Dir => Err(LookError::IsDirectory {
            path: index.path(id),
        }),
        NodeKind::File if change.inode == NO_INODE => Err(LookError::DanglingHardLink {
            path: index.path(id),
        }),
        NodeKind::File => Ok(Version { node: id, change }),
        k => Err(LookError::NotAFile {
            path: index.path(id),
            kind: k,
        }),
    }
}

/// Where the bytes of a stored file are (see [`Stored`]).
pub fn stored(index: &Index, inode: InodeId) -> Stored {
    let ino = &index.inodes[inode as usize];
    let ordinal = index.inodes[..inode as usize]
        .iter()
        .filter(|o| o.layer == ino.layer && o.node == ino.node)
        .count();
    let mut path = index.path(ino.node);
    path.remove(0);
    Stored {
        inode,
        layer: ino.layer as usize,
        path,
        ordinal,
        size: ino.size,
        hash: ino.hash(),
    }
}
