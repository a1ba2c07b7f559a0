//! Helpers for tests: paths of real images, and synthetic image archives for
//! edge cases (whiteouts, opaque dirs, hard links, corrupt data).
#![allow(dead_code)]

pub mod bounded;

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
        // A damaged blob (a test's) gets the digest of what decodes.
        let _ = std::io::copy(&mut flate2::read::MultiGzDecoder::new(blob), &mut h);
    } else if blob.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        std::io::copy(&mut zstd::Decoder::new(blob).unwrap(), &mut h).unwrap();
    } else {
        h.update(blob);
    }
    format!("sha256:{:x}", h.finalize())
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
    imgscope::analyse(
        path.to_str().unwrap(),
        &imgscope::AnalyseOptions::default(),
        &imgscope::LoadProgress::default(),
    )
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

/// One run of the binary: its exit code, standard output and error.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Standard output as JSON (a panic naming standard error when it is not).
    pub fn json(&self) -> serde_json::Value {
        parse_json(self.stdout.as_bytes(), &self.stderr)
    }

    /// The report of a run that analysed (exit 0 or 1), as JSON.
    pub fn report(&self) -> serde_json::Value {
        assert!(
            self.code == 0 || self.code == 1,
            "exit {}: {}",
            self.code,
            self.stderr
        );
        self.json()
    }
}

/// `stdout` as JSON, or a panic showing `stderr` and the start of `stdout`.
pub fn parse_json(stdout: &[u8], stderr: &str) -> serde_json::Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {stderr}; stdout: {}",
            String::from_utf8_lossy(&stdout[..stdout.len().min(300)])
        )
    })
}

/// The binary, with the environment that changes its output (`CI`,
/// `NO_COLOR`) cleared.
pub fn imgscope() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("imgscope").unwrap();
    c.env_remove("CI").env_remove("NO_COLOR");
    c
}

/// Run the binary with `args` in `dir`.
pub fn exec_in(dir: &Path, args: &[&str]) -> Run {
    let out = imgscope().current_dir(dir).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Run the binary with `args` in an empty directory (no configuration file).
pub fn exec(args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    exec_in(dir.path(), args)
}

/// `imgscope --format json ARGS`: the exit code (0 or 1) and the report.
pub fn json_report(args: &[&str]) -> (i32, serde_json::Value) {
    let mut a = vec!["--format", "json"];
    a.extend_from_slice(args);
    let r = exec(&a);
    (r.code, r.report())
}

// ------------------------------------------------------------ OCI layouts

pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(b))
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

/// The members as an OCI archive (a tar of the layout).
pub fn oci_tar(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, bytes) in members {
        let h = header(
            p.as_bytes(),
            bytes.len() as u64,
            tar::EntryType::Regular,
            0o644,
        );
        b.append(&h, &bytes[..]).unwrap();
    }
    b.into_inner().unwrap()
}

/// Load and analyse an OCI archive of these layers (built-in rules).
pub fn analyse_oci(layers: &[Vec<u8>]) -> imgscope::Analysis {
    analyse_bytes(&oci_tar(&oci_members(layers)))
}
