//! The outer container of an image: a tar file (seekable: headers are scanned
//! once, blobs are then read by seeking), a directory (OCI layout), or a
//! stream (a compressed archive or standard input, read exactly once).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Location, Result};
use crate::load::layer::{self, Compression, LayerIndex, Progress};

/// Largest metadata file (JSON) read into memory.
pub const MAX_METADATA: u64 = 64 * 1024 * 1024;
/// Most bytes of small (non-layer) members a stream keeps in memory.
pub const MAX_METADATA_TOTAL: u64 = 256 * 1024 * 1024;
/// Most members in the outer archive.
pub const MAX_MEMBERS: usize = 1_000_000;

#[derive(Debug, Clone)]
pub struct Member {
    pub offset: u64,
    pub size: u64,
    /// Symlink (relative to the member's directory) or hard link (archive-root
    /// relative) to another member.
    pub link: Option<(bool, String)>,
}

pub enum Source {
    /// An uncompressed tar file on disk.
    TarFile {
        path: PathBuf,
        members: HashMap<String, Member>,
    },
    /// A directory (OCI image layout).
    Dir { root: PathBuf },
    /// A stream that was read once: metadata kept in memory, layer blobs
    /// indexed on the fly.
    Stream {
        small: HashMap<String, Vec<u8>>,
        blobs: HashMap<String, (u64, Result<LayerIndex>)>,
        /// member names that are symlinks/hard links, to their targets
        links: HashMap<String, (bool, String)>,
    },
}

/// An outer-archive member's cleaned name and, for a link, (is it a
/// symlink, its target); `count` counts members against [`MAX_MEMBERS`].
/// The seekable and the streaming readers both start each member here.
pub(super) fn member_head<R: Read>(
    entry: &tar::Entry<R>,
    count: &mut usize,
    loc: &Location,
) -> Result<(String, Option<(bool, String)>)> {
    *count += 1;
    if *count > MAX_MEMBERS {
        return Err(Error::format(
            loc.clone(),
            format!("more than the {MAX_MEMBERS}-member limit in the archive"),
        ));
    }
    let name = clean_member(&String::from_utf8_lossy(&entry.path_bytes()));
    let etype = entry.header().entry_type();
    let link = matches!(etype, tar::EntryType::Symlink | tar::EntryType::Link).then(|| {
        (
            etype == tar::EntryType::Symlink,
            String::from_utf8_lossy(&entry.link_name_bytes().unwrap_or_default()).into_owned(),
        )
    });
    Ok((name, link))
}

pub fn clean_member(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

pub(crate) fn resolve_link(name: &str, link: &(bool, String)) -> String {
    let (symlink, target) = link;
    if *symlink && !target.starts_with('/') {
        let dir = match name.rfind('/') {
            Some(i) => &name[..i],
            None => "",
        };
        clean_member(&format!("{dir}/{target}"))
    } else {
        clean_member(target)
    }
}

impl Source {
    /// Open IMAGE: a path, a directory, or `-` for standard input. `verify`:
    /// the layers a stream indexes as it reads them get their digests.
    pub fn open(arg: &str, progress_stream: Option<Arc<Progress>>, verify: bool) -> Result<Source> {
        let loc = Location::source(arg);
        if arg == "-" {
            let stdin = std::io::stdin();
            return Source::from_stream(Box::new(stdin), &loc, progress_stream, verify);
        }
        let path = Path::new(arg);
        let meta =
            std::fs::metadata(path).map_err(|e| Error::Open(Box::new(path.to_path_buf()), e))?;
        if meta.is_dir() {
            return Ok(Source::Dir {
                root: path.to_path_buf(),
            });
        }
        if !meta.is_file() {
            use std::os::unix::fs::FileTypeExt;
            let ft = meta.file_type();
            if ft.is_fifo() || ft.is_char_device() {
                // A pipe (`imgscope <(docker save app)`, a FIFO): read once,
                // as standard input is.
                let f =
                    File::open(path).map_err(|e| Error::Open(Box::new(path.to_path_buf()), e))?;
                return Source::from_stream(Box::new(f), &loc, progress_stream, verify);
            }
            return Err(Error::format(
                loc,
                "not a file, directory or pipe (a socket or block device?)",
            ));
        }
        let mut file =
            File::open(path).map_err(|e| Error::Open(Box::new(path.to_path_buf()), e))?;
        let mut magic = [0u8; 512];
        let n = read_up_to(&mut file, &mut magic).map_err(|e| Error::io(loc.clone(), e))?;
        if n == 0 {
            return Err(Error::format(loc, "empty file, not an image archive"));
        }
        match Compression::detect(&magic[..n]) {
            Compression::None => {
                file.seek(SeekFrom::Start(0))
                    .map_err(|e| Error::io(loc.clone(), e))?;
                let members = scan_tar(file, &loc)?;
                Ok(Source::TarFile {
                    path: path.to_path_buf(),
                    members,
                })
            }
            _ => {
                file.seek(SeekFrom::Start(0))
                    .map_err(|e| Error::io(loc.clone(), e))?;
                Source::from_stream(Box::new(file), &loc, progress_stream, verify)
            }
        }
    }

    /// Read an image from any stream (e.g. the standard output of
    /// `docker save`), named `display` in errors and reports.
    pub fn from_reader(
        reader: Box<dyn Read + Send>,
        display: &str,
        progress_stream: Option<Arc<Progress>>,
        verify: bool,
    ) -> Result<Source> {
        Source::from_stream(reader, &Location::source(display), progress_stream, verify)
    }

    fn from_stream(
        reader: Box<dyn Read + Send + '_>,
        loc: &Location,
        progress: Option<Arc<Progress>>,
        verify: bool,
    ) -> Result<Source> {
        let mut buffered = BufReader::with_capacity(256 * 1024, reader);
        let magic = buffered
            .fill_buf()
            .map_err(|e| Error::io(loc.clone(), e))?
            .to_vec();
        if magic.is_empty() {
            return Err(Error::format(
                loc.clone(),
                "empty input, not an image archive",
            ));
        }
        let outer = Compression::detect(&magic);
        let counted = super::counted::Counted {
            inner: buffered,
            tally: progress.clone(),
        };
        let decoded: Box<dyn Read + Send + '_> = match outer {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counted)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::new(counted)
                    .map_err(|e| Error::format(loc.clone(), format!("bad zstd stream: {e}")))?,
            ),
            Compression::None => {
                return super::stream::stream_members(Box::new(counted), outer, loc, verify)
            }
        };
        // Compressed twice (`gzip` run on a `.tar.gz`): say so, rather than
        // read compressed bytes as tar headers.
        let mut decoded = BufReader::with_capacity(64 * 1024, decoded);
        let head = decoded
            .fill_buf()
            .map_err(|e| super::stream::archive_error(outer, loc, e))?;
        let inner = Compression::detect(head);
        if inner != Compression::None {
            let name = |c| match c {
                Compression::Gzip => "gzip",
                _ => "zstd",
            };
            return Err(Error::format(
                loc.clone(),
                format!(
                    "compressed twice ({} inside {}): decompress it once (`{}`) and pass the result",
                    name(inner),
                    name(outer),
                    if outer == Compression::Gzip { "gunzip" } else { "zstd -d" }
                ),
            ));
        }
        super::stream::stream_members(Box::new(decoded), outer, loc, verify)
    }

    /// Read a small metadata member fully.
    pub fn read_small(&self, name: &str, loc: &Location) -> Result<Vec<u8>> {
        let name = clean_member(name);
        let mloc = loc.member(name.clone());
        match self {
            Source::TarFile { path, members } => {
                let m = self.resolve(&name, members, &mloc)?;
                if m.size > MAX_METADATA {
                    return Err(Error::format(
                        mloc,
                        format!("metadata file of {} bytes is too large", m.size),
                    ));
                }
                let mut f = File::open(path).map_err(|e| Error::Open(Box::new(path.clone()), e))?;
                f.seek(SeekFrom::Start(m.offset))
                    .map_err(|e| Error::io(mloc.clone(), e))?;
                let mut v = Vec::with_capacity(m.size as usize);
                f.take(m.size)
                    .read_to_end(&mut v)
                    .map_err(|e| Error::io(mloc.clone(), e))?;
                if (v.len() as u64) < m.size {
                    return Err(Error::format(mloc, "truncated archive"));
                }
                Ok(v)
            }
            Source::Dir { root } => {
                let (f, len) = dir_file(root, &name, &mloc)?;
                if len > MAX_METADATA {
                    return Err(Error::format(
                        mloc,
                        format!("metadata file of {len} bytes is too large"),
                    ));
                }
                let mut v = Vec::with_capacity(len as usize);
                f.take(MAX_METADATA + 1)
                    .read_to_end(&mut v)
                    .map_err(|e| Error::io(mloc.clone(), e))?;
                if v.len() as u64 > MAX_METADATA {
                    return Err(Error::format(mloc, "metadata file grew while read"));
                }
                Ok(v)
            }
            Source::Stream { small, links, .. } => {
                let mut n = name.clone();
                for _ in 0..16 {
                    if let Some(v) = small.get(&n) {
                        return Ok(v.clone());
                    }
                    match links.get(&n) {
                        Some(l) => n = resolve_link(&n, l),
                        None => break,
                    }
                }
                Err(missing(&mloc))
            }
        }
    }

    pub fn exists(&self, name: &str) -> bool {
        let name = clean_member(name);
        match self {
            Source::TarFile { members, .. } => members.contains_key(&name),
            Source::Dir { root } => {
                !name.split('/').any(|c| c == "..") && root.join(&name).exists()
            }
            Source::Stream {
                small,
                blobs,
                links,
            } => {
                small.contains_key(&name) || blobs.contains_key(&name) || links.contains_key(&name)
            }
        }
    }

    fn resolve<'a>(
        &self,
        name: &str,
        members: &'a HashMap<String, Member>,
        loc: &Location,
    ) -> Result<&'a Member> {
        let mut n = name.to_string();
        for _ in 0..16 {
            let m = members.get(&n).ok_or_else(|| missing(loc))?;
            match &m.link {
                None => return Ok(m),
                Some(l) => n = resolve_link(&n, l),
            }
        }
        Err(Error::format(
            loc.clone(),
            "too many levels of links in the archive",
        ))
    }

    /// Size of a blob as stored (compressed), if known.
    pub fn blob_size(&self, name: &str) -> Option<u64> {
        let name = clean_member(name);
        match self {
            Source::TarFile { members, .. } => self
                .resolve(&name, members, &Location::default())
                .ok()
                .map(|m| m.size),
            Source::Dir { root } => std::fs::metadata(root.join(&name)).ok().map(|m| m.len()),
            Source::Stream {
                blobs,
                links,
                small,
            } => {
                let mut n = name;
                for _ in 0..16 {
                    if let Some((s, _)) = blobs.get(&n) {
                        return Some(*s);
                    }
                    if let Some(b) = small.get(&n) {
                        return Some(b.len() as u64);
                    }
                    n = resolve_link(&n, links.get(&n)?);
                }
                None
            }
        }
    }

    /// An uncompressed blob's estimated gzip size (what a registry, or
    /// `skopeo copy` to an OCI layout, would store): gzip at its default
    /// level 6 over [`SAMPLE_CHUNK`]-byte samples spread evenly over the
    /// blob (a 32nd of it, at least 1 MiB and at most 4 MiB; a smaller blob
    /// whole), scaled to the blob's size. None for a stream (read once).
    pub fn gzip_estimate(&self, name: &str) -> Option<u64> {
        let name = clean_member(name);
        let loc = Location::default();
        let (mut f, base, size) = match self {
            Source::TarFile { path, members } => {
                let m = self.resolve(&name, members, &loc).ok()?;
                (File::open(path).ok()?, m.offset, m.size)
            }
            Source::Dir { root } => {
                let (f, len) = dir_file(root, &name, &loc).ok()?;
                (f, 0, len)
            }
            Source::Stream { .. } => return None,
        };
        sampled_gzip_size(&mut f, base, size).ok()
    }

    /// The stored bytes of a blob, read again from a seekable source (a tar
    /// file: its byte range; a directory: its file). A stream was read once
    /// and cannot give them back.
    pub fn open_blob(&self, name: &str, loc: &Location) -> Result<Box<dyn Read + Send>> {
        let name = clean_member(name);
        match self {
            Source::TarFile { path, members } => {
                let m = self.resolve(&name, members, loc)?;
                let mut f = File::open(path).map_err(|e| Error::Open(Box::new(path.clone()), e))?;
                f.seek(SeekFrom::Start(m.offset))
                    .map_err(|e| Error::io(loc.clone(), e))?;
                Ok(Box::new(BufReader::with_capacity(
                    256 * 1024,
                    f.take(m.size),
                )))
            }
            Source::Dir { root } => {
                let (f, len) = dir_file(root, &name, loc)?;
                Ok(Box::new(BufReader::with_capacity(256 * 1024, f.take(len))))
            }
            Source::Stream { .. } => Err(Error::usage(
                loc.clone(),
                "a stream is read once: its layers cannot be read again",
            )),
        }
    }

    /// The census of the file sizes of layer blobs `names` (a file or a
    /// directory whose every layer is a plain tar: their headers walked,
    /// their contents skipped), or None (a stream, a compressed or unusual
    /// layer, any error: then every file is hashed, and the indexing
    /// reports the errors; or an image of small files, where walking the
    /// headers twice costs more than hashing: see [`super::plain::SkimBudget`]).
    pub fn size_census(&self, names: &[&str]) -> Option<super::plain::Census> {
        use rayon::prelude::*;
        let loc = Location::source("");
        let total: u64 = names.iter().filter_map(|n| self.blob_size(n)).sum();
        let budget = super::plain::SkimBudget::for_bytes(total);
        let budget = &budget;
        let sizes: Option<Vec<Vec<u64>>> = names
            .par_iter()
            .map(|name| {
                let name = clean_member(name);
                match self {
                    Source::TarFile { path, members } => {
                        let m = self.resolve(&name, members, &loc).ok()?;
                        let f = File::open(path).ok()?;
                        super::plain::skim_sizes(&f, m.offset, m.size, budget)
                    }
                    Source::Dir { root } => {
                        let (f, len) = dir_file(root, &name, &loc).ok()?;
                        super::plain::skim_sizes(&f, 0, len, budget)
                    }
                    Source::Stream { .. } => None,
                }
            })
            .collect();
        sizes.map(super::plain::Census::of)
    }

    /// Index a layer blob. For seekable sources this streams the blob's own
    /// byte range; for streams it hands back the index built while reading
    /// (`verify` was given to [`Source::open`] then).
    pub fn index_layer(
        &self,
        name: &str,
        loc: &Location,
        progress: Arc<Progress>,
        verify: bool,
        census: Option<&super::plain::Census>,
    ) -> Result<LayerIndex> {
        let name = clean_member(name);
        match self {
            Source::TarFile { path, members } => {
                let m = self.resolve(&name, members, loc)?;
                let f = File::open(path).map_err(|e| Error::Open(Box::new(path.clone()), e))?;
                let file_len = f.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
                if m.offset.saturating_add(m.size) > file_len {
                    return Err(Error::format(
                        loc.clone(),
                        "truncated archive: layer blob extends past the end of the file",
                    ));
                }
                super::plain::index_layer_at(&f, m.offset, m.size, loc, progress, verify, census)
            }
            Source::Dir { root } => {
                let (f, len) = dir_file(root, &name, loc)?;
                super::plain::index_layer_at(&f, 0, len, loc, progress, verify, census)
            }
            Source::Stream {
                blobs,
                links,
                small,
            } => {
                let mut n = name.clone();
                for _ in 0..16 {
                    if let Some((size, r)) = blobs.get(&n) {
                        progress
                            .read
                            .store(*size, std::sync::atomic::Ordering::Relaxed);
                        progress.done.store(1, std::sync::atomic::Ordering::Relaxed);
                        return match r {
                            Ok(ix) => Ok(ix.clone()),
                            Err(e) => Err(Error::format(loc.clone(), strip_loc(e))),
                        };
                    }
                    if let Some(bytes) = small.get(&n) {
                        // Kept as a small file: an empty layer, an empty or
                        // v7 tar. Index it from memory, as a file would be.
                        let r = layer::index_layer(&bytes[..], loc, progress.clone(), verify);
                        progress.done.store(1, std::sync::atomic::Ordering::Relaxed);
                        return r;
                    }
                    match links.get(&n) {
                        Some(l) => n = resolve_link(&n, l),
                        None => break,
                    }
                }
                Err(missing(loc))
            }
        }
    }
}

fn strip_loc(e: &Error) -> String {
    match e {
        Error::Format { loc, msg } => match &loc.path {
            Some(p) => format!("{p}: {msg}"),
            None => msg.clone(),
        },
        other => other.to_string(),
    }
}

fn missing(loc: &Location) -> Error {
    Error::format(loc.clone(), "missing from the archive")
}

/// Open a member of an OCI directory: a regular file inside the layout
/// only (never a FIFO, a device or a socket, which would block or never end).
fn dir_file(root: &Path, name: &str, loc: &Location) -> Result<(File, u64)> {
    let p = dir_member(root, name, loc)?;
    let meta = std::fs::metadata(&p).map_err(|_| missing(loc))?;
    if !meta.is_file() {
        return Err(Error::format(
            loc.clone(),
            "not a regular file (a directory, FIFO, device or socket)",
        ));
    }
    let f = File::open(&p).map_err(|_| missing(loc))?;
    let meta = f.metadata().map_err(|e| Error::io(loc.clone(), e))?;
    if !meta.is_file() {
        return Err(Error::format(loc.clone(), "not a regular file"));
    }
    Ok((f, meta.len()))
}

fn dir_member(root: &Path, name: &str, loc: &Location) -> Result<PathBuf> {
    if name.split('/').any(|c| c == "..") || name.starts_with('/') {
        return Err(Error::format(
            loc.clone(),
            "member path escapes the image directory",
        ));
    }
    let p = root.join(name);
    // Never follow a symlink out of the image directory.
    if let (Ok(canon), Ok(root_c)) = (p.canonicalize(), root.canonicalize()) {
        if !canon.starts_with(&root_c) {
            return Err(Error::format(
                loc.clone(),
                "member is a link out of the image directory",
            ));
        }
    }
    Ok(p)
}

pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn outer_err(loc: &Location, e: std::io::Error) -> Error {
    let text = e.to_string();
    let msg = if e.kind() == std::io::ErrorKind::UnexpectedEof || text.contains("entire block") {
        format!("truncated archive ({e})")
    } else {
        format!("not a readable image archive ({e})")
    };
    Error::format(loc.clone(), msg)
}

/// Scan the headers of an uncompressed tar once, seeking over contents.
fn scan_tar(file: File, loc: &Location) -> Result<HashMap<String, Member>> {
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut archive = tar::Archive::new(super::guard::TarGuard::new(BufReader::with_capacity(
        64 * 1024,
        file,
    )));
    let mut members = HashMap::new();
    let entries = archive.entries_with_seek().map_err(|e| outer_err(loc, e))?;
    let mut count = 0usize;
    for item in entries {
        let entry = item.map_err(|e| outer_err(loc, e))?;
        let (name, link) = member_head(&entry, &mut count, loc)?;
        let etype = entry.header().entry_type();
        let offset = entry.raw_file_position();
        let size = entry.size();
        // Every member's content and its padding to 512 bytes must be there,
        // as reading the same archive as a stream requires.
        let padded = size.div_ceil(512).saturating_mul(512);
        if offset.saturating_add(padded) > len {
            return Err(Error::format(
                loc.member(name.clone()),
                format!(
                    "truncated archive: the member and its padding need {padded} bytes but only {} remain",
                    len.saturating_sub(offset)
                ),
            ));
        }
        if etype.is_dir() {
            continue;
        }
        members.insert(name, Member { offset, size, link });
    }
    if count == 0 {
        return Err(Error::format(
            loc.clone(),
            "not an image archive: empty or not a tar file",
        ));
    }
    Ok(members)
}

/// The bytes each sample of [`Source::gzip_estimate`] reads.
pub const SAMPLE_CHUNK: u64 = 64 * 1024;

/// The gzip size of `size` bytes at `base` in `f`, from samples (see
/// [`Source::gzip_estimate`]).
fn sampled_gzip_size(f: &mut File, base: u64, size: u64) -> std::io::Result<u64> {
    use std::io::Write;
    if size == 0 {
        return Ok(0);
    }
    let budget = (size / 32).clamp(1 << 20, 4 << 20).min(size);
    let chunks = budget.div_ceil(SAMPLE_CHUNK);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut buf = vec![0u8; SAMPLE_CHUNK as usize];
    let mut sampled = 0u64;
    for i in 0..chunks {
        let (off, len) = if budget == size {
            let off = i * SAMPLE_CHUNK;
            (off, SAMPLE_CHUNK.min(size - off))
        } else {
            // Evenly spread, the last one ending at the blob's end.
            (
                (size - SAMPLE_CHUNK) * i / (chunks - 1).max(1),
                SAMPLE_CHUNK,
            )
        };
        f.seek(SeekFrom::Start(base + off))?;
        f.read_exact(&mut buf[..len as usize])?;
        enc.write_all(&buf[..len as usize])?;
        sampled += len;
    }
    let out = enc.finish()?.len() as u64;
    Ok((out as u128 * size as u128 / sampled as u128) as u64)
}
