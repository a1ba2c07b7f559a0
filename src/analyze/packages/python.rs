//! Python distributions: `NAME-VERSION.dist-info/RECORD` (CSV of paths
//! relative to the directory holding the `.dist-info`) and the older
//! `NAME-VERSION….egg-info/installed-files.txt` (paths relative to the
//! `.egg-info` directory itself).

use super::{data, join_normalized, versions, Found, Meta};
use crate::load::capture::Captured;
use crate::load::index::{Index, NodeKind, Op};

/// The first CSV field of a RECORD line (quoted when it holds a comma).
fn first_field(line: &[u8]) -> Option<Vec<u8>> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Some(rest) = line.strip_prefix(b"\"") {
        let mut out = Vec::new();
        let mut i = 0;
        while i < rest.len() {
            match rest[i] {
                b'"' if rest.get(i + 1) == Some(&b'"') => {
                    out.push(b'"');
                    i += 2;
                }
                b'"' => return Some(out),
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        return None;
    }
    let f = line.split(|&b| b == b',').next()?;
    (!f.is_empty()).then(|| f.to_vec())
}

/// `requests-2.31.0` → (`requests`, `2.31.0`); `foo-1.0-py3.11` → (`foo`, `1.0`).
fn name_version(stem: &str) -> (String, String) {
    let mut parts = stem.splitn(3, '-');
    let name = parts.next().unwrap_or("").to_string();
    let version = parts.next().unwrap_or("").to_string();
    (name, version)
}

pub fn read(index: &Index) -> Vec<Found> {
    let mut out = Vec::new();
    for (ino, c) in &index.captured {
        let Captured::Data(_) = c else { continue };
        let inode = &index.inodes[*ino as usize];
        let node = inode.node;
        let (record, egg) = match index.name(node) {
            b"RECORD" => (true, false),
            b"installed-files.txt" => (false, true),
            _ => continue,
        };
        let meta_dir = index.parent(node);
        let dir_name = String::from_utf8_lossy(index.name(meta_dir)).into_owned();
        let stem = match (record, egg) {
            (true, _) => dir_name.strip_suffix(".dist-info"),
            _ => dir_name.strip_suffix(".egg-info"),
        };
        let Some(stem) = stem else { continue };
        // Only the last version of each record file: earlier ones are
        // the same distribution's older installs.
        let vs = versions(index, node);
        if vs.last().map(|v| v.1) != Some(*ino) {
            continue;
        }
        let Some(d) = data(c) else { continue };
        let meta_path = index.path(meta_dir);
        let base = if record {
            index.path(index.parent(meta_dir))
        } else {
            meta_path.clone()
        };
        let paths = d
            .split(|&b| b == b'\n')
            .filter_map(|l| {
                if record {
                    first_field(l)
                } else {
                    let l = l.strip_suffix(b"\r").unwrap_or(l);
                    (!l.is_empty()).then(|| l.to_vec())
                }
            })
            .map(|p| join_normalized(&base, &p))
            .collect();
        let (name, version) = name_version(stem);
        let installed = index.hidden(*ino).is_none()
            && index
                .last_change(node)
                .is_some_and(|c| c.op != Op::Remove && c.kind == NodeKind::File);
        let layer = Some(inode.layer as usize);
        out.push(Found::files(
            "python",
            name,
            version,
            layer,
            installed,
            Meta::default(),
            paths,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_fields() {
        assert_eq!(
            first_field(b"six.py,sha256=abc,123\r").unwrap(),
            b"six.py".to_vec()
        );
        assert_eq!(
            first_field(b"\"a,\"\"b\"\".py\",,").unwrap(),
            b"a,\"b\".py".to_vec()
        );
        assert_eq!(
            name_version("requests-2.31.0"),
            ("requests".into(), "2.31.0".into())
        );
    }
}
