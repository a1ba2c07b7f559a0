//! A gzip layer stored in a file, decoded in parallel (issue 14: one
//! dominant gzip layer, typical of CUDA and ML bases, otherwise keeps a
//! single core inflating).
//!
//! rapidgzip-core decodes one gzip stream on several threads: workers start
//! at guessed deflate block boundaries, decode speculatively with markers for
//! the unknown window, and the markers are resolved once the preceding chunk
//! is known (the rapidgzip approach). It reads the compressed bytes by
//! positional reads, so it needs the file, not a stream: standard input and
//! registry downloads keep the sequential decoder ([`super::layer`]).
//! Measured on the `dominant` image (one 544 MB gzip layer holding 90% of
//! the files, 2 cores): see the README's performance section.

use std::fs::File;
use std::io::Read;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::layer::{
    describe, drain, hex_digest, index_tar, verifying, Compression, Digests, Hashing, LayerIndex,
    Progress,
};
use crate::error::{Error, Location, Result};

/// A byte range of a file, read by position from several threads; what it
/// reads counts as the layer's progress.
struct Range {
    file: Arc<File>,
    start: u64,
    len: u64,
    progress: Arc<Progress>,
}

impl rapidgzip_core::ReadAt for Range {
    fn len(&self) -> std::io::Result<u64> {
        Ok(self.len)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let n = (buf.len() as u64).min(self.len - offset) as usize;
        let got =
            std::os::unix::fs::FileExt::read_at(&*self.file, &mut buf[..n], self.start + offset)?;
        self.progress.read.fetch_add(got as u64, Ordering::Relaxed);
        Ok(got)
    }
}

/// Decoder threads per layer: the machine's cores (rapidgzip adds workers
/// only while they pay, and layers indexed at once share the cores).
fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Index the gzip layer at `[offset, offset+len)` of `file`.
pub(super) fn index_gzip_at(
    file: &File,
    offset: u64,
    len: u64,
    loc: &Location,
    progress: Arc<Progress>,
) -> Result<LayerIndex> {
    let corrupt = |e: std::io::Error| Error::format(loc.clone(), describe(&e, Compression::Gzip));
    let file = Arc::new(file.try_clone().map_err(|e| Error::io(loc.clone(), e))?);
    let range = Range {
        file: file.clone(),
        start: offset,
        len,
        progress: progress.clone(),
    };
    let decoder = rapidgzip_core::Decoder::builder()
        .decoder_threads(threads())
        .build()
        .map_err(|e| Error::format(loc.clone(), format!("gzip decoder: {e}")))?;
    let reader = decoder
        .reader(range)
        .map_err(|e| Error::format(loc.clone(), format!("corrupt gzip data ({e})")))?;
    let mut dec = Hashing::new(reader);
    let result = index_tar(&mut dec, Compression::Gzip, loc, &progress).and_then(|mut ix| {
        if verifying() {
            // Decoding to the end checks every member's CRC and size.
            drain(&mut dec).map_err(corrupt)?;
            let diff = dec.digest().unwrap_or_default();
            ix.digests = Some(Digests {
                blob: blob_digest(&file, offset, len).map_err(|e| Error::io(loc.clone(), e))?,
                diff,
            });
        }
        Ok(ix)
    });
    progress.done.store(1, Ordering::Relaxed);
    result
}

/// sha256 of the stored (compressed) bytes.
fn blob_digest(file: &File, offset: u64, len: u64) -> std::io::Result<String> {
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut section = std::io::Read::take(
        super::plain::Section {
            file,
            start: offset,
            len,
            pos: 0,
        },
        len,
    );
    loop {
        let n = section.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha2::Digest::update(&mut h, &buf[..n]);
    }
    Ok(hex_digest(h))
}
