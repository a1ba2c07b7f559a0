//! Synthetic images for tests: layer tars of chosen entries (files, dirs,
//! symlinks, hard links, devices, whiteouts, opaque dirs, odd paths, owners)
//! written in memory, wrapped in a docker archive or an OCI layout with real
//! digests. The one builder both the library's unit tests and the
//! integration tests (tests/it) use; it needs only the crate's own
//! dependencies (tar, sha2, flate2, zstd), so it is always compiled and
//! hidden from the documentation. Nothing here is written to disk: tests
//! that need a file put the bytes in a temporary one (tests/it/common).

use std::io::Write;

use crate::load::index::Index;
use crate::suggest::Report;

/// One tar entry (paths relative, no leading `/`).
#[derive(Clone, Debug)]
pub enum E {
    /// A regular file, mode 0644.
    File(&'static str, Vec<u8>),
    /// A regular file with another mode.
    FileMode(&'static str, Vec<u8>, u32),
    /// A regular file with a mode and an owner (uid = gid).
    Owned(&'static str, Vec<u8>, u32, u64),
    /// A directory, mode 0755.
    Dir(&'static str),
    /// `Symlink(path, target)`.
    Symlink(&'static str, &'static str),
    /// `HardLink(path, target)`.
    HardLink(&'static str, &'static str),
    /// `.wh.NAME` beside the path: the path is removed.
    Whiteout(&'static str),
    /// `.wh..wh..opq` inside the directory.
    Opaque(&'static str),
    /// A regular file (mode 0644) under raw header path bytes (`..`, non-UTF-8,
    /// paths built at run time).
    RawPath(Vec<u8>, Vec<u8>),
    /// A character device, mode 0666.
    Char(&'static str),
    /// A block device, mode 0660.
    Block(&'static str),
    /// A named pipe, mode 0644.
    Fifo(&'static str),
}

/// A GNU header for `path` (at most 100 bytes, written as given, so tests
/// can use odd paths), owner 0:0, mtime 0, checksum set.
pub fn header(path: &[u8], size: u64, kind: tar::EntryType, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    let name = &mut h.as_old_mut().name;
    name.fill(0);
    name[..path.len()].copy_from_slice(path);
    h.set_cksum();
    h
}

fn append(
    b: &mut tar::Builder<Vec<u8>>,
    path: &[u8],
    data: &[u8],
    kind: tar::EntryType,
    mode: u32,
) {
    let h = header(path, data.len() as u64, kind, mode);
    b.append(&h, data).unwrap();
}

fn append_link(
    b: &mut tar::Builder<Vec<u8>>,
    path: &str,
    target: &str,
    kind: tar::EntryType,
    mode: u32,
) {
    let mut h = header(path.as_bytes(), 0, kind, mode);
    h.set_link_name(target).unwrap();
    h.set_cksum();
    b.append(&h, &[][..]).unwrap();
}

/// A layer tar of these entries, in order.
pub fn layer(entries: &[E]) -> Vec<u8> {
    use tar::EntryType as T;
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::File(p, d) => append(&mut b, p.as_bytes(), d, T::Regular, 0o644),
            E::FileMode(p, d, m) => append(&mut b, p.as_bytes(), d, T::Regular, *m),
            E::Owned(p, d, m, uid) => {
                let mut h = header(p.as_bytes(), d.len() as u64, T::Regular, *m);
                h.set_uid(*uid);
                h.set_gid(*uid);
                h.set_cksum();
                b.append(&h, &d[..]).unwrap();
            }
            E::RawPath(p, d) => append(&mut b, p, d, T::Regular, 0o644),
            E::Dir(p) => append(&mut b, format!("{p}/").as_bytes(), &[], T::Directory, 0o755),
            E::Symlink(p, t) => append_link(&mut b, p, t, T::Symlink, 0o777),
            E::HardLink(p, t) => append_link(&mut b, p, t, T::Link, 0o644),
            E::Whiteout(p) => {
                let (dir, name) = match p.rfind('/') {
                    Some(i) => (&p[..i + 1], &p[i + 1..]),
                    None => ("", &p[..]),
                };
                append(
                    &mut b,
                    format!("{dir}.wh.{name}").as_bytes(),
                    &[],
                    T::Regular,
                    0,
                );
            }
            E::Opaque(d) => append(
                &mut b,
                format!("{d}/.wh..wh..opq").as_bytes(),
                &[],
                T::Regular,
                0,
            ),
            E::Char(p) => append(&mut b, p.as_bytes(), &[], T::Char, 0o666),
            E::Block(p) => append(&mut b, p.as_bytes(), &[], T::Block, 0o660),
            E::Fifo(p) => append(&mut b, p.as_bytes(), &[], T::Fifo, 0o644),
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

pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(b))
}

/// The diff_id of a layer blob: sha256 of its uncompressed bytes, streamed
/// (a test's decompression bomb is never held).
pub fn diff_id(blob: &[u8]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    if blob.starts_with(&[0x1f, 0x8b]) {
        // A damaged blob (a test's) gets the digest of what decodes.
        let _ = std::io::copy(&mut flate2::read::MultiGzDecoder::new(blob), &mut h);
    } else if blob.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        std::io::copy(&mut zstd::Decoder::new(blob).unwrap(), &mut h).unwrap();
    } else {
        h.update(blob);
    }
    format!("sha256:{:x}", h.finalize())
}

/// A tar of (path, bytes) members, regular files in order.
pub fn tar_of(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, bytes) in members {
        append(&mut b, p.as_bytes(), bytes, tar::EntryType::Regular, 0o644);
    }
    b.into_inner().unwrap()
}

/// A docker-archive (legacy layout) holding the given layer blobs, with one
/// history entry per layer (`commands[i]`, or `/bin/sh -c true`).
pub fn docker_archive(layers: &[Vec<u8>], commands: &[&str]) -> Vec<u8> {
    docker_archive_with(layers, commands, None, None)
}

/// [`docker_archive`] with its `manifest.json` or `config.json` replaced.
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
        append(&mut b, name.as_bytes(), l, tar::EntryType::Regular, 0o644);
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
    append(
        &mut b,
        b"config.json",
        config.as_bytes(),
        tar::EntryType::Regular,
        0o644,
    );
    let manifest = manifest_override.map(String::from).unwrap_or_else(|| {
        format!(
            "[{{\"Config\":\"config.json\",\"RepoTags\":[\"synthetic:latest\"],\"Layers\":[{}]}}]",
            names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(",")
        )
    });
    append(
        &mut b,
        b"manifest.json",
        manifest.as_bytes(),
        tar::EntryType::Regular,
        0o644,
    );
    b.into_inner().unwrap()
}

pub const OCI_IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// An OCI layout as (path, bytes) members: index.json → manifest → config
/// and the layers, with real digests.
pub fn oci_members(layers: &[Vec<u8>]) -> Vec<(String, Vec<u8>)> {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("\"{}\"", diff_id(l)))
        .collect();
    let config = format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{}]}}}}",
        diff_ids.join(",")
    );
    oci_members_with(
        layers,
        "application/vnd.oci.image.layer.v1.tar",
        OCI_IMAGE_CONFIG,
        config.as_bytes(),
    )
}

/// An OCI layout whose manifest gives its layers `layer_type` and a config
/// blob `config` of media type `config_type` (an artifact's, say).
pub fn oci_members_with(
    layers: &[Vec<u8>],
    layer_type: &str,
    config_type: &str,
    config: &[u8],
) -> Vec<(String, Vec<u8>)> {
    let mut m = Vec::new();
    let desc = |mt: &str, b: &[u8]| {
        format!(
            "{{\"mediaType\":\"{mt}\",\"digest\":\"sha256:{}\",\"size\":{}}}",
            sha256_hex(b),
            b.len()
        )
    };
    let ls: Vec<String> = layers.iter().map(|l| desc(layer_type, l)).collect();
    let manifest = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{},\"layers\":[{}]}}",
        desc(config_type, config),
        ls.join(",")
    )
    .into_bytes();
    let index = format!(
        "{{\"schemaVersion\":2,\"manifests\":[{}]}}",
        desc("application/vnd.oci.image.manifest.v1+json", &manifest)
    );
    m.push((
        "oci-layout".into(),
        b"{\"imageLayoutVersion\":\"1.0.0\"}".to_vec(),
    ));
    m.push(("index.json".into(), index.into_bytes()));
    for b in [config.to_vec(), manifest]
        .into_iter()
        .chain(layers.iter().cloned())
    {
        m.push((format!("blobs/sha256/{}", sha256_hex(&b)), b));
    }
    m
}

/// The members as an OCI archive (a tar of the layout).
pub fn oci_tar(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    tar_of(members)
}

/// Load a docker archive of these layers (history `RUN layer N`) from
/// memory and analyse it with the built-in rules.
pub fn image(layers: &[&[E]]) -> (Index, Report) {
    let tars: Vec<Vec<u8>> = layers.iter().map(|l| layer(l)).collect();
    let commands: Vec<String> = (0..layers.len())
        .map(|i| format!("RUN layer {i}"))
        .collect();
    let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
    let bytes = docker_archive(&tars, &commands);
    let index = crate::load_reader(
        Box::new(std::io::Cursor::new(bytes)),
        "test.tar",
        &Default::default(),
        &Default::default(),
    )
    .expect("the test image loads");
    let a = crate::analyse_index(index, &Default::default()).expect("the test image has a report");
    (a.index, a.report)
}

/// Three layers: a base; a layer that modifies, adds and removes; a layer
/// that moves a file (rm + the same bytes elsewhere) and chmods another.
pub fn three_layers() -> (Index, Report) {
    image(&[
        &[
            E::Dir("bin"),
            E::File("bin/sh", b"#!sh".to_vec()),
            E::File("bin/x", b"xx".to_vec()),
            E::Dir("etc"),
            E::File("etc/a", b"aaaa".to_vec()),
            E::Dir("usr"),
            E::Dir("usr/lib"),
            E::File("usr/lib/big", b"0123456789".to_vec()),
        ],
        &[
            E::File("etc/a", b"AAAAAA".to_vec()),
            E::File("etc/b", b"b".to_vec()),
            E::Whiteout("bin/x"),
        ],
        &[
            E::Whiteout("usr/lib/big"),
            E::Dir("opt"),
            E::File("opt/big", b"0123456789".to_vec()),
            E::FileMode("etc/b", b"b".to_vec(), 0o600),
        ],
    ])
}
