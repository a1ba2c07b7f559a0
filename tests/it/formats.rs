//! Every input layout and compression of SPEC.md's "Command line" section.

use crate::common;
use common::*;

fn json_of(args: &[&str], stdin: Option<Vec<u8>>) -> serde_json::Value {
    let mut e = Exec::new([&["--format", "json"], args].concat());
    if let Some(s) = stdin {
        e = e.stdin(s);
    }
    let r = e.run();
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

fn without_source(mut v: serde_json::Value) -> serde_json::Value {
    v["image"]["source"] = serde_json::Value::Null;
    v
}

#[test]
fn whole_archive_gzip_zstd_and_stdin_give_the_same_report() {
    // The committed legacy docker-archive is zstd-compressed as a whole.
    let committed = steps_docker();
    let bytes = read_uncompressed(&committed);
    let tar = temp_file(&bytes);
    let plain = json_of(&[tar.path().to_str().unwrap()], None);
    let gz = temp_file(&gzip(&bytes));
    let zs = temp_file(&zstd(&bytes));
    for other in [
        json_of(&[committed.to_str().unwrap()], None),
        json_of(&[gz.path().to_str().unwrap()], None),
        json_of(&[zs.path().to_str().unwrap()], None),
        json_of(&["-"], Some(bytes.clone())),
        json_of(&["-"], Some(gzip(&bytes))),
    ] {
        assert_eq!(without_source(other), without_source(plain.clone()));
    }
}

#[test]
fn oci_layout_directory_matches_its_tarball() {
    let path = steps_oci_zstd();
    let dir = tempfile::tempdir().unwrap();
    tar::Archive::new(std::fs::File::open(&path).unwrap())
        .unpack(dir.path())
        .unwrap();
    let a = json_of(&[path.to_str().unwrap()], None);
    let b = json_of(&[dir.path().to_str().unwrap()], None);
    assert_eq!(without_source(a), without_source(b.clone()));
    assert_eq!(b["image"]["format"], "oci-layout");
    assert_eq!(b["layers"][0]["digest"].as_str().unwrap().len(), 71);
}

fn sha(n: u8) -> String {
    format!("{:064x}", n as u128 * 0x1234567)
}

struct Oci {
    b: tar::Builder<Vec<u8>>,
    n: u8,
}

impl Oci {
    fn new() -> Self {
        Oci {
            b: tar::Builder::new(Vec::new()),
            n: 0,
        }
    }
    fn blob(&mut self, data: &[u8]) -> String {
        self.n += 1;
        let d = sha(self.n);
        let h = header(
            format!("blobs/sha256/{d}").as_bytes(),
            data.len() as u64,
            tar::EntryType::Regular,
            0o644,
        );
        self.b.append(&h, data).unwrap();
        d
    }
    /// An image (one layer with one file) for a platform; returns the manifest digest and size.
    fn image(&mut self, arch: &str, file: &'static str, size: usize) -> (String, usize) {
        let l = gzip(&layer(&[E::File(file, vec![1u8; size])]));
        let ld = self.blob(&l);
        let cfg = format!(
            r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":["sha256:{}"]}},"history":[{{"created_by":"COPY {file} / # buildkit"}}]}}"#,
            sha(200)
        );
        let cd = self.blob(cfg.as_bytes());
        let m = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{cd}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{ld}","size":{}}}]}}"#,
            cfg.len(),
            l.len()
        );
        let md = self.blob(m.as_bytes());
        (md, m.len())
    }
    fn finish(mut self, index: &str) -> Vec<u8> {
        let h = header(b"oci-layout", 30, tar::EntryType::Regular, 0o644);
        self.b
            .append(&h, &br#"{"imageLayoutVersion":"1.0.0"}"#[..])
            .unwrap();
        let h = header(
            b"index.json",
            index.len() as u64,
            tar::EntryType::Regular,
            0o644,
        );
        self.b.append(&h, index.as_bytes()).unwrap();
        self.b.into_inner().unwrap()
    }
}

fn multi_platform() -> Vec<u8> {
    let mut o = Oci::new();
    let (amd, amd_n) = o.image("amd64", "amd64.bin", 1000);
    let (arm, arm_n) = o.image("arm64", "arm64.bin", 2000);
    // An attestation manifest: must be skipped even though it is a manifest.
    let (att, att_n) = o.image("unknown", "attestation.json", 3000);
    let nested = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
        {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{att}","size":{att_n},"platform":{{"os":"unknown","architecture":"unknown"}},"annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}},
        {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{amd}","size":{amd_n},"platform":{{"os":"linux","architecture":"amd64"}}}},
        {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{arm}","size":{arm_n},"platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}}]}}"#
    );
    let nd = o.blob(nested.as_bytes());
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:{nd}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"multi:1.0"}}}}]}}"#,
        nested.len()
    );
    o.finish(&index)
}

#[test]
fn multi_platform_index_picks_platforms_and_skips_attestations() {
    let f = temp_file(&multi_platform());
    let p = f.path().to_str().unwrap();
    let arm = json_of(&["--platform", "linux/arm64", p], None);
    assert_eq!(arm["image"]["architecture"], "arm64");
    assert_eq!(arm["summary"]["total_bytes"], 2000);
    assert_eq!(arm["image"]["tags"][0], "multi:1.0");
    let arm = json_of(&["--platform", "linux/arm64/v8", p], None);
    assert_eq!(arm["summary"]["total_bytes"], 2000);
    let amd = json_of(&["--platform", "linux/amd64", p], None);
    assert_eq!(amd["summary"]["total_bytes"], 1000);
    if std::env::consts::ARCH == "x86_64" {
        let host = json_of(&[p], None);
        assert_eq!(host["summary"]["total_bytes"], 1000);
    }
    // The attestation is not offered as a platform.
    let out = Exec::new(["--platform", "unknown/unknown", p]).run();
    assert_eq!(out.code, 2);
    let err = &out.stderr;
    assert!(
        err.contains("linux/amd64")
            && err.contains("linux/arm64/v8")
            && !err.contains("available: unknown"),
        "{err}"
    );
    // BuildKit's created_by is shown without the `# buildkit` suffix.
    assert_eq!(
        amd["layers"][0]["created_by"],
        "COPY amd64.bin / # buildkit"
    );
}

#[test]
fn archive_with_several_images() {
    let l1 = layer(&[E::File("one", vec![1; 100])]);
    let l2 = layer(&[E::File("two", vec![2; 250])]);
    let manifest = r#"[
        {"Config":"config.json","RepoTags":["first:1"],"Layers":["layer0/layer.tar"]},
        {"Config":"config.json","RepoTags":["second:2","docker.io/library/second:latest"],"Layers":["layer1/layer.tar"]}]"#;
    let f = temp_file(&docker_archive_with(&[l1, l2], &[], Some(manifest), None));
    let p = f.path().to_str().unwrap();
    assert_eq!(json_of(&[p], None)["summary"]["total_bytes"], 100);
    assert_eq!(
        json_of(&["--image", "second:2", p], None)["summary"]["total_bytes"],
        250
    );
    assert_eq!(
        json_of(&["--image-name", "second", p], None)["summary"]["total_bytes"],
        250
    );
    let out = Exec::new(["--image-name", "third", p]).run();
    assert_eq!(out.code, 2);
    let err = &out.stderr;
    assert!(err.contains("first:1") && err.contains("second:2"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn docker_25_layout_with_oci_blobs() {
    // Docker ≥ 25 writes blobs/sha256/<hex> plus manifest.json and index.json.
    let l = layer(&[E::File("usr/bin/tool", vec![9; 4321])]);
    let hex = sha(7);
    let cfg = r#"{"architecture":"amd64","os":"linux","rootfs":{"diff_ids":["sha256:ab"]},"history":[{"created_by":"/bin/sh -c #(nop) CMD [\"sh\"]","empty_layer":true},{"created_by":"COPY tool /usr/bin/ # buildkit"}]}"#;
    let members = [
        (format!("blobs/sha256/{hex}"), l.clone()),
        (format!("blobs/sha256/{}", sha(8)), cfg.as_bytes().to_vec()),
        ("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
        ("index.json".into(), br#"{"schemaVersion":2,"manifests":[]}"#.to_vec()),
        (
            "manifest.json".into(),
            format!(r#"[{{"Config":"blobs/sha256/{}","RepoTags":["d25:latest"],"Layers":["blobs/sha256/{hex}"]}}]"#, sha(8)).into_bytes(),
        ),
    ];
    let f = temp_file(&tar_of(&members));
    let v = json_of(&[f.path().to_str().unwrap()], None);
    assert_eq!(v["image"]["format"], "docker-archive");
    assert_eq!(v["layers"][0]["digest"], format!("sha256:{hex}"));
    assert_eq!(
        v["layers"][0]["created_by"],
        "COPY tool /usr/bin/ # buildkit"
    );
    assert_eq!(v["summary"]["total_bytes"], 4321);
}

#[test]
fn json_report_has_every_field_of_the_contract() {
    let v = json_of(&[steps_docker().to_str().unwrap()], None);
    assert_eq!(v["schema"], 1);
    for k in ["source", "format", "tags", "os", "architecture"] {
        assert!(!v["image"][k].is_null(), "image.{k}");
    }
    for k in [
        "total_bytes",
        "visible_bytes",
        "hidden_bytes",
        "cache_bytes",
        "wasted_bytes",
        "waste_ratio",
        "efficiency",
        "layer_count",
        "file_count",
    ] {
        assert!(v["summary"][k].is_number(), "summary.{k}");
    }
    for l in v["layers"].as_array().unwrap() {
        for k in [
            "index",
            "bytes",
            "compressed_bytes",
            "files",
            "added",
            "modified",
            "removed",
            "wasted_bytes",
        ] {
            assert!(l[k].is_u64(), "layers[].{k}");
        }
        for k in ["digest", "diff_id", "created_by"] {
            assert!(l[k].is_string(), "layers[].{k}");
        }
        assert!(l["diff_id"].as_str().unwrap().starts_with("sha256:"));
    }
    let waste = v["waste"].as_array().unwrap();
    assert!(!waste.is_empty());
    let mut prev = u64::MAX;
    for f in waste {
        let b = f["bytes"].as_u64().unwrap();
        assert!(b <= prev, "sorted by bytes, largest first");
        prev = b;
        assert!(f["path"].as_str().unwrap().starts_with('/'));
        assert!(f["stored_in_layer"].is_u64());
        assert!(f.get("hidden_by_layer").is_some() && f.get("rule").is_some());
    }
    assert!(v["suggestions"].is_array() && v["checks"].is_array());
    // The figures themselves are checked against the image's construction
    // in tests/dive_steps.rs (dive's scenario, 5 hidden copies of 10 kB).
}

#[test]
fn non_utf8_paths_are_base64() {
    let mut l = Vec::new();
    let h = header(b"caf\xe9.txt", 5, tar::EntryType::Regular, 0o644);
    l.extend_from_slice(h.as_bytes());
    l.extend_from_slice(b"hello");
    l.extend_from_slice(&[0u8; 507]);
    let wh = layer(&[
        E::RawPath(b"keep".to_vec(), vec![]),
        E::RawPath(b".wh.caf\xe9.txt".to_vec(), vec![]),
    ]);
    let f = temp_file(&docker_archive(&[l, wh], &[]));
    let v = json_of(&[f.path().to_str().unwrap()], None);
    assert_eq!(v["waste"][0]["path"]["bytes_base64"], "L2NhZukudHh0");
    assert_eq!(v["waste"][0]["kind"], "removed");
}

#[test]
fn whiteouts_opaque_dirs_and_hard_links() {
    // Layer 0: a dir with files and a hard-linked pair; layer 1 makes the dir
    // opaque and writes one file back with identical content; layer 2 deletes
    // one name of the hard link (the other survives: no waste) and replaces
    // a file by a directory.
    let l0 = layer(&[
        E::Dir("d"),
        E::File("d/x", vec![1; 1000]),
        E::File("d/y", vec![2; 2000]),
        E::File("h/a", vec![3; 3000]),
        E::HardLink("h/b", "h/a"),
        E::File("f", vec![4; 400]),
    ]);
    let l1 = layer(&[E::Opaque("d"), E::File("d/x", vec![1; 1000])]);
    let l2 = layer(&[
        E::Whiteout("h/a"),
        E::Dir("f"),
        E::File("f/inner", vec![5; 50]),
    ]);
    let r = analyse_bytes(&docker_archive(&[l0, l1, l2], &[]));
    let mut got = findings(&r);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("/d/x".into(), "metadata_only", 1000, 0, Some(1)),
            ("/d/y".into(), "removed", 2000, 0, Some(1)),
            ("/f".into(), "overwritten", 400, 0, Some(2)),
        ]
    );
    assert_eq!(r.summary.total_bytes, 1000 + 2000 + 3000 + 400 + 1000 + 50);
    assert_eq!(r.summary.visible_bytes, 1000 + 3000 + 50);
    assert_eq!(r.layers[0].files, 5);
    assert_eq!(r.layers[2].removed, 1);
}

/// `--demo` needs nothing but the binary: a copy of it in an empty folder,
/// run from another one, with every copy of the source tree's path in it
/// made to point nowhere (as for a binary built elsewhere and installed),
/// reports the same image as the committed assets/demo/demo.tar.zst.
#[test]
fn demo_runs_from_a_copied_binary_without_the_source_tree() {
    let bin_dir = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(env!("CARGO_BIN_EXE_imgscope")).unwrap();
    let tree = env!("CARGO_MANIFEST_DIR").as_bytes();
    let nowhere: Vec<u8> = std::iter::once(b'/')
        .chain(std::iter::repeat_n(b'x', tree.len() - 1))
        .collect();
    let mut moved = 0;
    let mut i = 0;
    while let Some(at) = memchr::memmem::find(&bytes[i..], tree) {
        bytes[i + at..i + at + tree.len()].copy_from_slice(&nowhere);
        i += at + tree.len();
        moved += 1;
    }
    let bin = bin_dir.path().join("imgscope");
    std::fs::write(&bin, &bytes).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // Another test thread that forks while the copy is being written holds
    // its descriptor until that child execs: exec fails with ETXTBSY until
    // then, so it is tried again until the descriptor is gone.
    let out = loop {
        match std::process::Command::new(&bin)
            .current_dir(cwd.path())
            .env_remove("CI")
            .args(["--demo", "--format", "json"])
            .output()
        {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => std::thread::yield_now(),
            r => break r.unwrap(),
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{moved} paths moved: {stderr}");
    let demo = parse_json(&out.stdout, &stderr);
    let committed = json_of(
        &[root().join("assets/demo/demo.tar.zst").to_str().unwrap()],
        None,
    );
    assert_eq!(without_source(demo), without_source(committed));
}

/// Layers stored uncompressed (docker save): the text report's pull is an
/// estimate of the gzip download, within 15% of what skopeo really writes
/// when it copies the same image to an OCI layout with gzip layers, and
/// said to be an estimate; the JSON keeps the stored blob sizes.
#[test]
fn pull_of_uncompressed_layers_is_an_estimate_within_15_percent_of_skopeos_gzip() {
    if !have("skopeo") {
        eprintln!("pull_of_uncompressed_layers_is_an_estimate_within_15_percent_of_skopeos_gzip: skipped: skopeo is not installed");
        return;
    }
    for name in [
        "app-wasteful.tar.zst",
        "dive-steps.docker.tar.zst",
        "pip-cache.tar.zst",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let tar = dir.path().join("image.tar");
        std::fs::write(&tar, read_uncompressed(&built(name))).unwrap();
        let oci = dir.path().join("oci");
        let out = std::process::Command::new("skopeo")
            .args(["copy", "-q", "--dest-compress-format", "gzip"])
            .arg(format!("docker-archive:{}", tar.display()))
            .arg(format!("oci:{}:x", oci.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(oci.join("index.json")).unwrap()).unwrap();
        let digest = index["manifests"][0]["digest"].as_str().unwrap();
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(oci.join("blobs/sha256").join(&digest["sha256:".len()..])).unwrap(),
        )
        .unwrap();
        let real: u64 = manifest["layers"]
            .as_array()
            .unwrap()
            .iter()
            .inspect(|l| assert!(l["mediaType"].as_str().unwrap().ends_with("+gzip")))
            .map(|l| l["size"].as_u64().unwrap())
            .sum();
        let run = exec(&["--format", "text", tar.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let line = run.stdout.lines().find(|l| l.starts_with("Pull")).unwrap();
        assert!(line.contains("an estimate of the gzip download"), "{line}");
        let est: u64 = line
            .split("(~")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{line}"));
        let off = (est as f64 - real as f64).abs() / real as f64;
        eprintln!(
            "{name}: estimated {est}, skopeo's gzip {real} ({:+.1}%)",
            (est as f64 / real as f64 - 1.0) * 100.0
        );
        assert!(off <= 0.15, "{name}: estimate {est}, real {real}: {line}");
        // The JSON is unchanged: stored blob sizes.
        let v = json_of(&[tar.to_str().unwrap()], None);
        assert!(v["summary"]["compressed_bytes"].as_u64().unwrap() > est);
    }
}
