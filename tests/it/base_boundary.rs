//! The base-image boundary on real images (tests/images/build.sh
//! base-boundary): a base of several layers built first (base-multi), then
//! apps FROM it. The boundary found from the history alone, from the
//! Dockerfile, from the OCI annotations and from `--base FILE` agree, and
//! equal the base's own layer count read here from its archive; a wrong
//! `--base` is exit 2 with one line.

use crate::common;

use serde_json::Value;

fn image(name: &str) -> String {
    let p = common::built(name);
    assert!(p.exists(), "{} is missing", p.display());
    p.display().to_string()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let r = common::Exec::new(args).env("NO_COLOR", "1").run();
    (r.code, r.stdout, r.stderr)
}

fn json(args: &[&str]) -> Value {
    let mut a = vec!["--no-ci", "--format", "json"];
    a.extend_from_slice(args);
    let (c, out, err) = run(&a);
    assert_eq!(c, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

/// The diff_ids of a docker-archive, read from its config here.
fn diff_ids(name: &str) -> Vec<String> {
    let bytes = common::read_uncompressed(&common::built(name));
    let mut files = std::collections::BTreeMap::new();
    for e in tar::Archive::new(&bytes[..]).entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().to_string_lossy().into_owned();
        if p.ends_with(".json") {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut v).unwrap();
            files.insert(p, v);
        }
    }
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let config: Value =
        serde_json::from_slice(&files[manifest[0]["Config"].as_str().unwrap()]).unwrap();
    config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn all_sources_agree_with_the_base_archive() {
    let base = diff_ids("base-multi.tar.zst");
    let app = diff_ids("app-on-base.tar.zst");
    assert_eq!(base.len(), 4, "the base's Containerfile makes 4 layers");
    assert_eq!(
        &app[..base.len()],
        &base[..],
        "the app is built FROM the base"
    );
    let docker = image("app-on-base.tar.zst");
    let oci = image("app-on-base.oci.tar.zst");
    let df = common::built("src/app-on-base/Containerfile");
    let df = df.to_str().unwrap();
    let base_file = image("base-multi.tar.zst");
    let runs = [
        ("history", vec![docker.as_str()]),
        ("annotation", vec![oci.as_str()]),
        ("dockerfile", vec!["--dockerfile", df, docker.as_str()]),
        ("flag", vec!["--base", base_file.as_str(), docker.as_str()]),
        // The most reliable source wins over the others.
        (
            "flag",
            vec![
                "--base",
                base_file.as_str(),
                "--dockerfile",
                df,
                oci.as_str(),
            ],
        ),
        ("dockerfile", vec!["--dockerfile", df, oci.as_str()]),
    ];
    for (source, args) in runs {
        let r = json(&args);
        let b = &r["image"]["base"];
        assert_eq!(b["source"], source, "{args:?}: {b}");
        assert_eq!(b["layers"], base.len(), "{args:?}: {b}");
        assert!(
            !b["evidence"].as_array().unwrap().is_empty(),
            "{args:?}: no evidence"
        );
        let name = b["name"].as_str().unwrap();
        assert!(name.contains("base-multi"), "{args:?}: {name}");
        let layers = r["layers"].as_array().unwrap();
        for (i, l) in layers.iter().enumerate() {
            assert_eq!(l["in_base"], i < base.len(), "{args:?}: layer {i}");
        }
    }
    // The annotations carry the base's digest.
    let r = json(&[oci.as_str()]);
    let digest = r["image"]["base"]["digest"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    // The history's evidence names what it saw.
    let r = json(&[docker.as_str()]);
    let ev = r["image"]["base"]["evidence"].to_string();
    assert!(ev.contains("FROM localhost/base-multi"), "{ev}");
    assert!(ev.contains("CMD"), "{ev}");
}

#[test]
fn waste_in_the_base_and_in_the_users_layers() {
    // base-multi writes 350000 bytes in one RUN and deletes them in the next
    // (tail -c 350000); app-wasteful does the same with a 90000-byte log
    // (head -c 90000) in its own layers; app-on-base wastes nothing.
    for (name, user_waste) in [
        ("app-on-base.tar.zst", 0u64),
        ("app-wasteful.tar.zst", 90000),
    ] {
        let r = json(&[image(name).as_str()]);
        let s = &r["summary"];
        assert_eq!(s["wasted_bytes"], 350000 + user_waste, "{name}");
        assert_eq!(s["user_wasted_bytes"], user_waste, "{name}");
        let user_bytes: u64 = r["layers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["in_base"] == false)
            .map(|l| l["bytes"].as_u64().unwrap())
            .sum();
        assert_eq!(s["user_bytes"], user_bytes, "{name}");
        for f in r["waste"].as_array().unwrap() {
            let path = f["path"].as_str().unwrap();
            let in_base = path == "/opt/base/build.tmp";
            assert_eq!(f["in_base"], in_base, "{name}: {path}");
        }
    }
}

#[test]
fn a_wrong_base_is_one_line_and_exit_2() {
    // toolchain-single shares the busybox rootfs (layer 0) but not layer 1.
    let app = image("app-on-base.tar.zst");
    for base in [
        image("toolchain-single.tar.zst"),
        image("app-wasteful.tar.zst"),
    ] {
        let (c, out, err) = run(&["--ci", "--base", &base, &app]);
        assert_eq!(c, 2, "{err}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&base) && err.contains("not this image's base"),
            "{err}"
        );
    }
    // A base with more layers than the image.
    let (c, out, err) = run(&["--ci", "--base", &app, &image("base-multi.tar.zst")]);
    assert_eq!(
        (c, out.is_empty(), err.lines().count()),
        (2, true, 1),
        "{err}"
    );
    assert!(err.contains("more than the image's 4"), "{err}");
    // An unreadable base names the file.
    let (c, _, err) = run(&["--ci", "--base", "/nonexistent/base.tar", &app]);
    assert_eq!((c, err.lines().count()), (2, 1), "{err}");
    assert!(err.contains("/nonexistent/base.tar"), "{err}");
}

#[test]
fn text_report_marks_the_base_layers() {
    let (c, out, err) = run(&["--no-ci", &image("app-wasteful.tar.zst")]);
    assert_eq!(c, 0, "{err}");
    assert!(
        out.contains("Base       localhost/base-multi:latest: layers 0-3"),
        "{out}"
    );
    let lines: Vec<&str> = out.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.contains("-- base image: localhost/base-multi:latest --"))
        .expect("base header");
    let mine = lines
        .iter()
        .position(|l| l.contains("-- your layers --"))
        .expect("user header");
    // Four base layers between the two headers.
    assert_eq!(mine - head - 1, 4, "{out}");
    assert!(
        out.contains("  yours           90 kB  (90000 bytes, 42.9% of your layers"),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/opt/base/build.tmp") && l.ends_with("(base image)")),
        "{out}"
    );
}

#[test]
fn unknown_boundary_counts_every_layer_as_the_users() {
    // A synthetic image whose history shows no base: two COPY layers.
    let l1 = common::layer(&[common::E::File("a", vec![1; 100])]);
    let l2 = common::layer(&[common::E::Whiteout("a")]);
    let tar = common::docker_archive(&[l1, l2], &["COPY a /a", "RUN rm /a"]);
    let f = common::temp_file(&tar);
    let r = json(&[f.path().to_str().unwrap()]);
    let b = &r["image"]["base"];
    assert_eq!(b["source"], "unknown", "{b}");
    assert_eq!(b["layers"], 0);
    assert_eq!(r["summary"]["user_wasted_bytes"], 100);
    assert_eq!(r["summary"]["user_bytes"], r["summary"]["total_bytes"]);
}

/// `--ci … --scope user|all --max-waste 10%`: the exit code and the check.
fn gate(args: &[&str], image_name: &str) -> (i32, Value) {
    let img = image(image_name);
    let mut a = vec!["--ci", "--format", "json", "--max-waste", "10%"];
    a.extend_from_slice(args);
    a.push(&img);
    let (c, out, err) = run(&a);
    assert!(c == 0 || c == 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    (c, v["checks"][0].clone())
}

#[test]
fn ci_scope_user_counts_only_the_users_layers() {
    // app-on-base: 350000 bytes wasted, all in the base (12.7% of the total);
    // its own 120026 bytes waste nothing.
    let (c, check) = gate(&["--scope", "user"], "app-on-base.tar.zst");
    assert_eq!(c, 0, "{check}");
    assert_eq!(check["scope"], "user");
    assert!(
        check["actual"]
            .as_str()
            .unwrap()
            .starts_with("0.00% (0 bytes)"),
        "{check}"
    );
    let (c, check) = gate(&["--scope", "all"], "app-on-base.tar.zst");
    assert_eq!(c, 1, "{check}");
    assert!(check.get("scope").is_none(), "{check}");
    assert!(
        check["actual"].as_str().unwrap().contains("(350000 bytes)"),
        "{check}"
    );
    // Without --scope: all, as before.
    assert_eq!(gate(&[], "app-on-base.tar.zst").0, 1);
    // app-wasteful: its own layers add a 90000-byte log to 120000 bytes of
    // app: 90000 / 210000 = 42.86%.
    let (c, check) = gate(&["--scope", "user"], "app-wasteful.tar.zst");
    assert_eq!(c, 1, "{check}");
    assert!(
        check["actual"]
            .as_str()
            .unwrap()
            .starts_with("42.86% (90000 bytes)"),
        "{check}"
    );
    // `.imgscope.toml` says the same; a flag wins over it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".imgscope.toml"),
        "scope = \"user\"\nmax-waste = \"10%\"\n",
    )
    .unwrap();
    let code = |extra: &[&str], name: &str| {
        let mut a = vec!["--ci"];
        a.extend_from_slice(extra);
        let img = image(name);
        a.push(&img);
        common::Exec::new(&a).dir(dir.path()).run().code
    };
    assert_eq!(code(&[], "app-on-base.tar.zst"), 0);
    assert_eq!(code(&[], "app-wasteful.tar.zst"), 1);
    assert_eq!(code(&["--scope", "all"], "app-on-base.tar.zst"), 1);
    std::fs::write(dir.path().join(".imgscope.toml"), "scope = \"mine\"\n").unwrap();
    assert_eq!(code(&[], "app-on-base.tar.zst"), 2);
}

#[test]
fn dive_user_wasted_percent_uses_the_real_boundary() {
    // dive's highestUserWastedPercent: the user's waste over the user's
    // bytes, after the 4 base layers (not after layer 0 alone).
    let img = image("app-wasteful.tar.zst");
    let (c, out, err) = run(&["--ci", "--format", "json", "--max-user-waste", "40%", &img]);
    assert_eq!(c, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let actual = v["checks"][0]["actual"].as_str().unwrap();
    assert!(
        actual.starts_with("42.86% (90000 bytes of 210000 bytes"),
        "{actual}"
    );
    let (c, _, err) = run(&["--ci", "--max-user-waste", "43%", &img]);
    assert_eq!(c, 0, "{err}");
}

#[test]
fn base_waste_is_grouped_apart_with_choices() {
    // app-on-base: the only waste is the base's own (its layer 3 deletes
    // what its layer 2 wrote): no fix for the user, one base finding group.
    let r = json(&[image("app-on-base.tar.zst").as_str()]);
    let sgs = r["suggestions"].as_array().unwrap();
    assert!(!sgs.is_empty());
    for s in sgs {
        assert_eq!(s["in_base"], true, "{s}");
        let after = s["after"].as_str().unwrap();
        assert!(after.contains("# Choices:"), "{after}");
        assert!(
            after.contains("a multi-stage build: FROM localhost/base-multi:latest AS build"),
            "{after}"
        );
    }
    let (c, out, err) = run(&["--no-ci", &image("app-on-base.tar.zst")]);
    assert_eq!(c, 0, "{err}");
    assert!(
        out.contains("What to fix: nothing in your own layers"),
        "{out}"
    );
    assert!(
        out.contains(
            "In the base image (localhost/base-multi:latest), largest saving first: 350 kB (350000 bytes) your Dockerfile cannot remove"
        ),
        "{out}"
    );
    // app-wasteful: the user's fix first, the base's after it.
    let (_, out, _) = run(&["--no-ci", &image("app-wasteful.tar.zst")]);
    let fix = out
        .find("What to fix in your layers (largest saving first; no byte counted twice)")
        .expect("user fixes");
    let base = out.find("In the base image (").expect("base section");
    let log = out.find("/app/build.log").unwrap();
    assert!(fix < base, "{out}");
    let first_fix = &out[fix..base];
    assert!(first_fix.contains("build.log"), "{first_fix}");
    assert!(log < base);
    let r = json(&[image("app-wasteful.tar.zst").as_str()]);
    let user: Vec<&Value> = r["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("in_base").is_none())
        .collect();
    assert!(!user.is_empty());
    for s in user {
        assert!(
            s["layers"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l.as_u64().unwrap() >= 4),
            "a user fix names only the user's layers: {s}"
        );
    }
}
