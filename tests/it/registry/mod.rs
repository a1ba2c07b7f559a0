//! `imgscope REF` against a real registry (Debian's `docker-registry`, started
//! on 127.0.0.1 by each test) holding the repo's own images pushed with
//! skopeo; a bearer-token gate and a misbehaving server are played by small
//! TCP servers in `fake.rs`. Every test says by name when it skipped because
//! a tool is missing (`.ci/run` installs them).

mod fake;
mod harness;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use harness::*;

fn image(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/images")
        .join(name)
}

fn tools(test: &str) -> bool {
    have("docker-registry", test) && have("skopeo", test)
}

/// Reports of the same image from a file and by reference: JSON (`--ci`,
/// so the exit code is compared too) and text, equal but for where they
/// came from.
fn assert_same_report(run: &Run, file: &str, reference: &str, extra: &[&str]) {
    let by_file = run
        .cmd()
        .args(["--ci", "--format", "json", file])
        .args(extra)
        .output()
        .unwrap();
    let by_ref = run
        .cmd()
        .args(["--ci", "--format", "json", reference])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        by_ref.status.code(),
        by_file.status.code(),
        "{}",
        String::from_utf8_lossy(&by_ref.stderr)
    );
    assert!(
        matches!(by_ref.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&by_ref.stderr)
    );
    let (a, b) = (json_report(&by_file.stdout), json_report(&by_ref.stdout));
    assert_eq!(a, b);
    assert!(a["layers"].as_array().unwrap().len() >= 2);
    let full: serde_json::Value = serde_json::from_slice(&by_ref.stdout).unwrap();
    assert_eq!(full["image"]["source"], reference);
    assert_eq!(full["image"]["format"], "registry");
    let text = |arg: &str| {
        let o = run.cmd().args([arg]).args(extra).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        text_report(&o.stdout)
    };
    assert_eq!(text(file), text(reference));
}

#[test]
fn by_reference_equals_the_archive_gzip_and_zstd() {
    if !tools("by_reference_equals_the_archive_gzip_and_zstd") {
        return;
    }
    let reg = Registry::start(None);
    let gz = image("cleanup-later.ocidir");
    let zst = image("chmod-chown.oci-zstd.tar");
    reg.push(
        &format!("oci:{}:cleanup-later:latest", gz.display()),
        "cleanup:gz",
        &[],
    );
    reg.push(
        &format!("oci-archive:{}", zst.display()),
        "chmod/chown:zstd",
        &[],
    );
    let run = Run::new();
    let host = reg.host();
    assert_same_report(
        &run,
        gz.to_str().unwrap(),
        &format!("{host}/cleanup:gz"),
        &[],
    );
    assert_same_report(
        &run,
        zst.to_str().unwrap(),
        &format!("registry://{host}/chmod/chown:zstd"),
        &[],
    );
    // The same image as a Docker v2 schema 2 manifest (skopeo converts the
    // manifest; the gzip blobs stay the same).
    reg.push(
        &format!("oci:{}:cleanup-later:latest", gz.display()),
        "cleanup:v2s2",
        &["--format", "v2s2"],
    );
    assert_same_report(
        &run,
        gz.to_str().unwrap(),
        &format!("{host}/cleanup:v2s2"),
        &[],
    );
    // By digest: the manifest the tag points at.
    let raw = std::fs::read_to_string(gz.join("index.json")).unwrap();
    let index: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    assert_same_report(
        &run,
        gz.to_str().unwrap(),
        &format!("{host}/cleanup@{digest}"),
        &[],
    );
}

/// An OCI layout holding one index of two platforms (the gzip image as
/// linux/amd64, the zstd one as linux/arm64/v8) and an attestation manifest.
fn multi_platform_layout(dir: &Path) {
    let out = dir.join("layout");
    for (src, name) in [
        (
            format!(
                "oci:{}:cleanup-later:latest",
                image("cleanup-later.ocidir").display()
            ),
            "a",
        ),
        (
            format!(
                "oci-archive:{}",
                image("chmod-chown.oci-zstd.tar").display()
            ),
            "b",
        ),
    ] {
        let st = std::process::Command::new("skopeo")
            .args(["copy", "--quiet", &src])
            .arg(format!("oci:{}:{name}", out.display()))
            .status()
            .unwrap();
        assert!(st.success());
    }
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    let mut manifests = Vec::new();
    for m in index["manifests"].as_array().unwrap() {
        let mut m = m.clone();
        let name = m["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .unwrap()
            .to_string();
        m.as_object_mut().unwrap().remove("annotations");
        m["platform"] = if name == "a" {
            serde_json::json!({"os": "linux", "architecture": "amd64"})
        } else {
            serde_json::json!({"os": "linux", "architecture": "arm64", "variant": "v8"})
        };
        manifests.push(m);
    }
    let nested = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    let bytes = serde_json::to_vec(&nested).unwrap();
    let digest = write_blob(&out, &bytes);
    let top = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest,
            "size": bytes.len(),
            "annotations": {"org.opencontainers.image.ref.name": "multi"},
        }],
    });
    std::fs::write(out.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
}

#[test]
fn multi_platform_index_with_platform() {
    if !tools("multi_platform_index_with_platform") {
        return;
    }
    let reg = Registry::start(None);
    let tmp = tempfile::tempdir().unwrap();
    multi_platform_layout(tmp.path());
    let layout = tmp.path().join("layout");
    reg.push(
        &format!("oci:{}:multi", layout.display()),
        "multi:1",
        &["--all"],
    );
    let run = Run::new();
    let reference = format!("{}/multi:1", reg.host());
    for p in ["linux/amd64", "linux/arm64/v8"] {
        assert_same_report(
            &run,
            layout.to_str().unwrap(),
            &reference,
            &["--platform", p],
        );
    }
    let by_ref = |p: &str| {
        let o = run
            .cmd()
            .args(["--format", "json", "--platform", p, &reference])
            .output()
            .unwrap();
        assert!(o.status.success());
        json_report(&o.stdout)
    };
    assert_ne!(by_ref("linux/amd64"), by_ref("linux/arm64/v8"));
    let o = run
        .cmd()
        .args(["--format", "json", "--platform", "linux/s390x", &reference])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("linux/amd64") && err.contains("linux/arm64/v8"),
        "{err}"
    );
}

fn one_line_error(o: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(o.stdout.is_empty());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err
}

#[test]
fn basic_auth_flags_config_json_helper_and_401() {
    if !(tools("basic_auth_flags_config_json_helper_and_401")
        && have("htpasswd", "basic_auth_flags_config_json_helper_and_401"))
    {
        return;
    }
    let reg = Registry::start(Some(("alice", "s3cret-pw")));
    reg.push(
        &format!(
            "oci:{}:cleanup-later:latest",
            image("cleanup-later.ocidir").display()
        ),
        "private/app:1",
        &["--dest-creds", "alice:s3cret-pw"],
    );
    let reference = format!("{}/private/app:1", reg.host());
    let run = Run::new();

    // No credentials: a 401, one line, exit 2.
    let o = run
        .cmd()
        .args(["--format", "json", &reference])
        .output()
        .unwrap();
    let err = one_line_error(&o);
    assert!(
        err.contains("wants credentials") && err.contains("401"),
        "{err}"
    );

    // --username with --password-stdin.
    let ok = |c: &mut assert_cmd::Command| {
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        json_report(&o.stdout)
    };
    let want = ok(run.cmd().args([
        "--format",
        "json",
        "--no-cache",
        image("cleanup-later.ocidir").to_str().unwrap(),
    ]));
    let got = ok(run
        .cmd()
        .args([
            "--format",
            "json",
            "--no-cache",
            "--username",
            "alice",
            "--password-stdin",
            &reference,
        ])
        .write_stdin("s3cret-pw\n"));
    assert_eq!(got, want);

    // A wrong password: refused, and the secret is never shown.
    let o = run
        .cmd()
        .args([
            "--no-cache",
            "--username",
            "alice",
            "--password-stdin",
            &reference,
        ])
        .write_stdin("wrong-pw-XYZ\n")
        .output()
        .unwrap();
    let err = one_line_error(&o);
    assert!(
        err.contains("refused") && !err.contains("wrong-pw-XYZ"),
        "{err}"
    );

    // docker's config.json (`auths`), then a credential helper.
    let b64 = base64::engine::general_purpose::STANDARD.encode("alice:s3cret-pw");
    let docker = run.home.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{b64}"}}}}}}"#, reg.host()),
    )
    .unwrap();
    let got = ok(run.cmd().env("DOCKER_CONFIG", &docker).args([
        "--format",
        "json",
        "--no-cache",
        &reference,
    ]));
    assert_eq!(got, want);

    let bin = run.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-imgscopetest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\n[ \"$server\" = \"{}\" ] || {{ echo 'credentials not found'; exit 1; }}\n\
             echo '{{\"ServerURL\":\"'$server'\",\"Username\":\"alice\",\"Secret\":\"s3cret-pw\"}}'\n",
            reg.host()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"imgscopetest"}}}}"#, reg.host()),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let got = ok(run
        .cmd()
        .env("DOCKER_CONFIG", &docker)
        .env("PATH", &path)
        .args(["--format", "json", "--no-cache", &reference]));
    assert_eq!(got, want);

    // podman's auth.json through REGISTRY_AUTH_FILE wins over docker's.
    let podman = run.home.path().join("auth.json");
    std::fs::write(
        &podman,
        format!(r#"{{"auths":{{"{}":{{"auth":"{b64}"}}}}}}"#, reg.host()),
    )
    .unwrap();
    std::fs::write(docker.join("config.json"), "{}").unwrap();
    let got = ok(run
        .cmd()
        .env("DOCKER_CONFIG", &docker)
        .env("REGISTRY_AUTH_FILE", &podman)
        .args(["--format", "json", "--no-cache", &reference]));
    assert_eq!(got, want);
}

#[test]
fn bearer_token_flow() {
    if !tools("bearer_token_flow") {
        return;
    }
    let reg = Registry::start(None);
    reg.push(
        &format!(
            "oci:{}:cleanup-later:latest",
            image("cleanup-later.ocidir").display()
        ),
        "team/app:1",
        &[],
    );
    let want = {
        let o = Run::new()
            .cmd()
            .args([
                "--format",
                "json",
                image("cleanup-later.ocidir").to_str().unwrap(),
            ])
            .output()
            .unwrap();
        json_report(&o.stdout)
    };
    // Anonymous tokens (as Docker Hub gives for public images).
    let gate = fake::BearerGate::start(reg.port, None, "team/app");
    let run = Run::new();
    let reference = format!("127.0.0.1:{}/team/app:1", gate.port);
    let o = run
        .cmd()
        .args(["--format", "json", &reference])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json_report(&o.stdout), want);
    assert_eq!(
        gate.tokens_issued(),
        1,
        "one token, reused for every request"
    );
    assert!(gate.refused() >= 1, "the first request was challenged");

    // A token service that wants credentials.
    let gate = fake::BearerGate::start(reg.port, Some(("bob", "t0ken-pw")), "team/app");
    let reference = format!("127.0.0.1:{}/team/app:1", gate.port);
    let o = Run::new()
        .cmd()
        .args(["--no-cache", &reference])
        .output()
        .unwrap();
    let err = one_line_error(&o);
    assert!(err.contains("credentials"), "{err}");
    let o = Run::new()
        .cmd()
        .args([
            "--format",
            "json",
            "--username",
            "bob",
            "--password-stdin",
            &reference,
        ])
        .write_stdin("t0ken-pw")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json_report(&o.stdout), want);
}

/// An OCI layout of cleanup-later with its last layer replaced by a new one
/// (everything else shared): (layout dir, the new layer's digest).
fn one_new_layer(dir: &Path) -> (PathBuf, String) {
    let out = dir.join("b");
    copy_dir(&image("cleanup-later.ocidir"), &out);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    let mdigest = index["manifests"][0]["digest"].as_str().unwrap();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&read_blob(&out, mdigest)).unwrap();
    let cdigest = manifest["config"]["digest"].as_str().unwrap().to_string();
    let mut config: serde_json::Value = serde_json::from_slice(&read_blob(&out, &cdigest)).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let data = b"a file only the new layer has\n".repeat(100);
    let mut h = tar::Header::new_ustar();
    h.set_path("srv/new.txt").unwrap();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_cksum();
    b.append(&h, &data[..]).unwrap();
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    let gz = gz.finish().unwrap();
    let ldigest = write_blob(&out, &gz);
    let n = manifest["layers"].as_array().unwrap().len();
    manifest["layers"][n - 1]["digest"] = ldigest.clone().into();
    manifest["layers"][n - 1]["size"] = gz.len().into();
    config["rootfs"]["diff_ids"][n - 1] = format!("sha256:{}", sha256_hex(&tar)).into();
    let cbytes = serde_json::to_vec(&config).unwrap();
    manifest["config"]["digest"] = write_blob(&out, &cbytes).into();
    manifest["config"]["size"] = cbytes.len().into();
    let mbytes = serde_json::to_vec(&manifest).unwrap();
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": write_blob(&out, &mbytes), "size": mbytes.len(),
        "annotations": {"org.opencontainers.image.ref.name": "b"}}]});
    std::fs::write(out.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    (out, ldigest)
}

fn layer_digests(layout: &Path) -> Vec<String> {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let m: serde_json::Value = serde_json::from_slice(&read_blob(
        layout,
        index["manifests"][0]["digest"].as_str().unwrap(),
    ))
    .unwrap();
    m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn cache_downloads_only_the_new_layer() {
    if !tools("cache_downloads_only_the_new_layer") {
        return;
    }
    let reg = Registry::start(None);
    let tmp = tempfile::tempdir().unwrap();
    let a = image("cleanup-later.ocidir");
    let (b, new_layer) = one_new_layer(tmp.path());
    reg.push(
        &format!("oci:{}:cleanup-later:latest", a.display()),
        "app:v1",
        &[],
    );
    reg.push(&format!("oci:{}:b", b.display()), "app:v2", &[]);
    let (la, lb) = (layer_digests(&a), layer_digests(&b));
    assert_eq!(la.len(), 3);
    assert_eq!(la[..2], lb[..2]);
    let run = Run::new();
    let report = |arg: &str, extra: &[&str]| {
        let o = run
            .cmd()
            .args(["--format", "json", arg])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        json_report(&o.stdout)
    };
    let v1 = format!("{}/app:v1", reg.host());
    let v2 = format!("{}/app:v2", reg.host());
    let all: Vec<String> = la.iter().chain(lb.iter()).cloned().collect();

    assert_eq!(report(&v1, &[]), report(a.to_str().unwrap(), &[]));
    assert_eq!(reg.blob_downloads(&all), 3);
    // v2 shares all but its last layer with v1: one blob downloaded.
    assert_eq!(report(&v2, &[]), report(b.to_str().unwrap(), &[]));
    assert_eq!(reg.blob_downloads(&all), 4);
    assert_eq!(reg.blob_downloads(std::slice::from_ref(&new_layer)), 1);
    // Again: nothing downloaded; with --no-cache, everything.
    report(&v2, &[]);
    assert_eq!(reg.blob_downloads(&all), 4);
    report(&v2, &["--no-cache"]);
    assert_eq!(reg.blob_downloads(&all), 7);

    // A corrupt cache entry is ignored and rebuilt, never trusted (the
    // reports cached are corrupted too, so that the layers are read).
    let entries = cache_entries(&run, "layers");
    assert_eq!(entries.len(), 4);
    for e in entries.iter().chain(&cache_entries(&run, "reports")) {
        std::fs::write(e, b"garbage").unwrap();
    }
    assert_eq!(report(&v2, &[]), report(b.to_str().unwrap(), &[]));
    assert_eq!(reg.blob_downloads(&all), 10);
}

fn cache_entries(run: &Run, folder: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(run.cache_dir().join("imgscope").join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// The report cache: a manifest analysed before is not loaded again, and
/// its report is the same in every format; any option that changes the
/// report (an ignore, the Dockerfile's text, counting optional files as
/// waste), another image under the tag, or a corrupt entry, and the image
/// is analysed again. A rendering kept beside the report is written back
/// only for the very same format, render options, CI rules and output
/// file; anything else renders the report again.
#[test]
fn report_cache_gives_the_same_report_and_never_a_stale_one() {
    if !tools("report_cache_gives_the_same_report_and_never_a_stale_one") {
        return;
    }
    let reg = Registry::start(None);
    let tmp = tempfile::tempdir().unwrap();
    let a = image("cleanup-later.ocidir");
    let (b, _) = one_new_layer(tmp.path());
    reg.push(
        &format!("oci:{}:cleanup-later:latest", a.display()),
        "app:v1",
        &[],
    );
    let reference = format!("{}/app:v1", reg.host());
    let run = Run::new();
    let dockerfile = run.home.path().join("Dockerfile");
    std::fs::write(&dockerfile, "FROM busybox\nRUN echo one\nRUN echo two\n").unwrap();
    // (stdout, exit code, whether the report came from the report cache,
    // whether its rendering did)
    let report = |extra: &[&str]| {
        let o = run
            .cmd()
            .env("IMGSCOPE_TIMINGS", "1")
            .args(["--ci", &reference])
            .args(extra)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(matches!(o.status.code(), Some(0 | 1)), "{err}");
        let cached = err.contains("report from the report cache");
        let rendered = err.contains("rendered before");
        assert!(cached || !rendered, "{err}");
        (o.stdout, o.status.code(), cached, rendered)
    };
    let fresh = |extra: &[&str]| {
        let mut v = extra.to_vec();
        v.push("--no-cache");
        let (out, code, cached, _) = report(&v);
        assert!(!cached);
        (out, code)
    };
    let entries = |prefix: &str| {
        cache_entries(&run, "reports")
            .iter()
            .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
            .count()
    };
    let all = layer_digests(&a);
    let json = ["--format", "json"];

    let (cold, code, cached, _) = report(&json);
    assert!(!cached);
    assert_eq!(reg.blob_downloads(&all), 3);
    assert_eq!((entries("report-"), entries("output-")), (1, 1));
    // Warm: nothing downloaded, the very same bytes and exit code, written
    // back from the rendering kept beside the report.
    let (warm, wcode, cached, rendered) = report(&json);
    assert!(cached && rendered);
    assert_eq!((&warm, wcode), (&cold, code));
    assert_eq!(reg.blob_downloads(&all), 3);
    // Every format renders from the one cached report as from a fresh one
    // (HTML wants the size tree: its first run stores a report with one),
    // and the next run of that format writes the same bytes back.
    for f in [
        "text", "json", "sarif", "junit", "markdown", "github", "html",
    ] {
        let args = ["--format", f];
        let want = fresh(&args);
        let (out, code, cached, rendered) = report(&args);
        assert_eq!((cached, rendered), (f != "html", f == "json"), "{f}");
        assert_eq!((out, code), want, "{f}");
        let (out, code, cached, rendered) = report(&args);
        assert!(cached && rendered, "{f}");
        assert_eq!((out, code), want, "{f}");
    }
    assert_eq!(entries("output-"), 7);

    // A rendering is never served for other render options, CI rules or
    // output file: the cached report is rendered again, and then that
    // rendering is kept too.
    let out_a = run.home.path().join("a.json");
    let out_b = run.home.path().join("b.json");
    let rendering: [&[&str]; 5] = [
        &["--format", "text", "--top", "2"],
        &["--format", "text", "--max-waste", "1%"],
        &["--format", "json", "--max-waste", "1%"],
        &["--format", "json", "-o", out_a.to_str().unwrap()],
        &["--format", "json", "-o", out_b.to_str().unwrap()],
    ];
    for args in rendering {
        let (out, code, cached, rendered) = report(args);
        assert!(cached && !rendered, "{args:?}");
        let written = std::fs::read(&out_a).ok();
        assert_eq!((out, code), fresh(args), "{args:?}");
        assert_eq!(std::fs::read(&out_a).ok(), written, "{args:?}");
        for f in [&out_a, &out_b] {
            let _ = std::fs::remove_file(f);
        }
        let (again, acode, _, rendered) = report(args);
        assert!(rendered, "{args:?}");
        assert_eq!((again, acode), fresh(args), "{args:?}");
    }
    // The file named by -o is written on a hit as on a miss.
    let (short, _, _, rendered) = report(rendering[3]);
    assert!(rendered);
    assert!(String::from_utf8_lossy(&short).contains("a.json"));
    assert_eq!(
        json_report(&std::fs::read(&out_a).unwrap()),
        json_report(&cold)
    );
    // Another verdict, another exit code: the rendering keeps it.
    let strict = ["--format", "text", "--max-waste", "1%"];
    assert_eq!(report(&strict).1, Some(1));
    assert_eq!(
        report(&["--format", "text", "--max-waste", "99%"]).1,
        Some(0)
    );

    // Options that change the report are analysed again, never served stale.
    let changed: [&[&str]; 3] = [
        &["--ignore", "/usr/share"],
        &["--count-optional-as-waste"],
        &["--dockerfile", "Dockerfile"],
    ];
    for extra in changed {
        let args = [&json[..], extra].concat();
        let (out, code, cached, _) = report(&args);
        assert!(!cached, "{extra:?}");
        assert_eq!((out, code), fresh(&args), "{extra:?}");
        assert!(report(&args).3, "{extra:?}");
    }
    let with_df = [&json[..], &["--dockerfile", "Dockerfile"]].concat();
    let before = report(&with_df).0;
    std::fs::write(&dockerfile, "FROM debian:12\nRUN echo one\nRUN echo two\n").unwrap();
    let (after, _, cached, _) = report(&with_df);
    assert!(!cached);
    assert_eq!(after, fresh(&with_df).0);
    assert_ne!(after, before);

    // Another image under the tag: another manifest digest.
    reg.push(&format!("oci:{}:b", b.display()), "app:v1", &[]);
    let (out, _, cached, _) = report(&json);
    assert!(!cached);
    assert_eq!(json_report(&out), json_report(&fresh(&json).0));
    assert_ne!(json_report(&out), json_report(&cold));

    // A corrupt report entry is ignored (and replaced by a sound one); so
    // is a corrupt rendering, with a byte changed anywhere in it.
    assert!(report(&json).3);
    for e in cache_entries(&run, "reports") {
        let raw = std::fs::read(&e).unwrap();
        std::fs::write(&e, &raw[..raw.len() / 2]).unwrap();
    }
    let (out, _, cached, _) = report(&json);
    assert!(!cached);
    assert_eq!(out, fresh(&json).0);
    assert!(report(&json).3);
    let sound = report(&json).0;
    for at in [0.0, 0.01, 0.5, 0.999] {
        for e in cache_entries(&run, "reports") {
            let mut raw = std::fs::read(&e).unwrap();
            let i = ((raw.len() - 1) as f64 * at) as usize;
            raw[i] ^= 0x04;
            std::fs::write(&e, &raw).unwrap();
        }
        let (out, _, cached, rendered) = report(&json);
        assert!(!cached && !rendered, "{at}");
        assert_eq!(out, sound, "{at}");
    }
}

#[test]
fn missing_manifest_is_one_line() {
    if !tools("missing_manifest_is_one_line") {
        return;
    }
    let reg = Registry::start(None);
    let o = Run::new()
        .cmd()
        .arg(format!("{}/nothing/here:1", reg.host()))
        .output()
        .unwrap();
    let err = one_line_error(&o);
    assert!(
        err.contains("manifest unknown") && err.contains("404"),
        "{err}"
    );
}

#[test]
fn misbehaving_registries_end_in_one_line() {
    let started = Instant::now();
    for (mode, want) in [
        (fake::Mode::Drop, "closed the connection after"),
        (fake::Mode::Mismatch, "digest mismatch"),
        (fake::Mode::Stall, "sent nothing for 2s"),
        (fake::Mode::Oversize, "more than the"),
    ] {
        let server = fake::Registry::start(&image("cleanup-later.ocidir"), mode);
        let t = Instant::now();
        eprintln!("fake registry: {mode:?}");
        let o = Run::new()
            .cmd()
            .timeout(Duration::from_secs(40))
            .args(["--timeout", "2"])
            .arg(format!("127.0.0.1:{}/app:t", server.port))
            .output()
            .unwrap();
        let err = one_line_error(&o);
        assert!(err.contains(want), "{mode:?}: {err}");
        assert!(err.contains("layer 1"), "{mode:?} names the layer: {err}");
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{mode:?} took {:?}",
            t.elapsed()
        );
    }
    assert!(started.elapsed() < Duration::from_secs(90));
}

/// Pull bytes come from the manifest: the total is the sum of the layer
/// descriptors' sizes, by file and by reference; every byte of
/// cleanup-later's layer 1 is waste, so the waste's pull cost is that
/// layer's whole blob (to rounding).
#[test]
fn pull_bytes_are_the_manifest_sizes() {
    let layout = image("cleanup-later.ocidir");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let m: serde_json::Value = serde_json::from_slice(&read_blob(
        &layout,
        index["manifests"][0]["digest"].as_str().unwrap(),
    ))
    .unwrap();
    let sizes: Vec<u64> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .collect();
    let check = |out: &[u8]| {
        let r: serde_json::Value = serde_json::from_slice(out).unwrap();
        assert_eq!(r["summary"]["compressed_bytes"], sizes.iter().sum::<u64>());
        let wasted_pull = r["summary"]["wasted_compressed_bytes"].as_u64().unwrap();
        let findings = r["waste"].as_array().unwrap();
        assert!(findings.iter().all(|f| f["stored_in_layer"] == 1));
        assert!(
            sizes[1] - wasted_pull <= findings.len() as u64,
            "{wasted_pull} vs {}",
            sizes[1]
        );
        let sum: u64 = findings
            .iter()
            .map(|f| f["compressed_bytes"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, wasted_pull);
        for s in r["suggestions"].as_array().unwrap() {
            assert!(
                s["saves_compressed_bytes"].as_u64().unwrap() <= s["saves_bytes"].as_u64().unwrap()
            );
        }
        let text = String::from_utf8_lossy(out).to_string();
        text
    };
    let run = Run::new();
    let o = run
        .cmd()
        .args(["--format", "json", layout.to_str().unwrap()])
        .output()
        .unwrap();
    check(&o.stdout);
    if !tools("pull_bytes_are_the_manifest_sizes") {
        return;
    }
    let reg = Registry::start(None);
    reg.push(
        &format!("oci:{}:cleanup-later:latest", layout.display()),
        "pull:1",
        &[],
    );
    let o = run
        .cmd()
        .args(["--format", "json", &format!("{}/pull:1", reg.host())])
        .output()
        .unwrap();
    check(&o.stdout);
}

/// The bytes of `path` in an OCI layout's layer blob (gzip or not), read
/// with flate2 and the `tar` crate alone.
fn extract_from_blob(layout: &Path, digest: &str, path: &str) -> Vec<u8> {
    let blob = read_blob(layout, digest);
    let tar_bytes = if blob.starts_with(&[0x1f, 0x8b]) {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&blob[..]), &mut v).unwrap();
        v
    } else {
        blob
    };
    let mut a = tar::Archive::new(&tar_bytes[..]);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let p = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        if p.trim_start_matches("./") == path {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut v).unwrap();
            return v;
        }
    }
    panic!("{path} not in {digest}");
}

#[test]
fn cat_by_reference_fetches_only_the_blob_that_holds_the_file() {
    if !tools("cat_by_reference_fetches_only_the_blob_that_holds_the_file") {
        return;
    }
    let reg = Registry::start(None);
    let a = image("cleanup-later.ocidir");
    reg.push(
        &format!("oci:{}:cleanup-later:latest", a.display()),
        "look:v1",
        &[],
    );
    let layers = layer_digests(&a);
    assert_eq!(layers.len(), 3);
    let run = Run::new();
    let reference = format!("{}/look:v1", reg.host());
    let cat = |args: &[&str]| {
        let o = run
            .cmd()
            .arg("cat")
            .arg(&reference)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    // The first run indexes every layer (3 blobs), then fetches the one
    // that holds the file.
    let busybox = cat(&["/bin/busybox"]);
    assert_eq!(busybox, extract_from_blob(&a, &layers[0], "bin/busybox"));
    assert_eq!(reg.blob_downloads(&layers), 4);
    // Indexes cached: one blob, layer 1's, for a version layer 2 hid.
    let big = cat(&["data/big.bin", "--layer", "1"]);
    assert_eq!(big, extract_from_blob(&a, &layers[1], "data/big.bin"));
    assert_eq!(big.len(), 300_000);
    assert_eq!(reg.blob_downloads(&layers), 5);
    assert_eq!(reg.blob_downloads(&layers[1..2]), 2);
    // Removed: one line, exit 2, nothing fetched.
    let o = run
        .cmd()
        .args(["cat", &reference, "data/big.bin"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/data/big.bin: removed by layer 2"));
    assert_eq!(reg.blob_downloads(&layers), 5);
}
