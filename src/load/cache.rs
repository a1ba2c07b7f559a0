//! The content-addressed cache of layer *indexes* (never layer bytes): a
//! layer seen once is not downloaded or read again. Keyed by the blob's
//! digest (registry layers, verified as they streamed before they are
//! stored) or by the layer's diff_id (local archives, with `--cache`).
//!
//! One file per layer in `$XDG_CACHE_HOME/imgscope/layers` (or
//! `~/.cache/imgscope/layers`, or `$IMGSCOPE_CACHE_DIR`): zstd of a
//! versioned binary form ending in a checksum. An entry that is corrupt, of
//! another version or for another key is ignored and rebuilt, never trusted.
//! The folder is bounded (`IMGSCOPE_CACHE_MAX`, default 1 GiB): least
//! recently used entries (by modification time, touched on every hit) go
//! first.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use xxhash_rust::xxh3::xxh3_64;

use super::capture::Captured;
use super::layer::{Compression, EntryKind, LayerIndex};

/// Bump when [`LayerIndex`] or [`Entry`] change shape, or when what is
/// captured changes (3: rpm databases): older entries are then ignored and
/// rebuilt.
pub const VERSION: u32 = 3;
const MAGIC: &[u8; 12] = b"IMGSCOPE-LIX";
/// Default bound of the cache folder.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;
/// Largest decoded entry read back (a layer of ~10 M files).
const MAX_DECODED: u64 = 2 << 30;

/// Which loads use the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheMode {
    /// `--no-cache`.
    Off,
    /// Registry layers only (the default).
    #[default]
    Registry,
    /// Local archives too (`--cache`), keyed by diff_id.
    All,
}

#[derive(Debug, Clone, Default)]
pub struct CacheOptions {
    pub mode: CacheMode,
    /// Folder (default: the platform cache folder).
    pub dir: Option<PathBuf>,
    /// Bound in bytes (default [`DEFAULT_MAX_BYTES`]).
    pub max_bytes: Option<u64>,
}

/// What a cache entry is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Digest of the stored (compressed) blob.
    Blob,
    /// Digest of the uncompressed layer tar.
    DiffId,
}

pub struct Cache {
    dir: PathBuf,
    max_bytes: u64,
}

/// The platform cache folder for imgscope.
pub fn default_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = env("IMGSCOPE_CACHE_DIR") {
        return Some(d);
    }
    let base = env("XDG_CACHE_HOME").or_else(|| env("HOME").map(|h| h.join(".cache")))?;
    Some(base.join("imgscope"))
}

impl Cache {
    /// The cache for a load of this kind, or `None` when it is off.
    pub fn open(opts: &CacheOptions, registry: bool) -> Option<Cache> {
        match opts.mode {
            CacheMode::Off => return None,
            CacheMode::Registry if !registry => return None,
            _ => {}
        }
        let root = opts.dir.clone().or_else(default_dir)?;
        let max_bytes = opts.max_bytes.unwrap_or_else(|| {
            std::env::var("IMGSCOPE_CACHE_MAX")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(DEFAULT_MAX_BYTES)
        });
        Some(Cache {
            dir: root.join("layers"),
            max_bytes,
        })
    }

    /// The same cache's folder of analysed reports (`reports` beside
    /// `layers`, under the same bound), for [`crate::report_cache`].
    pub fn reports(&self) -> Cache {
        Cache {
            dir: self.dir.with_file_name("reports"),
            max_bytes: self.max_bytes,
        }
    }

    fn file(&self, kind: KeyKind, digest: &str) -> Option<PathBuf> {
        let hex = digest.strip_prefix("sha256:")?;
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let k = match kind {
            KeyKind::Blob => "blob",
            KeyKind::DiffId => "diff",
        };
        Some(
            self.dir
                .join(format!("{k}-sha256-{}", hex.to_ascii_lowercase())),
        )
    }

    /// The cached index of a layer, if a sound entry of this version is
    /// there (and mark it as recently used).
    pub fn get(&self, kind: KeyKind, digest: &str) -> Option<LayerIndex> {
        let path = self.file(kind, digest)?;
        let ix = decode(&read_entry(&path)?, digest)?;
        touch(&path);
        Some(ix)
    }

    /// Store a layer's index (atomically: written aside, then renamed), then
    /// keep the folder under its bound. Failures are ignored: the cache is
    /// only ever an optimisation.
    pub fn put(&self, kind: KeyKind, digest: &str, ix: &LayerIndex) {
        if let Some(path) = self.file(kind, digest) {
            self.put_raw(&path, &encode(ix, digest));
        }
    }

    /// Store `raw` (zstd-compressed) as the entry at `path` in this folder
    /// (atomically), then keep the folder under its bound.
    pub fn put_raw(&self, path: &Path, raw: &[u8]) {
        self.store(path, |f| {
            let mut enc = zstd::stream::write::Encoder::new(f, 3)?;
            enc.write_all(raw)?;
            enc.finish()
        });
    }

    /// Store `raw` as it is (read back with [`read_plain`]): for entries
    /// read back whole on every hit, where decompressing would cost more
    /// than reading.
    pub fn put_plain(&self, path: &Path, raw: &[u8]) {
        self.store(path, |mut f| {
            f.write_all(raw)?;
            Ok(f)
        });
    }

    /// Write an entry aside with `write`, then rename it into place and
    /// keep the folder under its bound; failures leave nothing behind.
    fn store(
        &self,
        path: &Path,
        write: impl FnOnce(std::fs::File) -> std::io::Result<std::fs::File>,
    ) {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let tmp = self.dir.join(format!(
            ".tmp-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let ok = (|| -> std::io::Result<()> {
            write(std::fs::File::create(&tmp)?)?.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if ok.is_err() {
            let _ = std::fs::remove_file(&tmp);
            return;
        }
        self.evict();
    }

    /// Remove least recently used entries until the folder is under its
    /// bound (to 90% of it, so that not every store evicts).
    fn evict(&self) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(SystemTime, u64, PathBuf)> = rd
            .flatten()
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                m.is_file().then(|| {
                    (
                        m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        m.len(),
                        e.path(),
                    )
                })
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        if total <= self.max_bytes {
            return;
        }
        files.sort();
        let target = self.max_bytes / 10 * 9;
        for (_, len, p) in files {
            if total <= target {
                break;
            }
            if std::fs::remove_file(&p).is_ok() {
                total -= len;
            }
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// An entry's decompressed bytes (`None` when missing or not zstd); its
/// soundness is the caller's to check.
pub fn read_entry(path: &Path) -> Option<Vec<u8>> {
    let f = std::fs::File::open(path).ok()?;
    let mut raw = Vec::new();
    zstd::stream::read::Decoder::new(f)
        .ok()?
        .take(MAX_DECODED)
        .read_to_end(&mut raw)
        .ok()?;
    Some(raw)
}

/// An entry stored with [`Cache::put_plain`], mapped and its pages read
/// ahead in one call (`None` when missing or empty); its soundness is the
/// caller's to check.
pub fn map_plain(path: &Path) -> Option<memmap2::Mmap> {
    let f = std::fs::File::open(path).ok()?;
    // SAFETY: cache entries are written aside and renamed into place, never
    // changed in place; a file truncated by hand while mapped would fault.
    unsafe { memmap2::MmapOptions::new().populate().map(&f) }.ok()
}

/// Mark an entry as recently used.
pub fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().write(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

fn kind_code(k: EntryKind) -> u8 {
    match k {
        EntryKind::File => 0,
        EntryKind::Dir => 1,
        EntryKind::Symlink => 2,
        EntryKind::HardLink => 3,
        EntryKind::Whiteout => 4,
        EntryKind::Opaque => 5,
        EntryKind::Char => 6,
        EntryKind::Block => 7,
        EntryKind::Fifo => 8,
    }
}

fn kind_of(c: u8) -> Option<EntryKind> {
    Some(match c {
        0 => EntryKind::File,
        1 => EntryKind::Dir,
        2 => EntryKind::Symlink,
        3 => EntryKind::HardLink,
        4 => EntryKind::Whiteout,
        5 => EntryKind::Opaque,
        6 => EntryKind::Char,
        7 => EntryKind::Block,
        8 => EntryKind::Fifo,
        _ => return None,
    })
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// The serialized form: magic, version, key, the index, then an xxh3 of
/// everything before it.
pub fn encode(ix: &LayerIndex, key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + ix.entries.len() * 96);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    put_bytes(&mut out, key.as_bytes());
    out.push(match ix.compression {
        Compression::None => 0,
        Compression::Gzip => 1,
        Compression::Zstd => 2,
    });
    out.push(ix.estargz as u8);
    out.extend_from_slice(&(ix.entries.len() as u64).to_le_bytes());
    for e in &ix.entries {
        put_bytes(&mut out, ix.path(e));
        out.push(kind_code(e.kind));
        out.extend_from_slice(&e.size.to_le_bytes());
        out.extend_from_slice(&e.mode.to_le_bytes());
        out.extend_from_slice(&(e.uid as u64).to_le_bytes());
        out.extend_from_slice(&(e.gid as u64).to_le_bytes());
        match ix.link(e) {
            None => out.push(0),
            Some(l) => {
                out.push(1);
                put_bytes(&mut out, l);
            }
        }
        out.extend_from_slice(&e.hash().to_le_bytes());
    }
    out.extend_from_slice(&(ix.captures.len() as u64).to_le_bytes());
    for (i, c) in &ix.captures {
        out.extend_from_slice(&i.to_le_bytes());
        match c {
            Captured::Data(d) => {
                out.push(0);
                put_bytes(&mut out, d);
            }
            Captured::Elf(f) => {
                out.push(1);
                put_bytes(
                    &mut out,
                    &serde_json::to_vec(f).expect("ELF facts serialize"),
                );
            }
            Captured::Npm { name, version } => {
                out.push(2);
                put_bytes(&mut out, name.as_bytes());
                put_bytes(&mut out, version.as_bytes());
            }
        }
    }
    let sum = xxh3_64(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn u128(&mut self) -> Option<u128> {
        Some(u128::from_le_bytes(self.take(16)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// Read back [`encode`]'s form; `None` for anything unsound.
pub fn decode(raw: &[u8], key: &str) -> Option<LayerIndex> {
    let (body, sum) = raw.split_at_checked(raw.len().checked_sub(8)?)?;
    if xxh3_64(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut c = Cursor(body);
    if c.take(MAGIC.len())? != MAGIC || c.u32()? != VERSION || c.bytes()? != key.as_bytes() {
        return None;
    }
    let compression = match c.u8()? {
        0 => Compression::None,
        1 => Compression::Gzip,
        2 => Compression::Zstd,
        _ => return None,
    };
    let estargz = c.u8()? != 0;
    let n = c.u64()?;
    // Each entry takes at least 50 bytes: a count beyond that is corrupt.
    if n > (body.len() as u64) / 50 {
        return None;
    }
    let mut ix = LayerIndex::new(compression);
    ix.estargz = estargz;
    ix.entries.reserve_exact(n as usize);
    for _ in 0..n {
        let path = c.bytes()?;
        let kind = kind_of(c.u8()?)?;
        let size = c.u64()?;
        let mode = c.u32()?;
        let uid = c.u64()?;
        let gid = c.u64()?;
        let link = match c.u8()? {
            0 => None,
            1 => Some(c.bytes()?),
            _ => return None,
        };
        let hash = c.u128()?;
        ix.push(path, kind, size, mode, uid, gid, link, hash).ok()?;
    }
    let n = c.u64()?;
    // Each capture takes at least 9 bytes.
    if n > (c.0.len() as u64) / 9 {
        return None;
    }
    let mut captures = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let i = c.u32()?;
        if i as usize >= ix.entries.len() || captures.last().is_some_and(|(j, _)| *j >= i) {
            return None;
        }
        let cap = match c.u8()? {
            0 => Captured::Data(c.bytes()?.into()),
            1 => Captured::Elf(serde_json::from_slice(c.bytes()?).ok()?),
            2 => Captured::Npm {
                name: String::from_utf8(c.bytes()?.to_vec()).ok()?,
                version: String::from_utf8(c.bytes()?.to_vec()).ok()?,
            },
            _ => return None,
        };
        captures.push((i, cap));
    }
    if !c.0.is_empty() {
        return None;
    }
    ix.captures = captures;
    Some(ix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LayerIndex {
        let mut ix = LayerIndex::new(Compression::Zstd);
        ix.estargz = true;
        ix.push(
            b"usr/bin/a\xff",
            EntryKind::File,
            1234,
            0o755,
            1,
            2,
            None,
            u128::MAX - 7,
        )
        .unwrap();
        ix.push(
            b"usr/bin/b",
            EntryKind::Symlink,
            0,
            0o777,
            0,
            0,
            Some(b"a"),
            0,
        )
        .unwrap();
        ix.captures
            .push((0, Captured::Data(b"Package: a\n".to_vec().into())));
        ix.captures.push((
            1,
            Captured::Elf(Box::new(crate::load::elf::ElfFacts {
                class64: true,
                machine: 62,
                kind: crate::load::elf::ElfKind::Executable,
                linkage: crate::load::elf::Linkage::Dynamic,
                interp: Some(b"/lib64/ld-linux-x86-64.so.2".to_vec().into()),
                needed: Some(vec![b"libc.so.6".to_vec().into()]),
                runpath: Vec::new(),
                soname: None,
                strippable: Some(4096),
                upx: false,
                go: None,
            })),
        ));
        ix
    }

    fn same(a: &LayerIndex, b: &LayerIndex) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    #[test]
    fn round_trip_and_rejections() {
        let key = format!("sha256:{}", "ab".repeat(32));
        let ix = sample();
        let raw = encode(&ix, &key);
        assert!(same(&decode(&raw, &key).unwrap(), &ix));
        // Another key, a flipped byte anywhere, a truncation: all refused.
        assert!(decode(&raw, "sha256:00").is_none());
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 0x40;
            assert!(decode(&bad, &key).is_none(), "byte {i}");
        }
        assert!(decode(&raw[..raw.len() - 1], &key).is_none());
        // Another version is ignored.
        let mut old = raw.clone();
        old[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&(VERSION + 1).to_le_bytes());
        let n = old.len() - 8;
        let sum = xxh3_64(&old[..n]);
        old[n..].copy_from_slice(&sum.to_le_bytes());
        assert!(decode(&old, &key).is_none());
    }

    #[test]
    fn store_get_evict() {
        let dir = tempfile::tempdir().unwrap();
        let opts = CacheOptions {
            mode: CacheMode::Registry,
            dir: Some(dir.path().to_path_buf()),
            max_bytes: Some(u64::MAX),
        };
        assert!(Cache::open(&opts, false).is_none());
        let cache = Cache::open(&opts, true).unwrap();
        let k1 = format!("sha256:{}", "1".repeat(64));
        let k2 = format!("sha256:{}", "2".repeat(64));
        assert!(cache.get(KeyKind::Blob, &k1).is_none());
        cache.put(KeyKind::Blob, &k1, &sample());
        assert!(same(&cache.get(KeyKind::Blob, &k1).unwrap(), &sample()));
        assert!(cache.get(KeyKind::DiffId, &k1).is_none());
        // A garbage file under the key is ignored, then rebuilt.
        let f = cache.file(KeyKind::Blob, &k2).unwrap();
        std::fs::write(&f, b"not zstd").unwrap();
        assert!(cache.get(KeyKind::Blob, &k2).is_none());
        cache.put(KeyKind::Blob, &k2, &sample());
        assert!(cache.get(KeyKind::Blob, &k2).is_some());
        // A bound of one entry keeps only the most recently used one.
        let one = std::fs::metadata(&f).unwrap().len();
        let old = SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(cache.file(KeyKind::Blob, &k1).unwrap())
            .unwrap()
            .set_modified(old)
            .unwrap();
        let small = Cache {
            dir: cache.dir.clone(),
            max_bytes: one + one / 2,
        };
        small.evict();
        assert!(small.get(KeyKind::Blob, &k1).is_none());
        assert!(small.get(KeyKind::Blob, &k2).is_some());
        assert!(cache.file(KeyKind::Blob, "sha256:../../x").is_none());
    }
}
