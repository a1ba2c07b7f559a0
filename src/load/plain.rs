//! Uncompressed layers stored in a file (a layer's byte range in a
//! docker-archive, or a blob of an OCI layout directory).
//!
//! The bytes the walk needs are read with positional reads (no shared
//! cursor, so many layers are read at once) into a small buffer of the
//! walk's own: headers, the small files hashed with them, larger files in
//! pieces. Reading costs a copy, but mapping the pages costs as much in
//! page faults and in releasing them (both were measured, see
//! docs/performance.md, "load6"), and the copied bytes are in the core's
//! cache when they are hashed. The layer is also mapped read-only: the tar
//! crate reads members with extension headers from the map, and
//! `--verify` hashes the whole map. Where the file cannot be mapped, or
//! the layer is compressed, it is streamed through [`index_layer`] instead.
//!
//! A mapped file that another process truncates while it is read would
//! fault (SIGBUS); image archives are not rewritten in place by the tools
//! that make them (they write a new file), which this relies on.

use std::io::{Cursor, Read};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::capture::Capturer;
use super::layer::{
    classify, describe, hex_digest, index_layer, index_tar, link_name, lossy, unread_hash,
    v7_header_ok, Classified, Compression, Digests, EntryKind, LayerIndex, Member, Progress, BUF,
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

#[cfg(unix)]
fn read_at(f: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, off)
}

#[cfg(windows)]
fn read_at(f: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, off)
}

/// Index a layer stored at `[offset, offset+len)` of a file: mapped when it
/// is an uncompressed tar, streamed through its decoder otherwise; with
/// `verify` (`--verify`), its digests computed too (and every file hashed).
/// With a `census` of the image's file sizes, a mapped layer's files whose
/// size no other file has are not read (see [`Census`]).
pub fn index_layer_at(
    file: &std::fs::File,
    offset: u64,
    len: u64,
    loc: &Location,
    progress: Arc<Progress>,
    verify: bool,
    census: Option<&Census>,
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
        return index_layer(section(), loc, progress, verify);
    };
    let census = census.filter(|_| !verify);
    let result = index_mapped(&map, (file, offset), loc, &progress, census).map(|mut ix| {
        if verify {
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

/// Content bytes hashed per batch (files read in pieces wait for their
/// batch; those in the walk's buffer are hashed before it is refilled).
const WINDOW: u64 = 2 << 20;
/// `--verify` hashes the map in pieces of this size, each released once
/// hashed.
const PIECE: usize = 2 << 20;
/// Most bytes of a layer walked past between two releases of the map's
/// pages (those the tar crate touched reading extension headers).
const SPAN: u64 = 32 << 20;

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

/// A regular file met by the walk, waiting for its batch.
struct Pending {
    /// Index into the layer's entries.
    i: u32,
    /// Offset of its content within the layer.
    pos: u64,
    size: u64,
    /// Hash its content (else it gets the stand-in of an unread file).
    read: bool,
    /// Its content is in the walk's read buffer (else in the map).
    buffered: bool,
    cap: Option<Capturer>,
}

/// Bytes of a layer read at a time into the walk's buffer when every file
/// is hashed (no census): small enough to stay in the core's cache while
/// its headers are walked and its files hashed. A quarter of a 512 KiB L2
/// (512 KiB, the whole of it, ran 0.86-0.89 s on the 1M-file image against
/// 0.72-0.74 s, more syscalls notwithstanding). Also the piece size in
/// which larger files are read (a multiple of the ELF scanner's step, so
/// that it sees the pieces a slice of the whole file gave it).
const READ_BUF: usize = 128 << 10;
/// Files larger than this are read in pieces of their own, not through the
/// walk's buffer. A file that does not fit in what is left of the buffer
/// is read again from its header (copied twice at worst).
const READ_MAX_FILE: u64 = (READ_BUF - 512) as u64;
/// Bytes read at a header when the content after it is not wanted (the
/// size skim; a file the census leaves unread): the header, the first
/// bytes of the content (an unread file's capture looks at its first four),
/// and the next headers when the files are small. A page: a read call
/// costs about what copying 4-8 KiB does.
const HEAD_READ: usize = 4 << 10;
/// After a member of at most this many bytes, the next header is likely
/// followed by more small members: whole windows are read (on the 1M-file
/// image the skim took 0.1 s more a page at a time).
const DENSE: u64 = 8 << 10;

/// A window of the layer's bytes read (copied) into memory of its own:
/// `data[..filled]` holds the layer's bytes from `at` on.
struct ReadBuf<'f> {
    file: &'f std::fs::File,
    /// The layer's offset in the file.
    offset: u64,
    len: u64,
    /// [`READ_BUF`] bytes, zeroed once.
    data: Vec<u8>,
    filled: usize,
    at: u64,
    /// The bytes the last fill was asked for (from `at`).
    asked: u64,
    /// Bytes read at a header when nothing asks for more: [`READ_BUF`]
    /// when every file's content is wanted, [`HEAD_READ`] otherwise.
    head: usize,
    /// The last member's content was wanted, or it was small: read whole
    /// windows (a run of small files read one after the other).
    run: bool,
}

impl<'f> ReadBuf<'f> {
    fn new(file: &'f std::fs::File, offset: u64, len: u64, head: usize) -> ReadBuf<'f> {
        ReadBuf {
            file,
            offset,
            len,
            data: vec![0; READ_BUF],
            filled: 0,
            at: 0,
            asked: 0,
            head,
            run: false,
        }
    }

    /// The layer's bytes `[pos, pos + size)`, when the buffer holds them.
    fn get(&self, pos: u64, size: u64) -> Option<&[u8]> {
        self.holds(pos, size)
            .then(|| &self.data[(pos - self.at) as usize..][..size as usize])
    }

    /// Does the buffer hold the layer's bytes `[pos, pos + size)`?
    fn holds(&self, pos: u64, size: u64) -> bool {
        pos >= self.at && pos + size <= self.at + self.filled as u64
    }

    /// Read the layer's bytes from `at` on: at least `need` of them (a
    /// header and maybe a file's content), as many as the buffer's policy
    /// says, as many as the layer has.
    fn fill(&mut self, at: u64, need: u64) -> std::io::Result<()> {
        let n = if need > 512 || self.run {
            READ_BUF
        } else {
            self.head
        };
        let want = (self.len.saturating_sub(at)).min(n.max(need as usize) as u64) as usize;
        let got = read_full(self.file, &mut self.data[..want], self.offset + at)?;
        self.filled = got;
        self.at = at;
        self.asked = need;
        Ok(())
    }
}

/// Read into `buf` from `off` until it is full or the file ends: the
/// bytes read.
fn read_full(file: &std::fs::File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match read_at(file, &mut buf[got..], off + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Read `size` bytes of `file` from `at` on in pieces of [`READ_BUF`] bytes
/// into a buffer of this thread's, and hand each piece to `f` until it
/// returns false. A file shorter than that is an error.
fn read_pieces(
    file: &std::fs::File,
    at: u64,
    size: u64,
    mut f: impl FnMut(&[u8]) -> bool,
) -> std::io::Result<()> {
    thread_local! {
        static PIECES: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    PIECES.with_borrow_mut(|buf| {
        buf.resize(READ_BUF, 0);
        let mut done = 0u64;
        while done < size {
            let n = (size - done).min(READ_BUF as u64) as usize;
            if read_full(file, &mut buf[..n], at + done)? < n {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file ends inside a member's content (was it truncated while read?)",
                ));
            }
            done += n as u64;
            if !f(&buf[..n]) {
                break;
            }
        }
        Ok(())
    })
}

/// Hash a batch of files in parallel, a few files per task, and feed their
/// captures (an unread file's capture reads only what it looks at): from
/// the walk's buffer `buf` when they are in it, else read in pieces from
/// the layer's file.
fn hash_batch(
    (file, offset): (&std::fs::File, u64),
    buf: Option<&ReadBuf<'_>>,
    batch: &mut Vec<Pending>,
    out: &mut LayerIndex,
    progress: &Progress,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    if batch.is_empty() {
        return Ok(());
    }
    let feed = |cap: &mut Option<Capturer>, chunk: &[u8]| {
        if let Some(c) = cap {
            for part in chunk.chunks(BUF * 4) {
                c.feed(part);
            }
        }
    };
    // Collected as results (indexed, one vector) and checked after.
    let done: Vec<std::io::Result<Hashed>> = batch
        .par_drain(..)
        .with_min_len(16)
        .map(
            |Pending {
                 i,
                 pos,
                 size,
                 read,
                 buffered,
                 cap,
             }| {
                let mut cap = cap;
                // One-shot xxh3 over a slice gives the streamed hash's digest.
                let h = if let Some(body) = buf.filter(|_| buffered).and_then(|b| b.get(pos, size))
                {
                    feed(&mut cap, body);
                    if read {
                        crate::xxh3::hash128(body)
                    } else {
                        unread_hash(size)
                    }
                } else {
                    let mut h = read.then(crate::xxh3::Xxh3::new);
                    read_pieces(file, offset + pos, size, |piece| {
                        if let Some(h) = &mut h {
                            h.update(piece);
                        }
                        feed(&mut cap, piece);
                        h.is_some() || cap.as_ref().is_some_and(Capturer::wants_more)
                    })?;
                    match h {
                        Some(h) => h.digest128(),
                        None => unread_hash(size),
                    }
                };
                progress.read.fetch_add(size, Ordering::Relaxed);
                if read {
                    progress.hashed.fetch_add(size, Ordering::Relaxed);
                }
                Ok((i, h, cap.and_then(Capturer::finish)))
            },
        )
        .collect();
    for d in done {
        let (i, h, cap) = d?;
        out.set_hash(i as usize, h);
        if let Some(c) = cap {
            out.captures.push((i, c));
        }
    }
    Ok(())
}

/// Where the walk of a mapped layer is: the index so far and the files
/// waiting to be hashed.
struct Walk<'m> {
    map: &'m memmap2::Mmap,
    /// The layer's file and its offset there, for the files read in pieces.
    file: (&'m std::fs::File, u64),
    loc: &'m Location,
    progress: &'m Progress,
    /// Which files to hash (None: all of them).
    census: Option<&'m Census>,
    out: LayerIndex,
    batch: Vec<Pending>,
    batch_bytes: u64,
    released: usize,
    budget: u64,
    /// End of the last entry's content: what the header pass has covered.
    scanned: u64,
    /// Files of the batch whose content is in the walk's buffer.
    buffered: bool,
    /// The first read of a file's content that failed.
    failed: Option<std::io::Error>,
}

impl Walk<'_> {
    /// Hash the files met so far (those read into `buf` from it).
    fn hash_pending(&mut self, buf: Option<&ReadBuf<'_>>) {
        let hashed = hash_batch(
            self.file,
            buf,
            &mut self.batch,
            &mut self.out,
            self.progress,
        );
        self.buffered = false;
        if let Err(e) = hashed {
            self.batch.clear();
            self.failed.get_or_insert(e);
        }
    }

    /// The error of a failed read, as the layer's.
    fn check(&mut self) -> Result<()> {
        match self.failed.take() {
            Some(e) => Err(Error::format(
                self.loc.clone(),
                describe(&e, Compression::None),
            )),
            None => Ok(()),
        }
    }
}

impl Members for Walk<'_> {
    /// One member whose contents are `size` bytes at `pos` (in `buf` too,
    /// when it holds them).
    fn member(
        &mut self,
        m: &Member<'_>,
        pos: u64,
        size: u64,
        buf: Option<&ReadBuf<'_>>,
    ) -> Result<()> {
        self.check()?;
        let len = self.map.len() as u64;
        // The entry's content and its padding to 512 bytes must be there, as
        // reading the same layer as a stream requires (seeking past the end
        // would not notice a layer cut inside the padding).
        let padded = size.div_ceil(512).saturating_mul(512);
        if pos.saturating_add(padded) > len {
            return Err(Error::format(
                self.loc.path(lossy(m.path)),
                format!(
                    "truncated: the entry and its padding need {padded} bytes, only {} present",
                    len.saturating_sub(pos)
                ),
            ));
        }
        let i = match classify(m, Compression::None, self.loc, &mut self.out)? {
            Classified::Entry(i) => i,
            _ => return Ok(()),
        };
        let e = self.out.entries[i as usize];
        // Header bytes count as read now; content bytes when hashed.
        self.progress
            .read
            .fetch_add(pos.saturating_sub(self.scanned), Ordering::Relaxed);
        self.scanned = pos.saturating_add(if e.kind == EntryKind::File { e.size } else { 0 });
        if e.kind == EntryKind::File {
            if pos.saturating_add(e.size) > len {
                return Err(Error::format(
                    self.loc.path(lossy(self.out.path(&e))),
                    format!(
                        "truncated: entry declares {} bytes, only {} present",
                        e.size,
                        len.saturating_sub(pos)
                    ),
                ));
            }
            let cap = Capturer::new(self.out.path(&e), e.size, &mut self.budget);
            let read = self.census.is_none_or(|c| c.must_read(e.size));
            // An unread file that is not ELF (its first four bytes, most
            // often read with its header) has nothing to capture.
            let cap = match cap {
                Some(Capturer::Sniff(_)) if !read => match buf.and_then(|b| b.get(pos, 4)) {
                    Some(magic) if magic != b"\x7fELF" => None,
                    _ => cap,
                },
                cap => cap,
            };
            if read || cap.is_some() {
                let buffered = buf.is_some_and(|b| b.holds(pos, e.size));
                self.buffered |= buffered;
                self.batch.push(Pending {
                    i,
                    pos,
                    size: e.size,
                    read,
                    buffered,
                    cap,
                });
            } else {
                // Nothing of it is needed: settled without touching it.
                self.out.set_hash(i as usize, unread_hash(e.size));
                self.progress.read.fetch_add(e.size, Ordering::Relaxed);
            }
            if read {
                self.batch_bytes += e.size;
            }
            // Also let go of the header pages of long runs of unread files.
            if self.batch_bytes >= WINDOW || pos - self.released as u64 >= SPAN {
                self.hash_pending(buf);
                let end = (pos + e.size) as usize;
                release(self.map, self.released, end);
                self.released = end;
                self.batch_bytes = 0;
            }
        }
        self.progress.entries.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn wants_content(&self, size: u64) -> bool {
        self.census.is_none_or(|c| c.must_read(size))
    }

    fn flush(&mut self, buf: &ReadBuf<'_>) {
        // Only the files in the buffer must be hashed before it is refilled.
        if self.buffered {
            self.hash_pending(Some(buf))
        }
    }
}

/// A numeric header field the mapped walk reads itself: octal digits
/// between spaces, up to the first NUL. None for anything else (empty,
/// base-256, other characters, more than 21 digits): the tar crate then
/// reads the member. The usual form (digits, then a NUL) is read eight
/// bytes at a time; any other by [`octal_bytes`].
fn octal(field: &[u8]) -> Option<u64> {
    let Some(head) = field.first_chunk::<8>() else {
        return octal_bytes(field);
    };
    let w = u64::from_le_bytes(*head);
    const LOW3: u64 = 0x0707_0707_0707_0707;
    // Zero where a byte is an octal digit (0x30-0x37), its high bit set
    // where it is not (exact per byte: no carry crosses a byte).
    let other = (w & !LOW3) ^ 0x3030_3030_3030_3030;
    let not_digit = ((other & 0x7f7f_7f7f_7f7f_7f7f).wrapping_add(0x7f7f_7f7f_7f7f_7f7f) | other)
        & 0x8080_8080_8080_8080;
    let k = (not_digit.trailing_zeros() / 8) as usize;
    // Digits then a NUL (or eight digits and more bytes, read one by one).
    if k == 0 || (k < 8 && field[k] != 0) {
        return octal_bytes(field);
    }
    // The first k digits' values, moved to the top bytes (the bytes below
    // are leading zeros), then combined in pairs: byte 0 is the most
    // significant digit.
    let d = (w & LOW3) << (8 * (8 - k));
    let d = ((d << 3) + (d >> 8)) & 0x00ff_00ff_00ff_00ff;
    let d = ((d << 6) + (d >> 16)) & 0x0000_ffff_0000_ffff;
    let mut v = ((d << 12) + (d >> 32)) & 0xff_ffff;
    if k == 8 {
        let mut digits = 8u32;
        for &b in &field[8..] {
            match b {
                0 => break,
                b'0'..=b'7' => {
                    v = v.wrapping_mul(8) | (b - b'0') as u64;
                    digits += 1;
                }
                _ => return octal_bytes(field),
            }
        }
        if digits > 21 {
            return None;
        }
    }
    Some(v)
}

/// [`octal`] one byte at a time.
fn octal_bytes(field: &[u8]) -> Option<u64> {
    let (mut v, mut digits, mut after) = (0u64, 0u32, false);
    for &b in field {
        match b {
            0 => break,
            b' ' => after = digits > 0,
            b'0'..=b'7' if !after => {
                v = v.wrapping_mul(8) | (b - b'0') as u64;
                digits += 1;
            }
            _ => return None,
        }
    }
    (1..=21).contains(&digits).then_some(v)
}

/// The sum of a header block's bytes (for its checksum).
fn byte_sum(h: &[u8]) -> u32 {
    let h = &h[..512];
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        #[allow(unused_unsafe)]
        // SAFETY: SSE2 is part of x86_64; each load reads 16 bytes of a
        // 16-byte chunk of `h`.
        unsafe {
            let zero = _mm_setzero_si128();
            let mut acc = zero;
            for c in h.chunks_exact(16) {
                let v = _mm_loadu_si128(c.as_ptr() as *const __m128i);
                acc = _mm_add_epi64(acc, _mm_sad_epu8(v, zero));
            }
            let hi = _mm_unpackhi_epi64(acc, acc);
            (_mm_cvtsi128_si64(acc) + _mm_cvtsi128_si64(hi)) as u32
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    h.iter().map(|&b| b as u32).sum()
}

fn until_nul(b: &[u8]) -> &[u8] {
    match memchr::memchr(0, b) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// A member described by one plain ustar or GNU header: a valid checksum,
/// octal fields, a type without extension semantics (regular, link,
/// symlink, device, directory, fifo, contiguous). These it reads as the
/// tar crate does; for anything else (PAX and GNU extension headers, sparse
/// files, old v7 headers, a bad checksum or field) it returns None and the
/// tar crate reads the member, with its limits and its errors.
pub(super) fn plain_header<'a>(h: &'a [u8], scratch: &'a mut Vec<u8>) -> Option<(Member<'a>, u64)> {
    let ustar = &h[257..265] == b"ustar\x0000";
    if !ustar && &h[257..265] != b"ustar  \x00" {
        return None;
    }
    let typ = h[156];
    if !matches!(typ, 0 | b'0'..=b'7') {
        return None;
    }
    // The checksum counts its own field as spaces. Summing the whole block
    // and taking that field back out lets the sum run as vector code.
    let all = byte_sum(h);
    let field: u32 = h[148..156].iter().map(|&b| b as u32).sum();
    let sum = all - field + 8 * 32;
    if sum != octal(&h[148..156])? as u32 {
        return None;
    }
    let size = octal(&h[124..136])?;
    let mode = octal(&h[100..108])? as u32;
    let uid = octal(&h[108..116])?;
    let gid = octal(&h[116..124])?;
    let name = until_nul(&h[..100]);
    // POSIX ustar: a prefix, then the name (GNU headers keep other fields there).
    let path: &'a [u8] = if ustar && h[345] != 0 {
        scratch.clear();
        scratch.extend_from_slice(until_nul(&h[345..500]));
        scratch.push(b'/');
        scratch.extend_from_slice(name);
        scratch
    } else {
        name
    };
    let link = (h[157] != 0).then(|| until_nul(&h[157..257]));
    let m = Member {
        path,
        link,
        etype: tar::EntryType::new(typ),
        mode,
        uid,
        gid,
        size,
    };
    Some((m, size))
}

/// How a walk over a mapped layer's members ended.
enum Walked {
    /// At the end-of-archive marker or the end of the bytes.
    End,
    /// At a sparse file, which needs the tar crate's reassembly (streamed).
    Sparse,
}

/// What [`walk_members`] does with each member.
trait Members {
    /// One member, its contents `size` bytes at `pos` (also in `buf`, the
    /// walk's read buffer, when it holds them).
    fn member(
        &mut self,
        m: &Member<'_>,
        pos: u64,
        size: u64,
        buf: Option<&ReadBuf<'_>>,
    ) -> Result<()>;
    /// Is the content of a file of `size` bytes wanted (read with its
    /// header when it is small)?
    fn wants_content(&self, _size: u64) -> bool {
        false
    }
    /// The read buffer is about to be refilled: whatever refers to its
    /// bytes is done with them now.
    fn flush(&mut self, _buf: &ReadBuf<'_>) {}
}

/// Each member to a closure (no read buffer).
struct Visit<F>(F);

impl<F: FnMut(&Member<'_>, u64, u64) -> Result<()>> Members for Visit<F> {
    fn member(
        &mut self,
        m: &Member<'_>,
        pos: u64,
        size: u64,
        _buf: Option<&ReadBuf<'_>>,
    ) -> Result<()> {
        (self.0)(m, pos, size)
    }
}

/// Visit every member of the tar in `bytes` in order, with the position and
/// size of its contents: plain headers read straight from the map (no
/// copy), or from `buf` when given (the layer read into it a window at a
/// time, each small file's header and content in one window), members
/// with extension headers by the tar crate from the map at their offset.
fn walk_members(
    bytes: &[u8],
    corrupt: impl Fn(std::io::Error) -> Error,
    mut buf: Option<&mut ReadBuf<'_>>,
    src: &mut impl Members,
) -> Result<Walked> {
    let mut scratch = Vec::new();
    // The next header, and how many bytes from there the buffer must hold.
    let mut at = 0usize;
    let mut want = 512u64;
    while at < bytes.len() {
        if let Some(b) = buf.as_deref_mut() {
            if !b.holds(at as u64, want) {
                src.flush(b);
                b.fill(at as u64, want).map_err(&corrupt)?;
            }
        }
        want = 512;
        let view = buf.as_deref();
        let head = match view {
            Some(b) => b.get(at as u64, 512),
            None => bytes.get(at..at + 512),
        };
        if head.is_some_and(|h| h.iter().all(|&b| b == 0)) {
            break; // the end-of-archive marker
        }
        if let Some((m, size)) = head.and_then(|h| plain_header(h, &mut scratch)) {
            let pos = at as u64 + 512;
            // A small file's content read with its header, once, when it
            // is wanted.
            let wanted = src.wants_content(size);
            if let Some(b) = view {
                if wanted
                    && size <= READ_MAX_FILE
                    && !b.holds(pos, size)
                    && !(b.at == at as u64 && b.asked >= 512 + size)
                {
                    want = 512 + size;
                    continue;
                }
            }
            src.member(&m, pos, size, view)?;
            if let Some(b) = buf.as_deref_mut() {
                if size > 0 {
                    b.run = wanted || size <= DENSE;
                }
            }
            at = (pos + size.div_ceil(512) * 512) as usize;
            continue;
        }
        // The tar crate reads this member (and its extension headers) from
        // here, guarded as a whole layer is. A global PAX header is a member
        // of its own whose contents the guard judges when the crate seeks
        // over them: the crate reads on to the next member then.
        let mut archive = tar::Archive::new(super::guard::TarGuard::new(Cursor::new(&bytes[at..])));
        let mut iter = archive.entries_with_seek().map_err(&corrupt)?;
        let mut next = None;
        for item in iter.by_ref() {
            let entry = item.map_err(&corrupt)?;
            if entry.header().entry_type() == tar::EntryType::GNUSparse {
                return Ok(Walked::Sparse);
            }
            let pos = at as u64 + entry.raw_file_position();
            let size = entry.size();
            let path = entry.path_bytes();
            let link = link_name(&entry);
            let m = Member::of(&entry, &path, link.as_deref());
            src.member(&m, pos, size, buf.as_deref())?;
            next = Some((pos + size.div_ceil(512) * 512) as usize);
            if entry.header().entry_type() != tar::EntryType::XGlobalHeader {
                break;
            }
            next = None;
        }
        match next {
            Some(n) => at = n,
            None => break,
        }
    }
    Ok(Walked::End)
}

/// The layer's tar, walked through the walk's buffer (`walk_members`);
/// the files met are hashed in parallel, from the buffer before it is
/// refilled, the larger ones read in pieces every `WINDOW` of content.
fn index_mapped(
    map: &memmap2::Mmap,
    (file, offset): (&std::fs::File, u64),
    loc: &Location,
    progress: &Progress,
    census: Option<&Census>,
) -> Result<LayerIndex> {
    let bytes = &map[..];
    let mut w = Walk {
        map,
        file: (file, offset),
        loc,
        progress,
        census,
        out: LayerIndex::new(Compression::None),
        batch: Vec::new(),
        batch_bytes: 0,
        released: 0,
        budget: super::capture::LAYER_BUDGET,
        scanned: 0,
        buffered: false,
        failed: None,
    };
    // The bytes the walk needs are read (copied) into a small buffer of its
    // own: a copy costs less than mapping the pages and releasing them, and
    // leaves the bytes in the core's cache for the walk and the hashes.
    // When every file is hashed, every byte is read, a window at a time;
    // with a census, a header and what follows it, whole windows only
    // while the files met are hashed.
    let head = if census.is_none() {
        READ_BUF
    } else {
        HEAD_READ
    };
    let mut buf = ReadBuf::new(file, offset, map.len() as u64, head);
    let corrupt = |e: std::io::Error| Error::format(loc.clone(), describe(&e, Compression::None));
    if let Walked::Sparse = walk_members(bytes, corrupt, Some(&mut buf), &mut w)? {
        // Sparse files need the tar crate's reassembly: stream instead.
        return index_tar(Cursor::new(bytes), Compression::None, loc, progress);
    }
    w.hash_pending(Some(&buf));
    w.check()?;
    let Walk {
        mut out, scanned, ..
    } = w;
    out.compact();
    progress.read.fetch_add(
        (bytes.len() as u64).saturating_sub(scanned),
        Ordering::Relaxed,
    );
    Ok(out)
}

/// Which regular files of an image stored in seekable files need their
/// content hashed: those whose size another file of the image shares (in
/// any layer, at any path). A file of a size no other file has can equal
/// no other file, so its content is never compared: it gets a stand-in
/// hash ([`super::layer::unread_hash`]) and only what the captures need of
/// it (an ELF header, a package database) is read.
#[derive(Debug, Default)]
pub struct Census {
    shared: rustc_hash::FxHashSet<u64>,
}

impl Census {
    /// The census of every regular-file size of an image's layers, one
    /// list a layer (each size once per file).
    pub fn of(sizes: impl IntoIterator<Item = Vec<u64>>) -> Census {
        let mut all: Vec<u64> = sizes.into_iter().flatten().collect();
        all.sort_unstable();
        let shared = all
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        Census { shared }
    }

    /// Must a file of `size` bytes be hashed?
    pub fn must_read(&self, size: u64) -> bool {
        self.shared.contains(&size)
    }
}

/// The sizes of the members of a layer stored at `[offset, offset+len)` of
/// `file` that may be regular files (every member but directories, links
/// and devices: more sizes only means more files hashed), walking its
/// headers in place and seeking over contents. None when the layer is not
/// a plain tar that can be mapped (compressed, sparse files, unreadable):
/// then every file of the image is hashed.
pub fn skim_sizes(
    file: &std::fs::File,
    offset: u64,
    len: u64,
    budget: &SkimBudget,
) -> Option<Vec<u64>> {
    let mut head = [0u8; 512];
    if len < 512 || read_at(file, &mut head, offset).ok()? != 512 {
        return None;
    }
    if head.iter().all(|&b| b == 0) {
        // An empty tar (an empty layer): no member, as the index reads it.
        return Some(Vec::new());
    }
    let plain_tar = Compression::detect(&head) == Compression::None
        && (&head[257..262] == b"ustar" || v7_header_ok(&head));
    if !plain_tar {
        return None;
    }
    let map = map(file, offset, len)?;
    let mut sizes = Vec::new();
    let mut released = 0usize;
    // Headers are read (copied) a page at a time, the contents skipped;
    // the map serves only the members with extension headers, which the
    // tar crate reads.
    let mut buf = ReadBuf::new(file, offset, len, HEAD_READ);
    let walked = walk_members(
        &map[..],
        |e| Error::format(Location::source(""), e.to_string()),
        Some(&mut buf),
        &mut Visit(|m: &Member<'_>, pos: u64, size: u64| {
            use tar::EntryType as T;
            if budget.left.fetch_sub(1, Ordering::Relaxed) <= 0 {
                return Err(Error::format(Location::source(""), "small files"));
            }
            if !matches!(
                m.etype,
                T::Directory | T::Symlink | T::Link | T::Char | T::Block | T::Fifo
            ) {
                sizes.push(size);
            }
            // The extension headers' pages touched so far are let go as the
            // walk moves on.
            let here = pos as usize;
            if here - released.min(here) >= SKIM_RELEASE {
                release(&map, released, here);
                released = here;
            }
            Ok(())
        }),
    );
    release(&map, released, map.len());
    match walked {
        Ok(Walked::End) => Some(sizes),
        _ => None,
    }
}

/// Header pages the size skim keeps mapped at most.
const SKIM_RELEASE: usize = 4 << 20;

/// How many headers the size skim of one image may walk: as many as its
/// layers' bytes hold files of [`SKIM_MEAN`] bytes on average (at least
/// [`SKIM_LEAST`]). Past that the
/// image is one of many small files: hashing them costs about what walking
/// their headers a second time does, and their sizes are mostly shared
/// anyway (1M files of ~1 KB: every file hashed, and the skim cost 25% more
/// wall time), so the skim stops and every file is hashed.
#[derive(Debug)]
pub struct SkimBudget {
    left: std::sync::atomic::AtomicI64,
}

/// See [`SkimBudget`].
const SKIM_MEAN: u64 = 32 << 10;
/// Headers any image's skim may walk (a few milliseconds' work).
const SKIM_LEAST: u64 = 1 << 16;

impl SkimBudget {
    /// The budget for layers of `bytes` bytes in all.
    pub fn for_bytes(bytes: u64) -> SkimBudget {
        SkimBudget {
            left: ((bytes / SKIM_MEAN).clamp(SKIM_LEAST, i64::MAX as u64) as i64).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The eight-bytes-at-a-time reading and the byte loop agree on
        /// fields of a header's widths (and shorter and longer ones).
        #[test]
        fn octal_fields_read_as_byte_by_byte(f in proptest::collection::vec(
            proptest::sample::select(b"01234567 8x\0".to_vec()), 0..26)
        ) {
            proptest::prop_assert_eq!(octal(&f), octal_bytes(&f));
        }

        #[test]
        fn usual_octal_fields_read_as_byte_by_byte(
            v in 0u64..(1 << 33), width in 1usize..12, pad in 0usize..3
        ) {
            let mut f = format!("{v:0width$o}").into_bytes();
            f.push(0);
            f.extend(std::iter::repeat_n(b' ', pad));
            proptest::prop_assert_eq!(octal(&f), octal_bytes(&f));
            proptest::prop_assert_eq!(octal(&f), Some(v));
        }
    }

    /// The layer in `data` read as a stream (the reference reading).
    fn streamed(data: &[u8]) -> LayerIndex {
        index_tar(
            Cursor::new(data),
            Compression::None,
            &Location::source("t"),
            &Progress::default(),
        )
        .unwrap()
    }

    use super::super::layer::entry_keys as key;

    /// A layer tar (its two end blocks added) in a file, and its length.
    fn layer_file(mut data: Vec<u8>) -> (std::fs::File, u64) {
        data.extend([0u8; 1024]);
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &data).unwrap();
        (f, data.len() as u64)
    }

    /// The layer in `f` indexed without a census, then with one of `sizes`.
    fn without_and_with_census(
        f: &std::fs::File,
        len: u64,
        sizes: Vec<u64>,
    ) -> (LayerIndex, LayerIndex) {
        let census = Census::of([sizes]);
        let loc = Location::source("t");
        let index =
            |c| index_layer_at(f, 0, len, &loc, Arc::new(Progress::default()), false, c).unwrap();
        (index(None), index(Some(&census)))
    }

    /// The hash the index holds for the file at `p`.
    fn hash_of(ix: &LayerIndex, p: &str) -> u128 {
        ix.entries
            .iter()
            .find(|e| ix.path(e) == p.as_bytes())
            .unwrap()
            .hash()
    }

    use super::super::layer::test_header as header;

    #[test]
    fn mapped_walk_reads_headers_as_the_stream_does() {
        let mut b = tar::Builder::new(Vec::new());
        let long = format!("usr/share/{}/file.txt", "d".repeat(120));
        let longer = format!("opt/{}/x", "e".repeat(300));
        for gnu in [false, true] {
            let mut h = header(tar::EntryType::Directory, 0, gnu);
            b.append_data(&mut h, "usr/", &b""[..]).unwrap();
            let mut h = header(tar::EntryType::Regular, 5, gnu);
            b.append_data(&mut h, "./usr/a.txt", &b"hello"[..]).unwrap();
            // A ustar prefix (POSIX), or a GNU long name.
            let mut h = header(tar::EntryType::Regular, 3, gnu);
            b.append_data(&mut h, &long, &b"abc"[..]).unwrap();
            let mut h = header(tar::EntryType::Symlink, 0, gnu);
            b.append_link(&mut h, "usr/link", "a.txt").unwrap();
            let mut h = header(tar::EntryType::Link, 0, gnu);
            b.append_link(&mut h, "usr/hard", "usr/a.txt").unwrap();
            let mut h = header(tar::EntryType::Regular, 0, gnu);
            b.append_data(&mut h, "usr/.wh.gone", &b""[..]).unwrap();
            let mut h = header(tar::EntryType::Regular, 0, gnu);
            b.append_data(&mut h, "usr/.wh..wh..opq", &b""[..]).unwrap();
            let mut h = header(tar::EntryType::Fifo, 0, gnu);
            b.append_data(&mut h, "run/fifo", &b""[..]).unwrap();
        }
        // A PAX path, size-less and sized members after it.
        let mut h = header(tar::EntryType::Regular, 4, false);
        b.append_pax_extensions([("path", longer.as_bytes())])
            .unwrap();
        b.append_data(&mut h, "short", &b"wxyz"[..]).unwrap();
        let mut h = header(tar::EntryType::Regular, 2, false);
        b.append_data(&mut h, "after/pax", &b"ok"[..]).unwrap();
        let mut data = b.into_inner().unwrap();
        data.extend([0u8; 1024]);
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &data).unwrap();
        let loc = Location::source("t");
        let mapped = index_layer_at(
            &f,
            0,
            data.len() as u64,
            &loc,
            Arc::new(Progress::default()),
            false,
            None,
        )
        .unwrap();
        let streamed = streamed(&data);
        assert_eq!(key(&mapped), key(&streamed));
        let k = key(&mapped);
        assert!(k.iter().any(|l| l.contains(&long)), "{k:?}");
        assert!(k.iter().any(|l| l.contains(&longer)), "{k:?}");
        assert!(k.iter().any(|l| l.contains("Whiteout")), "{k:?}");
        assert_eq!(k.len(), 2 * 8 + 2, "{k:?}");
    }

    /// Read through the walk's buffer (no census): files and headers on
    /// both sides of a refill, files too large for it (hashed from the
    /// map), extension headers (read by the tar crate from the map) and
    /// a layer at an offset of its file give what the stream gives.
    #[test]
    fn buffered_walk_reads_as_the_stream_does() {
        let mut b = tar::Builder::new(Vec::new());
        let mut n = 0u64;
        let mut total = 0u64;
        while total < 3 * READ_BUF as u64 + READ_MAX_FILE {
            // Sizes from empty to past the buffer's largest file, content
            // that differs from file to file.
            let size = (n * 7919 + n * n * 31) % (READ_MAX_FILE + 40_000);
            let body: Vec<u8> = (0..size).map(|k| (k * 13 + n) as u8).collect();
            let path = if n % 17 == 5 {
                format!("pax/{}/{n}", "p".repeat(150))
            } else {
                format!("d{}/f{n}", n % 5)
            };
            let mut h = header(tar::EntryType::Regular, size, n % 3 == 0);
            if n % 17 == 5 {
                b.append_pax_extensions([("path", path.as_bytes())])
                    .unwrap();
                b.append_data(&mut h, "short", &body[..]).unwrap();
            } else {
                b.append_data(&mut h, &path, &body[..]).unwrap();
            }
            total += size.div_ceil(512) * 512 + 512;
            n += 1;
        }
        let mut data = b.into_inner().unwrap();
        data.extend([0u8; 1024]);
        let mut f = tempfile::tempfile().unwrap();
        let lead = vec![9u8; 4096];
        std::io::Write::write_all(&mut f, &lead).unwrap();
        std::io::Write::write_all(&mut f, &data).unwrap();
        let loc = Location::source("t");
        let p = Arc::new(Progress::default());
        let read =
            index_layer_at(&f, 4096, data.len() as u64, &loc, p.clone(), false, None).unwrap();
        let streamed = streamed(&data);
        assert_eq!(key(&read), key(&streamed));
        assert_eq!(read.entries.len() as u64, n);
        assert_eq!(p.read.load(Ordering::Relaxed), data.len() as u64);
        // A layer cut inside a file's content is refused, as before.
        let cut = data.len() as u64 / 1024 * 512 + 100;
        let err = index_layer_at(&f, 4096, cut, &loc, p, false, None).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    /// With a census, files larger than the walk's buffer are read in
    /// pieces: hashed ones give the hashes of a full reading, and an unread
    /// package database is still captured whole.
    #[test]
    fn a_census_reads_large_files_in_pieces() {
        let mut b = tar::Builder::new(Vec::new());
        let body = |n: usize, seed: u8| -> Vec<u8> {
            (0..n).map(|k| (k as u8).wrapping_mul(31) ^ seed).collect()
        };
        let mut status = b"Package: x\nStatus: install ok installed\n".to_vec();
        status.resize(150_001, b'\n');
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("big1", body(300_000, 1)),
            ("small", body(700, 9)),
            ("big2", body(300_000, 1)),
            ("big3", body(300_000, 2)),
            ("unique", body(200_001, 3)),
            ("var/lib/dpkg/status", status),
        ];
        for (path, body) in &files {
            let mut h = header(tar::EntryType::Regular, body.len() as u64, false);
            b.append_data(&mut h, path, &body[..]).unwrap();
        }
        let (f, len) = layer_file(b.into_inner().unwrap());
        let sizes = skim_sizes(&f, 0, len, &SkimBudget::for_bytes(len)).unwrap();
        let (all, some) = without_and_with_census(&f, len, sizes);
        for p in ["big1", "big2", "big3"] {
            assert_eq!(hash_of(&some, p), hash_of(&all, p), "{p}");
        }
        assert_eq!(hash_of(&some, "big1"), hash_of(&some, "big2"));
        assert_ne!(hash_of(&some, "big1"), hash_of(&some, "big3"));
        assert_eq!(hash_of(&some, "unique"), unread_hash(200_001));
        assert_eq!(key(&some).len(), files.len());
        assert_eq!(some.captures, all.captures);
        assert_eq!(some.captures.len(), 1);
    }

    /// With a census, a file whose size no other file has is settled
    /// without hashing (its stand-in hash), every other one is hashed as
    /// before, and captures are still taken from unread files.
    #[test]
    fn a_census_leaves_files_of_unique_sizes_unread() {
        let mut b = tar::Builder::new(Vec::new());
        let mut elf = b"\x7fELF".to_vec();
        elf.resize(300, 7);
        let files: [(&str, &[u8]); 5] = [
            ("a", b"same"),
            ("b", b"same"),
            ("c", b"diff"),
            ("unique", b"only one of this size"),
            ("bin/tool", &elf),
        ];
        for (path, body) in files {
            let mut h = header(tar::EntryType::Regular, body.len() as u64, false);
            b.append_data(&mut h, path, body).unwrap();
        }
        let data = b.into_inner().unwrap();
        let (f, len) = layer_file(data.clone());
        let budget = |n: i64| SkimBudget { left: n.into() };
        assert!(skim_sizes(&f, 0, len, &budget(4)).is_none());
        let sizes = skim_sizes(&f, 0, len, &budget(5)).unwrap();
        assert_eq!(sizes, vec![4, 4, 4, 21, 300]);
        let (all, some) = without_and_with_census(&f, len, sizes.clone());
        for p in ["a", "b", "c"] {
            assert_eq!(hash_of(&some, p), hash_of(&all, p));
            assert!(!super::super::layer::is_unread(hash_of(&some, p)));
        }
        assert_eq!(hash_of(&some, "a"), hash_of(&some, "b"));
        assert_ne!(hash_of(&some, "a"), hash_of(&some, "c"));
        assert_eq!(hash_of(&some, "unique"), unread_hash(21));
        assert_eq!(hash_of(&some, "bin/tool"), unread_hash(300));
        assert_eq!(some.captures.len(), all.captures.len());
        // Verification reads every byte: then every file is hashed.
        let (census, loc) = (Census::of([sizes]), Location::source("t"));
        let verified = index_layer_at(
            &f,
            0,
            len,
            &loc,
            Arc::new(Progress::default()),
            true,
            Some(&census),
        )
        .unwrap();
        assert_eq!(hash_of(&verified, "unique"), hash_of(&all, "unique"));
        // An empty layer has no sizes; a compressed one is not skimmed.
        let empty = [0u8; 1024];
        let mut fe = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut fe, &empty).unwrap();
        assert_eq!(skim_sizes(&fe, 0, 1024, &budget(5)), Some(vec![]));
        let z = zstd::encode_all(&data[..], 1).unwrap();
        let mut fz = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut fz, &z).unwrap();
        assert!(skim_sizes(&fz, 0, z.len() as u64, &SkimBudget::for_bytes(1 << 30)).is_none());
    }
}
