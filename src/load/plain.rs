//! Uncompressed layers stored in a file (a layer's byte range in a
//! docker-archive, or a blob of an OCI layout directory): read by position,
//! so that several tasks read one archive at once.

use std::io::Read;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use xxhash_rust::xxh3::Xxh3;

use super::capture::{Captured, Capturer, LayerCaptures};
use super::layer::{
    classify, describe, hex_digest, index_layer, index_tar, lossy, v7_header_ok, verifying,
    Classified, Compression, Digests, Entry, EntryKind, LayerIndex, Progress, BUF,
};
use crate::error::{Error, Location, Result};

/// A byte range of a file read with positional reads (no shared cursor), so
/// that many tasks can read one archive at once.
struct Section<'f> {
    file: &'f std::fs::File,
    start: u64,
    len: u64,
    pos: u64,
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

impl std::io::Seek for Section<'_> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let new = match to {
            std::io::SeekFrom::Start(n) => n as i128,
            std::io::SeekFrom::Current(d) => self.pos as i128 + d as i128,
            std::io::SeekFrom::End(d) => self.len as i128 + d as i128,
        };
        if new < 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before start",
            ));
        }
        self.pos = new as u64;
        Ok(self.pos)
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

/// Index a layer stored at `[offset, offset+len)` of an uncompressed archive
/// on disk. Uncompressed layers are indexed in two passes: the headers are
/// scanned by seeking over contents, then file contents are hashed in
/// parallel with positional reads (no copy through a buffer, no single
/// thread per layer). Compressed layers stream through their decoder.
pub fn index_layer_at(
    file: &std::fs::File,
    offset: u64,
    len: u64,
    loc: &Location,
    progress: Arc<Progress>,
) -> Result<LayerIndex> {
    let mut magic = [0u8; 512];
    let n = {
        let mut s = Section {
            file,
            start: offset,
            len,
            pos: 0,
        };
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
    if !plain_tar {
        let s = Section {
            file,
            start: offset,
            len,
            pos: 0,
        };
        return index_layer(s, loc, progress);
    }
    let result = index_plain_seekable(file, offset, len, loc, &progress).and_then(|mut ix| {
        if verifying() {
            // Contents were hashed in parallel by positional reads; the
            // digest needs one sequential pass (from the page cache, mostly).
            let mut h = <sha2::Sha256 as sha2::Digest>::new();
            let mut buf = vec![0u8; 1 << 20];
            let mut done = 0u64;
            while done < len {
                let want = ((len - done) as usize).min(buf.len());
                let n = read_at(file, &mut buf[..want], offset + done)
                    .map_err(|e| Error::io(loc.clone(), e))?;
                if n == 0 {
                    return Err(Error::format(loc.clone(), "truncated layer"));
                }
                sha2::Digest::update(&mut h, &buf[..n]);
                done += n as u64;
            }
            let d = hex_digest(h);
            ix.digests = Some(Digests {
                blob: d.clone(),
                diff: d,
            });
        }
        Ok(ix)
    });
    progress.done.store(1, Ordering::Relaxed);
    result
}

fn index_plain_seekable(
    file: &std::fs::File,
    offset: u64,
    len: u64,
    loc: &Location,
    progress: &Progress,
) -> Result<LayerIndex> {
    use rayon::prelude::*;
    let section = Section {
        file,
        start: offset,
        len,
        pos: 0,
    };
    let mut archive = tar::Archive::new(super::guard::TarGuard::new(section));
    let mut entries_out: Vec<Entry> = Vec::new();
    // (index into entries_out, data offset within the layer, its capture)
    let mut data: Vec<(usize, u64, Option<Capturer>)> = Vec::new();
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
            let s = Section {
                file,
                start: offset,
                len,
                pos: 0,
            };
            return index_tar(s, Compression::None, loc, progress);
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
        let e = match classify(&entry, Compression::None, loc)? {
            Classified::Entry(e) => e,
            _ => continue,
        };
        // Header bytes count as read now; content bytes when hashed.
        progress
            .read
            .fetch_add(pos.saturating_sub(scanned), Ordering::Relaxed);
        scanned = pos.saturating_add(if e.kind == EntryKind::File { e.size } else { 0 });
        if e.kind == EntryKind::File {
            if pos.saturating_add(e.size) > len {
                return Err(Error::format(
                    loc.path(lossy(&e.path)),
                    format!(
                        "truncated: entry declares {} bytes, only {} present",
                        e.size,
                        len.saturating_sub(pos)
                    ),
                ));
            }
            let cap = Capturer::new(&e.path, e.size, &mut budget);
            data.push((entries_out.len(), pos, cap));
        }
        entries_out.push(e);
        progress.entries.fetch_add(1, Ordering::Relaxed);
    }
    progress
        .read
        .fetch_add(len.saturating_sub(scanned), Ordering::Relaxed);
    // Hash contents in parallel, a few files per task.
    let sizes: Vec<u64> = data.iter().map(|(i, _, _)| entries_out[*i].size).collect();
    let index_of: Vec<usize> = data.iter().map(|(i, _, _)| *i).collect();
    let hashes: Vec<std::io::Result<(u128, Option<Captured>)>> = data
        .into_par_iter()
        .zip(sizes.into_par_iter())
        .with_min_len(16)
        .map_init(
            || vec![0u8; BUF * 4],
            |buf, ((_, pos, mut cap), size)| {
                let mut h = Xxh3::new();
                let mut done = 0u64;
                while done < size {
                    let want = ((size - done) as usize).min(buf.len());
                    let n = read_at(file, &mut buf[..want], offset + pos + done)?;
                    if n == 0 {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "file ends inside the entry",
                        ));
                    }
                    h.update(&buf[..n]);
                    if let Some(c) = &mut cap {
                        c.feed(&buf[..n]);
                    }
                    done += n as u64;
                    progress.read.fetch_add(n as u64, Ordering::Relaxed);
                }
                // Finished here: a scan's windows are freed with its file.
                Ok((h.digest128(), cap.and_then(Capturer::finish)))
            },
        )
        .collect();
    let mut captures = LayerCaptures::new();
    for (i, h) in index_of.into_iter().zip(hashes) {
        let (h, cap) = h.map_err(|e| {
            Error::format(
                loc.path(lossy(&entries_out[i].path)),
                describe(&e, Compression::None),
            )
        })?;
        entries_out[i].hash = h;
        if let Some(c) = cap {
            captures.push((i as u32, c));
        }
    }
    Ok(LayerIndex {
        entries: entries_out,
        compression: Compression::None,
        estargz: false,
        captures,
        digests: None,
    })
}
