//! Golden test: the JSON report of every image committed in the repository
//! (tests/images/ and assets/demo/) is byte-identical to the file stored in
//! tests/golden/. It guards the report against unintended change while the
//! code is restructured: any change to the output shows up here as a diff
//! that must be looked at and then accepted on purpose.
//!
//! Two runs per image: `--format json` (the report, no checks) and
//! `--ci --format json` (the report with the default checks; exit 0 or 1).
//! Both run with the working directory at the repository root and the image
//! given as a relative path, so `image.source` is the same on every machine.
//!
//! To accept a change, rewrite the files and review the diff:
//!     IMGSCOPE_BLESS=1 cargo test --test it golden:: && git diff tests/golden

use crate::common;
use common::root;
use std::path::{Path, PathBuf};

/// Every image file or OCI directory committed under tests/images/ and assets/demo/,
/// as paths relative to the repository root, sorted.
fn images() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["tests/images", "assets/demo"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let is_image = name.ends_with(".tar")
                || name.ends_with(".tar.gz")
                || name.ends_with(".tar.zst")
                || name.ends_with(".ocidir");
            if is_image {
                out.push(format!("{dir}/{name}"));
            }
        }
    }
    out.sort();
    out
}

/// The golden file of `image` in `mode` ("json" or "ci.json").
fn golden_path(image: &str, mode: &str) -> PathBuf {
    let file = Path::new(image).file_name().unwrap().to_string_lossy();
    root().join("tests/golden").join(format!("{file}.{mode}"))
}

fn run(image: &str, ci: bool) -> (Vec<u8>, i32) {
    let mode = if ci { "--ci" } else { "--no-ci" };
    let r = common::Exec::new([mode, "--format", "json", image])
        .dir(&root())
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .run();
    assert!(
        r.code == 0 || (ci && r.code == 1),
        "{image}: exit {}: {}",
        r.code,
        r.stderr
    );
    (r.stdout.into_bytes(), r.code)
}

#[test]
fn json_reports_match_the_golden_files() {
    let bless = std::env::var_os("IMGSCOPE_BLESS").is_some_and(|v| v != "0");
    let images = images();
    assert!(images.len() >= 15, "found only {images:?}");
    let mut expected_files = Vec::new();
    let mut failures = Vec::new();
    for image in &images {
        for (mode, ci) in [("json", false), ("ci.json", true)] {
            let (got, _) = run(image, ci);
            // Every golden is a complete JSON document.
            serde_json::from_slice::<serde_json::Value>(&got)
                .unwrap_or_else(|e| panic!("{image} ({mode}): not JSON: {e}"));
            let path = golden_path(image, mode);
            expected_files.push(path.clone());
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            match std::fs::read(&path) {
                Ok(want) if want == got => {}
                Ok(want) => failures.push(format!(
                    "{image} ({mode}): differs from {} at byte {}",
                    path.display(),
                    want.iter()
                        .zip(&got)
                        .position(|(a, b)| a != b)
                        .unwrap_or(want.len().min(got.len()))
                )),
                Err(e) => failures.push(format!("{image} ({mode}): {}: {e}", path.display())),
            }
        }
    }
    // A golden file whose image is gone is stale: it guards nothing.
    for e in std::fs::read_dir(root().join("tests/golden")).unwrap() {
        let p = e.unwrap().path();
        if !expected_files.contains(&p) {
            if bless {
                std::fs::remove_file(&p).unwrap();
            } else {
                failures.push(format!("{}: no image has this golden file", p.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "JSON output changed (review, then IMGSCOPE_BLESS=1 cargo test --test it golden::):\n{}",
        failures.join("\n")
    );
}

/// The same reports from the archives stored compressed as a whole, read
/// as plain tar files: a file is then mapped, its headers walked first, and
/// only the files whose size another file shares are hashed (issue 26).
/// Every figure, finding and suggestion must be the golden file's (only
/// `image.source` names the other file), and the same as when every file
/// is hashed (`IMGSCOPE_HASH_ALL=1`).
#[test]
fn reports_of_uncompressed_archives_that_hash_only_shared_sizes_match_the_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    let mut skipped_some = 0;
    for image in images() {
        let Some(plain) = image.strip_suffix(".zst") else {
            continue;
        };
        let name = Path::new(plain).file_name().unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, common::read_uncompressed(&root().join(&image))).unwrap();
        let golden: serde_json::Value =
            serde_json::from_slice(&std::fs::read(golden_path(&image, "json")).unwrap()).unwrap();
        for hash_all in ["0", "1"] {
            let file_arg = file.to_str().unwrap();
            let out = common::Exec::new(["--no-ci", "--format", "json", file_arg])
                .dir(&root())
                .env_remove("GITHUB_ACTIONS")
                .env("NO_COLOR", "1")
                .env("IMGSCOPE_HASH_ALL", hash_all)
                .env("IMGSCOPE_TIMINGS", "1")
                .run();
            assert!(out.code == 0, "{image}: {}", out.stderr);
            // How many content bytes were hashed, of how many.
            let stderr = &out.stderr;
            let hashed: Vec<u64> = stderr
                .split("content hashed ")
                .nth(1)
                .unwrap_or_else(|| panic!("{image}: no timings: {stderr}"))
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            if hash_all == "1" {
                assert_eq!(hashed[0], hashed[1], "{image}: {stderr}");
            } else if hashed[0] < hashed[1] {
                skipped_some += 1;
            }
            let mut got: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
            got["image"]["source"] = golden["image"]["source"].clone();
            assert!(
                got == golden,
                "{image} read as a plain tar (IMGSCOPE_HASH_ALL={hash_all}) differs from its golden file"
            );
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} compressed archives");
    // Most of them have files of a size no other file has: left unread.
    assert!(
        skipped_some * 2 > checked,
        "only {skipped_some} of {checked} images had content left unread"
    );
}
