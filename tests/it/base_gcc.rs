//! A C program built with Debian's gcc on a one-layer Debian base
//! (tests/images/build-debian.sh: debian-base, then debian-gcc FROM it;
//! too big to commit, built on demand like tests/packages_debian.rs):
//! the boundary from the history, the Dockerfile and `--base FILE` agree;
//! the multi-stage suggestion's "After" holds no base-image line, buildah
//! builds it (tests/images/build-after.sh), and the new image is smaller by
//! the suggested bytes within 1%.

use crate::common;

use std::path::Path;

use serde_json::Value;

fn json(args: &[&str]) -> Value {
    let r = common::Exec::new([&["--no-ci", "--format", "json"], args].concat()).run();
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    r.json()
}

#[test]
fn multi_stage_after_builds_and_saves_what_it_says() {
    let dir = match common::debian_images(&["debian-base.tar", "debian-gcc.tar"]) {
        Ok(d) => d,
        Err(why) => {
            eprintln!("skipped: base_gcc (the Debian gcc images): {why}");
            return;
        }
    };
    let base = dir.join("debian-base.tar");
    let image = dir.join("debian-gcc.tar");
    let (base, image) = (base.to_str().unwrap(), image.to_str().unwrap());
    let src = common::root().join("tests/images/src/debian-gcc");
    let df = src.join("Containerfile");
    let df = df.to_str().unwrap();

    // The boundary: one layer, from each source.
    for (source, args) in [
        ("history", vec![image]),
        ("dockerfile", vec!["--dockerfile", df, image]),
        ("flag", vec!["--base", base, image]),
    ] {
        let r = json(&args);
        let b = &r["image"]["base"];
        assert_eq!(b["source"], source, "{b}");
        assert_eq!(b["layers"], 1, "{source}: {b}");
        assert!(b["name"].as_str().unwrap().contains("debian-base"), "{b}");
    }

    // The multi-stage suggestion, with the Dockerfile's own lines.
    let r = json(&["--dockerfile", df, image]);
    let ms = r["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "multi-stage")
        .expect("a multi-stage suggestion")
        .clone();
    let after = ms["after"].as_str().unwrap();
    let saves = ms["saves_bytes"].as_u64().unwrap();
    assert!(
        ms["layers"].as_array().unwrap().iter().all(|l| l != 0),
        "the base layer is not the user's: {ms}"
    );
    assert!(
        after.starts_with("FROM localhost/debian-base AS build\n"),
        "{after}"
    );
    for line in after.lines() {
        assert!(
            !line.contains("ADD file:") && !line.contains("ADD dir:") && !line.contains("rootfs"),
            "a base-image line in the After: {line}\n{after}"
        );
    }
    assert!(
        after.contains("COPY --from=build /usr/local/bin/hello"),
        "{after}"
    );
    assert!(after.contains("CMD [\"/usr/local/bin/hello\"]"), "{after}");

    // Build it, in a context holding what it copies.
    if !common::have("buildah") || !common::have("skopeo") {
        eprintln!("skipped: base_gcc's rebuild (needs buildah and skopeo)");
        return;
    }
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("Containerfile"), after).unwrap();
    std::fs::copy(src.join("hello.c"), ctx.path().join("hello.c")).unwrap();
    let out = dir.join("debian-gcc-after.tar");
    let _ = std::fs::remove_file(&out);
    let ok = std::process::Command::new(common::root().join("tests/images/build-after.sh"))
        .args([Path::new(base), Path::new("debian-base"), ctx.path(), &out])
        .status()
        .unwrap()
        .success();
    assert!(
        ok,
        "buildah could not build the suggested Dockerfile:\n{after}"
    );
    let old_total = r["summary"]["total_bytes"].as_u64().unwrap();
    let new = json(&[out.to_str().unwrap()]);
    let new_total = new["summary"]["total_bytes"].as_u64().unwrap();
    let shrink = old_total - new_total;
    eprintln!("base_gcc: suggested {saves} bytes, the rebuilt image is {shrink} bytes smaller ({old_total} -> {new_total})");
    let off = (shrink as f64 - saves as f64).abs() / saves as f64;
    assert!(
        off <= 0.01,
        "suggested {saves}, measured {shrink} ({:.2}% off)",
        off * 100.0
    );
    // The new image keeps the program and drops the compiler.
    assert!(
        new["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["kind"] != "multi-stage"),
        "{new}"
    );
    let last = new["layers"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["files"], 1, "{last}");
    let _ = std::fs::remove_file(&out);
}
