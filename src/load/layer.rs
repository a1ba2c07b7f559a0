//! Indexing one layer: stream its (possibly compressed) tar once, record every
//! entry's metadata and a content hash of every regular file. Nothing is kept
//! of the contents but the hash, and nothing is written to disk.

use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::xxh3::Xxh3;

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

/// One entry of a layer tar, normalised. Its path and link target are kept
/// in its [`LayerIndex`]'s byte arena: read them with [`LayerIndex::path`]
/// and [`LayerIndex::link`].
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    path_at: u32,
    path_len: u32,
    /// Length of the link target, stored right after the path; NO_LINK for none.
    link_len: u32,
    pub kind: EntryKind,
    /// Content size for regular files, 0 for everything else.
    pub size: u64,
    pub mode: u32,
    /// Owner ids, as the index keeps them (the low 32 bits).
    pub uid: u32,
    pub gid: u32,
    /// xxh3-128 of the content (regular files only), as two halves so that
    /// an entry is aligned to 8 bytes (56 bytes, not 64).
    pub(crate) hash: [u64; 2],
}

const NO_LINK: u32 = u32::MAX;
const _: () = assert!(std::mem::size_of::<Entry>() == 56);

impl Entry {
    /// xxh3-128 of the content (regular files only; 0 for others).
    pub fn hash(&self) -> u128 {
        (self.hash[1] as u128) << 64 | self.hash[0] as u128
    }
}

/// The top half of the hash a regular file is given when its content was
/// not read: its size is shared with no other file of the image, so its
/// content can equal no other file's (see `plain::Census`). The low half is
/// the size, so two unread files of the image never compare equal.
const UNREAD: u64 = 0x756e_7265_6164_2121;

/// The stand-in hash of an unread file of `size` bytes.
pub fn unread_hash(size: u64) -> u128 {
    (UNREAD as u128) << 64 | size as u128
}

/// Is `h` the stand-in of an unread file (no content hash to check a copy
/// of its bytes against)?
pub fn is_unread(h: u128) -> bool {
    (h >> 64) as u64 == UNREAD
}

/// Most bytes of paths and link targets one layer's index holds (offsets
/// are 32-bit): a layer beyond it is refused with this limit named.
pub const MAX_LAYER_PATH_BYTES: usize = u32::MAX as usize - 1;

/// Everything read from one layer.
#[derive(Debug, Clone)]
pub struct LayerIndex {
    pub entries: Vec<Entry>,
    /// Paths and link targets of `entries`, back to back (no per-entry
    /// allocation).
    bytes: Vec<u8>,
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

/// The buffers of layer indexes already merged, for the layers still to
/// be read to fill: their pages are in memory already, where fresh ones
/// would each cost a page fault (several microseconds on a virtual
/// machine: 1M entries in 10 layers fault in ~100 MB of them) and the
/// freed ones an unmap. At most [`MAX_SPARE`] are kept;
/// [`LayerIndex::drop_spare`] lets them go when a load ends.
static SPARE: std::sync::Mutex<Vec<(Vec<Entry>, Vec<u8>)>> = std::sync::Mutex::new(Vec::new());
const MAX_SPARE: usize = 1;

fn spare() -> std::sync::MutexGuard<'static, Vec<(Vec<Entry>, Vec<u8>)>> {
    SPARE.lock().unwrap_or_else(|e| e.into_inner())
}

impl LayerIndex {
    pub fn new(compression: Compression) -> LayerIndex {
        let (entries, bytes) = spare().pop().unwrap_or_default();
        LayerIndex {
            entries,
            bytes,
            compression,
            estargz: false,
            captures: LayerCaptures::new(),
            digests: None,
        }
    }

    /// The entry's path: relative, without leading `/` or `./`, components
    /// joined by `/`; empty for the root directory.
    pub fn path(&self, e: &Entry) -> &[u8] {
        &self.bytes[e.path_at as usize..][..e.path_len as usize]
    }

    /// Symlink target as written, or the normalised hard-link target path.
    pub fn link(&self, e: &Entry) -> Option<&[u8]> {
        (e.link_len != NO_LINK)
            .then(|| &self.bytes[(e.path_at + e.path_len) as usize..][..e.link_len as usize])
    }

    /// Append an entry whose path is `path`.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        path: &[u8],
        kind: EntryKind,
        size: u64,
        mode: u32,
        uid: u64,
        gid: u64,
        link: Option<&[u8]>,
        hash: u128,
    ) -> std::result::Result<u32, String> {
        let at = self.bytes.len();
        self.reserve(path.len() + link.map_or(0, |l| l.len()))?;
        self.bytes.extend_from_slice(path);
        self.finish_push(at, kind, size, mode, uid, gid, link, hash)
    }

    /// Room for `n` more path bytes, or the limit's message.
    fn reserve(&self, n: usize) -> std::result::Result<(), String> {
        if self.bytes.len().saturating_add(n) > MAX_LAYER_PATH_BYTES {
            return Err(format!(
                "the layer's paths take more than the {MAX_LAYER_PATH_BYTES}-byte limit"
            ));
        }
        Ok(())
    }

    /// Make an entry of the path written at `bytes[at..]`.
    #[allow(clippy::too_many_arguments)]
    fn finish_push(
        &mut self,
        at: usize,
        kind: EntryKind,
        size: u64,
        mode: u32,
        uid: u64,
        gid: u64,
        link: Option<&[u8]>,
        hash: u128,
    ) -> std::result::Result<u32, String> {
        let path_len = self.bytes.len() - at;
        if let Some(l) = link {
            self.reserve(l.len())?;
            self.bytes.extend_from_slice(l);
        }
        let i = self.entries.len() as u32;
        self.entries.push(Entry {
            path_at: at as u32,
            path_len: path_len as u32,
            link_len: link.map_or(NO_LINK, |l| l.len() as u32),
            kind,
            size,
            mode,
            uid: uid as u32,
            gid: gid as u32,
            hash: [hash as u64, (hash >> 64) as u64],
        });
        Ok(i)
    }

    /// Give back the spare room the entries and paths grew by (the index
    /// waits in memory until merged).
    pub fn compact(&mut self) {
        self.entries.shrink_to_fit();
        self.bytes.shrink_to_fit();
    }

    /// Done with this index (merged): its entry and path buffers are kept
    /// for the next layer indexed (see [`SPARE`]).
    pub fn recycle(self) {
        let LayerIndex {
            mut entries,
            mut bytes,
            ..
        } = self;
        entries.clear();
        bytes.clear();
        let mut spare = spare();
        if spare.len() < MAX_SPARE {
            spare.push((entries, bytes));
        }
    }

    /// Let go of the buffers kept for layers to come (a load ended).
    pub fn drop_spare() {
        std::mem::take(&mut *spare());
    }

    /// Set entry `i`'s content hash.
    pub fn set_hash(&mut self, i: usize, h: u128) {
        self.entries[i].hash = [h as u64, (h >> 64) as u64];
    }
}

/// `sha256:…` digests of a layer as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub blob: String,
    pub diff: String,
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
struct Hashing<R> {
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
    /// Hashes what passes when `verify` (`--verify`) is on.
    fn new(inner: R, verify: bool) -> Self {
        Hashing {
            inner,
            h: verify.then(<sha2::Sha256 as sha2::Digest>::new),
        }
    }
    fn digest(&mut self) -> Option<String> {
        self.h.take().map(hex_digest)
    }
}

/// Read `r` to its end (what the tar reader left: padding, trailing
/// blocks), so that a digest covers every byte.
fn drain(r: &mut impl Read) -> std::io::Result<()> {
    std::io::copy(r, &mut std::io::sink()).map(|_| ())
}

/// After a compressed layer's tar: when verifying, read the decoder and then
/// the stored blob to their ends and return both digests. `into_raw` takes
/// the decoder apart to reach the blob's (hashing) reader.
fn compressed_digests<D: Read, R: Read>(
    mut dec: Hashing<D>,
    into_raw: impl FnOnce(D) -> BufReader<Hashing<R>>,
) -> std::io::Result<Option<Digests>> {
    if dec.h.is_none() {
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
    /// Content bytes hashed so far (`IMGSCOPE_TIMINGS`): all of a streamed
    /// layer's, only the files that can matter of a mapped one.
    pub hashed: AtomicU64,
    /// Set to 1 when the layer is done.
    pub done: AtomicU64,
    /// Decompress on the indexing thread itself, without [`super::pipe`]'s
    /// second thread: set by [`super::index_layers`] when other layers
    /// keep the other cores busy (no hand-offs, and the decoded bytes are
    /// walked and hashed while still in this core's cache).
    pub inline: AtomicBool,
}

/// Normalise a path from a tar header. Returns `None` for the root itself.
pub fn normalize_path(raw: &[u8]) -> std::result::Result<Option<Vec<u8>>, String> {
    let mut out = Vec::with_capacity(raw.len());
    Ok(normalize_into(raw, &mut out)?.then_some(out))
}

/// Append the normalised form of `raw` to `out`: false (nothing appended)
/// for the root itself.
fn normalize_into(raw: &[u8], out: &mut Vec<u8>) -> std::result::Result<bool, String> {
    Ok(normalize_split_into(raw, out)?.is_some())
}

/// [`normalize_into`], telling where the path appended has its last `/`
/// (`Some(None)`: it has none; `None`: nothing appended, the root).
fn normalize_split_into(
    raw: &[u8],
    out: &mut Vec<u8>,
) -> std::result::Result<Option<Option<usize>>, String> {
    if raw.len() > MAX_PATH_LEN {
        return Err(format!("path of {} bytes is too long", raw.len()));
    }
    // Most paths are normal already, but for a trailing `/`: copied whole.
    let t = raw.strip_suffix(b"/").unwrap_or(raw);
    if let Some(last_slash) = normal_last_slash(t) {
        out.extend_from_slice(t);
        return Ok(Some(last_slash));
    }
    let start = out.len();
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => continue,
            b".." => {
                out.truncate(start);
                return Err(format!(
                    "path {:?} contains '..'",
                    String::from_utf8_lossy(raw)
                ));
            }
            c => {
                if c.contains(&0) {
                    out.truncate(start);
                    return Err("path contains a NUL byte".into());
                }
                if out.len() > start {
                    out.push(b'/');
                }
                out.extend_from_slice(c);
            }
        }
    }
    Ok((out.len() > start).then(|| out[start..].iter().rposition(|&b| b == b'/')))
}

/// Is `t` a normal path (non-empty components, none `.` or `..`, no NUL,
/// no leading or trailing `/`)?
#[cfg(test)]
fn already_normal(t: &[u8]) -> bool {
    normal_last_slash(t).is_some()
}

/// Where `t`'s last `/` is (`Some(None)`: it has none), if `t` is a
/// normal path; None if not.
fn normal_last_slash(t: &[u8]) -> Option<Option<usize>> {
    #[cfg(target_arch = "x86_64")]
    if t.len() <= 64 {
        return normal_last_slash_64(t);
    }
    normal_last_slash_scalar(t)
}

/// [`normal_last_slash`] in one scalar pass (paths are short: this beats a
/// vector search per `/`).
fn normal_last_slash_scalar(t: &[u8]) -> Option<Option<usize>> {
    // `at_start`: the byte is the first of a component.
    let mut at_start = true;
    let mut last_slash = None;
    let mut i = 0;
    while i < t.len() {
        let b = t[i];
        if b == 0 {
            return None;
        }
        if at_start {
            match b {
                b'/' => return None,
                // `.` or `..` as a whole component.
                b'.' => match t.get(i + 1) {
                    None | Some(b'/') => return None,
                    Some(b'.') if matches!(t.get(i + 2), None | Some(b'/')) => return None,
                    _ => {}
                },
                _ => {}
            }
        }
        at_start = b == b'/';
        if at_start {
            last_slash = Some(i);
        }
        i += 1;
    }
    (!at_start).then_some(last_slash)
}

/// [`normal_last_slash`] of a path of at most 64 bytes, by bit masks: one
/// bit a byte for `/`, `.` and NUL (four 16-byte compares), every rule
/// tested on all the bytes at once.
#[cfg(target_arch = "x86_64")]
fn normal_last_slash_64(t: &[u8]) -> Option<Option<usize>> {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
        _mm_setzero_si128,
    };
    let n = t.len();
    if n == 0 {
        return None;
    }
    let mut buf = [0u8; 64];
    buf[..n].copy_from_slice(t);
    let (mut slash, mut dot, mut nul) = (0u64, 0u64, 0u64);
    for k in 0..4 {
        // SAFETY: SSE2 is part of x86_64; the load reads 16 bytes inside
        // `buf` (k * 16 + 16 <= 64), unaligned loads being allowed.
        #[allow(unused_unsafe)]
        let (s, d, z) = unsafe {
            let v = _mm_loadu_si128(buf.as_ptr().add(k * 16) as *const __m128i);
            let mask = |c: i8| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))) as u16;
            (
                mask(b'/' as i8),
                mask(b'.' as i8),
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) as u16,
            )
        };
        slash |= (s as u64) << (k * 16);
        dot |= (d as u64) << (k * 16);
        nul |= (z as u64) << (k * 16);
    }
    let valid = u64::MAX >> (64 - n);
    let last = 1u64 << (n - 1);
    // The first byte of each component.
    let starts = ((slash << 1) | 1) & valid;
    // What follows a byte is a `/` or the end; two bytes on, likewise.
    let then_end = (slash >> 1) | last;
    let then2_end = (slash >> 2) | (last >> 1);
    let bad = (nul & valid)
        | (slash & starts)
        | (slash & last)
        | (dot & starts & then_end)
        | (dot & starts & (dot >> 1) & then2_end);
    if bad != 0 {
        return None;
    }
    let s = slash & valid;
    Some((s != 0).then(|| 63 - s.leading_zeros() as usize))
}

pub(super) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Read buffer size for content hashing.
pub(super) const BUF: usize = 256 * 1024;

/// Index one layer blob, detecting its compression from magic bytes; with
/// `verify` (`--verify`), also compute its blob and diff_id digests.
pub fn index_layer<R: Read + Send>(
    reader: R,
    loc: &Location,
    progress: Arc<Progress>,
    verify: bool,
) -> Result<LayerIndex> {
    let counting = Counted {
        inner: reader,
        tally: progress.clone(),
    };
    let mut buffered = BufReader::with_capacity(BUF, Hashing::new(counting, verify));
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
            let dec = Hashing::new(flate2::bufread::MultiGzDecoder::new(buffered), verify);
            let (ix, tail) = decode_and_index(
                dec,
                verify,
                progress.inline.load(Ordering::Relaxed),
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
            let (ix, tail) = decode_and_index(
                Hashing::new(dec, verify),
                verify,
                progress.inline.load(Ordering::Relaxed),
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
                if verify {
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

/// Run `parse` on the bytes `dec` yields: on this thread when `inline`
/// ([`super::pipe::Inline`]), else with `dec` read on a thread of its own
/// ([`super::pipe::run`]); the same bytes and errors either way. With
/// `want_finish`, `finish(dec)` runs after a successful parse on what the
/// parser left (a read error met past the parser's end comes back there).
fn decode_and_index<D, T, F>(
    dec: Hashing<D>,
    want_finish: bool,
    inline: bool,
    parse: impl FnOnce(&mut dyn BufRead) -> Result<T>,
    finish: impl FnOnce(Hashing<D>) -> std::io::Result<F> + Send,
) -> (Result<T>, Option<std::io::Result<F>>)
where
    D: Read + Send,
    F: Send,
{
    if !inline {
        return super::pipe::run(dec, want_finish, |r| parse(r), finish);
    }
    let mut r = super::pipe::Inline::new(dec);
    let out = parse(&mut r);
    let tail = (want_finish && out.is_ok()).then(|| match r.into_parts() {
        (_, Some(e)) => Err(e),
        // What was read ahead of the parser was hashed when it was read.
        (dec, None) => finish(dec),
    });
    (out, tail)
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
    /// An entry, appended to the layer's index at this position.
    Entry(u32),
}

/// One tar member as its headers describe it (extension headers applied).
pub(super) struct Member<'a> {
    pub path: &'a [u8],
    /// The link name (read for symlinks and hard links only).
    pub link: Option<&'a [u8]>,
    pub etype: tar::EntryType,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// The size of the member's contents.
    pub size: u64,
}

impl<'a> Member<'a> {
    /// The member a tar crate entry describes; `path` and `link` hold its
    /// (possibly extended) names.
    pub(super) fn of<R: Read>(
        entry: &tar::Entry<'_, R>,
        path: &'a [u8],
        link: Option<&'a [u8]>,
    ) -> Member<'a> {
        let header = entry.header();
        Member {
            path,
            link,
            etype: header.entry_type(),
            mode: header.mode().unwrap_or(0),
            uid: header.uid().unwrap_or(0),
            gid: header.gid().unwrap_or(0),
            size: entry.size(),
        }
    }
}

/// The link name of a tar crate entry when its type has one.
pub(super) fn link_name<'e, R: Read>(
    entry: &'e tar::Entry<'_, R>,
) -> Option<std::borrow::Cow<'e, [u8]>> {
    match entry.header().entry_type() {
        tar::EntryType::Symlink | tar::EntryType::Link => entry.link_name_bytes(),
        _ => None,
    }
}

/// Classify a member and append its entry to `out`.
pub(super) fn classify(
    m: &Member<'_>,
    compression: Compression,
    loc: &Location,
    out: &mut LayerIndex,
) -> Result<Classified> {
    let at = out.bytes.len();
    out.reserve(m.path.len())
        .map_err(|msg| Error::format(loc.path(lossy(m.path)), msg))?;
    let last_slash = match normalize_split_into(m.path, &mut out.bytes) {
        Ok(Some(last_slash)) => last_slash,
        Ok(None) => return Ok(Classified::Skip),
        Err(msg) => return Err(Error::format(loc.path(lossy(m.path)), msg)),
    };
    let path = &out.bytes[at..];
    let (dir_len, base_at) = match last_slash {
        Some(i) => (i, i + 1),
        None => (0, 0),
    };
    let base = &path[base_at..];
    if compression == Compression::Gzip
        && dir_len == 0
        && matches!(
            base,
            b"stargz.index.json" | b".prefetch.landmark" | b".no.prefetch.landmark"
        )
    {
        out.bytes.truncate(at);
        return Ok(Classified::Estargz);
    }
    let push = |out: &mut LayerIndex, kind, size, link: Option<&[u8]>| {
        out.finish_push(at, kind, size, m.mode, m.uid, m.gid, link, 0)
            .map(Classified::Entry)
            .map_err(|msg| Error::format(loc.path(lossy(&out.bytes[at..])), msg))
    };
    if let Some(name) = base.strip_prefix(b".wh.") {
        if name == b".wh..opq" {
            out.bytes.truncate(at + dir_len);
            return push(out, EntryKind::Opaque, 0, None);
        } else if name.starts_with(b".wh.") || name.is_empty() {
            // Other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): not files.
            out.bytes.truncate(at);
            return Ok(Classified::Skip);
        }
        let from = at + base_at;
        out.bytes.drain(from..from + 4);
        return push(out, EntryKind::Whiteout, 0, None);
    }
    let kind = match m.etype {
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            EntryKind::File
        }
        tar::EntryType::Directory => EntryKind::Dir,
        tar::EntryType::Symlink => return push(out, EntryKind::Symlink, 0, m.link),
        tar::EntryType::Link => {
            let target = m.link.unwrap_or_default();
            let here = || loc.path(lossy(&out.bytes[at..]));
            return match normalize_path(target) {
                Ok(Some(t)) => push(out, EntryKind::HardLink, 0, Some(&t)),
                Ok(None) => Err(Error::format(here(), "hard link to the root directory")),
                Err(msg) => Err(Error::format(here(), format!("hard link target: {msg}"))),
            };
        }
        tar::EntryType::Char => EntryKind::Char,
        tar::EntryType::Block => EntryKind::Block,
        tar::EntryType::Fifo => EntryKind::Fifo,
        // pax/GNU metadata headers are consumed by the tar crate; anything
        // else unknown is treated as a regular file (its bytes are stored).
        _ => EntryKind::File,
    };
    let size = if kind == EntryKind::File { m.size } else { 0 };
    push(out, kind, size, None)
}

/// The tar's reader, shared by the walk ([`index_tar`]: plain headers, and
/// regular files' contents hashed straight from the reader's buffer) and
/// the tar crate (members with extension headers, and whatever else
/// [`super::plain::plain_header`] leaves to it).
struct Shared<R> {
    inner: R,
    /// A header the walk read and handed back: the crate reads it first.
    carry: [u8; 512],
    carry_at: usize,
    carry_len: usize,
    /// Contents the walk hashed for the crate from the buffer: the crate's
    /// read over them reads nothing (and looks at nothing it is handed: it
    /// discards them).
    read: u64,
    /// Bytes taken from the stream since the crate began (its positions).
    pos: u64,
}

struct Behind<'a, R>(&'a std::cell::RefCell<Shared<R>>);

impl<R: BufRead> Read for Behind<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut s = self.0.borrow_mut();
        if s.read > 0 {
            let n = s.read.min(out.len() as u64);
            s.read -= n;
            return Ok(n as usize);
        }
        let n = if s.carry_at < s.carry_len {
            let (at, len) = (s.carry_at, s.carry_len);
            let n = out.len().min(len - at);
            out[..n].copy_from_slice(&s.carry[at..at + n]);
            s.carry_at += n;
            n
        } else {
            s.inner.read(out)?
        };
        s.pos += n as u64;
        Ok(n)
    }
}

/// The guard, shared by the crate (which reads through it) and the walk
/// (which asks it, between members, whether it expects a plain header next).
struct GuardRef<'g, R>(&'g std::cell::RefCell<super::guard::TarGuard<R>>);

impl<R: Read> Read for GuardRef<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().read(out)
    }
}

/// Read a 512-byte block as the tar crate reads a header: false at the end
/// of the stream before its first byte, an error at the end within it.
fn read_block(r: &mut impl Read, block: &mut [u8; 512]) -> std::io::Result<bool> {
    let mut got = 0;
    while got < block.len() {
        match r.read(&mut block[got..])? {
            0 if got == 0 => return Ok(false),
            0 => return Err(std::io::Error::other("failed to read entire block")),
            n => got += n,
        }
    }
    Ok(true)
}

/// Pass over `n` bytes as the tar crate skips to its next header.
fn skip_bytes(r: &mut impl BufRead, mut n: u64) -> std::io::Result<()> {
    while n > 0 {
        let b = r.fill_buf()?;
        if b.is_empty() {
            return Err(std::io::Error::other("unexpected EOF during skip"));
        }
        let k = b.len().min(n.min(usize::MAX as u64) as usize);
        r.consume(k);
        n -= k as u64;
    }
    Ok(())
}

/// What the walk builds: the index, and what each member costs of its limits.
struct Indexer<'a> {
    out: LayerIndex,
    budget: u64,
    compression: Compression,
    loc: &'a Location,
    progress: &'a Progress,
    /// The walk reads plain headers itself (always, but in tests that
    /// compare it with the tar crate reading every member).
    walk: bool,
}

impl Indexer<'_> {
    fn corrupt(&self, e: std::io::Error) -> Error {
        Error::format(self.loc.clone(), describe(&e, self.compression))
    }

    /// Index one member. A regular file's contents are hashed from `s`'s
    /// buffer when `entry` is None, else read through `entry` (the crate's
    /// reader: a sparse file's contents reassembled, any other type stored
    /// as a file, a global PAX header among them, checked by the guard).
    /// Returns the content bytes taken from the buffer.
    fn member<R: BufRead>(
        &mut self,
        m: &Member<'_>,
        shared: &std::cell::RefCell<Shared<R>>,
        entry: Option<&mut dyn Read>,
    ) -> Result<u64> {
        let (loc, compression) = (self.loc, self.compression);
        let out = &mut self.out;
        let i = match classify(m, compression, loc, out)? {
            Classified::Skip => return Ok(0),
            Classified::Estargz => {
                out.estargz = true;
                return Ok(0);
            }
            Classified::Entry(i) => i as usize,
        };
        let e = out.entries[i];
        let mut taken = 0;
        if e.kind == EntryKind::File {
            let mut h = Xxh3::new();
            let mut cap = Capturer::new(out.path(&e), e.size, &mut self.budget);
            let fail = |err: std::io::Error| {
                Error::format(loc.path(lossy(out.path(&e))), describe(&err, compression))
            };
            let size = if let Some(entry) = entry {
                let mut buf = vec![0u8; 64 * 1024];
                let mut size = 0u64;
                loop {
                    let n = match entry.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(err) => return Err(fail(err)),
                    };
                    h.update(&buf[..n]);
                    if let Some(c) = &mut cap {
                        c.feed(&buf[..n]);
                    }
                    size += n as u64;
                }
                size
            } else {
                let mut s = shared.borrow_mut();
                let mut size = 0u64;
                while size < e.size {
                    let b = match s.inner.fill_buf() {
                        Ok(b) => b,
                        Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(err) => return Err(fail(err)),
                    };
                    if b.is_empty() {
                        break;
                    }
                    let n = b.len().min((e.size - size) as usize);
                    h.update(&b[..n]);
                    if let Some(c) = &mut cap {
                        c.feed(&b[..n]);
                    }
                    s.inner.consume(n);
                    size += n as u64;
                }
                taken = size;
                size
            };
            if size != e.size {
                return Err(Error::format(
                    loc.path(lossy(out.path(&e))),
                    format!(
                        "truncated: entry declares {} bytes, only {size} present",
                        e.size
                    ),
                ));
            }
            out.set_hash(i, h.digest128());
            self.progress.hashed.fetch_add(size, Ordering::Relaxed);
            if let Some(c) = cap.and_then(Capturer::finish) {
                out.captures.push((i as u32, c));
            }
        }
        self.progress.entries.fetch_add(1, Ordering::Relaxed);
        Ok(taken)
    }

    /// The tar crate reads the members from the header handed back in
    /// `shared`, through the guard, as far as the walk cannot take over
    /// again: past the first member that is neither a global PAX header nor
    /// a sparse file and after which the guard expects a header where the
    /// crate does. Returns the bytes before that header, or None at the
    /// tar's end.
    fn by_crate<R: BufRead>(
        &mut self,
        shared: &std::cell::RefCell<Shared<R>>,
    ) -> Result<Option<u64>> {
        let guard = std::cell::RefCell::new(super::guard::TarGuard::new(Behind(shared)));
        let mut archive = tar::Archive::new(GuardRef(&guard));
        let iter = archive.entries().map_err(|e| self.corrupt(e))?;
        for item in iter {
            let mut entry = item.map_err(|e| self.corrupt(e))?;
            let etype = entry.header().entry_type();
            let path = entry.path_bytes().into_owned();
            let link = link_name(&entry).map(|l| l.into_owned());
            let m = Member::of(&entry, &path, link.as_deref());
            let plain = matches!(etype, tar::EntryType::Regular | tar::EntryType::Continuous);
            let taken = if plain {
                self.member(&m, shared, None)?
            } else {
                self.member(&m, shared, Some(&mut entry))?
            };
            {
                let mut s = shared.borrow_mut();
                s.pos += taken;
                s.read = taken;
            }
            if matches!(
                etype,
                tar::EntryType::XGlobalHeader | tar::EntryType::GNUSparse
            ) {
                continue;
            }
            let next = entry
                .raw_file_position()
                .checked_add(entry.size())
                .and_then(|n| n.checked_add(511))
                .map(|n| n & !511);
            if !self.walk || next.is_none() || guard.borrow().next_header() != next {
                continue;
            }
            let mut s = shared.borrow_mut();
            let next = next.unwrap_or_default();
            if s.carry_at < s.carry_len || s.pos > next {
                continue;
            }
            s.read = 0;
            return Ok(Some(next - s.pos));
        }
        Ok(None)
    }
}

/// Index the tar `reader` yields, in one forward pass: plain ustar and GNU
/// headers read by [`super::plain::plain_header`] as the mapped walk reads
/// them, anything else (PAX and GNU extension headers, sparse files, old v7
/// headers, a bad checksum or field) by the tar crate through the guard,
/// which hands back to the walk after that member. Errors, limits and
/// skipped bytes are the crate's.
pub(super) fn index_tar<R: BufRead>(
    reader: R,
    compression: Compression,
    loc: &Location,
    progress: &Progress,
) -> Result<LayerIndex> {
    walk_tar(reader, compression, loc, progress, true)
}

/// [`index_tar`]; without `walk`, the tar crate reads every member.
fn walk_tar<R: BufRead>(
    reader: R,
    compression: Compression,
    loc: &Location,
    progress: &Progress,
    walk: bool,
) -> Result<LayerIndex> {
    let shared = std::cell::RefCell::new(Shared {
        inner: reader,
        carry: [0; 512],
        carry_at: 0,
        carry_len: 0,
        read: 0,
        pos: 0,
    });
    let mut w = Indexer {
        out: LayerIndex::new(compression),
        budget: super::capture::LAYER_BUDGET,
        compression,
        loc,
        progress,
        walk,
    };
    let mut scratch = Vec::new();
    let mut block = [0u8; 512];
    // Bytes before the next header: the rest of a member's contents and
    // its padding.
    let mut skip = 0u64;
    loop {
        {
            let mut s = shared.borrow_mut();
            skip_bytes(&mut s.inner, skip).map_err(|e| w.corrupt(e))?;
            if !read_block(&mut s.inner, &mut block).map_err(|e| w.corrupt(e))? {
                break;
            }
        }
        if block.iter().all(|&b| b == 0) {
            break; // the end-of-archive marker
        }
        let plain = walk
            .then(|| super::plain::plain_header(&block, &mut scratch))
            .flatten();
        if let Some((m, size)) = plain {
            let taken = w.member(&m, &shared, None)?;
            skip = size.div_ceil(512) * 512 - taken;
            continue;
        }
        {
            let mut s = shared.borrow_mut();
            s.carry = block;
            s.carry_at = 0;
            s.carry_len = 512;
            s.read = 0;
            s.pos = 0;
        }
        match w.by_crate(&shared)? {
            Some(n) => skip = n,
            None => break,
        }
    }
    let mut out = w.out;
    out.compact();
    Ok(out)
}

/// A ustar (or GNU) header of `kind` and `size`, mode 644, owner 1000:100.
#[cfg(test)]
pub(super) fn test_header(kind: tar::EntryType, size: u64, gnu: bool) -> tar::Header {
    let mut h = if gnu {
        tar::Header::new_gnu()
    } else {
        tar::Header::new_ustar()
    };
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(1000);
    h.set_gid(100);
    h
}

/// Entries as the index keeps them, one line each, for tests that compare
/// two readings of a layer.
#[cfg(test)]
pub(super) fn entry_keys(ix: &LayerIndex) -> Vec<String> {
    ix.entries
        .iter()
        .map(|e| {
            format!(
                "{:?} {:?} {} {:o} {} {} {:?} {:x}",
                lossy(ix.path(e)),
                e.kind,
                e.size,
                e.mode,
                e.uid,
                e.gid,
                ix.link(e).map(lossy),
                e.hash()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reading's entries, or its error, for comparing two readings.
    fn reading(r: Result<LayerIndex>) -> Vec<String> {
        let ix = match r {
            Ok(ix) => ix,
            Err(e) => return vec![e.to_string()],
        };
        let mut v = entry_keys(&ix);
        v.push(format!("captures {}", ix.captures.len()));
        v
    }

    /// A PAX record (its length counts itself).
    fn pax_record(k: &str, v: &str) -> Vec<u8> {
        let body = format!(" {k}={v}\n");
        let mut n = body.len() + 1;
        while format!("{n}").len() + body.len() != n {
            n += 1;
        }
        format!("{n}{body}").into_bytes()
    }

    /// Members of every kind the walk reads itself or leaves to the crate.
    fn mixed_layer() -> Vec<u8> {
        use tar::EntryType as T;
        let mut b = tar::Builder::new(Vec::new());
        let header = test_header;
        let global = pax_record("comment", "global header");
        for n in 0..48u64 {
            let size = (n * 977) % 3000;
            let body: Vec<u8> = (0..size).map(|k| (k * 7 + n) as u8).collect();
            let gnu = n % 2 == 0;
            let name = format!("d{}/f{n}", n % 3);
            let mut h = header(T::Regular, size, gnu);
            match n % 12 {
                // A GNU long name, or a ustar prefix.
                0 => {
                    let long = format!("long/{}/f{n}", "l".repeat(130));
                    b.append_data(&mut h, long, &body[..]).unwrap()
                }
                1 => {
                    let path = format!("pax/{}/{n}", "p".repeat(200));
                    b.append_pax_extensions([("path", path.as_bytes())])
                        .unwrap();
                    b.append_data(&mut h, "short", &body[..]).unwrap()
                }
                2 => {
                    let mut g = header(T::XGlobalHeader, global.len() as u64, false);
                    b.append_data(&mut g, "pax_global_header", &global[..])
                        .unwrap();
                    b.append_data(&mut h, &name, &body[..]).unwrap()
                }
                // A directory with contents (skipped).
                3 => {
                    let mut h = header(T::Directory, size, gnu);
                    b.append_data(&mut h, format!("dir{n}/"), &body[..])
                        .unwrap()
                }
                4 => {
                    let mut h = header(T::Symlink, 0, gnu);
                    let target = format!("../{}/t{n}", "t".repeat(150));
                    b.append_link(&mut h, &name, target).unwrap()
                }
                // An old v7 header.
                5 => {
                    let mut h = tar::Header::new_old();
                    h.set_entry_type(T::Regular);
                    h.set_size(size);
                    h.set_mode(0o600);
                    b.append_data(&mut h, &name, &body[..]).unwrap()
                }
                // A local PAX header, then a global one, then a file.
                6 => {
                    b.append_pax_extensions([("mtime", b"12345".as_slice())])
                        .unwrap();
                    let mut g = header(T::XGlobalHeader, global.len() as u64, false);
                    b.append_data(&mut g, "pax_global_header", &global[..])
                        .unwrap();
                    b.append_data(&mut h, &name, &body[..]).unwrap()
                }
                // A type the crate does not know (stored as a file).
                7 => {
                    let mut h = header(T::new(b'Z'), size, gnu);
                    b.append_data(&mut h, &name, &body[..]).unwrap()
                }
                8 => {
                    let mut h = header(T::Link, 0, gnu);
                    b.append_link(&mut h, format!("hard{n}"), "d0/f0").unwrap()
                }
                9 => {
                    let mut h = header(T::Regular, 0, gnu);
                    b.append_data(&mut h, format!("d1/.wh.f{n}"), &b""[..])
                        .unwrap()
                }
                _ => b.append_data(&mut h, &name, &body[..]).unwrap(),
            }
        }
        let mut data = b.into_inner().unwrap();
        data.extend([0u8; 1024]);
        data
    }

    /// Yields `data` up to `fail_at`, then an error (if any), else the end.
    struct Failing<'a> {
        data: &'a [u8],
        at: usize,
        fail_at: Option<usize>,
    }

    impl Read for Failing<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let end = self.fail_at.unwrap_or(self.data.len()).min(self.data.len());
            if self.at == end {
                return match self.fail_at {
                    Some(_) => Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "bad block",
                    )),
                    None => Ok(0),
                };
            }
            let n = out.len().min(end - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// The walk reads what the tar crate reads member by member: the same
    /// entries, hashes and captures, and the same error wherever the
    /// layer ends or fails, however its bytes come in.
    #[test]
    fn the_walk_reads_as_the_tar_crate_does() {
        let data = mixed_layer();
        let loc = Location::source("t");
        let read = |walk: bool, cut: usize, fail: bool, cap: usize| {
            let r = Failing {
                data: &data[..cut],
                at: 0,
                fail_at: fail.then_some(cut),
            };
            let r = std::io::BufReader::with_capacity(cap, r);
            reading(walk_tar(
                r,
                Compression::None,
                &loc,
                &Progress::default(),
                walk,
            ))
        };
        let whole = read(true, data.len(), false, 4096);
        assert_eq!(whole, read(false, data.len(), false, 4096));
        assert!(whole.len() > 40, "{whole:?}");
        assert!(
            whole.iter().any(|l| l.contains("pax_global_header")),
            "{whole:?}"
        );
        for cap in [4096, 700] {
            for cut in (0..data.len())
                .step_by(389)
                .chain((0..data.len()).step_by(512))
            {
                for fail in [false, true] {
                    assert_eq!(
                        read(true, cut, fail, cap),
                        read(false, cut, fail, cap),
                        "cut at {cut}, error {fail}, buffer {cap}"
                    );
                }
            }
        }
    }

    #[test]
    fn already_normal_tells_normal_paths_apart() {
        for p in [
            "a",
            "a/b",
            ".hidden/x",
            "a/...",
            "a/..b",
            "a/.b/c",
            "usr/lib/x.so",
        ] {
            assert!(already_normal(p.as_bytes()), "{p}");
        }
        for p in [
            "", "/", "/a", "a/", "a//b", ".", "..", "./a", "a/.", "a/./b", "../a", "a/..",
            "a/../b", "a\0b",
        ] {
            assert!(!already_normal(p.as_bytes()), "{p:?}");
        }
    }

    /// A small layer of short members of several kinds, and where each
    /// member's header block starts.
    fn small_layer() -> (Vec<u8>, Vec<usize>) {
        use tar::EntryType as T;
        let mut b = tar::Builder::new(Vec::new());
        for (n, kind) in [
            T::Regular,
            T::Directory,
            T::Symlink,
            T::Regular,
            T::Link,
            T::Regular,
        ]
        .into_iter()
        .enumerate()
        {
            let body = vec![b'a' + n as u8; if kind == T::Regular { 40 * n } else { 0 }];
            let mut h = if n % 2 == 0 {
                tar::Header::new_ustar()
            } else {
                tar::Header::new_gnu()
            };
            h.set_entry_type(kind);
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_uid(1000 + n as u64);
            h.set_gid(100);
            match kind {
                T::Symlink | T::Link => b.append_link(&mut h, format!("l{n}"), "f0").unwrap(),
                _ => b.append_data(&mut h, format!("f{n}"), &body[..]).unwrap(),
            }
        }
        let mut data = b.into_inner().unwrap();
        data.extend([0u8; 1024]);
        let mut heads = Vec::new();
        let mut a = tar::Archive::new(std::io::Cursor::new(&data[..]));
        for e in a.entries_with_seek().unwrap() {
            heads.push(e.unwrap().raw_header_position() as usize);
        }
        (data, heads)
    }

    proptest::proptest! {
        /// Bytes of a header changed (fields, type letters, magic), its
        /// checksum made right again or not: the walk reads the layer as
        /// the tar crate reads it, entries or error.
        #[test]
        fn a_changed_header_reads_as_the_tar_crate_reads_it(
            changes in proptest::collection::vec(
                (0usize..64, 0usize..512, proptest::num::u8::ANY), 1..4),
            fix_sum in proptest::bool::ANY,
        ) {
            let (mut data, heads) = small_layer();
            for &(k, at, b) in &changes {
                let h = heads[k % heads.len()];
                data[h + at] = b;
                if fix_sum {
                    let block = &mut data[h..h + 512];
                    block[148..156].fill(b' ');
                    let sum: u32 = block.iter().map(|&b| b as u32).sum();
                    block[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
                }
            }
            let loc = Location::source("t");
            let read = |walk: bool| {
                let r = std::io::BufReader::with_capacity(1000, &data[..]);
                reading(walk_tar(r, Compression::None, &loc, &Progress::default(), walk))
            };
            proptest::prop_assert_eq!(read(true), read(false));
        }
    }

    proptest::proptest! {
        /// The masks' test and the scalar one agree, on paths of every
        /// length around the 64-byte limit, and the last `/` is found.
        #[test]
        fn normal_path_tests_agree(p in proptest::collection::vec(
            proptest::sample::select(vec![b'a', b'.', b'/', 0u8]), 0..80)
        ) {
            let want = normal_last_slash_scalar(&p);
            proptest::prop_assert_eq!(normal_last_slash(&p), want);
            if let Some(last) = want {
                proptest::prop_assert_eq!(last, p.iter().rposition(|&b| b == b'/'));
            }
        }
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(
            normalize_path(b"./a//b/./c/").unwrap(),
            Some(b"a/b/c".to_vec())
        );
        assert_eq!(normalize_path(b"/").unwrap(), None);
        assert_eq!(normalize_path(b"./").unwrap(), None);
        assert!(normalize_path(b"a/../b").is_err());
        // The fast path (already normal) and the general one agree.
        for (raw, want) in [
            (&b"usr/bin/ls"[..], Some(&b"usr/bin/ls"[..])),
            (b"usr/share/", Some(b"usr/share")),
            (b"usr//share", Some(b"usr/share")),
            (b"usr/share//", Some(b"usr/share")),
            (b"/usr", Some(b"usr")),
            (b"a/.hidden/..x/...", Some(b"a/.hidden/..x/...")),
            (b"a/./b/.", Some(b"a/b")),
            (b".", None),
            (b"", None),
        ] {
            assert_eq!(normalize_path(raw).unwrap().as_deref(), want, "{raw:?}");
        }
        assert!(normalize_path(b"a/..").is_err());
        assert!(normalize_path(b"../a/").is_err());
        assert!(normalize_path(b"a/b\0c").is_err());
    }
}
