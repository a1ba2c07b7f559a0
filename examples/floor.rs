//! Floor programs for the benchmark: the least work any analyser must do on
//! an image, with the same libraries imgscope uses.
//!
//!   cargo run --release --example floor -- MODE IMAGE
//!
//! MODE:
//!   read     read every layer blob's bytes once (positional reads, 1 MiB), discard
//!   inflate  decompress every layer blob (by its magic: gzip with flate2/zlib-rs,
//!            zstd with the zstd crate, plain tar read as is), discard
//!   pinflate as `inflate`, but each gzip blob decoded on every core with
//!            rapidgzip-core (what imgscope does for a gzip layer in a file)
//!   zcat     decompress IMAGE as a whole (gzip or zstd), discard: the floor for
//!            an archive compressed as a whole
//!
//! `read`, `inflate` and `pinflate` take an uncompressed docker-archive or oci-archive tar,
//! find the layer blobs through manifest.json / index.json, and run one thread
//! per layer on a pool of `nproc` threads (what imgscope does per layer).
//! Prints nothing but the byte count on stderr.

use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

fn die(msg: &str) -> ! {
    eprintln!("floor: {msg}");
    std::process::exit(2)
}

/// member name -> (offset, size) of an uncompressed tar
fn members(f: &File) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    let mut a = tar::Archive::new(BufReader::new(f));
    for e in a
        .entries_with_seek()
        .unwrap_or_else(|e| die(&e.to_string()))
    {
        let e = e.unwrap_or_else(|e| die(&e.to_string()));
        let name = String::from_utf8_lossy(&e.path_bytes())
            .trim_start_matches("./")
            .to_string();
        out.push((name, e.raw_file_position(), e.size()));
    }
    out
}

fn read_member(f: &File, m: &(String, u64, u64)) -> Vec<u8> {
    let mut v = vec![0u8; m.2 as usize];
    f.read_exact_at(&mut v, m.1)
        .unwrap_or_else(|e| die(&e.to_string()));
    v
}

fn layers(f: &File) -> Vec<(u64, u64)> {
    let ms = members(f);
    let get = |name: &str| ms.iter().find(|m| m.0 == name);
    let blob = |d: &str| get(&format!("blobs/{}", d.replacen(':', "/", 1)));
    let json = |m: &(String, u64, u64)| -> serde_json::Value {
        serde_json::from_slice(&read_member(f, m)).unwrap_or_else(|e| die(&e.to_string()))
    };
    let names: Vec<&(String, u64, u64)> = if let Some(m) = get("manifest.json") {
        json(m)[0]["Layers"]
            .as_array()
            .unwrap_or_else(|| die("manifest.json has no Layers"))
            .iter()
            .map(|l| get(l.as_str().unwrap_or("")).unwrap_or_else(|| die("layer missing")))
            .collect()
    } else if let Some(m) = get("index.json") {
        let mut doc = json(m);
        while doc.get("manifests").is_some() {
            let d = doc["manifests"][0]["digest"]
                .as_str()
                .unwrap_or("")
                .to_string();
            doc = json(blob(&d).unwrap_or_else(|| die("manifest missing")));
        }
        doc["layers"]
            .as_array()
            .unwrap_or_else(|| die("manifest has no layers"))
            .iter()
            .map(|l| {
                blob(l["digest"].as_str().unwrap_or("")).unwrap_or_else(|| die("layer missing"))
            })
            .collect()
    } else {
        die("neither manifest.json nor index.json")
    };
    names.into_iter().map(|m| (m.1, m.2)).collect()
}

struct At<'f> {
    f: &'f File,
    pos: u64,
    end: u64,
}
impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.end - self.pos) as usize;
        if n == 0 {
            return Ok(0);
        }
        let k = self.f.read_at(&mut buf[..n], self.pos)?;
        self.pos += k as u64;
        Ok(k)
    }
}

/// A layer's byte range, read by position from several threads.
struct Span {
    f: File,
    start: u64,
    len: u64,
}
impl rapidgzip_core::ReadAt for Span {
    fn len(&self) -> std::io::Result<u64> {
        Ok(self.len)
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.len.saturating_sub(off)) as usize;
        if n == 0 {
            return Ok(0);
        }
        FileExt::read_at(&self.f, &mut buf[..n], self.start + off)
    }
}

fn is_gzip(f: &File, off: u64) -> bool {
    let mut magic = [0u8; 2];
    f.read_exact_at(&mut magic, off).is_ok() && magic == [0x1f, 0x8b]
}

fn sink(mut r: impl Read) -> u64 {
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return n,
            Ok(k) => n += k as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => die(&e.to_string()),
        }
    }
}

fn decode(r: impl Read + 'static, magic: &[u8]) -> Box<dyn Read> {
    let r = BufReader::with_capacity(256 * 1024, r);
    if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(r))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(
            zstd::stream::read::Decoder::with_buffer(r).unwrap_or_else(|e| die(&e.to_string())),
        )
    } else {
        Box::new(r)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, image] = &args[..] else {
        die("usage: floor read|inflate|pinflate|zcat IMAGE")
    };
    let f = File::open(image).unwrap_or_else(|e| die(&format!("{image}: {e}")));
    let total = AtomicU64::new(0);
    match mode.as_str() {
        "zcat" => {
            let mut magic = [0u8; 4];
            f.read_exact_at(&mut magic, 0)
                .unwrap_or_else(|e| die(&e.to_string()));
            total.store(sink(decode(f, &magic)), Ordering::Relaxed);
        }
        "read" | "inflate" | "pinflate" => {
            let ls = layers(&f);
            ls.par_iter().with_max_len(1).for_each(|&(off, len)| {
                let r = At {
                    f: &f,
                    pos: off,
                    end: off + len,
                };
                let n = if mode == "read" {
                    sink(r)
                } else if mode == "pinflate" && is_gzip(&f, off) {
                    // rapidgzip-core: one gzip stream on every core, read
                    // by position (what imgscope does for a gzip layer in
                    // a file).
                    let g = f.try_clone().unwrap_or_else(|e| die(&e.to_string()));
                    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
                    let d = rapidgzip_core::Decoder::builder()
                        .decoder_threads(threads)
                        .build()
                        .unwrap_or_else(|e| die(&e.to_string()));
                    let span = Span {
                        f: g,
                        start: off,
                        len,
                    };
                    sink(d.reader(span).unwrap_or_else(|e| die(&e.to_string())))
                } else {
                    let mut magic = [0u8; 4];
                    let k = f.read_at(&mut magic, off).unwrap_or(0).min(len as usize);
                    // 'static reader for the decoder: reopen the file
                    let g = f.try_clone().unwrap_or_else(|e| die(&e.to_string()));
                    let g: &'static File = Box::leak(Box::new(g));
                    sink(decode(
                        At {
                            f: g,
                            pos: off,
                            end: off + len,
                        },
                        &magic[..k],
                    ))
                };
                total.fetch_add(n, Ordering::Relaxed);
            });
        }
        m => die(&format!("unknown mode {m}")),
    }
    eprintln!("{} bytes", total.load(Ordering::Relaxed));
}
