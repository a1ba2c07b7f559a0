//! Bad input: one clear line on stderr naming the file (and the layer where
//! relevant), exit code 2, nothing on stdout, never a panic.

use crate::common;
use common::*;
use std::path::Path;

fn run_bad(path: &Path) -> String {
    let r = Exec::new(["--format".as_ref(), "json".as_ref(), path.as_os_str()]).run();
    r.rejected(&path.display().to_string());
    r.stderr
}

/// (offset, size) of a member of an uncompressed tar.
fn member(bytes: &[u8], name: &str) -> (usize, usize) {
    let mut a = tar::Archive::new(bytes);
    for e in a.entries().unwrap() {
        let e = e.unwrap();
        if e.path().unwrap().to_string_lossy() == name {
            return (e.raw_file_position() as usize, e.size() as usize);
        }
    }
    panic!("no member {name}");
}

#[test]
fn plain_tars_are_not_images() {
    // tests/images/not-images/: one README.md in a tar, plain, gzip and zstd.
    for name in ["plain.tar", "plain.tar.gz", "plain.tar.zst"] {
        let err = run_bad(&not_image(name));
        assert!(err.contains("not a container image"), "{err}");
    }
}

/// The kaniko archive's layer blobs in manifest order, with (offset, size).
fn kaniko_layers(bytes: &[u8]) -> Vec<(usize, usize)> {
    let (off, size) = member(bytes, "manifest.json");
    let m: serde_json::Value = serde_json::from_slice(&bytes[off..off + size]).unwrap();
    m[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| member(bytes, l.as_str().unwrap()))
        .collect()
}

#[test]
fn truncated_archives() {
    // The legacy docker-archive, uncompressed: cut in the first header, inside
    // the base layer, and inside manifest.json (the archive's last members).
    let full = read_uncompressed(&steps_docker());
    let (manifest, _) = member(&full, "manifest.json");
    for cut in [100, 700_000, manifest + 10] {
        let f = temp_file(&full[..cut]);
        let err = run_bad(f.path());
        assert!(
            err.contains("truncated") || err.contains("missing"),
            "{cut}: {err}"
        );
    }
    let kaniko = std::fs::read(steps_kaniko()).unwrap();
    let (off, size) = kaniko_layers(&kaniko)[0];
    let f = temp_file(&kaniko[..off + size / 2]);
    let err = run_bad(f.path());
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn corrupt_gzip_layer_names_the_layer() {
    let mut bytes = std::fs::read(steps_kaniko()).unwrap();
    let (off, size) = kaniko_layers(&bytes)[0];
    for b in &mut bytes[off + size / 2..off + size / 2 + 64] {
        *b ^= 0x5a;
    }
    let f = temp_file(&bytes);
    let err = run_bad(f.path());
    assert!(err.contains("layer 0"), "{err}");
    assert!(err.contains("corrupt gzip"), "{err}");
}

#[test]
fn corrupt_zstd_layer_names_the_layer() {
    let mut bytes = std::fs::read(steps_oci_zstd()).unwrap();
    // The largest blob that starts with zstd's magic is the base layer (layer 0).
    let mut a = tar::Archive::new(&bytes[..]);
    let mut target: Option<(usize, usize)> = None;
    for e in a.entries().unwrap() {
        let e = e.unwrap();
        let off = e.raw_file_position() as usize;
        let size = e.size() as usize;
        if size > 8
            && bytes[off..off + 4] == [0x28, 0xb5, 0x2f, 0xfd]
            && target.is_none_or(|(_, s)| size > s)
        {
            target = Some((off, size));
        }
    }
    let (off, size) = target.expect("a zstd layer");
    for b in &mut bytes[off + 20..off + size - 10] {
        *b = b.wrapping_add(77);
    }
    let f = temp_file(&bytes);
    let err = run_bad(f.path());
    assert!(err.contains("layer 0"), "{err}");
    assert!(err.contains("zstd"), "{err}");
}

#[test]
fn missing_blob() {
    let l = layer(&[E::File("a", b"hello".to_vec())]);
    let bytes = docker_archive_with(
        &[l],
        &["/bin/sh -c x"],
        Some(
            r#"[{"Config":"config.json","RepoTags":["x:1"],"Layers":["layer0/layer.tar","gone/layer.tar"]}]"#,
        ),
        None,
    );
    let f = temp_file(&bytes);
    let err = run_bad(f.path());
    assert!(
        err.contains("gone/layer.tar") && err.contains("missing"),
        "{err}"
    );
    assert!(err.contains("layer 1"), "{err}");
}

#[test]
fn malformed_json() {
    let l = layer(&[E::File("a", b"hello".to_vec())]);
    let f = temp_file(&docker_archive_with(
        std::slice::from_ref(&l),
        &[],
        Some("[{\"Config\": "),
        None,
    ));
    let err = run_bad(f.path());
    assert!(
        err.contains("manifest.json") && err.contains("malformed JSON"),
        "{err}"
    );
    let f = temp_file(&docker_archive_with(
        &[l],
        &[],
        None,
        Some("{\"rootfs\": ["),
    ));
    let err = run_bad(f.path());
    assert!(
        err.contains("config.json") && err.contains("malformed JSON"),
        "{err}"
    );
}

/// OCI artifacts that are not images (a Helm chart, an SBOM with the empty
/// config), written the way ORAS and Helm write them: what they are, and
/// that they are not an image, never "corrupt tar data".
#[test]
fn oci_artifacts_are_named_as_not_images() {
    // Helm: the chart (a gzip tar of Chart.yaml) as the one layer.
    let chart = gzip(&layer(&[E::File(
        "mychart/Chart.yaml",
        b"apiVersion: v2\nname: mychart\nversion: 0.1.0\n".to_vec(),
    )]));
    let helm = oci_members_with(
        &[chart],
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        "application/vnd.cncf.helm.config.v1+json",
        br#"{"name":"mychart","version":"0.1.0","apiVersion":"v2"}"#,
    );
    // An SBOM pushed with `oras push --artifact-type`: the empty config.
    let sbom = oci_members_with(
        &[br#"{"spdxVersion":"SPDX-2.3"}"#.to_vec()],
        "application/spdx+json",
        "application/vnd.oci.empty.v1+json",
        b"{}",
    );
    for (members, want) in [
        (helm, "application/vnd.cncf.helm.config.v1+json"),
        (sbom, "application/vnd.oci.empty.v1+json"),
    ] {
        let f = temp_file(&oci_tar(&members));
        let err = run_bad(f.path());
        assert!(
            err.contains("not a container image") && err.contains(want),
            "{err}"
        );
        assert!(!err.contains("corrupt"), "{err}");
        let d = oci_members_dir(&members);
        let err = run_bad(d.path());
        assert!(err.contains("not a container image"), "{err}");
    }
}

/// `index.json` of `{}` is valid JSON and an invalid index.
#[test]
fn valid_json_that_is_not_an_index_is_named_so() {
    let l = layer(&[E::File("a", b"hello".to_vec())]);
    let mut members = oci_members(&[l]);
    for (text, want) in [
        ("{}", "not a valid OCI image index"),
        (
            "{\"schemaVersion\":2,\"manifests\":{}}",
            "not a valid OCI image index",
        ),
        ("{\"schemaVersion\":2,", "malformed JSON"),
    ] {
        members[1].1 = text.as_bytes().to_vec();
        let f = temp_file(&oci_tar(&members));
        let err = run_bad(f.path());
        assert!(
            err.contains("index.json") && err.contains(want),
            "{text}: {err}"
        );
        if want != "malformed JSON" {
            assert!(!err.contains("malformed JSON"), "{err}");
        }
    }
}

/// An archive compressed twice (gzip in gzip, zstd in gzip, …) is named so,
/// not "a size field overflows 64 bits".
#[test]
fn doubly_compressed_archives_are_named_so() {
    let l = layer(&[E::File("a", b"hello".to_vec())]);
    let tar = oci_tar(&oci_members(&[l]));
    for (bytes, inner, outer) in [
        (gzip(&gzip(&tar)), "gzip", "gzip"),
        (gzip(&zstd(&tar)), "zstd", "gzip"),
        (zstd(&gzip(&tar)), "gzip", "zstd"),
        (zstd(&zstd(&tar)), "zstd", "zstd"),
    ] {
        let f = temp_file(&bytes);
        let err = run_bad(f.path());
        assert!(
            err.contains("compressed twice") && err.contains(&format!("{inner} inside {outer}")),
            "{inner} in {outer}: {err}"
        );
        // The same through standard input.
        let out = Exec::new(["--format", "json", "-"]).stdin(bytes).run();
        assert_eq!(out.code, 2);
        let err = &out.stderr;
        assert!(err.contains("compressed twice"), "{err}");
    }
}

/// `docker://host/repo:tag` is skopeo's spelling of a registry reference;
/// here it asks the Docker engine. When no engine answers, the error says
/// how to read it from the registry instead.
#[test]
fn docker_prefix_without_an_engine_points_at_the_registry_spelling() {
    let empty = tempfile::tempdir().unwrap();
    let runs = [
        // The docker CLI with no daemon behind it.
        (
            "DOCKER_HOST",
            "unix:///nonexistent/imgscope-test.sock".to_string(),
        ),
        // No docker command at all.
        ("PATH", empty.path().display().to_string()),
    ];
    for (var, value) in runs {
        if var == "DOCKER_HOST" && !have("docker") {
            eprintln!("skipped the no-daemon case: docker is not installed");
            continue;
        }
        let out = Exec::new(["--format", "json", "docker://localhost:5000/app:1.0"])
            .env(var, &value)
            .run();
        let err = &out.stderr;
        assert_eq!(out.code, 2, "{var}: {err}");
        assert!(out.stdout.is_empty());
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.contains("without the docker:// prefix")
                && err.contains("imgscope localhost:5000/app:1.0"),
            "{var}: {err}"
        );
    }
}

#[test]
fn dot_dot_paths_are_rejected() {
    let l = layer(&[E::RawPath(b"etc/../../escape".to_vec(), b"x".to_vec())]);
    let f = temp_file(&docker_archive(&[l], &[]));
    let err = run_bad(f.path());
    assert!(err.contains("'..'") && err.contains("layer 0"), "{err}");
}

#[test]
fn absurd_sizes_are_not_trusted() {
    // A layer entry that claims a terabyte but holds a few bytes.
    let mut l = Vec::new();
    let h = header(b"huge.bin", 1 << 40, tar::EntryType::Regular, 0o644);
    l.extend_from_slice(h.as_bytes());
    l.extend_from_slice(&[7u8; 4096]);
    let f = temp_file(&docker_archive(&[l], &[]));
    let err = run_bad(f.path());
    assert!(
        err.contains("huge.bin") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn empty_missing_and_non_image_inputs() {
    let f = temp_file(b"");
    let err = run_bad(f.path());
    assert!(err.contains("empty"), "{err}");
    let err = run_bad(Path::new("/nonexistent/image.tar"));
    assert!(err.contains("cannot open"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let err = run_bad(dir.path());
    assert!(err.contains("not a container image"), "{err}");
    let f = temp_file(b"this is not a tar file at all, just text\n");
    run_bad(f.path());
}

#[test]
fn corrupt_compressed_archives() {
    let full = read_uncompressed(&steps_docker());
    let gz = gzip(&full);
    let f = temp_file(&gz[..gz.len() / 2]);
    let err = run_bad(f.path());
    assert!(
        err.contains("truncated") || err.contains("corrupt"),
        "{err}"
    );
    let mut zs = zstd(&full);
    let n = zs.len();
    for b in &mut zs[n / 3..n / 3 + 100] {
        *b ^= 0xff;
    }
    let f = temp_file(&zs);
    let err = run_bad(f.path());
    assert!(
        err.contains("corrupt") || err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn bad_usage_is_exit_2() {
    let out = Exec::new(["--max-waste", "lots", "x.tar"]).run();
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    let out = Exec::new(Vec::<&str>::new()).run();
    assert_eq!(out.code, 2);
}

#[test]
fn random_corruption_never_panics() {
    // Seeded corruptions of real images (byte flips, truncation, zeroed
    // runs): every run ends in a report (0/1) or one error line (2).
    let sources = [
        steps_docker(),
        steps_kaniko(),
        steps_oci_zstd(),
        steps_oci_gzip(),
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // The docker-archive uncompressed, so its tar structure is what gets hit.
    let originals: Vec<Vec<u8>> = sources.iter().map(|p| read_uncompressed(p)).collect();
    let mut errors = 0;
    for _ in 0..40 {
        let mut b = originals[(next() % 4) as usize].clone();
        match next() % 3 {
            0 => {
                for _ in 0..(1 + next() % 20) {
                    let p = (next() % b.len() as u64) as usize;
                    b[p] = next() as u8;
                }
            }
            1 => b.truncate((next() % b.len() as u64) as usize),
            _ => {
                let p = (next() % b.len() as u64) as usize;
                let end = (p + 1 + (next() % 4096) as usize).min(b.len());
                b[p..end].fill(0);
            }
        }
        let f = temp_file(&b);
        let out = Exec::new(["--format", "json", f.path().to_str().unwrap()]).run();
        let stderr = &out.stderr;
        assert!(!stderr.contains("panicked"), "{stderr}");
        match out.code {
            0 | 1 => {
                serde_json::from_str::<serde_json::Value>(&out.stdout).expect("a report");
            }
            2 => {
                errors += 1;
                assert!(out.stdout.is_empty());
                assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
            }
            other => panic!("exit {other:?}: {stderr}"),
        }
    }
    assert!(errors > 0, "some corruptions must be detected");
}
