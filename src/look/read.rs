//! A stored file's bytes, read again from the image: only the layer blob
//! that holds it is opened (an archive's member by seeking to it, an OCI
//! directory's blob file, a registry's blob by one request), its tar walked
//! entry by entry (contents skipped) to the entry, whose bytes are copied
//! to a writer through a fixed buffer: constant memory, whatever the size.
//! A compressed archive file is decompressed from its start up to the
//! layer's member. Standard input and an engine's stream are read once and
//! cannot be read again (see [`Capture`] for what standard input allows).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};

use crate::xxh3::Xxh3;

use super::Stored;
use crate::error::{Error, Location, Result};
use crate::load::guard::TarGuard;
use crate::load::index::Index;
use crate::load::layer::{normalize_path, Compression};
use crate::load::source::{clean_member, resolve_link, Source};
use crate::load::{engine, registry, LoadOptions};

const BUF: usize = 256 * 1024;

/// The error's location: the image, the layer (position and digest), and
/// the path inside it.
pub(crate) fn layer_loc(image: &str, index: &Index, layer: usize) -> Location {
    let r = &index.layers[layer].r;
    let digest = if r.digest.is_empty() {
        r.diff_id.clone()
    } else {
        r.digest.clone()
    };
    let mut loc = Location::source(image).member(r.member.clone());
    loc.layer = Some((layer, digest));
    loc
}

/// Run `f` on the stored (possibly compressed) blob of `layer` of IMAGE,
/// reading only that blob (see the module's documentation).
pub fn with_layer<T>(
    image: &str,
    opts: &LoadOptions,
    index: &Index,
    layer: usize,
    f: impl FnOnce(&mut dyn Read) -> Result<T>,
) -> Result<T> {
    let loc = Location::source(image);
    let lloc = layer_loc(image, index, layer);
    let r = &index.layers[layer].r;
    let once = |what: &str| {
        Error::usage(
            loc.clone(),
            format!("{what} is read once and cannot be read again for a file's bytes; save the image to a file first"),
        )
    };
    if engine::parse(image).is_some() {
        return Err(once("an engine's stream"));
    }
    if image == crate::load::DEMO_SOURCE && std::fs::symlink_metadata(image).is_err() {
        let open = || Ok(std::io::Cursor::new(crate::load::DEMO));
        return from_compressed(open, &loc, lloc, &r.member, f);
    }
    if image == "-" {
        return Err(once("standard input"));
    }
    let meta = match std::fs::metadata(image) {
        Ok(m) => m,
        Err(_) => match registry::reference::parse(image) {
            Ok(Some(reference)) => {
                let mut blob = registry::open_blob(&reference, &r.digest, &lloc, &opts.registry)?;
                return f(&mut blob);
            }
            _ => return Err(Error::usage(loc, "no such file or image reference")),
        },
    };
    if meta.is_dir() {
        let src = Source::open(image, None, false)?;
        return f(&mut src.open_blob(&r.member, &lloc)?);
    }
    if !meta.is_file() {
        return Err(once("a pipe"));
    }
    let mut file = File::open(image).map_err(|e| Error::Open(Box::new(image.into()), e))?;
    let mut magic = [0u8; 4];
    let n = crate::load::source::read_up_to(&mut file, &mut magic)
        .map_err(|e| Error::io(loc.clone(), e))?;
    if Compression::detect(&magic[..n]) == Compression::None {
        let src = Source::open(image, None, false)?;
        return f(&mut src.open_blob(&r.member, &lloc)?);
    }
    let open = || File::open(image).map_err(|e| Error::Open(Box::new(image.into()), e));
    from_compressed(open, &loc, lloc, &r.member, f)
}

/// A compressed image archive (opened by `open`, from its start):
/// decompress up to the layer blob `member` (links between members
/// followed) and run `f` on it.
fn from_compressed<R: Read, T>(
    open: impl Fn() -> Result<R>,
    loc: &Location,
    lloc: Location,
    member: &str,
    f: impl FnOnce(&mut dyn Read) -> Result<T>,
) -> Result<T> {
    let mut name = clean_member(member);
    for _ in 0..16 {
        let mut archive = tar::Archive::new(TarGuard::new(decode(BufReader::new(open()?), loc)?));
        let bad = |e: std::io::Error| {
            Error::format(loc.clone(), format!("not a readable image archive ({e})"))
        };
        let mut link = None;
        for item in archive.entries().map_err(bad)? {
            let mut entry = item.map_err(bad)?;
            if clean_member(&String::from_utf8_lossy(&entry.path_bytes())) != name {
                continue;
            }
            let etype = entry.header().entry_type();
            if matches!(etype, tar::EntryType::Symlink | tar::EntryType::Link) {
                let target = entry.link_name_bytes().unwrap_or_default();
                link = Some((
                    etype == tar::EntryType::Symlink,
                    String::from_utf8_lossy(&target).into_owned(),
                ));
            } else if etype.is_file() || etype == tar::EntryType::Continuous {
                return f(&mut entry);
            }
            break;
        }
        match link {
            Some(l) => name = resolve_link(&name, &l),
            _ => return Err(Error::format(lloc, "missing from the archive")),
        }
    }
    Err(Error::format(
        lloc,
        "too many levels of links in the archive",
    ))
}

/// A blob's tar, decompressed by what its first bytes say.
fn decode<'a, R: BufRead + 'a>(mut r: R, loc: &Location) -> Result<Box<dyn Read + 'a>> {
    let magic = r.fill_buf().map_err(|e| Error::io(loc.clone(), e))?;
    Ok(match Compression::detect(magic) {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(r)
                .map_err(|e| Error::format(loc.clone(), format!("bad zstd stream: {e}")))?,
        ),
        Compression::None => Box::new(r),
    })
}

/// Is this tar entry a regular file's, as the indexer counts them (every
/// type that is not a directory, link, device or FIFO; whiteouts are not)?
fn is_file_entry(etype: tar::EntryType, path: &[u8]) -> bool {
    use tar::EntryType as T;
    let base = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    !matches!(
        etype,
        T::Directory | T::Symlink | T::Link | T::Char | T::Block | T::Fifo
    ) && !base.starts_with(b".wh.")
}

/// Walk a layer blob (compressed or not) to the stored file `st` and run
/// `f` on its entry's bytes; `f` is given the location to name in errors.
pub fn with_entry<T>(
    blob: &mut dyn Read,
    st: &Stored,
    loc: &Location,
    f: impl FnOnce(&mut dyn Read, &Location) -> Result<T>,
) -> Result<T> {
    let ploc = loc.path(super::show(&st.path));
    let mut archive = tar::Archive::new(TarGuard::new(decode(
        BufReader::with_capacity(BUF, blob),
        loc,
    )?));
    let bad = |e: std::io::Error| Error::format(ploc.clone(), format!("unreadable layer ({e})"));
    let mut seen = 0usize;
    for item in archive.entries().map_err(bad)? {
        let mut entry = item.map_err(bad)?;
        let etype = entry.header().entry_type();
        let Ok(Some(p)) = normalize_path(&entry.path_bytes()) else {
            continue;
        };
        if p != st.path || !is_file_entry(etype, &p) {
            continue;
        }
        if seen < st.ordinal {
            seen += 1;
            continue;
        }
        return f(&mut entry, &ploc);
    }
    Err(Error::format(
        ploc,
        "not found in the layer (the image changed since it was indexed?)",
    ))
}

/// The error when what was read is not what the index recorded.
pub(crate) fn changed(ploc: &Location) -> Error {
    Error::format(
        ploc.clone(),
        "the layer no longer holds what was indexed (the image changed since?)",
    )
}

/// Read into `buf`, retrying when interrupted; 0 at the end.
pub(crate) fn read_some(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Walk a layer blob (compressed or not) to the stored file `st` and copy
/// its bytes to `out`; the copy is checked against the size and content
/// hash the index recorded. A writer that went away (a closed pipe) ends
/// the copy early without error. Returns the bytes written.
pub fn copy_entry(
    blob: &mut dyn Read,
    st: &Stored,
    loc: &Location,
    out: &mut dyn Write,
) -> Result<u64> {
    with_entry(blob, st, loc, |entry, ploc| {
        let mut buf = vec![0u8; BUF];
        let mut h = Xxh3::new();
        let mut n = 0u64;
        loop {
            let k = read_some(entry, &mut buf)
                .map_err(|e| Error::format(ploc.clone(), format!("unreadable layer ({e})")))?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            n += k as u64;
            if let Err(e) = out.write_all(&buf[..k]) {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(n);
                }
                return Err(Error::io(Location::source("standard output"), e));
            }
        }
        if n != st.size || !st.hash_matches(h.digest128()) {
            return Err(changed(ploc));
        }
        Ok(n)
    })
}

/// Write the bytes of stored file `st` of IMAGE to `out` (see
/// [`with_layer`] and [`copy_entry`]).
pub fn copy_stored(
    image: &str,
    opts: &LoadOptions,
    index: &Index,
    st: &Stored,
    out: &mut dyn Write,
) -> Result<u64> {
    let lloc = layer_loc(image, index, st.layer);
    with_layer(image, opts, index, st.layer, |blob| {
        copy_entry(blob, st, &lloc, out)
    })
}

/// What may be kept of standard input while it is indexed, which is the
/// only time its bytes pass: the regular-file entries at one path (as
/// given, links not followed, since the index that resolves them is not
/// built yet), in every layer blob, up to [`Capture::LIMIT`] bytes in all.
#[derive(Debug, Default)]
pub struct Capture {
    /// Per outer-archive member (layer blob): the contents of the entries
    /// at the path, in tar order; None when over the limit.
    pub found: HashMap<String, Vec<Option<Vec<u8>>>>,
    /// Outer members that are links, to their targets.
    pub links: HashMap<String, (bool, String)>,
    /// Bytes kept so far.
    pub kept: u64,
}

impl Capture {
    /// Most bytes kept from standard input in all.
    pub const LIMIT: u64 = 256 * 1024 * 1024;

    /// Walk an image archive stream (outer tar, possibly compressed), keeping
    /// the entries at `path` (relative, normalised) of every layer blob.
    pub fn scan(input: impl Read + Send, path: &[u8], loc: &Location) -> Result<Capture> {
        let mut cap = Capture::default();
        let mut archive = tar::Archive::new(TarGuard::new(decode(
            BufReader::with_capacity(BUF, input),
            loc,
        )?));
        let bad = |e: std::io::Error| {
            Error::format(loc.clone(), format!("not a readable image archive ({e})"))
        };
        for item in archive.entries().map_err(bad)? {
            let mut entry = item.map_err(bad)?;
            let name = clean_member(&String::from_utf8_lossy(&entry.path_bytes()));
            let etype = entry.header().entry_type();
            if matches!(etype, tar::EntryType::Symlink | tar::EntryType::Link) {
                let target = entry.link_name_bytes().unwrap_or_default();
                cap.links.insert(
                    name,
                    (
                        etype == tar::EntryType::Symlink,
                        String::from_utf8_lossy(&target).into_owned(),
                    ),
                );
                continue;
            }
            if !etype.is_file() {
                continue;
            }
            // A member that is not a layer tar reads as no entries: skip it.
            let found = cap.layer(&mut entry, path);
            if !found.is_empty() {
                cap.found.insert(name, found);
            }
        }
        Ok(cap)
    }

    fn layer(&mut self, blob: &mut dyn Read, path: &[u8]) -> Vec<Option<Vec<u8>>> {
        let mut found = Vec::new();
        let Ok(dec) = decode(BufReader::with_capacity(BUF, blob), &Location::default()) else {
            return found;
        };
        let mut archive = tar::Archive::new(TarGuard::new(dec));
        let Ok(entries) = archive.entries() else {
            return found;
        };
        for item in entries {
            let Ok(mut entry) = item else { break };
            let etype = entry.header().entry_type();
            let Ok(Some(p)) = normalize_path(&entry.path_bytes()) else {
                continue;
            };
            if p != path || !is_file_entry(etype, &p) {
                continue;
            }
            if self.kept.saturating_add(entry.size()) > Self::LIMIT {
                found.push(None);
                continue;
            }
            let mut v = Vec::with_capacity(entry.size() as usize);
            if entry.read_to_end(&mut v).is_err() {
                break;
            }
            self.kept += v.len() as u64;
            found.push(Some(v));
        }
        // The rest of the blob is read by the outer archive's walk.
        found
    }

    /// The kept bytes of stored file `st`, whose layer blob is `member`.
    pub fn get(&self, member: &str, st: &Stored) -> std::result::Result<&[u8], &'static str> {
        let mut name = clean_member(member);
        for _ in 0..16 {
            if let Some(v) = self.found.get(&name) {
                return match v.get(st.ordinal) {
                    Some(Some(b)) => Ok(b),
                    Some(None) => Err("larger than what is kept of standard input (256 MiB)"),
                    None => Err("not kept"),
                };
            }
            match self.links.get(&name) {
                Some(l) => name = resolve_link(&name, l),
                None => break,
            }
        }
        Err("not kept")
    }
}

/// Index an image read from a stream (standard input) and, from the same
/// bytes as they pass, keep what [`Capture`] keeps of `path`: the stream is
/// copied chunk by chunk to a second reader on its own thread (bounded: a
/// slow side holds the other back), so nothing but the kept entries is
/// held, and nothing is written to disk.
pub fn load_capturing(
    input: Box<dyn Read + Send>,
    display: &str,
    opts: &LoadOptions,
    path: &[u8],
) -> Result<(Index, Capture)> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
    let loc = Location::source(display);
    let path = path.to_vec();
    let scanner = std::thread::Builder::new()
        .name("imgscope-capture".into())
        .spawn(move || {
            let input = ChannelReader {
                rx,
                chunk: Vec::new(),
                at: 0,
            };
            Capture::scan(input, &path, &loc)
        })
        .map_err(|e| Error::io(Location::source(display), e))?;
    let tee = Tee {
        inner: input,
        tx: Some(tx),
    };
    let index = crate::load::load_reader(
        Box::new(tee),
        display,
        opts,
        &crate::load::LoadProgress::default(),
    );
    // The loader dropped the tee: the scanner sees the end.
    let cap = scanner
        .join()
        .map_err(|_| Error::format(Location::source(display), "the capture thread failed"))?;
    let index = index?;
    Ok((index, cap?))
}

/// A reader that also sends every chunk it reads to a channel.
struct Tee {
    inner: Box<dyn Read + Send>,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            if let Some(tx) = &self.tx {
                if tx.send(buf[..n].to_vec()).is_err() {
                    // The scanner is done (the archive's end): go on alone.
                    self.tx = None;
                }
            }
        }
        Ok(n)
    }
}

/// The receiving side of a [`Tee`].
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.rx.recv() {
                Ok(c) => {
                    self.chunk = c;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
