//! rpm: the sqlite database of current Fedora, RHEL, UBI 9, CentOS Stream,
//! Amazon Linux 2023 (`/usr/lib/sysimage/rpm/rpmdb.sqlite`, or
//! `/var/lib/rpm/rpmdb.sqlite` on older layouts), every layer's version of
//! it. The database is opened from the captured bytes in memory (SQLite's
//! deserialize; nothing is written to disk) and each row of its `Packages`
//! table is one rpm header blob, parsed here: name, epoch, version,
//! release, arch and the file names (`DIRNAMES[DIRINDEXES[i]] +
//! BASENAMES[i]`, or the old `OLDFILENAMES`).
//!
//! Not read: the Berkeley DB `Packages` file (RHEL/CentOS 7 and 8, older
//! Fedora, Amazon Linux 2) and the ndb `Packages.db` (openSUSE, SLE).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use super::{data, since, versions, Found, Meta};
use crate::load::index::{Index, NodeId};

/// Where the database lives, newest layout first.
pub const DB_PATHS: [&[u8]; 2] = [
    b"usr/lib/sysimage/rpm/rpmdb.sqlite",
    b"var/lib/rpm/rpmdb.sqlite",
];

const NAME: u32 = 1000;
const VERSION: u32 = 1001;
const RELEASE: u32 = 1002;
const EPOCH: u32 = 1003;
const ARCH: u32 = 1022;
const OLDFILENAMES: u32 = 1027;
const DIRINDEXES: u32 = 1116;
const BASENAMES: u32 = 1117;
const DIRNAMES: u32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// One installed package as its header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    /// `[epoch:]version-release`.
    pub version: String,
    pub arch: String,
    /// Absolute paths of its files (and directories).
    pub paths: Vec<Vec<u8>>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A header blob as rpm stores it in the database (no lead, no magic):
/// index count, data length, the index entries (tag, type, offset, count),
/// then the data store.
struct Blob<'a> {
    entries: &'a [u8],
    store: &'a [u8],
}

impl<'a> Blob<'a> {
    fn new(b: &'a [u8]) -> Option<Blob<'a>> {
        let il = be32(b, 0)? as usize;
        let dl = be32(b, 4)? as usize;
        let start = 8usize.checked_add(il.checked_mul(16)?)?;
        let end = start.checked_add(dl)?;
        Some(Blob {
            entries: b.get(8..start)?,
            store: b.get(start..end)?,
        })
    }

    /// (type, offset, count) of a tag.
    fn entry(&self, tag: u32) -> Option<(u32, usize, usize)> {
        let e = self
            .entries
            .chunks_exact(16)
            .find(|e| be32(e, 0) == Some(tag))?;
        Some((be32(e, 4)?, be32(e, 8)? as usize, be32(e, 12)? as usize))
    }

    /// `count` NUL-terminated strings from `offset`.
    fn strings(&self, offset: usize, count: usize) -> Option<Vec<&'a [u8]>> {
        let mut out = Vec::with_capacity(count.min(1 << 16));
        let mut rest = self.store.get(offset..)?;
        for _ in 0..count {
            let end = memchr::memchr(0, rest)?;
            out.push(&rest[..end]);
            rest = &rest[end + 1..];
        }
        Some(out)
    }

    fn string(&self, tag: u32) -> Option<String> {
        let (ty, off, _) = self.entry(tag)?;
        if !matches!(ty, TYPE_STRING | TYPE_I18NSTRING | TYPE_STRING_ARRAY) {
            return None;
        }
        let s = self.strings(off, 1)?;
        Some(String::from_utf8_lossy(s[0]).into_owned())
    }

    fn string_array(&self, tag: u32) -> Option<Vec<&'a [u8]>> {
        let (ty, off, count) = self.entry(tag)?;
        (ty == TYPE_STRING_ARRAY).then(|| self.strings(off, count))?
    }

    fn int32_array(&self, tag: u32) -> Option<Vec<u32>> {
        let (ty, off, count) = self.entry(tag)?;
        if ty != TYPE_INT32 || count > self.store.len() / 4 {
            return None;
        }
        (0..count).map(|i| be32(self.store, off + 4 * i)).collect()
    }
}

/// Parse one header blob; None when it is not one.
pub fn parse_header(b: &[u8]) -> Option<Header> {
    let h = Blob::new(b)?;
    let name = h.string(NAME)?;
    let mut version = h.string(VERSION).unwrap_or_default();
    if let Some(r) = h.string(RELEASE) {
        version = format!("{version}-{r}");
    }
    if let Some(e) = h.int32_array(EPOCH).and_then(|e| e.first().copied()) {
        version = format!("{e}:{version}");
    }
    let mut paths = Vec::new();
    if let (Some(idx), Some(base), Some(dirs)) = (
        h.int32_array(DIRINDEXES),
        h.string_array(BASENAMES),
        h.string_array(DIRNAMES),
    ) {
        for (i, b) in idx.iter().zip(base) {
            if let Some(d) = dirs.get(*i as usize) {
                paths.push([*d, b].concat());
            }
        }
    } else if let Some(old) = h.string_array(OLDFILENAMES) {
        paths.extend(old.into_iter().map(<[u8]>::to_vec));
    }
    Some(Header {
        name,
        version,
        arch: h.string(ARCH).unwrap_or_default(),
        paths,
    })
}

/// The headers of every package in a database file, in its row order.
/// None when the bytes are not an SQLite database with a `Packages` table.
pub fn read_db(bytes: &[u8]) -> Option<Vec<Header>> {
    if bytes.len() < 100 || !bytes.starts_with(b"SQLite format 3\0") {
        return None;
    }
    // rpm keeps the database in WAL mode (header bytes 18 and 19 = 2),
    // which an in-memory database cannot open: read it as a rollback-journal
    // database (what is in the file is the same; rpm checkpoints on close).
    let mut head = [0u8; 100];
    head.copy_from_slice(&bytes[..100]);
    if head[18] == 2 || head[19] == 2 {
        head[18] = 1;
        head[19] = 1;
    }
    let mut conn = rusqlite::Connection::open_in_memory().ok()?;
    let reader = (&head[..]).chain(&bytes[100..]);
    conn.deserialize_read_exact(rusqlite::MAIN_DB, reader, bytes.len(), true)
        .ok()?;
    let mut stmt = conn
        .prepare("SELECT blob FROM Packages ORDER BY hnum")
        .ok()?;
    let rows = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .ok()?
        .filter_map(Result::ok);
    Some(
        rows.filter_map(|b| parse_header(&b))
            // The signing keys rpm imports are headers too, with no files.
            .filter(|h| h.name != "gpg-pubkey")
            .collect(),
    )
}

fn db_node(index: &Index) -> Option<NodeId> {
    DB_PATHS
        .iter()
        .filter_map(|p| index.find(p))
        .find(|&n| !versions(index, n).is_empty())
}

pub fn read(index: &Index) -> Vec<Found> {
    let Some(db) = db_node(index) else {
        return Vec::new();
    };
    let vs = versions(index, db);
    let last = vs.len().saturating_sub(1);
    // By (name, arch): the latest header and whether the final database has it.
    let mut recs: BTreeMap<(String, String), (Header, bool)> = BTreeMap::new();
    let mut runs: BTreeMap<(String, String), Vec<(usize, bool)>> = BTreeMap::new();
    for (vi, (layer, ino, c)) in vs.iter().enumerate() {
        let Some(headers) = data(c).and_then(read_db) else {
            continue;
        };
        let final_version = vi == last && index.hidden(*ino).is_none();
        let mut here = BTreeSet::new();
        for h in headers {
            let key = (h.name.clone(), h.arch.clone());
            here.insert(key.clone());
            match recs.get_mut(&key) {
                // Files of an earlier version stay this package's.
                Some((old, _)) => {
                    let mut paths = std::mem::take(&mut old.paths);
                    *old = h;
                    old.paths.append(&mut paths);
                }
                None => {
                    recs.insert(key, (h, false));
                }
            }
        }
        for (key, (_, installed)) in recs.iter_mut() {
            let present = here.contains(key);
            *installed = present && final_version;
            runs.entry(key.clone()).or_default().push((*layer, present));
        }
    }
    recs.into_iter()
        .map(|(key, (h, installed))| {
            Found::files(
                "rpm",
                h.name,
                h.version,
                since(&runs[&key]),
                installed,
                Meta::default(),
                h.paths,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header blob written here from the format's description.
    fn blob(entries: &[(u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut store = Vec::new();
        for (tag, ty, data, count) in entries {
            if *ty == TYPE_INT32 {
                while store.len() % 4 != 0 {
                    store.push(0);
                }
            }
            for v in [*tag, *ty, store.len() as u32, *count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
            store.extend_from_slice(data);
        }
        let mut b = Vec::new();
        b.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        b.extend_from_slice(&(store.len() as u32).to_be_bytes());
        b.extend(index);
        b.extend(store);
        b
    }

    #[test]
    fn parses_a_header() {
        let idx: Vec<u8> = [0u32, 1, 0].iter().flat_map(|v| v.to_be_bytes()).collect();
        let b = blob(&[
            (NAME, TYPE_STRING, b"bash\0".to_vec(), 1),
            (VERSION, TYPE_STRING, b"5.2.15\0".to_vec(), 1),
            (RELEASE, TYPE_STRING, b"2.fc38\0".to_vec(), 1),
            (EPOCH, TYPE_INT32, 1u32.to_be_bytes().to_vec(), 1),
            (ARCH, TYPE_STRING, b"x86_64\0".to_vec(), 1),
            (DIRINDEXES, TYPE_INT32, idx, 3),
            (
                BASENAMES,
                TYPE_STRING_ARRAY,
                b"bash\0bash\0sh\0".to_vec(),
                3,
            ),
            (
                DIRNAMES,
                TYPE_STRING_ARRAY,
                b"/usr/bin/\0/usr/share/doc/\0".to_vec(),
                2,
            ),
        ]);
        let h = parse_header(&b).unwrap();
        assert_eq!(h.name, "bash");
        assert_eq!(h.version, "1:5.2.15-2.fc38");
        assert_eq!(h.arch, "x86_64");
        assert_eq!(
            h.paths,
            vec![
                b"/usr/bin/bash".to_vec(),
                b"/usr/share/doc/bash".to_vec(),
                b"/usr/bin/sh".to_vec()
            ]
        );
    }

    /// A database written here by SQLite in WAL mode as rpm leaves it, with
    /// a good header, a foreign blob and a signing key; then cut short.
    #[test]
    fn reads_a_database_from_memory_and_survives_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rpmdb.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);",
        )
        .unwrap();
        let good = blob(&[
            (NAME, TYPE_STRING, b"zlib\0".to_vec(), 1),
            (VERSION, TYPE_STRING, b"1.2.13\0".to_vec(), 1),
            (
                OLDFILENAMES,
                TYPE_STRING_ARRAY,
                b"/usr/lib64/libz.so.1\0".to_vec(),
                1,
            ),
        ]);
        let key = blob(&[(NAME, TYPE_STRING, b"gpg-pubkey\0".to_vec(), 1)]);
        for b in [good, vec![0xff; 40], key] {
            conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [b])
                .unwrap();
        }
        drop(conn);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[18], 2, "written in WAL mode");
        let h = read_db(&bytes).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(
            (h[0].name.as_str(), h[0].version.as_str()),
            ("zlib", "1.2.13")
        );
        assert_eq!(h[0].paths, vec![b"/usr/lib64/libz.so.1".to_vec()]);
        // Damaged copies: an answer or none, never a panic.
        for cut in [100, 1000, bytes.len() / 2, bytes.len() - 1] {
            let _ = read_db(&bytes[..cut]);
        }
        let mut flipped = bytes.clone();
        for i in (100..flipped.len()).step_by(97) {
            flipped[i] ^= 0x5a;
        }
        let _ = read_db(&flipped);
    }

    #[test]
    fn rejects_truncated_and_foreign_bytes() {
        let b = blob(&[(NAME, TYPE_STRING, b"bash\0".to_vec(), 1)]);
        assert!(parse_header(&b[..b.len() - 1]).is_none());
        assert!(parse_header(&[0xff; 8]).is_none());
        assert!(read_db(b"not a database").is_none());
        assert!(read_db(&[0u8; 4096]).is_none());
    }
}
