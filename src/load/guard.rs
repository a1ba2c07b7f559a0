//! A reader that walks the tar framing of the bytes the `tar` crate reads,
//! one step ahead of it, and stops the read with a named limit before the
//! crate reserves memory or time for a size the archive claims: PAX
//! extension headers, GNU long names and links, GNU sparse maps and their
//! holes. It also rejects what the crate would silently ignore: a malformed
//! PAX record, or a PAX `size` that is not a number it can honour.
//!
//! It sees every header because the crate reads every header; contents it
//! skips by seeking are only counted.

use std::io::{self, Read, Seek, SeekFrom};

/// Largest PAX extended header (local or global) accepted.
pub const MAX_PAX: u64 = 1024 * 1024;
/// Largest GNU long name or long link accepted (also the longest path).
pub const MAX_LONG_NAME: u64 = super::layer::MAX_PATH_LEN as u64;
/// Most GNU sparse extension blocks after one header (21 regions each).
pub const MAX_SPARSE_BLOCKS: u64 = 64 * 1024;
/// Most bytes of holes in one sparse file: they are read as zeros and
/// hashed, so they cost time although the archive does not hold them.
pub const MAX_SPARSE_HOLES: u64 = 16 << 30;

const BLOCK: u64 = 512;

fn limit(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Parse a tar numeric field: octal ASCII, or base-256 when the high bit of
/// the first byte is set.
fn numeric(field: &[u8]) -> io::Result<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = 0;
        for (i, &b) in field.iter().enumerate() {
            let b = if i == 0 { b & 0x7f } else { b };
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(b as u64))
                .ok_or_else(|| limit("a size field overflows 64 bits".into()))?;
        }
        return Ok(v);
    }
    let s: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ' || b == 0)
        .take_while(|&b| b != b' ' && b != 0)
        .collect();
    if s.is_empty() {
        return Ok(0);
    }
    let t = std::str::from_utf8(&s).map_err(|_| limit("a size field is not octal".into()))?;
    u64::from_str_radix(t, 8).map_err(|_| limit(format!("size field {t:?} is not octal")))
}

/// Check every record of a PAX extended header and return its `size`, if any.
fn pax_records(data: &[u8]) -> io::Result<Option<u64>> {
    let mut rest = data;
    let mut size = None;
    while !rest.is_empty() {
        // Some writers pad the header with NULs.
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let sp = rest
            .iter()
            .position(|&b| b == b' ')
            .filter(|&i| i > 0 && i <= 20 && rest[..i].iter().all(u8::is_ascii_digit))
            .ok_or_else(|| limit("malformed PAX record (no length)".into()))?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|t| t.parse().ok())
            .filter(|&l| l > sp + 1 && l <= rest.len())
            .ok_or_else(|| limit("malformed PAX record (bad length)".into()))?;
        let rec = &rest[sp + 1..len];
        let Some((b'\n', kv)) = rec.split_last() else {
            return Err(limit("malformed PAX record (no newline)".into()));
        };
        let eq = kv
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| limit("malformed PAX record (no '=')".into()))?;
        let (k, v) = (&kv[..eq], &kv[eq + 1..]);
        if k == b"size" {
            let v = std::str::from_utf8(v)
                .ok()
                .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|t| t.parse::<u64>().ok())
                .filter(|&n| n < i64::MAX as u64)
                .ok_or_else(|| {
                    limit(format!(
                        "PAX size {:?} is not a size",
                        String::from_utf8_lossy(&v[..v.len().min(40)])
                    ))
                })?;
            size = Some(v);
        }
        rest = &rest[len..];
    }
    Ok(size)
}

#[derive(Debug)]
enum Want {
    /// The header block at `at`.
    Header,
    /// `left` more GNU sparse extension blocks may follow (the current one
    /// says whether another does).
    SparseExt { blocks: u64 },
    /// The contents of a PAX header, collected.
    Pax { global: bool, len: u64 },
}

pub struct TarGuard<R> {
    inner: R,
    pos: u64,
    /// Start of the block (header, extension or PAX data) being collected.
    at: u64,
    want: Want,
    buf: Vec<u8>,
    /// Data length of the next entry when a PAX header gave its size.
    pax_size: Option<u64>,
    /// Lost track (a seek past a header): stop checking.
    off: bool,
    /// Real size and stored size of the sparse entry being described.
    sparse: Option<(u64, u64)>,
}

impl<R> TarGuard<R> {
    pub fn new(inner: R) -> Self {
        TarGuard {
            inner,
            pos: 0,
            at: 0,
            want: Want::Header,
            buf: Vec::with_capacity(BLOCK as usize),
            pax_size: None,
            off: false,
            sparse: None,
        }
    }

    /// Where the next header starts, when nothing is pending: no block
    /// being collected, no PAX size or sparse map waiting for its entry.
    /// (None once it lost track.)
    pub fn next_header(&self) -> Option<u64> {
        let idle = matches!(self.want, Want::Header)
            && self.buf.is_empty()
            && self.pax_size.is_none()
            && self.sparse.is_none();
        (idle && !self.off).then_some(self.at)
    }

    fn collect_len(&self) -> u64 {
        match self.want {
            Want::Header | Want::SparseExt { .. } => BLOCK,
            Want::Pax { len, .. } => len,
        }
    }

    /// The next header starts after `len` bytes of contents from `from`.
    fn skip_contents(&mut self, from: u64, len: u64) -> io::Result<()> {
        let padded = len
            .checked_add(BLOCK - 1)
            .ok_or_else(|| limit("an entry size overflows".into()))?
            & !(BLOCK - 1);
        self.at = from
            .checked_add(padded)
            .ok_or_else(|| limit("an entry size overflows".into()))?;
        self.want = Want::Header;
        Ok(())
    }

    fn header(&mut self, h: &[u8]) -> io::Result<()> {
        let next = self.at + BLOCK;
        if h.iter().all(|&b| b == 0) {
            self.pax_size = None;
            return self.skip_contents(next, 0);
        }
        let size = numeric(&h[124..136])?;
        // Like the tar crate, read extension headers (PAX, GNU long names,
        // sparse) only in a ustar or GNU header; in an old (v7) header these
        // type letters are plain entries, whose contents a seekable reader
        // skips and a stream must not judge either.
        let recognized = &h[257..262] == b"ustar";
        let typ = if recognized { h[156] } else { b'0' };
        match typ {
            b'x' | b'g' | b'X' => {
                if size > MAX_PAX {
                    return Err(limit(format!(
                        "PAX header of {size} bytes is more than the {MAX_PAX}-byte limit"
                    )));
                }
                self.at = next;
                self.want = Want::Pax {
                    global: typ == b'g',
                    len: size,
                };
                if size == 0 {
                    self.skip_contents(next, 0)?;
                }
                Ok(())
            }
            b'L' | b'K' => {
                if size > MAX_LONG_NAME {
                    return Err(limit(format!(
                        "GNU long {} of {size} bytes is more than the {MAX_LONG_NAME}-byte limit",
                        if typ == b'L' { "name" } else { "link" }
                    )));
                }
                self.skip_contents(next, size)
            }
            b'S' => {
                let stored = self.pax_size.take().unwrap_or(size);
                let real = numeric(&h[483..495])?;
                self.check_holes(real, stored)?;
                if h[482] != 0 {
                    self.sparse = Some((real, stored));
                    self.at = next;
                    self.want = Want::SparseExt { blocks: 0 };
                    Ok(())
                } else {
                    self.skip_contents(next, stored)
                }
            }
            _ => {
                let len = self.pax_size.take().unwrap_or(size);
                // Types without contents still carry a size field sometimes;
                // the tar crate skips `size` bytes for every type.
                self.skip_contents(next, len)
            }
        }
    }

    fn check_holes(&self, real: u64, stored: u64) -> io::Result<()> {
        let holes = real.saturating_sub(stored);
        if holes > MAX_SPARSE_HOLES {
            return Err(limit(format!(
                "sparse file of {real} bytes with {holes} bytes of holes is more than the {MAX_SPARSE_HOLES}-byte limit"
            )));
        }
        Ok(())
    }

    fn complete(&mut self) -> io::Result<()> {
        let block = std::mem::take(&mut self.buf);
        match self.want {
            Want::Header => self.header(&block)?,
            Want::SparseExt { blocks } => {
                if blocks + 1 > MAX_SPARSE_BLOCKS {
                    return Err(limit(format!(
                        "sparse map of more than {MAX_SPARSE_BLOCKS} extension blocks"
                    )));
                }
                let next = self.at + BLOCK;
                if block[504] != 0 {
                    self.at = next;
                    self.want = Want::SparseExt { blocks: blocks + 1 };
                } else {
                    let (_, stored) = self.sparse.take().unwrap_or((0, 0));
                    self.skip_contents(next, stored)?;
                }
            }
            Want::Pax { global, len } => {
                let size = pax_records(&block)?;
                if !global {
                    self.pax_size = size;
                }
                self.skip_contents(self.at, len)?;
            }
        }
        self.buf = block;
        self.buf.clear();
        Ok(())
    }

    /// Look at bytes `data` read at `start`.
    fn observe(&mut self, start: u64, data: &[u8]) -> io::Result<()> {
        let end = start + data.len() as u64;
        let mut p = start;
        while !self.off && p < end {
            let want_len = self.collect_len();
            let have = self.buf.len() as u64;
            let cur = self.at + have;
            if p > cur {
                // Bytes of the block were skipped, not read: lost track.
                self.off = true;
                break;
            }
            if cur >= end {
                break;
            }
            let take = (want_len - have).min(end - cur);
            let from = (cur - start) as usize;
            self.buf
                .extend_from_slice(&data[from..from + take as usize]);
            p = cur + take;
            if self.buf.len() as u64 == want_len {
                self.complete()?;
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for TarGuard<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        let start = self.pos;
        self.pos += n as u64;
        self.observe(start, &out[..n])?;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for TarGuard<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = self.inner.seek(to)?;
        // The tar crate skips a global PAX header's contents (it keeps no
        // global state), which a stream reads: read them here too, so both
        // readers judge the same bytes (a malformed record is refused
        // either way). They are at most MAX_PAX bytes.
        if let Want::Pax { len, .. } = self.want {
            let cur = self.at + self.buf.len() as u64;
            if target > cur {
                self.inner.seek(SeekFrom::Start(cur))?;
                let mut rest = vec![0; (len - self.buf.len() as u64) as usize];
                self.inner.read_exact(&mut rest)?;
                self.observe(cur, &rest)?;
                self.inner.seek(SeekFrom::Start(target))?;
            }
        }
        self.pos = target;
        if self.pos > self.at + self.buf.len() as u64 {
            // Skipped over a block it should have seen: stop checking.
            self.off = true;
        }
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_are_checked() {
        assert_eq!(pax_records(b"11 size=42\n").unwrap(), Some(42));
        assert_eq!(pax_records(b"15 path=a/b/cd\n\0\0").unwrap(), None);
        assert!(pax_records(b"99 size=42\n").is_err());
        assert!(pax_records(b"10 size42\n").is_err());
        assert!(pax_records(b"garbage").is_err());
        assert!(pax_records(b"29 size=99999999999999999999\n").is_err());
    }

    #[test]
    fn numeric_fields() {
        assert_eq!(numeric(b"0000644\0").unwrap(), 0o644);
        assert_eq!(numeric(&[0x80, 0, 0, 1, 0]).unwrap(), 256);
        assert_eq!(numeric(b"        ").unwrap(), 0);
    }
}
