//! `imgscope ls`: every path as of a layer (the merged filesystem), or
//! only what one layer changed, one row each, in path order (a directory
//! before its contents, names sorted by bytes). Rows are made one at a
//! time from the index while walking it (the walk keeps one position per
//! directory level), so a listing of any length takes no memory beyond the
//! index.

use std::io::{self, Write};

use super::{kind_name, layer_or_last, show, LookError};
use crate::load::index::{Change, ImagePath, Index, NodeId, NodeKind, Op, NO_INODE, ROOT};

/// One listed path.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// Absolute, as bytes.
    pub path: &'a [u8],
    pub kind: NodeKind,
    /// A hard link (a regular file sharing another name's bytes).
    pub hardlink: bool,
    /// Content size of a regular file (the shared file's for a hard
    /// link), else 0.
    pub size: u64,
    /// Permission bits as stored (0 for a removal or an implicit directory).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// A symlink's target as written, a hard link's (the path it shares).
    pub link: Option<&'a [u8]>,
    /// What the layer that last wrote the path did: added, modified, removed.
    pub change: Op,
    /// The layer that last wrote the path (as of the layer listed).
    pub layer: usize,
}

/// `raw` (a tar header's hard-link name) as an absolute, normalised image
/// path; as written, with a `/` in front, if it cannot be normalised.
fn absolute(raw: &[u8]) -> Vec<u8> {
    match crate::load::layer::normalize_path(raw) {
        Ok(Some(p)) => [&b"/"[..], &p].concat(),
        Ok(None) => b"/".to_vec(),
        Err(_) => [&b"/"[..], raw].concat(),
    }
}

/// The change kind's word.
pub fn op_name(op: Op) -> &'static str {
    match op {
        Op::Add => "added",
        Op::Modify => "modified",
        Op::Remove => "removed",
    }
}

/// The row's type word: `file`, `hardlink`, `directory`, `symlink`, …
pub fn type_name(r: &Row) -> &'static str {
    if r.hardlink {
        "hardlink"
    } else {
        kind_name(r.kind)
    }
}

/// Walk the index as of `layer` (the last when None) and call `row` for
/// every present path (`changes` false) or for every path that layer
/// changed, removals included (`changes` true).
pub fn list(
    index: &Index,
    layer: Option<usize>,
    changes: bool,
    mut row: impl FnMut(&Row) -> io::Result<()>,
) -> Result<io::Result<()>, LookError> {
    let layer = layer_or_last(index, layer)?;
    let mut path: Vec<u8> = Vec::new();
    // (directory, next child position, path length before its name)
    let mut stack: Vec<(NodeId, usize, usize)> = vec![(ROOT, 0, 0)];
    while let Some(top) = stack.last_mut() {
        let (dir, pos, _) = *top;
        let children = index.children(dir);
        if pos == children.len() {
            let (_, _, len) = stack.pop().expect("not empty");
            path.truncate(len);
            continue;
        }
        top.1 += 1;
        let id = children[pos];
        let Some((_, c)) = index.change_at(id, layer) else {
            continue;
        };
        let c: Change = *c;
        let present = c.op != Op::Remove;
        let listed_removal = changes && c.layer as usize == layer;
        if !present && !listed_removal {
            continue; // gone as of this layer, with its subtree
        }
        let len = path.len();
        path.push(b'/');
        path.extend_from_slice(index.name(id));
        if !changes || c.layer as usize == layer {
            let link = index.link(&c).filter(|_| !c.implicit());
            let hardlink = c.kind == NodeKind::File && link.is_some();
            // A hard link's target is a path in the image: written the way
            // paths are (absolute, normalised), not as the tar header has it.
            let shared;
            let link = match link {
                Some(l) if hardlink => {
                    shared = absolute(l);
                    Some(&shared[..])
                }
                l => l,
            };
            let r = Row {
                path: &path,
                kind: c.kind,
                hardlink,
                size: if c.inode != NO_INODE {
                    index.inodes[c.inode as usize].size
                } else {
                    0
                },
                mode: c.mode & 0o7777,
                uid: c.uid,
                gid: c.gid,
                link,
                change: c.op,
                layer: c.layer as usize,
            };
            if let Err(e) = row(&r) {
                return Ok(Err(e));
            }
        }
        if c.kind == NodeKind::Dir || !present {
            // A removed directory's subtree was removed with it.
            stack.push((id, 0, len));
        } else {
            path.truncate(len);
        }
    }
    Ok(Ok(()))
}

/// `ls -l`'s mode column: the type letter and the permission bits.
pub fn mode_string(r: &Row) -> String {
    let t = match r.kind {
        NodeKind::File => '-',
        NodeKind::Dir => 'd',
        NodeKind::Symlink => 'l',
        NodeKind::Char => 'c',
        NodeKind::Block => 'b',
        NodeKind::Fifo => 'p',
    };
    let m = r.mode;
    let mut s = String::with_capacity(10);
    s.push(t);
    for (i, (bit, c)) in [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ]
    .into_iter()
    .enumerate()
    {
        let special = match i {
            2 if m & 0o4000 != 0 => Some(('s', 'S')),
            5 if m & 0o2000 != 0 => Some(('s', 'S')),
            8 if m & 0o1000 != 0 => Some(('t', 'T')),
            _ => None,
        };
        let set = m & bit != 0;
        s.push(match (special, set) {
            (Some((x, _)), true) => x,
            (Some((_, x)), false) => x,
            (None, true) => c,
            (None, false) => '-',
        });
    }
    s
}

/// A text row: mode, uid:gid, size, layer, change, path (escaped: control
/// characters and bytes that are not UTF-8 as `\xNN`), ` -> target`.
pub fn text_line(r: &Row, out: &mut impl Write) -> io::Result<()> {
    write!(
        out,
        "{} {:>5}:{:<5} {:>12}  L{:<3} {:<8} {}",
        mode_string(r),
        r.uid,
        r.gid,
        r.size,
        r.layer,
        op_name(r.change),
        show(r.path)
    )?;
    if let Some(l) = r.link {
        let arrow = if r.hardlink { "=>" } else { "->" };
        write!(out, " {arrow} {}", show(l))?;
    }
    writeln!(out)
}

/// One JSON object on one line. Paths and link targets are strings when
/// they are UTF-8, else `{"bytes_base64": "…"}` (as in the report).
pub fn json_line(r: &Row, out: &mut impl Write) -> io::Result<()> {
    #[derive(serde::Serialize)]
    struct J {
        path: ImagePath,
        #[serde(rename = "type")]
        kind: &'static str,
        size: u64,
        mode: String,
        uid: u32,
        gid: u32,
        link: Option<ImagePath>,
        change: &'static str,
        layer: usize,
    }
    let j = J {
        path: ImagePath(r.path.to_vec()),
        kind: type_name(r),
        size: r.size,
        mode: format!("{:04o}", r.mode),
        uid: r.uid,
        gid: r.gid,
        link: r.link.map(|l| ImagePath(l.to_vec())),
        change: op_name(r.change),
        layer: r.layer,
    };
    serde_json::to_writer(&mut *out, &j)?;
    writeln!(out)
}

/// The CSV header row.
pub const CSV_HEADER: &str = "path,type,size,mode,uid,gid,link,change,layer";

/// A CSV field: quoted when it holds a comma, a quote or a line break
/// (after escaping, as in text, it holds no line break).
fn csv_field(b: &[u8]) -> String {
    let s = show(b);
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A CSV row (names escaped as in text).
pub fn csv_line(r: &Row, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{},{},{},{:04o},{},{},{},{},{}",
        csv_field(r.path),
        type_name(r),
        r.size,
        r.mode,
        r.uid,
        r.gid,
        r.link.map(csv_field).unwrap_or_default(),
        op_name(r.change),
        r.layer
    )
}
