//! Indexing one layer: stream its (possibly compressed) tar once, record every
//! entry's metadata and a content hash of every regular file. Nothing is kept
//! of the contents but the hash, and nothing is written to disk.

use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use xxhash_rust::xxh3::Xxh3;

use super::capture::{Capturer, LayerCaptures};
use super::counted::Counted;
use crate::error::{Error, Location, Result};

/// Longest path accepted inside a layer (PAX headers can claim anything).
pub const MAX_PATH_LEN: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn detect(magic: &[u8]) -> Compression {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    HardLink,
    /// `.wh.NAME`: the entry's path is the NAME it removes.
    Whiteout,
    /// `.wh..wh..opq`: the entry's path is the directory made opaque.
    Opaque,
    Char,
    Block,
    Fifo,
}

/// One entry of a layer tar, normalised.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Relative path without leading `/` or `./`, components joined by `/`.
    /// Empty for the root directory.
    pub path: Box<[u8]>,
    pub kind: EntryKind,
    /// Content size for regular files, 0 for everything else.
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Symlink target as written, or the normalised hard-link target path.
    pub link: Option<Box<[u8]>>,
    /// xxh3-128 of the content (regular files only).
    pub hash: u128,
}

/// Everything read from one layer.
#[derive(Debug, Clone)]
pub struct LayerIndex {
    pub entries: Vec<Entry>,
    pub compression: Compression,
    /// True when the layer carried an eStargz table of contents.
    pub estargz: bool,
    /// What was kept of some files' content (package databases, ELF
    /// facts), by index into `entries`.
    pub captures: LayerCaptures,
    /// sha256 of the stored blob and of the uncompressed tar, computed in
    /// the pass that read them (when verification is on).
    pub digests: Option<Digests>,
}

/// `sha256:…` digests of a layer as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub blob: String,
    pub diff: String,
}

static VERIFY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Compute blob and diff_id digests while indexing (`--verify`).
pub fn set_verify(on: bool) {
    VERIFY.store(on, Ordering::Relaxed);
}

pub fn verifying() -> bool {
    VERIFY.load(Ordering::Relaxed)
}

pub(super) fn hex_digest(h: sha2::Sha256) -> String {
    use sha2::Digest;
    let d = h.finalize();
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A reader that feeds what passes through it to sha256 (when on).
pub(super) struct Hashing<R> {
    inner: R,
    h: Option<sha2::Sha256>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.h {
            sha2::Digest::update(h, &buf[..n]);
        }
        Ok(n)
    }
}

impl<R> Hashing<R> {
    pub(super) fn new(inner: R) -> Self {
        Hashing {
            inner,
            h: verifying().then(<sha2::Sha256 as sha2::Digest>::new),
        }
    }
    pub(super) fn digest(&mut self) -> Option<String> {
        self.h.take().map(hex_digest)
    }
}

/// Read `r` to its end (what the tar reader left: padding, trailing
/// blocks), so that a digest covers every byte.
pub(super) fn drain(r: &mut impl Read) -> std::io::Result<()> {
    std::io::copy(r, &mut std::io::sink()).map(|_| ())
}

/// After a compressed layer's tar: when verifying, read the decoder and then
/// the stored blob to their ends and return both digests. `into_raw` takes
/// the decoder apart to reach the blob's (hashing) reader.
fn compressed_digests<D: Read, R: Read>(
    mut dec: Hashing<D>,
    into_raw: impl FnOnce(D) -> BufReader<Hashing<R>>,
) -> std::io::Result<Option<Digests>> {
    if !verifying() {
        return Ok(None);
    }
    drain(&mut dec)?;
    let diff = dec.digest();
    let mut raw = into_raw(dec.inner);
    drain(&mut raw)?;
    Ok(raw
        .get_mut()
        .digest()
        .zip(diff)
        .map(|(blob, diff)| Digests { blob, diff }))
}

/// Per-layer progress, updated by the indexing task without messages.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes of the stored blob (compressed) consumed so far.
    pub read: AtomicU64,
    /// Entries indexed so far.
    pub entries: AtomicU64,
    /// Set to 1 when the layer is done.
    pub done: AtomicU64,
}

/// Normalise a path from a tar header. Returns `None` for the root itself.
pub fn normalize_path(raw: &[u8]) -> std::result::Result<Option<Vec<u8>>, String> {
    if raw.len() > MAX_PATH_LEN {
        return Err(format!("path of {} bytes is too long", raw.len()));
    }
    let mut out = Vec::with_capacity(raw.len());
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => continue,
            b".." => {
                return Err(format!(
                    "path {:?} contains '..'",
                    String::from_utf8_lossy(raw)
                ))
            }
            c => {
                if c.contains(&0) {
                    return Err("path contains a NUL byte".into());
                }
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(c);
            }
        }
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

fn split_last(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&[], path),
    }
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(dir.len() + name.len() + 1);
    v.extend_from_slice(dir);
    if !dir.is_empty() {
        v.push(b'/');
    }
    v.extend_from_slice(name);
    v
}

pub(super) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Read buffer size for content hashing.
pub(super) const BUF: usize = 256 * 1024;

/// Index one layer blob, detecting its compression from magic bytes.
pub fn index_layer<R: Read + Send>(
    reader: R,
    loc: &Location,
    progress: Arc<Progress>,
) -> Result<LayerIndex> {
    let counting = Counted {
        inner: reader,
        tally: progress.clone(),
    };
    let mut buffered = BufReader::with_capacity(BUF, Hashing::new(counting));
    let magic = buffered
        .fill_buf()
        .map_err(|e| Error::io(loc.clone(), e))?
        .to_vec();
    let compression = Compression::detect(&magic);
    let corrupt = |e: std::io::Error| Error::format(loc.clone(), describe(&e, compression));
    // The whole stream is read, past the tar's end, so that the digests of
    // the blob and of the uncompressed tar cover every byte.
    let result = match compression {
        // Decompressed on a thread of its own while the tar is parsed and
        // hashed (load::pipe).
        Compression::Gzip => {
            let dec = Hashing::new(flate2::bufread::MultiGzDecoder::new(buffered));
            let (ix, tail) = super::pipe::run(
                dec,
                verifying(),
                |r| index_tar(r, compression, loc, &progress),
                |dec| compressed_digests(dec, |d| d.into_inner()),
            );
            ix.and_then(|mut ix| {
                ix.digests = tail.transpose().map_err(corrupt)?.flatten();
                Ok(ix)
            })
        }
        Compression::Zstd => {
            let dec = zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| Error::format(loc.clone(), format!("bad zstd stream: {e}")))?;
            let (ix, tail) = super::pipe::run(
                Hashing::new(dec),
                verifying(),
                |r| index_tar(r, compression, loc, &progress),
                |dec| compressed_digests(dec, |d| d.finish()),
            );
            ix.and_then(|mut ix| {
                ix.digests = tail.transpose().map_err(corrupt)?.flatten();
                Ok(ix)
            })
        }
        Compression::None => {
            if magic.len() >= 262
                && &magic[257..262] != b"ustar"
                && !magic[..512.min(magic.len())].iter().all(|&b| b == 0)
            {
                // Not a tar header (a tar starts with a ustar or zero block).
                // Old v7 tars have no magic: accept if the checksum parses.
                if !v7_header_ok(&magic) {
                    return Err(Error::format(
                        loc.clone(),
                        "not a tar archive (no tar header, gzip or zstd magic at the start of the layer)",
                    ));
                }
            }
            index_tar(&mut buffered, compression, loc, &progress).and_then(|mut ix| {
                if verifying() {
                    drain(&mut buffered).map_err(corrupt)?;
                    ix.digests = buffered.get_mut().digest().map(|d| Digests {
                        blob: d.clone(),
                        diff: d,
                    });
                }
                Ok(ix)
            })
        }
    };
    progress.done.store(1, Ordering::Relaxed);
    result
}

pub(crate) fn v7_header_ok(block: &[u8]) -> bool {
    if block.len() < 512 {
        return false;
    }
    let field = &block[148..156];
    let s: String = field
        .iter()
        .take_while(|&&b| b != 0 && b != b' ')
        .map(|&b| b as char)
        .collect();
    let Ok(sum) = u32::from_str_radix(s.trim(), 8) else {
        return false;
    };
    let mut calc: u32 = 0;
    for (i, &b) in block[..512].iter().enumerate() {
        calc += if (148..156).contains(&i) {
            b' ' as u32
        } else {
            b as u32
        };
    }
    calc == sum
}

pub(super) fn describe(e: &std::io::Error, compression: Compression) -> String {
    let what = match compression {
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
        Compression::None => "tar",
    };
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => format!("truncated {what} data ({e})"),
        std::io::ErrorKind::InvalidData
        | std::io::ErrorKind::InvalidInput
        | std::io::ErrorKind::Other => {
            format!("corrupt {what} data ({e})")
        }
        _ => format!("read error ({e})"),
    }
}

/// What one tar header means for the filesystem.
pub(super) enum Classified {
    /// The root itself, AUFS metadata: nothing.
    Skip,
    /// eStargz bookkeeping (the TOC and landmarks): not a file.
    Estargz,
    Entry(Entry),
}

pub(super) fn classify<R: Read>(
    entry: &tar::Entry<'_, R>,
    compression: Compression,
    loc: &Location,
) -> Result<Classified> {
    let raw_path = entry.path_bytes();
    let path = match normalize_path(&raw_path) {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(Classified::Skip),
        Err(msg) => return Err(Error::format(loc.path(lossy(&raw_path)), msg)),
    };
    let header = entry.header();
    let etype = header.entry_type();
    let mode = header.mode().unwrap_or(0);
    let uid = header.uid().unwrap_or(0);
    let gid = header.gid().unwrap_or(0);
    let (dir, base) = split_last(&path);
    let mk = |path: Vec<u8>, kind, link| Entry {
        path: path.into_boxed_slice(),
        kind,
        size: 0,
        mode,
        uid,
        gid,
        link,
        hash: 0,
    };
    if compression == Compression::Gzip
        && dir.is_empty()
        && matches!(
            base,
            b"stargz.index.json" | b".prefetch.landmark" | b".no.prefetch.landmark"
        )
    {
        return Ok(Classified::Estargz);
    }
    if let Some(name) = base.strip_prefix(b".wh.") {
        return Ok(if name == b".wh..opq" {
            Classified::Entry(mk(dir.to_vec(), EntryKind::Opaque, None))
        } else if name.starts_with(b".wh.") || name.is_empty() {
            // Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): not files.
            Classified::Skip
        } else {
            Classified::Entry(mk(join(dir, name), EntryKind::Whiteout, None))
        });
    }
    let (kind, link) = match etype {
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            (EntryKind::File, None)
        }
        tar::EntryType::Directory => (EntryKind::Dir, None),
        tar::EntryType::Symlink => (
            EntryKind::Symlink,
            entry
                .link_name_bytes()
                .map(|l| l.into_owned().into_boxed_slice()),
        ),
        tar::EntryType::Link => {
            let target = entry.link_name_bytes().unwrap_or_default().into_owned();
            match normalize_path(&target) {
                Ok(Some(t)) => (EntryKind::HardLink, Some(t.into_boxed_slice())),
                Ok(None) => {
                    return Err(Error::format(
                        loc.path(lossy(&path)),
                        "hard link to the root directory",
                    ))
                }
                Err(msg) => {
                    return Err(Error::format(
                        loc.path(lossy(&path)),
                        format!("hard link target: {msg}"),
                    ))
                }
            }
        }
        tar::EntryType::Char => (EntryKind::Char, None),
        tar::EntryType::Block => (EntryKind::Block, None),
        tar::EntryType::Fifo => (EntryKind::Fifo, None),
        // pax/GNU metadata headers are consumed by the tar crate; anything
        // else unknown is treated as a regular file (its bytes are stored).
        _ => (EntryKind::File, None),
    };
    let mut e = mk(path, kind, link);
    if kind == EntryKind::File {
        e.size = entry.size();
    }
    Ok(Classified::Entry(e))
}

pub(super) fn index_tar<R: Read>(
    reader: R,
    compression: Compression,
    loc: &Location,
    progress: &Progress,
) -> Result<LayerIndex> {
    let mut archive = tar::Archive::new(super::guard::TarGuard::new(reader));
    let mut entries_out: Vec<Entry> = Vec::new();
    let mut buf = vec![0u8; BUF];
    let mut estargz = false;
    let mut captures = LayerCaptures::new();
    let mut budget = super::capture::LAYER_BUDGET;
    let iter = archive
        .entries()
        .map_err(|e| Error::format(loc.clone(), describe(&e, compression)))?;
    for item in iter {
        let mut entry = item.map_err(|e| Error::format(loc.clone(), describe(&e, compression)))?;
        let mut e = match classify(&entry, compression, loc)? {
            Classified::Skip => continue,
            Classified::Estargz => {
                estargz = true;
                continue;
            }
            Classified::Entry(e) => e,
        };
        if e.kind == EntryKind::File {
            let mut h = Xxh3::new();
            let mut size = 0u64;
            let mut cap = Capturer::new(&e.path, e.size, &mut budget);
            loop {
                let n = match entry.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(err) => {
                        return Err(Error::format(
                            loc.path(lossy(&e.path)),
                            describe(&err, compression),
                        ))
                    }
                };
                h.update(&buf[..n]);
                if let Some(c) = &mut cap {
                    c.feed(&buf[..n]);
                }
                size += n as u64;
            }
            if size != e.size {
                return Err(Error::format(
                    loc.path(lossy(&e.path)),
                    format!(
                        "truncated: entry declares {} bytes, only {size} present",
                        e.size
                    ),
                ));
            }
            e.hash = h.digest128();
            if let Some(c) = cap.and_then(Capturer::finish) {
                captures.push((entries_out.len() as u32, c));
            }
        }
        entries_out.push(e);
        progress.entries.fetch_add(1, Ordering::Relaxed);
    }
    Ok(LayerIndex {
        entries: entries_out,
        compression,
        estargz,
        captures,
        digests: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths() {
        assert_eq!(
            normalize_path(b"./a//b/./c/").unwrap(),
            Some(b"a/b/c".to_vec())
        );
        assert_eq!(normalize_path(b"/").unwrap(), None);
        assert_eq!(normalize_path(b"./").unwrap(), None);
        assert!(normalize_path(b"a/../b").is_err());
    }
}
