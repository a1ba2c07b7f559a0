//! CI rules on the real images of tests/images/ (built with buildah, see its
//! README for every figure): a wasteful image fails, its chained twin
//! passes, a single-layer image passes with 0 waste, for each rule.

use crate::common;

use std::path::Path;

use serde_json::Value;

/// The image's path. The images are committed: a missing one is a failure,
/// never a skip.
fn image(name: &str) -> String {
    let p = common::built(name);
    assert!(p.exists(), "{} is missing", p.display());
    p.display().to_string()
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let r = common::exec_in(dir, args);
    (r.code, r.stdout, r.stderr)
}

fn code(args: &[&str]) -> i32 {
    let dir = tempfile::tempdir().unwrap();
    let (c, out, err) = run(dir.path(), args);
    if c == 2 {
        assert!(out.is_empty() && err.lines().count() == 1, "{err}");
    }
    c
}

#[test]
fn wasteful_image_fails_and_its_chained_twin_passes_every_rule() {
    let (later, chained, single) = (
        image("cleanup-later.tar.zst"),
        image("cleanup-chained.tar.zst"),
        image("single-layer.tar.gz"),
    );
    // cleanup-later: total 2442354, hidden 460000, cache 0 (user bytes 460000).
    // cleanup-chained: total 1982354, no waste. single-layer: 1982354, no waste.
    let rules: &[&[&str]] = &[
        &["--max-waste", "10%"],
        &["--max-waste", "400kB"],
        &["--min-efficiency", "0.9"],
        &["--max-hidden", "5%"],
        &["--max-hidden", "1KiB"],
        &["--max-size", "2.2MB"],
        &["--max-user-waste", "10%"],
    ];
    for rule in rules {
        let with = |img: &str| {
            let mut a = vec!["--ci"];
            a.extend_from_slice(rule);
            a.push(img);
            code(&a)
        };
        assert_eq!(with(&later), 1, "{rule:?} on cleanup-later");
        assert_eq!(with(&chained), 0, "{rule:?} on cleanup-chained");
        assert_eq!(with(&single), 0, "{rule:?} on single-layer");
    }
    // --ci alone (default max-waste 10%) decides the same way.
    assert_eq!(code(&["--ci", &later]), 1);
    assert_eq!(code(&["--ci", &chained]), 0);
    assert_eq!(code(&["--ci", &single]), 0);
    // The OCI directory of the same image gives the same verdict.
    let dir = image("cleanup-later.ocidir");
    assert_eq!(code(&["--ci", &dir]), 1);
    // Unreadable input: 2.
    assert_eq!(code(&["--ci", "tests/images/no-such-image.tar"]), 2);
}

#[test]
fn cache_rule_on_a_real_pip_cache() {
    let (pip, later) = (image("pip-cache.tar.zst"), image("cleanup-later.tar.zst"));
    // pip-cache: 30540 cache bytes visible; cleanup-later: its apt files are
    // hidden (removed), not cache.
    assert_eq!(code(&["--ci", "--max-cache", "30540", &pip]), 0);
    assert_eq!(code(&["--ci", "--max-cache", "30539", &pip]), 1);
    assert_eq!(code(&["--ci", "--max-cache", "0", &later]), 0);
    assert_eq!(code(&["--ci", "--max-hidden", "0", &pip]), 0);
    assert_eq!(
        code(&["--ci", "--max-cache", "0", "--ignore", "/root/.cache", &pip]),
        0
    );
}

#[test]
fn metadata_only_copies_fail_max_hidden() {
    let img = image("chmod-chown.tar.zst");
    // hidden 410000 of 2602354 (15.75%).
    assert_eq!(code(&["--ci", "--max-hidden", "15%", &img]), 1);
    assert_eq!(code(&["--ci", "--max-hidden", "16%", &img]), 0);
    assert_eq!(code(&["--ci", "--max-hidden", "410000", &img]), 0);
    assert_eq!(code(&["--ci", "--max-hidden", "409999", &img]), 1);
    let oci = image("chmod-chown.oci-zstd.tar");
    assert_eq!(code(&["--ci", "--max-hidden", "409999", &oci]), 1);
}

#[test]
fn ignores_and_baseline_on_real_images() {
    let (later, chained) = (
        image("cleanup-later.tar.zst"),
        image("cleanup-chained.tar.zst"),
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Ignoring /data and the apt directories leaves nothing.
    let (c, out, _) = run(
        d,
        &[
            "--ci",
            "--max-waste",
            "0",
            "--ignore",
            "/data/**",
            "--ignore",
            "/var/**",
            "--format",
            "json",
            &later,
        ],
    );
    assert_eq!(c, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["wasted_bytes"], 0);
    assert_eq!(v["ignored"]["bytes"], 460000);
    assert_eq!(v["ignored"]["findings"], 4);
    assert_eq!(v["suggestions"], serde_json::json!([]));
    // Only /data ignored: the apt files (160000) remain.
    let (c, out, _) = run(d, &["--ignore", "/data", "--format", "json", &later]);
    assert_eq!(c, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["wasted_bytes"], 160000);
    let saves: u64 = v["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["saves_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(saves, 160000, "{}", v["suggestions"]);

    // Baseline: the chained build is the reference; going back to cleanup in
    // a later RUN is a regression of 460000 bytes.
    let (_, base, _) = run(d, &["--format", "json", &chained]);
    std::fs::write(d.join("base.json"), base).unwrap();
    assert_eq!(run(d, &["--ci", "--baseline", "base.json", &chained]).0, 0);
    assert_eq!(run(d, &["--ci", "--baseline", "base.json", &later]).0, 1);
    assert_eq!(
        run(
            d,
            &[
                "--ci",
                "--baseline",
                "base.json",
                "--max-growth",
                "500kB",
                &later
            ]
        )
        .0,
        0
    );
}

#[test]
fn dive_ci_file_on_real_images() {
    let (later, chained, single) = (
        image("cleanup-later.tar.zst"),
        image("cleanup-chained.tar.zst"),
        image("single-layer.tar.gz"),
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join(".dive-ci"),
        "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 100KB\n  highestUserWastedPercent: 0.1\n",
    )
    .unwrap();
    assert_eq!(run(d, &["--ci", &later]).0, 1);
    assert_eq!(run(d, &["--ci", &chained]).0, 0);
    // dive's user-wasted percent is 0/0 (NaN) here; imgscope says 0.00%.
    let (c, out, _) = run(d, &["--ci", &single]);
    assert_eq!(c, 0);
    assert!(out.contains("PASS  max-user-waste  0.00%"), "{out}");
}
