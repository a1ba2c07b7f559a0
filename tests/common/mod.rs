//! Helpers for tests: paths of real images, and synthetic image archives for
//! edge cases (whiteouts, opaque dirs, hard links, corrupt data).
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A real image built by tests/images/build.sh.
pub fn built(name: &str) -> PathBuf {
    root().join("tests/images").join(name)
}

/// dive's 14-step scenario rebuilt here (tests/images/src/dive-steps), as
/// `docker save` (Docker < 25) writes it: real `<id>/layer.tar` files,
/// uncompressed layers; zstd-compressed as a whole.
pub fn steps_docker() -> PathBuf {
    built("dive-steps.docker.tar.zst")
}

/// The same image as kaniko writes it: `<sha256>.tar.gz` layers.
pub fn steps_kaniko() -> PathBuf {
    built("dive-steps.kaniko.tar")
}

/// The same image as an OCI archive with zstd layers.
pub fn steps_oci_zstd() -> PathBuf {
    built("dive-steps.oci-zstd.tar")
}

/// The same image as an OCI archive with gzip layers.
pub fn steps_oci_gzip() -> PathBuf {
    built("dive-steps.oci-gzip.tar")
}

/// A one-layer image (the busybox base alone): no waste.
pub fn single_layer_image() -> PathBuf {
    built("single-layer.tar.gz")
}

/// A plain tar that is not an image: `plain.tar`, `plain.tar.gz`, `plain.tar.zst`.
pub fn not_image(name: &str) -> PathBuf {
    root().join("tests/images/not-images").join(name)
}

/// The bytes of a file, decompressed when the whole file is zstd or gzip
/// (the committed archives that would be over 2 MB are stored compressed).
pub fn read_uncompressed(path: &std::path::Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if raw.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::decode_all(&raw[..]).unwrap()
    } else if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out).unwrap();
        out
    } else {
        raw
    }
}

#[derive(Clone, Debug)]
pub enum E {
    File(&'static str, Vec<u8>),
    FileMode(&'static str, Vec<u8>, u32),
    Dir(&'static str),
    Symlink(&'static str, &'static str),
    HardLink(&'static str, &'static str),
    /// `.wh.` marker for the path.
    Whiteout(&'static str),
    /// `.wh..wh..opq` inside the directory.
    Opaque(&'static str),
    /// A raw header path (for `..` tests), as a regular file.
    RawPath(Vec<u8>, Vec<u8>),
}

pub fn header(path: &[u8], size: u64, kind: tar::EntryType, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    // Write the name bytes directly so tests can use odd paths.
    let name = &mut h.as_old_mut().name;
    name.fill(0);
    name[..path.len()].copy_from_slice(path);
    h.set_cksum();
    h
}

/// A layer tar from entries (paths relative, no leading slash).
pub fn layer(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::File(p, data) | E::FileMode(p, data, _) => {
                let mode = if let E::FileMode(_, _, m) = e {
                    *m
                } else {
                    0o644
                };
                let h = header(
                    p.as_bytes(),
                    data.len() as u64,
                    tar::EntryType::Regular,
                    mode,
                );
                b.append(&h, &data[..]).unwrap();
            }
            E::RawPath(p, data) => {
                let h = header(p, data.len() as u64, tar::EntryType::Regular, 0o644);
                b.append(&h, &data[..]).unwrap();
            }
            E::Dir(p) => {
                let h = header(
                    format!("{p}/").as_bytes(),
                    0,
                    tar::EntryType::Directory,
                    0o755,
                );
                b.append(&h, &[][..]).unwrap();
            }
            E::Symlink(p, t) => {
                let mut h = header(p.as_bytes(), 0, tar::EntryType::Symlink, 0o777);
                h.set_link_name(t).unwrap();
                h.set_cksum();
                b.append(&h, &[][..]).unwrap();
            }
            E::HardLink(p, t) => {
                let mut h = header(p.as_bytes(), 0, tar::EntryType::Link, 0o644);
                h.set_link_name(t).unwrap();
                h.set_cksum();
                b.append(&h, &[][..]).unwrap();
            }
            E::Whiteout(p) => {
                let (dir, name) = match p.rfind('/') {
                    Some(i) => (&p[..i + 1], &p[i + 1..]),
                    None => ("", &p[..]),
                };
                let h = header(
                    format!("{dir}.wh.{name}").as_bytes(),
                    0,
                    tar::EntryType::Regular,
                    0,
                );
                b.append(&h, &[][..]).unwrap();
            }
            E::Opaque(d) => {
                let h = header(
                    format!("{d}/.wh..wh..opq").as_bytes(),
                    0,
                    tar::EntryType::Regular,
                    0,
                );
                b.append(&h, &[][..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn add(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let h = header(
        name.as_bytes(),
        data.len() as u64,
        tar::EntryType::Regular,
        0o644,
    );
    b.append(&h, data).unwrap();
}

/// A docker-archive (legacy layout) holding the given layer blobs, with one
/// history entry per layer.
pub fn docker_archive(layers: &[Vec<u8>], commands: &[&str]) -> Vec<u8> {
    docker_archive_with(layers, commands, None, None)
}

pub fn docker_archive_with(
    layers: &[Vec<u8>],
    commands: &[&str],
    manifest_override: Option<&str>,
    config_override: Option<&str>,
) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let name = format!("layer{i}/layer.tar");
        add(&mut b, &name, l);
        names.push(name);
    }
    let history: Vec<String> = (0..layers.len())
        .map(|i| {
            format!(
                "{{\"created_by\":{}}}",
                serde_json::to_string(commands.get(i).copied().unwrap_or("/bin/sh -c true"))
                    .unwrap()
            )
        })
        .collect();
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("\"{}\"", diff_id(l)))
        .collect();
    let config = config_override.map(String::from).unwrap_or_else(|| {
        format!(
            "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{}]}},\"history\":[{}]}}",
            diff_ids.join(","),
            history.join(",")
        )
    });
    add(&mut b, "config.json", config.as_bytes());
    let manifest =
        manifest_override.map(String::from).unwrap_or_else(|| {
            format!(
            "[{{\"Config\":\"config.json\",\"RepoTags\":[\"synthetic:latest\"],\"Layers\":[{}]}}]",
            names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(",")
        )
        });
    add(&mut b, "manifest.json", manifest.as_bytes());
    b.into_inner().unwrap()
}

pub fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".tar").tempfile().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    f
}

/// Load and analyse an image file with the built-in rules.
pub fn analyse(path: &std::path::Path) -> imgscope::Analysis {
    let index = imgscope::load(
        path.to_str().unwrap(),
        &imgscope::LoadOptions::default(),
        &imgscope::LoadProgress::default(),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    imgscope::analyze(
        &index,
        &imgscope::Rules::builtin(),
        &imgscope::Ignore::none(),
    )
}

pub fn analyse_bytes(bytes: &[u8]) -> imgscope::Analysis {
    let f = temp_file(bytes);
    analyse(f.path())
}

/// Findings as comparable tuples: (path, kind, bytes, stored, hidden_by).
pub fn findings(r: &imgscope::Analysis) -> Vec<(String, &'static str, u64, usize, Option<usize>)> {
    r.waste
        .iter()
        .map(|f| {
            (
                f.path.display(),
                f.kind.as_str(),
                f.bytes,
                f.stored_in_layer,
                f.hidden_by_layer,
            )
        })
        .collect()
}

/// The diff_id of a layer blob: sha256 of its uncompressed bytes, streamed
/// (a test's decompression bomb is never held).
pub fn diff_id(blob: &[u8]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    if blob.starts_with(&[0x1f, 0x8b]) {
        std::io::copy(&mut flate2::read::MultiGzDecoder::new(blob), &mut h).unwrap();
    } else if blob.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        std::io::copy(&mut zstd::Decoder::new(blob).unwrap(), &mut h).unwrap();
    } else {
        h.update(blob);
    }
    format!("sha256:{:x}", h.finalize())
}
