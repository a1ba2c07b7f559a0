//! Uncompressed layers stored in a file (a layer's byte range in a
//! docker-archive, or a blob of an OCI layout directory).
//!
//! The layer is mapped into memory (read-only, shared with the page cache):
//! its headers are walked in place, then file contents are hashed in
//! parallel straight from the mapping: no read system call per header or
//! per file, no copy of the bytes. Where the file cannot be mapped, or the
//! layer is compressed, it is streamed through [`index_layer`] instead.
//!
//! A mapped file that another process truncates while it is read would
//! fault (SIGBUS); image archives are not rewritten in place by the tools
//! that make them (they write a new file), which this relies on.

use std::io::{Cursor, Read};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::capture::Capturer;
use super::layer::{
    classify, describe, hex_digest, index_layer, index_tar, link_name, lossy, v7_header_ok,
    verifying, Classified, Compression, Digests, EntryKind, LayerIndex, Member, Progress, BUF,
};
use crate::error::{Error, Location, Result};

/// A byte range of a file read with positional reads (no shared cursor), so
/// that many tasks can read one archive at once.
pub(super) struct Section<'f> {
    pub(super) file: &'f std::fs::File,
    pub(super) start: u64,
    pub(super) len: u64,
    pub(super) pos: u64,
}

impl Read for Section<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        let got = read_at(self.file, &mut buf[..n], self.start + self.pos)?;
        self.pos += got as u64;
        Ok(got)
    }
}

#[cfg(unix)]
fn read_at(f: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, off)
}

#[cfg(windows)]
fn read_at(f: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, off)
}

/// Index a layer stored at `[offset, offset+len)` of a file: mapped when it
/// is an uncompressed tar, streamed through its decoder otherwise.
pub fn index_layer_at(
    file: &std::fs::File,
    offset: u64,
    len: u64,
    loc: &Location,
    progress: Arc<Progress>,
) -> Result<LayerIndex> {
    let section = || Section {
        file,
        start: offset,
        len,
        pos: 0,
    };
    let mut magic = [0u8; 512];
    let n = {
        let mut s = section();
        let mut n = 0;
        while n < magic.len() {
            match s.read(&mut magic[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(loc.clone(), e)),
            }
        }
        n
    };
    let plain_tar = Compression::detect(&magic[..n]) == Compression::None
        && n == 512
        && (&magic[257..262] == b"ustar" || v7_header_ok(&magic));
    let map = if plain_tar {
        map(file, offset, len)
    } else {
        None
    };
    let Some(map) = map else {
        // A gzip layer is decoded on several threads, reading the file by
        // position (load::pgzip).
        #[cfg(unix)]
        if Compression::detect(&magic[..n]) == Compression::Gzip {
            return super::pgzip::index_gzip_at(file, offset, len, loc, progress);
        }
        return index_layer(section(), loc, progress);
    };
    let result = index_mapped(&map, loc, &progress).map(|mut ix| {
        if verifying() {
            let mut h = <sha2::Sha256 as sha2::Digest>::new();
            pieces(&map, 0, &map[..], |piece| {
                sha2::Digest::update(&mut h, piece)
            });
            let d = hex_digest(h);
            ix.digests = Some(Digests {
                blob: d.clone(),
                diff: d,
            });
        }
        ix
    });
    progress.done.store(1, Ordering::Relaxed);
    result
}

/// Map `[offset, offset+len)` of `file` read-only, or None when it cannot
/// be (then the layer is streamed).
fn map(file: &std::fs::File, offset: u64, len: u64) -> Option<memmap2::Mmap> {
    if len == 0 || len > usize::MAX as u64 {
        return None;
    }
    let file_len = file.metadata().ok()?.len();
    if offset.checked_add(len)? > file_len {
        return None;
    }
    // SAFETY: the map is read-only and private to this indexing pass; the
    // file's range was checked against its length. See the module note on
    // files truncated by another process while mapped.
    let map = unsafe {
        memmap2::MmapOptions::new()
            .offset(offset)
            .len(len as usize)
            .map(file)
    }
    .ok()?;
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    Some(map)
}

/// Content bytes hashed per batch: about what one layer holds mapped in
/// memory at a time (the pages of a batch are released once it is hashed,
/// so peak memory does not grow with the image's content bytes).
const WINDOW: u64 = 8 << 20;
/// Files larger than this are hashed in pieces, each released once hashed.
const PIECE: usize = 4 << 20;

/// Drop `map[from..to]` from this process's memory (the pages stay in the
/// page cache; touching them again maps them again).
fn release(map: &memmap2::Mmap, from: usize, to: usize) {
    if to > from && to <= map.len() {
        // SAFETY: a read-only shared file mapping: MADV_DONTNEED only drops
        // the page table entries; the bytes read afterwards are the file's,
        // unchanged.
        #[cfg(unix)]
        let _ = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from)
        };
    }
}

/// Feed `body` (at `at` in the map) to `f` piece by piece, releasing each
/// piece once fed.
fn pieces(map: &memmap2::Mmap, at: usize, body: &[u8], mut f: impl FnMut(&[u8])) {
    let mut off = at;
    for piece in body.chunks(PIECE) {
        f(piece);
        release(map, off, off + piece.len());
        off += piece.len();
    }
}

type Hashed = (u32, u128, Option<super::capture::Captured>);

/// Hash a batch of files in parallel, a few files per task.
fn hash_batch(
    map: &memmap2::Mmap,
    batch: &mut Vec<(u32, u64, u64, Option<Capturer>)>,
    out: &mut Vec<Hashed>,
    progress: &Progress,
) {
    use rayon::prelude::*;
    let done: Vec<Hashed> = batch
        .par_drain(..)
        .with_min_len(16)
        .map(|(i, pos, size, cap)| {
            let (pos, size) = (pos as usize, size as usize);
            let body = &map[pos..pos + size];
            let mut cap = cap;
            let feed = |cap: &mut Option<Capturer>, chunk: &[u8]| {
                if let Some(c) = cap {
                    for part in chunk.chunks(BUF * 4) {
                        c.feed(part);
                    }
                }
            };
            // One-shot xxh3 over a slice gives the streamed hash's digest.
            let h = if size <= PIECE {
                feed(&mut cap, body);
                xxhash_rust::xxh3::xxh3_128(body)
            } else {
                let mut h = xxhash_rust::xxh3::Xxh3::new();
                pieces(map, pos, body, |piece| {
                    h.update(piece);
                    feed(&mut cap, piece);
                });
                h.digest128()
            };
            progress.read.fetch_add(size as u64, Ordering::Relaxed);
            (i, h, cap.and_then(Capturer::finish))
        })
        .collect();
    out.extend(done);
}

/// The layer's tar, walked in place: headers read by the tar crate from
/// memory; every `WINDOW` of content, the files met so far are hashed in
/// parallel from their slices of the map, and their pages released.
fn index_mapped(map: &memmap2::Mmap, loc: &Location, progress: &Progress) -> Result<LayerIndex> {
    let len = map.len() as u64;
    let mut archive = tar::Archive::new(super::guard::TarGuard::new(Cursor::new(&map[..])));
    let mut out = LayerIndex::new(Compression::None);
    // (index into out.entries, data offset within the layer, size, capture)
    let mut batch: Vec<(u32, u64, u64, Option<Capturer>)> = Vec::new();
    let mut batch_bytes = 0u64;
    let mut hashed: Vec<Hashed> = Vec::new();
    let mut released = 0usize;
    let mut budget = super::capture::LAYER_BUDGET;
    // End of the last entry's content: what the header pass has covered.
    let mut scanned = 0u64;
    let iter = archive
        .entries_with_seek()
        .map_err(|e| Error::format(loc.clone(), describe(&e, Compression::None)))?;
    for item in iter {
        let entry =
            item.map_err(|e| Error::format(loc.clone(), describe(&e, Compression::None)))?;
        if entry.header().entry_type() == tar::EntryType::GNUSparse {
            // Sparse files need the tar crate's reassembly: stream instead.
            return index_tar(Cursor::new(&map[..]), Compression::None, loc, progress);
        }
        // The entry's content and its padding to 512 bytes must be there, as
        // reading the same layer as a stream requires (seeking past the end
        // would not notice a layer cut inside the padding).
        let pos = entry.raw_file_position();
        let padded = entry.size().div_ceil(512).saturating_mul(512);
        if pos.saturating_add(padded) > len {
            return Err(Error::format(
                loc.path(String::from_utf8_lossy(&entry.path_bytes()).into_owned()),
                format!(
                    "truncated: the entry and its padding need {padded} bytes, only {} present",
                    len.saturating_sub(pos)
                ),
            ));
        }
        let path = entry.path_bytes();
        let link = link_name(&entry);
        let m = Member::of(&entry, &path, link.as_deref());
        let i = match classify(&m, Compression::None, loc, &mut out)? {
            Classified::Entry(i) => i,
            _ => continue,
        };
        let e = out.entries[i as usize];
        // Header bytes count as read now; content bytes when hashed.
        progress
            .read
            .fetch_add(pos.saturating_sub(scanned), Ordering::Relaxed);
        scanned = pos.saturating_add(if e.kind == EntryKind::File { e.size } else { 0 });
        if e.kind == EntryKind::File {
            if pos.saturating_add(e.size) > len {
                return Err(Error::format(
                    loc.path(lossy(out.path(&e))),
                    format!(
                        "truncated: entry declares {} bytes, only {} present",
                        e.size,
                        len.saturating_sub(pos)
                    ),
                ));
            }
            let cap = Capturer::new(out.path(&e), e.size, &mut budget);
            batch.push((i, pos, e.size, cap));
            batch_bytes += e.size;
            if batch_bytes >= WINDOW {
                hash_batch(map, &mut batch, &mut hashed, progress);
                let end = (pos + e.size) as usize;
                release(map, released, end);
                released = end;
                batch_bytes = 0;
            }
        }
        progress.entries.fetch_add(1, Ordering::Relaxed);
    }
    hash_batch(map, &mut batch, &mut hashed, progress);
    progress
        .read
        .fetch_add(len.saturating_sub(scanned), Ordering::Relaxed);
    for (i, h, cap) in hashed {
        out.set_hash(i as usize, h);
        if let Some(c) = cap {
            out.captures.push((i, c));
        }
    }
    Ok(out)
}
