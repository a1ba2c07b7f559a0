//! `imgscope fix` on the demo image and its Containerfile, and on bad
//! input: a Dockerfile that did not build the image, one that does not
//! parse, `--build` with no builder on PATH, `--buildah-store` with another
//! builder (each exit 2, one line).

use crate::common;

use common::{imgscope, root};

#[test]
fn demo_containerfile_patched_keeps_the_rest() {
    let r = root();
    let out = imgscope()
        .args(["fix", "--format", "json", "--dockerfile"])
        .arg(r.join("assets/demo/Containerfile"))
        .arg(r.join("assets/demo/demo.tar.zst"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let df = v["dockerfile"].as_str().unwrap();
    assert!(
        df.contains("pip install --no-cache-dir -r /srv/requirements.txt"),
        "{df}"
    );
    assert!(
        df.contains("apt-get clean && rm -rf /var/lib/apt/lists/*"),
        "{df}"
    );
    assert!(df.ends_with("CMD [\"/opt/app/bin/app\"]\n"), "{df}");
    let applied: u64 = v["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["saves_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(v["predicted"]["saves_bytes"].as_u64(), Some(applied));
    assert!(applied > 0);
}

fn bad(args: &[&str], df: &std::path::Path, path_env: Option<&str>) -> String {
    let mut c = imgscope();
    c.arg("fix").args(args).arg("--dockerfile").arg(df);
    c.arg(root().join("assets/demo/demo.tar.zst"));
    if let Some(p) = path_env {
        c.env("PATH", p);
    }
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let r = root();
    let err = bad(
        &[],
        &r.join("tests/images/src/cleanup-later/Containerfile"),
        None,
    );
    assert!(err.contains("line 9") && err.contains("layer 8"), "{err}");
    let tmp = std::env::temp_dir().join(format!("imgscope-fix-bad-{}", std::process::id()));
    std::fs::write(&tmp, "RUN x\n").unwrap();
    let err = bad(&[], &tmp, None);
    assert!(err.contains("cannot parse Dockerfile"), "{err}");
    let _ = std::fs::remove_file(&tmp);
    let err = bad(&[], &r.join("no/such/Dockerfile"), None);
    assert!(err.contains("cannot read Dockerfile"), "{err}");
    let err = bad(
        &["--build"],
        &r.join("assets/demo/Containerfile"),
        Some("/nonexistent"),
    );
    assert!(err.contains("looked for buildah, docker, podman"), "{err}");
    let err = bad(
        &["--build", "--builder", "podman"],
        &r.join("assets/demo/Containerfile"),
        Some("/nonexistent"),
    );
    assert!(err.contains("looked for podman"), "{err}");
    // --buildah-store with another builder (a `podman` that is never run).
    let bin = std::env::temp_dir().join(format!("imgscope-fix-bin-{}", std::process::id()));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("podman"), "#!/bin/sh\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("podman"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = bad(
        &[
            "--build",
            "--builder",
            "podman",
            "--buildah-store",
            "/nonexistent",
        ],
        &r.join("assets/demo/Containerfile"),
        Some(bin.to_str().unwrap()),
    );
    assert!(
        err.contains("--buildah-store: only with the buildah builder"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&bin);
}

/// The demo's Containerfile changed one way: which line and which layer
/// disagree, and how (exit 2, one line, nothing on stdout).
#[test]
fn a_dockerfile_that_did_not_build_the_image_names_line_and_layer() {
    let demo = std::fs::read_to_string(root().join("assets/demo/Containerfile")).unwrap();
    let dir = std::env::temp_dir().join(format!("imgscope-fix-mismatch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, String, &[&str]); 3] = [
        (
            // Same steps, one RUN with another command.
            "command",
            demo.replace(
                "RUN chmod +x /opt/app-2.1/bin/app",
                "RUN chmod 755 /opt/app-2.1/bin/app",
            ),
            &["line 8 runs `chmod 755", "layer 3 ran `chmod +x"],
        ),
        (
            // One step more than the image has layers.
            "extra-step",
            demo.replace("ADD rootfs.tar /", "RUN true\nADD rootfs.tar /"),
            &[
                "line 5 has no layer in the image",
                "10 layer-creating steps, the image 9",
            ],
        ),
        (
            // One step fewer.
            "missing-step",
            demo.replace("ADD rootfs.tar /\n", ""),
            &[
                "layer 0 has no step in the Dockerfile",
                "8 layer-creating steps, the image 9",
            ],
        ),
    ];
    for (name, text, want) in cases {
        assert_ne!(text, demo, "{name}: the change did not apply");
        let df = dir.join(name);
        std::fs::write(&df, text).unwrap();
        let err = bad(&[], &df, None);
        for w in want {
            assert!(err.contains(w), "{name}: {w:?} not in {err}");
        }
        assert!(err.contains(&df.display().to_string()), "{name}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
