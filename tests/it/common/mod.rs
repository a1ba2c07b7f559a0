//! Helpers for tests: paths of real images, and synthetic image archives for
//! edge cases (whiteouts, opaque dirs, hard links, corrupt data).
#![allow(dead_code)]

mod run;

pub use imgscope::testing::{
    docker_archive, docker_archive_with, gzip, header, layer, oci_members, oci_members_with,
    oci_tar, sha256_hex, tar_of, zstd, E,
};
pub use run::*;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

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

/// The final filesystem of a docker-archive as its layer tars say, computed
/// by the tests on their own: regular files (path → size; hard links 0, as
/// stored), symlinks, and the content of dpkg's file lists and of Python's
/// `.dist-info/RECORD` files.
pub struct Merged {
    pub files: BTreeMap<String, u64>,
    pub links: BTreeMap<String, String>,
    pub lists: BTreeMap<String, String>,
    pub records: BTreeMap<String, String>,
    /// The layer (0-based) that stored each regular file's visible copy.
    pub layer: BTreeMap<String, usize>,
}

pub fn merged(image: &Path) -> Merged {
    let mut outer = tar::Archive::new(std::fs::File::open(image).unwrap());
    let mut blobs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for e in outer.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().to_string_lossy().into_owned();
        let mut v = Vec::new();
        e.read_to_end(&mut v).unwrap();
        blobs.insert(p, v);
    }
    let manifest: serde_json::Value = serde_json::from_slice(&blobs["manifest.json"]).unwrap();
    let mut m = Merged {
        files: BTreeMap::new(),
        links: BTreeMap::new(),
        lists: BTreeMap::new(),
        records: BTreeMap::new(),
        layer: BTreeMap::new(),
    };
    for (li, l) in manifest[0]["Layers"].as_array().unwrap().iter().enumerate() {
        let blob = &blobs[l.as_str().unwrap()];
        let mut t = tar::Archive::new(&blob[..]);
        for e in t.entries().unwrap() {
            let mut e = e.unwrap();
            let raw = e.path().unwrap().to_string_lossy().into_owned();
            let p = format!("/{}", raw.trim_start_matches("./").trim_end_matches('/'));
            let (dir, name) = p.rsplit_once('/').unwrap();
            if let Some(gone) = name.strip_prefix(".wh.") {
                let gone = format!("{dir}/{gone}");
                m.files
                    .retain(|k, _| k != &gone && !k.starts_with(&format!("{gone}/")));
                continue;
            }
            match e.header().entry_type() {
                tar::EntryType::Regular => {
                    m.files.insert(p.clone(), e.size());
                    m.layer.insert(p.clone(), li);
                    if p.starts_with("/var/lib/dpkg/info/") && p.ends_with(".list") {
                        let mut s = String::new();
                        e.read_to_string(&mut s).unwrap();
                        m.lists.insert(p, s);
                    } else if p.ends_with(".dist-info/RECORD") {
                        let mut s = String::new();
                        e.read_to_string(&mut s).unwrap();
                        m.records.insert(p, s);
                    }
                }
                tar::EntryType::Link => {
                    m.layer.insert(p.clone(), li);
                    m.files.insert(p, 0);
                }
                tar::EntryType::Symlink => {
                    let t = e
                        .link_name()
                        .unwrap()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    m.links.insert(p, t);
                }
                _ => {}
            }
        }
    }
    m
}

/// `/bin/ls` → `/usr/bin/ls` through a symlinked top-level directory.
pub fn usrmerge(m: &Merged, p: &str) -> String {
    let top = p.split('/').nth(1).unwrap_or("");
    match m.links.get(&format!("/{top}")) {
        Some(t) => format!("/{}{}", t.trim_start_matches('/'), &p[top.len() + 1..]),
        None => p.to_string(),
    }
}

/// The full report (suggestions too) of an image file.
pub fn real_report(path: &Path) -> imgscope::Report {
    report_with_dockerfile(path, None)
}

/// The full report of an image file, with its Dockerfile when given.
pub fn report_with_dockerfile(path: &Path, dockerfile: Option<&Path>) -> imgscope::Report {
    let opts = imgscope::AnalyseOptions {
        dockerfile: dockerfile.map(Path::to_path_buf),
        ..Default::default()
    };
    imgscope::analyse(path.to_str().unwrap(), &opts, &Default::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .report
}

/// Is `tool` on the PATH?
pub fn have(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A hash of everything under tests/images but the committed images
/// themselves: the scripts, lib.sh and src/.
fn inputs_hash() -> String {
    fn walk(dir: &Path, acc: &mut Vec<(PathBuf, Vec<u8>)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, acc);
            } else if p.extension().is_some_and(|x| x == "sh" || x == "py")
                || p.starts_with(root().join("tests/images/src"))
            {
                acc.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    let mut acc = Vec::new();
    walk(&root().join("tests/images"), &mut acc);
    acc.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&acc, &mut h);
    format!("{:016x}", std::hash::Hasher::finish(&h))
}

/// Real images too big to commit, built on demand by `tests/images/SCRIPT
/// target/DIR` (once per test binary): the folder holding `files`, or why
/// not (for the test's "skipped" line). `$from_env` names a folder that
/// already holds them; with `gate`, the build runs only when that variable
/// is set (as .ci/run sets it).
pub fn built_on_demand(
    script: &str,
    dir: &str,
    files: &[&str],
    tools: &[&str],
    from_env: &str,
    gate: Option<&str>,
) -> Result<PathBuf, String> {
    if let Some(d) = std::env::var_os(from_env) {
        return Ok(PathBuf::from(d));
    }
    let out = root().join("target").join(dir);
    let all = |d: &Path| files.iter().all(|f| d.join(f).exists());
    // A folder built by an older version of the scripts is stale: the
    // stamp holds a hash of every script and source the builds read.
    let stamp = out.join(".inputs");
    let inputs = inputs_hash();
    if all(&out) && std::fs::read_to_string(&stamp).is_ok_and(|s| s == inputs) {
        return Ok(out);
    }
    if let Some(g) = gate {
        if std::env::var_os(g).is_none() {
            return Err(format!("set {g}=1 to build them (as .ci/run does)"));
        }
    }
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !is_root {
        return Err("building them needs root".into());
    }
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !have(t)).collect();
    if !missing.is_empty() {
        return Err(format!("missing {}", missing.join(", ")));
    }
    let ok = std::process::Command::new(root().join("tests/images").join(script))
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    if ok && all(&out) {
        std::fs::write(&stamp, inputs).map_err(|e| format!("{}: {e}", stamp.display()))?;
        Ok(out)
    } else {
        Err(format!("tests/images/{script} failed"))
    }
}

/// The Debian images of tests/images/build-debian.sh (mmdebstrap, buildah,
/// skopeo; built only with IMGSCOPE_DEBIAN_BUILD set, or taken from
/// IMGSCOPE_DEBIAN_IMAGES): the folder holding `files`, or why not.
pub fn debian_images(files: &[&str]) -> Result<PathBuf, String> {
    built_on_demand(
        "build-debian.sh",
        "debian-images",
        files,
        &["mmdebstrap", "buildah", "skopeo"],
        "IMGSCOPE_DEBIAN_IMAGES",
        Some("IMGSCOPE_DEBIAN_BUILD"),
    )
}

// ------------------------------------------------------------ OCI layouts

/// The members written as an OCI layout directory.
pub fn oci_members_dir(members: &[(String, Vec<u8>)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, b) in members {
        let path = d.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b).unwrap();
    }
    d
}

/// An OCI layout directory of these layers.
pub fn oci_dir(layers: &[Vec<u8>]) -> tempfile::TempDir {
    oci_members_dir(&oci_members(layers))
}

/// Load and analyse an OCI archive of these layers (built-in rules).
pub fn analyse_oci(layers: &[Vec<u8>]) -> imgscope::Analysis {
    analyse_bytes(&oci_tar(&oci_members(layers)))
}
