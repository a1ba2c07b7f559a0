//! A layer's tar, rebuilt from what the store keeps: its tar-split file
//! (`<driver>-layers/<id>.tar-split.gz`: gzip of JSON lines, one per piece
//! of the original tar: `{"type":2,"payload":BASE64}` for raw header and
//! padding bytes, `{"type":1,"name":PATH,"size":N}` for the contents of a
//! file, found at PATH in the layer's directory) and the layer's directory.
//! Concatenated in order they are the layer tar byte for byte, the one the
//! layer was made from and the one `podman save` writes.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde::Deserialize;

use super::meta::open_read;

/// Longest line of a tar-split file (one header, base64): PAX headers are
/// bounded well below this by the tar reader.
const MAX_LINE: u64 = 64 * 1024 * 1024;

#[derive(Deserialize)]
struct Piece {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    name: Option<String>,
    /// The name's bytes when they are not UTF-8.
    #[serde(default)]
    name_raw: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    payload: Option<String>,
}

/// The rebuilt tar as a reader. A failure is kept (with what it was about)
/// in `failure` for the error message; the reader returns an io error.
pub struct TarSplit {
    lines: BufReader<flate2::read::MultiGzDecoder<File>>,
    dir: PathBuf,
    line: Vec<u8>,
    /// Segment bytes still to hand out.
    seg: Vec<u8>,
    seg_at: usize,
    /// The file whose contents are being handed out, and how many bytes of
    /// it remain.
    file: Option<(File, u64, String)>,
    pub failure: Arc<Mutex<Option<String>>>,
}

impl TarSplit {
    pub fn open(tar_split: &Path, dir: PathBuf) -> std::io::Result<TarSplit> {
        let f = open_read(tar_split)?;
        Ok(TarSplit {
            lines: BufReader::with_capacity(256 * 1024, flate2::read::MultiGzDecoder::new(f)),
            dir,
            line: Vec::new(),
            seg: Vec::new(),
            seg_at: 0,
            file: None,
            failure: Arc::new(Mutex::new(None)),
        })
    }

    fn fail(&self, msg: String) -> std::io::Error {
        let mut f = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            *f = Some(msg.clone());
        }
        std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
    }

    /// The next piece, or false at the end of the tar-split.
    fn next_piece(&mut self) -> std::io::Result<bool> {
        self.line.clear();
        let n = (&mut self.lines)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut self.line)
            .map_err(|e| self.fail(format!("its tar-split file is not readable gzip ({e})")))?;
        if n == 0 {
            return Ok(false);
        }
        if n as u64 > MAX_LINE {
            return Err(self.fail(format!(
                "its tar-split file has a line over {MAX_LINE} bytes"
            )));
        }
        let text = self.line.trim_ascii();
        if text.is_empty() {
            return Ok(true);
        }
        let piece: Piece = serde_json::from_slice(text)
            .map_err(|e| self.fail(format!("its tar-split file has a malformed line ({e})")))?;
        let b64 = base64::engine::general_purpose::STANDARD;
        match piece.kind {
            2 => {
                self.seg = match &piece.payload {
                    Some(p) => b64.decode(p).map_err(|e| {
                        self.fail(format!("its tar-split file has a bad payload ({e})"))
                    })?,
                    None => Vec::new(),
                };
                self.seg_at = 0;
            }
            1 => {
                let size = piece.size.unwrap_or(0);
                if size == 0 {
                    return Ok(true);
                }
                let name: Vec<u8> = match (&piece.name_raw, &piece.name) {
                    (Some(raw), _) => b64.decode(raw).map_err(|e| {
                        self.fail(format!("its tar-split file has a bad name ({e})"))
                    })?,
                    (None, Some(n)) => n.as_bytes().to_vec(),
                    (None, None) => {
                        return Err(self.fail("its tar-split file has a file without a name".into()))
                    }
                };
                let shown = String::from_utf8_lossy(&name).into_owned();
                let rel = safe_relative(&name).ok_or_else(|| {
                    self.fail(format!(
                        "its tar-split file names {shown:?}, a path outside the layer"
                    ))
                })?;
                let path = self.dir.join(rel);
                let f = open_read(&path).map_err(|e| {
                    self.fail(format!(
                        "{shown}: the tar-split says it holds {size} bytes but {} cannot be read ({e})",
                        path.display()
                    ))
                })?;
                let len = f.metadata().map(|m| (m.is_file(), m.len()));
                match len {
                    Ok((true, l)) if l == size => {}
                    Ok((true, l)) => {
                        return Err(self.fail(format!(
                        "{shown}: the tar-split records {size} bytes, the layer's file {} has {l}",
                        path.display()
                    )))
                    }
                    _ => {
                        return Err(
                            self.fail(format!("{shown}: {} is not a regular file", path.display()))
                        )
                    }
                }
                self.file = Some((f, size, shown));
            }
            k => {
                return Err(self.fail(format!(
                    "its tar-split file has a piece of unknown type {k}"
                )))
            }
        }
        Ok(true)
    }
}

/// `name` as a path below the layer directory: no `..`, no leading `/`.
fn safe_relative(name: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut p = PathBuf::new();
    for c in name.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return None,
            c => p.push(std::ffi::OsStr::from_bytes(c)),
        }
    }
    (!p.as_os_str().is_empty()).then_some(p)
}

impl Read for TarSplit {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.seg_at < self.seg.len() {
                let n = (self.seg.len() - self.seg_at).min(buf.len());
                buf[..n].copy_from_slice(&self.seg[self.seg_at..self.seg_at + n]);
                self.seg_at += n;
                return Ok(n);
            }
            if let Some((f, left, _)) = &mut self.file {
                if *left > 0 {
                    let want = (*left).min(buf.len() as u64) as usize;
                    let n = match f.read(&mut buf[..want]) {
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            let name = self.file.as_ref().map(|f| f.2.clone()).unwrap_or_default();
                            return Err(self.fail(format!("{name}: read error ({e})")));
                        }
                    };
                    if n == 0 {
                        let (name, left) = self
                            .file
                            .as_ref()
                            .map(|f| (f.2.clone(), f.1))
                            .unwrap_or_default();
                        return Err(self.fail(format!(
                            "{name}: the layer's file ended {left} bytes early (changed while read?)"
                        )));
                    }
                    *left -= n as u64;
                    return Ok(n);
                }
                self.file = None;
            }
            if !self.next_piece()? {
                return Ok(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_split(dir: &Path, lines: &[serde_json::Value]) -> PathBuf {
        let p = dir.join("layer.tar-split.gz");
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&p).unwrap(),
            flate2::Compression::fast(),
        );
        for l in lines {
            writeln!(gz, "{l}").unwrap();
        }
        gz.finish().unwrap();
        p
    }

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    fn read_all(ts: &Path, dir: &Path) -> Result<Vec<u8>, String> {
        let mut r = TarSplit::open(ts, dir.to_path_buf()).unwrap();
        let mut out = Vec::new();
        // Small reads: pieces are handed out across read calls.
        let mut buf = [0u8; 7];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return Ok(out),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => return Err(r.failure.lock().unwrap().clone().unwrap()),
            }
        }
    }

    /// Segments and files in order; a name given as raw bytes (not UTF-8).
    #[test]
    fn rebuilds_the_bytes_in_order_and_refuses_what_is_not_there() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("diff");
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::write(dir.join("a/f"), b"hello").unwrap();
        use std::os::unix::ffi::OsStrExt;
        std::fs::write(dir.join(std::ffi::OsStr::from_bytes(b"x\xff")), b"raw!").unwrap();
        let ts = tar_split(
            t.path(),
            &[
                serde_json::json!({"type": 2, "payload": b64(b"HDR1"), "position": 0}),
                serde_json::json!({"type": 1, "name": "a/", "payload": null, "position": 1}),
                serde_json::json!({"type": 1, "name": "./a/f", "size": 5, "payload": "AAAAAAAAAAA=", "position": 2}),
                serde_json::json!({"type": 2, "payload": b64(b"PAD+HDR2"), "position": 3}),
                serde_json::json!({"type": 1, "name_raw": b64(b"x\xff"), "size": 4, "position": 4}),
                serde_json::json!({"type": 2, "payload": b64(&[0u8; 10]), "position": 5}),
            ],
        );
        let got = read_all(&ts, &dir).unwrap();
        let mut want = b"HDR1helloPAD+HDR2raw!".to_vec();
        want.extend_from_slice(&[0u8; 10]);
        assert_eq!(got, want);

        let bad = |line: serde_json::Value| {
            let ts = tar_split(t.path(), &[line]);
            read_all(&ts, &dir).unwrap_err()
        };
        let e = bad(serde_json::json!({"type": 1, "name": "../etc/passwd", "size": 3}));
        assert!(e.contains("outside the layer"), "{e}");
        let e = bad(serde_json::json!({"type": 1, "name": "a/missing", "size": 3}));
        assert!(
            e.starts_with("a/missing: the tar-split says it holds 3 bytes"),
            "{e}"
        );
        let e = bad(serde_json::json!({"type": 1, "name": "a/f", "size": 6}));
        assert!(e.contains("records 6 bytes") && e.contains("has 5"), "{e}");
        let e = bad(serde_json::json!({"type": 1, "name": "a", "size": 1}));
        assert!(e.contains("not a regular file"), "{e}");
        let e = bad(serde_json::json!({"type": 3}));
        assert!(e.contains("unknown type 3"), "{e}");
        // Not gzip at all.
        let p = t.path().join("plain");
        std::fs::write(&p, b"{\"type\":2}\n").unwrap();
        assert!(read_all(&p, &dir)
            .unwrap_err()
            .contains("not readable gzip"));
    }
}
