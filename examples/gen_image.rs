//! Writes a synthetic docker-archive for benchmarks: many files in several
//! layers, deterministic (same arguments, same bytes), to a file or to
//! standard output (streamed: never stored, so a 20 GB image costs no disk).
//!
//!   cargo run --release --example gen_image -- [OPTIONS] OUT|-
//!
//! Options (defaults in brackets):
//!   --files N        regular files in all layers [1000000]
//!   --layers L       layers [10]
//!   --max-size B     file sizes are log-uniform in 1..=B [9000: mean ~1 KB]
//!   --dominant       layer 0 holds 90% of the files (one layer holds most bytes)
//!   --whiteouts W    the last layer removes W files of layer 0 by `.wh.` entries [0]
//!   --rewrite P      every layer after the first stores again P per mille of the
//!                    previous layer's files (overwritten bytes) [10]
//!   --compress C     none | gzip | zstd, per layer [none] (gzip/zstd need a file OUT)
//!   --per-dir N      files per directory [100]
//!
//! Contents are slices of a fixed pool of letters (about 2:1 compressible),
//! so every file's bytes differ from its neighbours' and nothing is random.
//! The layer tars are in the archive first, then the config and manifest.json
//! (as `docker save` writes them); diff_ids and blob digests are real sha256.

use std::io::{Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

struct Opts {
    files: u64,
    layers: u64,
    max_size: u64,
    dominant: bool,
    whiteouts: u64,
    rewrite: u64,
    compress: String,
    per_dir: u64,
    out: String,
}

fn parse() -> Opts {
    let mut o = Opts {
        files: 1_000_000,
        layers: 10,
        max_size: 9000,
        dominant: false,
        whiteouts: 0,
        rewrite: 10,
        compress: "none".into(),
        per_dir: 100,
        out: String::new(),
    };
    let mut args = std::env::args().skip(1);
    let num = |v: Option<String>, what: &str| -> u64 {
        v.and_then(|s| s.replace('_', "").parse().ok())
            .unwrap_or_else(|| die(&format!("{what} needs a number")))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--files" => o.files = num(args.next(), &a),
            "--layers" => o.layers = num(args.next(), &a).max(1),
            "--max-size" => o.max_size = num(args.next(), &a).max(1),
            "--dominant" => o.dominant = true,
            "--whiteouts" => o.whiteouts = num(args.next(), &a),
            "--rewrite" => o.rewrite = num(args.next(), &a),
            "--per-dir" => o.per_dir = num(args.next(), &a).max(1),
            "--compress" => o.compress = args.next().unwrap_or_default(),
            s if s.starts_with("--") => die(&format!("unknown option {s}")),
            s => o.out = s.to_string(),
        }
    }
    if o.out.is_empty() {
        die("usage: gen_image [OPTIONS] OUT|-");
    }
    if !matches!(o.compress.as_str(), "none" | "gzip" | "zstd") {
        die("--compress is none, gzip or zstd");
    }
    if o.out == "-" && o.compress != "none" {
        die("compressed layers need a file to write (the outer header is patched)");
    }
    o
}

fn die(msg: &str) -> ! {
    eprintln!("gen_image: {msg}");
    std::process::exit(2)
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ceb9fe1a85ec53);
    x ^ (x >> 33)
}

const POOL: usize = 4 << 20;

struct Gen {
    o: Opts,
    pool: Vec<u8>,
}

/// One entry of a layer.
enum Item {
    Dir(String),
    File { path: String, size: u64, seed: u64 },
    Whiteout(String),
}

impl Gen {
    fn size_of(&self, i: u64) -> u64 {
        // log-uniform in 1..=max
        let u = (mix(i ^ 0x5eed) >> 11) as f64 / (1u64 << 53) as f64;
        ((self.o.max_size as f64).powf(u) as u64).clamp(1, self.o.max_size)
    }
    fn path_of(&self, i: u64) -> (String, String) {
        let d = i / self.o.per_dir;
        let dir = format!("usr/share/p{:04}/d{:05}", d / 100, d);
        let ext = ["so", "py", "h", "txt", "json"][(mix(i) % 5) as usize];
        let file = format!("{dir}/f{i:08}.{ext}");
        (dir, file)
    }
    /// Files [lo, hi) of layer `l`.
    fn range(&self, l: u64) -> (u64, u64) {
        let (n, ls) = (self.o.files, self.o.layers);
        if self.o.dominant && ls > 1 {
            let big = n * 9 / 10;
            if l == 0 {
                return (0, big);
            }
            let rest = n - big;
            return (big + rest * (l - 1) / (ls - 1), big + rest * l / (ls - 1));
        }
        (n * l / ls, n * (l + 1) / ls)
    }
    fn items(&self, l: u64, mut f: impl FnMut(Item)) {
        let (lo, hi) = self.range(l);
        let mut last_dir = String::new();
        let mut seen = std::collections::HashSet::new();
        let mut file = |g: &Gen, i: u64, seed: u64, f: &mut dyn FnMut(Item)| {
            let (dir, path) = g.path_of(i);
            if dir != last_dir {
                let mut acc = String::new();
                for c in dir.split('/') {
                    if !acc.is_empty() {
                        acc.push('/');
                    }
                    acc.push_str(c);
                    if seen.insert(acc.clone()) {
                        f(Item::Dir(acc.clone()));
                    }
                }
                last_dir = dir;
            }
            f(Item::File {
                path,
                size: g.size_of(i),
                seed,
            });
        };
        if l > 0 && self.o.rewrite > 0 {
            let (plo, phi) = self.range(l - 1);
            let step = (1000 / self.o.rewrite).max(1);
            let mut i = plo;
            while i < phi {
                file(self, i, mix(i ^ l), &mut f);
                i += step;
            }
        }
        for i in lo..hi {
            file(self, i, i, &mut f);
        }
        if l == self.o.layers - 1 && l > 0 {
            let (lo0, hi0) = self.range(0);
            let n0 = hi0 - lo0;
            for k in 0..self.o.whiteouts.min(n0) {
                let i = lo0 + k * n0 / self.o.whiteouts.min(n0);
                let (_, path) = self.path_of(i);
                let (d, b) = path.rsplit_once('/').unwrap();
                f(Item::Whiteout(format!("{d}/.wh.{b}")));
            }
        }
    }
}

fn header(path: &str, size: u64, typ: u8, mode: u32) -> [u8; 512] {
    let mut h = [0u8; 512];
    assert!(path.len() < 100, "path too long for a plain header");
    h[..path.len()].copy_from_slice(path.as_bytes());
    let oct = |h: &mut [u8; 512], at: usize, len: usize, v: u64| {
        let s = format!("{:0w$o}", v, w = len - 1);
        h[at..at + len - 1].copy_from_slice(s.as_bytes());
    };
    oct(&mut h, 100, 8, mode as u64);
    oct(&mut h, 108, 8, 0);
    oct(&mut h, 116, 8, 0);
    oct(&mut h, 124, 12, size);
    oct(&mut h, 136, 12, 1_700_000_000);
    h[156] = typ;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    h
}

const ZEROS: [u8; 1024] = [0; 1024];

/// Writes a layer tar to `w` (and through sha256).
fn write_layer(g: &Gen, l: u64, w: &mut dyn Write) -> std::io::Result<()> {
    let mut err: std::io::Result<()> = Ok(());
    g.items(l, |it| {
        if err.is_err() {
            return;
        }
        err = (|| -> std::io::Result<()> {
            match it {
                Item::Dir(p) => w.write_all(&header(&format!("{p}/"), 0, b'5', 0o755))?,
                Item::Whiteout(p) => w.write_all(&header(&p, 0, b'0', 0o644))?,
                Item::File { path, size, seed } => {
                    w.write_all(&header(&path, size, b'0', 0o644))?;
                    let mut left = size as usize;
                    let mut off = (mix(seed) % (POOL as u64 / 2)) as usize;
                    while left > 0 {
                        let n = left.min(POOL - off);
                        w.write_all(&g.pool[off..off + n])?;
                        left -= n;
                        off = 0;
                    }
                    let pad = (512 - size % 512) % 512;
                    w.write_all(&ZEROS[..pad as usize])?;
                }
            }
            Ok(())
        })();
    });
    err?;
    w.write_all(&ZEROS)
}

struct Tee<'a> {
    w: &'a mut dyn Write,
    h: Sha256,
    n: u64,
}
impl Write for Tee<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.w.write(b)?;
        self.h.update(&b[..n]);
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// Counts without storing.
struct Count(u64);
impl Write for Count {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn member(w: &mut dyn Write, name: &str, body: &[u8]) -> std::io::Result<()> {
    w.write_all(&header(name, body.len() as u64, b'0', 0o644))?;
    w.write_all(body)?;
    w.write_all(&ZEROS[..(512 - body.len() % 512) % 512])
}

fn run(g: &Gen) -> std::io::Result<()> {
    let stdout = g.o.out == "-";
    let mut file = if stdout {
        None
    } else {
        Some(std::fs::File::create(&g.o.out)?)
    };
    let mut so = std::io::stdout().lock();
    let mut diff_ids = Vec::new();
    let mut names = Vec::new();
    for l in 0..g.o.layers {
        let name = format!("layer{l:03}/layer.tar");
        match &mut file {
            None => {
                let mut c = Count(0);
                write_layer(g, l, &mut c)?;
                let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut so);
                w.write_all(&header(&name, c.0, b'0', 0o644))?;
                let mut t = Tee {
                    w: &mut w,
                    h: Sha256::new(),
                    n: 0,
                };
                write_layer(g, l, &mut t)?;
                let (h, n) = (t.h, t.n);
                w.write_all(&ZEROS[..((512 - n % 512) % 512) as usize])?;
                w.flush()?;
                diff_ids.push(format!("sha256:{}", hex(&h.finalize())));
            }
            Some(f) => {
                let at = f.stream_position()?;
                f.write_all(&[0u8; 512])?;
                let mut bw = std::io::BufWriter::with_capacity(1 << 20, &mut *f);
                let blob = {
                    let mut outer = Tee {
                        w: &mut bw,
                        h: Sha256::new(),
                        n: 0,
                    };
                    let diff = match g.o.compress.as_str() {
                        "gzip" => {
                            let mut z = flate2::write::GzEncoder::new(
                                &mut outer,
                                flate2::Compression::new(6),
                            );
                            let mut t = Tee {
                                w: &mut z,
                                h: Sha256::new(),
                                n: 0,
                            };
                            write_layer(g, l, &mut t)?;
                            let d = t.h.finalize();
                            z.finish()?;
                            d
                        }
                        "zstd" => {
                            let mut z = zstd::stream::write::Encoder::new(&mut outer, 3)?;
                            let mut t = Tee {
                                w: &mut z,
                                h: Sha256::new(),
                                n: 0,
                            };
                            write_layer(g, l, &mut t)?;
                            let d = t.h.finalize();
                            z.finish()?;
                            d
                        }
                        _ => {
                            let mut t = Tee {
                                w: &mut outer,
                                h: Sha256::new(),
                                n: 0,
                            };
                            write_layer(g, l, &mut t)?;
                            t.h.finalize()
                        }
                    };
                    diff_ids.push(format!("sha256:{}", hex(&diff)));
                    (outer.h.finalize(), outer.n)
                };
                bw.flush()?;
                drop(bw);
                let n = blob.1;
                let name = if g.o.compress == "none" {
                    name
                } else {
                    format!("blobs/sha256/{}", hex(&blob.0))
                };
                f.write_all(&ZEROS[..((512 - n % 512) % 512) as usize])?;
                let end = f.stream_position()?;
                f.seek(SeekFrom::Start(at))?;
                f.write_all(&header(&name, n, b'0', 0o644))?;
                f.seek(SeekFrom::Start(end))?;
                names.push(name);
                continue;
            }
        }
        names.push(name);
    }
    let history: Vec<String> = (0..g.o.layers)
        .map(|l| format!("{{\"created_by\":\"RUN generate layer {l}\"}}"))
        .collect();
    let config = format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{{}},\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{}]}},\"history\":[{}]}}",
        diff_ids.iter().map(|d| format!("\"{d}\"")).collect::<Vec<_>>().join(","),
        history.join(",")
    );
    let cfg_name = format!("{}.json", hex(&Sha256::digest(config.as_bytes())));
    let manifest = format!(
        "[{{\"Config\":\"{cfg_name}\",\"RepoTags\":[\"bench/generated:latest\"],\"Layers\":[{}]}}]",
        names
            .iter()
            .map(|d| format!("\"{d}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let w: &mut dyn Write = match &mut file {
        Some(f) => f,
        None => &mut so,
    };
    member(w, &cfg_name, config.as_bytes())?;
    member(w, "manifest.json", manifest.as_bytes())?;
    w.write_all(&ZEROS)?;
    w.flush()
}

fn main() {
    let o = parse();
    let mut pool = vec![0u8; POOL];
    let mut x = 0x1234_5678_9abc_def0u64;
    for b in pool.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = b"etaoinshrdlucmfw"[(x >> 60) as usize];
    }
    let g = Gen { o, pool };
    if let Err(e) = run(&g) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            die(&e.to_string());
        }
    }
}
