//! `imgscope diff` and `imgscope share` on real image pairs built with buildah
//! (tests/images/build.sh and build-pairs.sh). Expected figures are read from
//! the archives' layer tars here, not from imgscope's analysis.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn imgscope() -> Command {
    common::imgscope()
}

fn img(name: &str) -> String {
    common::built(name).display().to_string()
}

/// One regular-file or whiteout entry of a layer tar.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    size: u64,
    whiteout: bool,
}

/// The layers of a zstd-compressed docker-archive, in manifest order: the
/// member name (`<diff_id hex>.tar`) and its entries.
fn layers_of(path: &Path) -> Vec<(String, Vec<Entry>)> {
    let raw = zstd::decode_all(std::fs::File::open(path).unwrap()).unwrap();
    let mut members: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut outer = tar::Archive::new(&raw[..]);
    for e in outer.entries().unwrap() {
        let mut e = e.unwrap();
        if e.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        members.insert(name, data);
    }
    let manifest: Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
    manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let name = l.as_str().unwrap().to_string();
            let mut entries = Vec::new();
            let mut t = tar::Archive::new(&members[&name][..]);
            for e in t.entries().unwrap() {
                let e = e.unwrap();
                let p = e.path().unwrap().to_string_lossy().into_owned();
                let p = format!("/{}", p.trim_start_matches("./").trim_end_matches('/'));
                let base = p.rsplit('/').next().unwrap();
                let whiteout = base.starts_with(".wh.");
                if e.header().entry_type() == tar::EntryType::Regular || whiteout {
                    entries.push(Entry {
                        path: p,
                        size: e.header().size().unwrap(),
                        whiteout,
                    });
                }
            }
            (name, entries)
        })
        .collect()
}

fn bytes(entries: &[Entry]) -> u64 {
    entries.iter().filter(|e| !e.whiteout).map(|e| e.size).sum()
}

fn diff_json(old: &str, new: &str) -> Value {
    let out = imgscope()
        .args(["diff", "--format", "json", old, new])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn statuses(d: &Value) -> Vec<(Value, Value, String)> {
    d["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["old"].clone(),
                l["new"].clone(),
                l["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(old: Option<u64>, new: Option<u64>, status: &str) -> (Value, Value, String) {
    (
        old.map_or(Value::Null, Value::from),
        new.map_or(Value::Null, Value::from),
        status.to_string(),
    )
}

fn paths(list: &Value) -> BTreeSet<(String, String, u64)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
                f["bytes"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn cleanup_in_a_later_run_vs_chained() {
    let (old, new) = (img("cleanup-later.tar.zst"), img("cleanup-chained.tar.zst"));
    let d = diff_json(&old, &new);
    assert_eq!(
        statuses(&d),
        vec![
            row(Some(0), Some(0), "same"),
            row(Some(1), Some(1), "changed"),
            row(Some(2), None, "removed"),
        ]
    );
    // The files the cleanup layer whites out, with their sizes in the
    // install layer: read from the tars.
    let layers = layers_of(&common::built("cleanup-later.tar.zst"));
    let removed: Vec<&str> = layers[2]
        .1
        .iter()
        .filter(|e| e.whiteout)
        .map(|e| e.path.as_str())
        .collect();
    let hidden: BTreeSet<(String, String, u64)> = layers[1]
        .1
        .iter()
        .filter(|e| {
            removed.iter().any(|w| {
                let (dir, name) = w.rsplit_once('/').unwrap();
                let target = format!("{dir}/{}", name.trim_start_matches(".wh."));
                if name == ".wh..wh..opq" {
                    e.path.starts_with(&format!("{dir}/"))
                } else {
                    e.path == target || e.path.starts_with(&format!("{target}/"))
                }
            })
        })
        .map(|e| (e.path.clone(), "removed".to_string(), e.size))
        .collect();
    let hidden_sum: u64 = hidden.iter().map(|h| h.2).sum();
    assert_eq!(hidden.len(), 4, "{hidden:?}");
    assert_eq!(hidden_sum, 460_000);
    // The new image wastes nothing: the wasted delta is the old image's
    // waste from these findings, to the byte, and they are all fixed.
    assert_eq!(paths(&d["fixed"]), hidden);
    assert_eq!(d["wasted_delta"].as_i64().unwrap(), -(hidden_sum as i64));
    assert_eq!(d["old"]["wasted_bytes"].as_u64().unwrap(), hidden_sum);
    assert_eq!(d["new"]["wasted_bytes"].as_u64().unwrap(), 0);
    assert_eq!(d["introduced"], Value::Array(vec![]));
    // Per layer: the install layer lost exactly those bytes.
    let new_layers = layers_of(&common::built("cleanup-chained.tar.zst"));
    assert_eq!(
        d["layers"][1]["bytes_delta"].as_i64().unwrap(),
        bytes(&new_layers[1].1) as i64 - bytes(&layers[1].1) as i64
    );
    assert_eq!(
        d["layers"][1]["wasted_delta"].as_i64().unwrap(),
        -(hidden_sum as i64)
    );
    assert_eq!(
        d["total_delta"].as_i64().unwrap(),
        new_layers.iter().map(|l| bytes(&l.1)).sum::<u64>() as i64
            - layers.iter().map(|l| bytes(&l.1)).sum::<u64>() as i64
    );
    // The old image's suggestion is realised in full.
    let realised = d["realised"].as_array().unwrap();
    assert!(!realised.is_empty());
    for r in realised {
        assert_eq!(r["realised_bytes"], r["saves_bytes"], "{r}");
    }
}

#[test]
fn single_stage_vs_multi_stage_compiler_build() {
    let d = diff_json(
        &img("toolchain-single.tar.zst"),
        &img("toolchain-multistage.tar.zst"),
    );
    // The base is shared, the toolchain COPY is gone, and the COPY of the
    // binary is matched by its instruction though it moved up one position.
    assert_eq!(
        statuses(&d),
        vec![
            row(Some(0), Some(0), "same"),
            row(Some(1), None, "removed"),
            row(Some(2), Some(1), "changed"),
        ]
    );
    let old = layers_of(&common::built("toolchain-single.tar.zst"));
    let new = layers_of(&common::built("toolchain-multistage.tar.zst"));
    let toolchain = bytes(&old[1].1);
    assert_eq!(
        d["layers"][1]["bytes_delta"].as_i64().unwrap(),
        -(toolchain as i64)
    );
    assert_eq!(
        d["layers"][2]["bytes_delta"].as_i64().unwrap(),
        bytes(&new[1].1) as i64 - bytes(&old[2].1) as i64
    );
    assert_eq!(d["total_delta"].as_i64().unwrap(), -(toolchain as i64));
    // Every file the toolchain layer held is gone from the final
    // filesystem: the file list (directories rolled up) sums to it.
    let files = d["files"].as_array().unwrap();
    assert!(files.iter().all(|f| f["status"] == "removed"), "{files:?}");
    let sum: i64 = files
        .iter()
        .map(|f| f["bytes_delta"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, -(toolchain as i64));
    let gcc = old[1].1.iter().find(|e| e.path == "/usr/bin/gcc").unwrap();
    assert!(files
        .iter()
        .any(|f| f["path"] == "/usr/bin/gcc" && f["old_bytes"] == gcc.size));
    assert!(files
        .iter()
        .any(|f| f["path"] == "/usr/include" && f["dir"] == true));
    // The multi-stage suggestion is realised in full.
    let ms = d["realised"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"].as_str().unwrap().starts_with("multi-stage"))
        .expect("a multi-stage suggestion for the single-stage build");
    assert_eq!(ms["realised_bytes"], ms["saves_bytes"]);
    assert_eq!(ms["basis"], "visible");
}

#[test]
fn chmod_in_its_own_run_vs_copy_chmod() {
    let d = diff_json(&img("chmod-run.tar.zst"), &img("chmod-copy.tar.zst"));
    assert_eq!(
        statuses(&d),
        vec![
            row(Some(0), Some(0), "same"),
            row(Some(1), Some(1), "changed"),
            row(Some(2), None, "removed"),
        ]
    );
    let old = layers_of(&common::built("chmod-run.tar.zst"));
    let app = old[1].1.iter().find(|e| e.path == "/app/app.bin").unwrap();
    let again = old[2].1.iter().find(|e| e.path == "/app/app.bin").unwrap();
    assert_eq!(app.size, again.size);
    assert_eq!(
        paths(&d["fixed"]),
        BTreeSet::from([(
            "/app/app.bin".to_string(),
            "metadata_only".to_string(),
            app.size
        )])
    );
    assert_eq!(d["wasted_delta"].as_i64().unwrap(), -(app.size as i64));
    assert_eq!(
        d["layers"][2]["bytes_delta"].as_i64().unwrap(),
        -(bytes(&old[2].1) as i64)
    );
}

#[test]
fn an_image_against_itself_changes_nothing() {
    for name in [
        "cleanup-later.tar.zst",
        "toolchain-single.tar.zst",
        "chmod-run.tar.zst",
    ] {
        let d = diff_json(&img(name), &img(name));
        for l in d["layers"].as_array().unwrap() {
            assert_eq!(l["status"], "same", "{name}: {l}");
            assert_eq!(l["old"], l["new"]);
            assert_eq!(l["bytes_delta"], 0);
            assert_eq!(l["wasted_delta"], 0);
        }
        assert_eq!(
            d["layers"].as_array().unwrap().len(),
            layers_of(&common::built(name)).len()
        );
        for k in ["total_delta", "wasted_delta", "visible_delta", "pull_delta"] {
            assert_eq!(d[k], 0, "{name} {k}");
        }
        for k in ["fixed", "introduced", "changed", "files"] {
            assert_eq!(d[k], Value::Array(vec![]), "{name} {k}");
        }
    }
}

#[test]
fn ci_gates_growth_with_exit_codes() {
    let (small, big) = (img("cleanup-chained.tar.zst"), img("cleanup-later.tar.zst"));
    // Waste grew by 460000 bytes: --ci alone (waste must not grow) fails.
    imgscope()
        .args(["diff", "--ci", &small, &big])
        .assert()
        .code(1);
    imgscope()
        .args(["diff", "--ci", "--max-waste-growth", "460000", &small, &big])
        .assert()
        .code(0);
    imgscope()
        .args(["diff", "--ci", "--max-waste-growth", "459999", &small, &big])
        .assert()
        .code(1);
    // 460000 of 1982354 bytes is 23.2%.
    imgscope()
        .args(["diff", "--ci", "--max-growth", "24%", &small, &big])
        .assert()
        .code(0);
    let out = imgscope()
        .args([
            "diff",
            "--ci",
            "--max-growth",
            "23%",
            "--format",
            "json",
            &small,
            &big,
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let d: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(d["checks"][0]["name"], "max-growth");
    assert_eq!(d["checks"][0]["passed"], false);
    // Shrinking passes every rule.
    imgscope()
        .args(["diff", "--ci", "--max-growth", "0", &big, &small])
        .assert()
        .code(0);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let good = img("cleanup-chained.tar.zst");
    for args in [
        vec!["diff", good.as_str(), "/nonexistent/new.tar"],
        vec!["diff", "--max-growth", "lots", good.as_str(), good.as_str()],
        vec!["diff", good.as_str()],
        vec!["share"],
        vec!["share", good.as_str(), "/nonexistent/x.tar"],
    ] {
        let out = imgscope().args(&args).assert().code(2).get_output().clone();
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
    let out = imgscope()
        .args(["diff", &good, "/nonexistent/new.tar"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("/nonexistent/new.tar"));
}

#[test]
fn a_file_named_diff_is_still_an_image() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::built("cleanup-later.tar.zst"),
        dir.path().join("diff"),
    )
    .unwrap();
    for args in [
        vec!["--format", "json", "diff"],
        vec!["diff", "--format", "json"],
        vec!["--format", "json", "./diff"],
    ] {
        let out = imgscope()
            .current_dir(dir.path())
            .args(&args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let r: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(r["summary"]["wasted_bytes"], 460_000, "{args:?}");
    }
    // With two images after it, `diff` is the subcommand.
    let out = imgscope()
        .current_dir(dir.path())
        .args(["diff", "--format", "json", "diff", "diff"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let d: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(d["total_delta"], 0);
}

#[test]
fn share_counts_each_distinct_layer_once() {
    let names = [
        "cleanup-later.tar.zst",
        "chmod-chown.tar.zst",
        "toolchain-single.tar.zst",
    ];
    let mut all = Vec::new();
    let mut distinct: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_image = Vec::new();
    for n in names {
        let layers = layers_of(&common::built(n));
        let mut sizes = Vec::new();
        for (member, entries) in &layers {
            let b = bytes(entries);
            all.push(b);
            distinct.insert(member.clone(), b);
            sizes.push((member.clone(), b));
        }
        per_image.push(sizes);
    }
    let out = imgscope()
        .arg("share")
        .args(names.iter().map(|n| img(n)))
        .args(["--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(s["schema"], 1);
    assert_eq!(
        s["disk_bytes"].as_u64().unwrap(),
        distinct.values().sum::<u64>()
    );
    assert_eq!(
        s["disk_bytes_without_sharing"].as_u64().unwrap(),
        all.iter().sum::<u64>()
    );
    // All three are built on one base layer: stored once.
    let base = &per_image[0][0];
    assert!(per_image.iter().all(|im| im[0].0 == base.0));
    assert!(base.1 > 1_000_000);
    assert_eq!(
        s["disk_bytes_without_sharing"].as_u64().unwrap() - s["disk_bytes"].as_u64().unwrap(),
        2 * base.1
    );
    for (i, im) in per_image.iter().enumerate() {
        let shared: u64 = im
            .iter()
            .filter(|(m, _)| {
                per_image
                    .iter()
                    .enumerate()
                    .any(|(j, o)| j != i && o.iter().any(|x| &x.0 == m))
            })
            .map(|x| x.1)
            .sum();
        let total: u64 = im.iter().map(|x| x.1).sum();
        assert_eq!(s["images"][i]["shared_bytes"].as_u64().unwrap(), shared);
        assert_eq!(
            s["images"][i]["unique_bytes"].as_u64().unwrap(),
            total - shared
        );
        assert_eq!(s["images"][i]["total_bytes"].as_u64().unwrap(), total);
    }
    let used: Vec<u64> = s["layers"][0]["used_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(used, vec![0, 1, 2]);
    assert_eq!(
        s["layers"][0]["diff_id"].as_str().unwrap(),
        format!("sha256:{}", base.0.trim_end_matches(".tar"))
    );
    // Text: the disk line and the trade-off.
    let out = imgscope()
        .arg("share")
        .args(names.iter().map(|n| img(n)))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("without sharing"), "{text}");
    assert!(text.contains("Squashing"), "{text}");
}

#[test]
fn markdown_and_github_formats_on_a_real_pair() {
    let (old, new) = (img("cleanup-later.tar.zst"), img("cleanup-chained.tar.zst"));
    let out = imgscope()
        .args(["diff", "--format", "markdown", &old, &new])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let md = String::from_utf8(out).unwrap();
    assert!(
        md.starts_with("### imgscope diff: −460 kB wasted (−100.0%), image −460 kB"),
        "{md}"
    );
    assert!(md.contains("| 2 | – | removed |"), "{md}");
    assert!(!md.contains("Truncated"));
    let out = imgscope()
        .args([
            "diff",
            "--format",
            "github",
            "--max-waste-growth",
            "0",
            &new,
            &old,
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let gh = String::from_utf8(out).unwrap();
    assert!(
        gh.starts_with("::error title=imgscope%3A max-waste-growth failed::"),
        "{gh}"
    );
    assert_eq!(gh.lines().filter(|l| l.starts_with("::warning")).count(), 4);
}

/// The worked example (docs/diff.md): the demo image before and after its
/// fixes, the "after" built with buildah from assets/demo/Containerfile.fixed.
#[test]
fn the_demo_fixed_realises_every_suggested_saving_to_the_byte() {
    let before = common::root().join("assets/demo/demo.tar.zst");
    let after = common::root().join("assets/demo/demo-fixed.tar.zst");
    let d = diff_json(&before.display().to_string(), &after.display().to_string());
    assert_eq!(d["layers"][0]["status"], "same");
    let realised = d["realised"].as_array().unwrap();
    assert!(realised.len() >= 5, "{realised:?}");
    for r in realised {
        assert_eq!(r["realised_bytes"], r["saves_bytes"], "{r}");
    }
    let suggested: u64 = realised
        .iter()
        .map(|r| r["saves_bytes"].as_u64().unwrap())
        .sum();
    // Every wasted byte was covered by a suggestion, and all of them are gone.
    assert_eq!(d["old"]["wasted_bytes"].as_u64().unwrap(), suggested);
    assert_eq!(d["new"]["wasted_bytes"], 0);
    assert_eq!(d["wasted_delta"].as_i64().unwrap(), -(suggested as i64));
    assert_eq!(d["introduced"], Value::Array(vec![]));
    assert_eq!(d["remaining"], Value::Array(vec![]));
    // The image shrank by exactly the waste: read from the two archives' layers.
    let sum = |p: &Path| -> i64 { layers_of(p).iter().map(|l| bytes(&l.1)).sum::<u64>() as i64 };
    assert_eq!(sum(&after) - sum(&before), -(suggested as i64));
    assert_eq!(d["total_delta"].as_i64().unwrap(), -(suggested as i64));
}

/// Empty files (lock files) are not listed among fixed or introduced
/// findings, only counted, and titles are cut at a word boundary.
#[test]
fn diff_text_skips_empty_findings_and_cuts_titles_at_words() {
    use common::{layer, oci_members, oci_tar, E};
    let base = layer(&[E::File("bin/sh", vec![1; 300])]);
    let long = "opt/a-rather-long-directory-name/with-another-long-name/inside/the-payload.bin";
    let old = [
        base.clone(),
        layer(&[
            E::File("var/lib/apt/lists/lock", Vec::new()),
            E::File(
                "var/lib/apt/lists/deb_dists_bookworm_main_Packages",
                vec![2; 5000],
            ),
            E::File("var/cache/apt/archives/lock", Vec::new()),
            E::File(long, vec![3; 9000]),
        ]),
        layer(&[E::Whiteout(long)]),
    ];
    let new = [base, layer(&[E::File("usr/bin/app", vec![4; 100])])];
    let dir = tempfile::tempdir().unwrap();
    let (o, n) = (dir.path().join("old.tar"), dir.path().join("new.tar"));
    std::fs::write(&o, oci_tar(&oci_members(&old))).unwrap();
    std::fs::write(&n, oci_tar(&oci_members(&new))).unwrap();
    let (o, n) = (o.to_str().unwrap(), n.to_str().unwrap());
    let json = diff_json(o, n);
    // The JSON keeps every finding.
    assert!(paths(&json["fixed"])
        .iter()
        .any(|(p, _, b)| p == "/var/lib/apt/lists/lock" && *b == 0));
    for args in [vec![], vec!["--format", "markdown"]] {
        let out = imgscope()
            .args(["diff", o, n])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains("lists/lock"), "{args:?}: {text}");
        assert!(!text.contains("archives/lock"), "{args:?}: {text}");
        assert!(
            text.contains("2 empty files not listed"),
            "{args:?}: {text}"
        );
        assert!(
            text.replace('\\', "")
                .contains("deb_dists_bookworm_main_Packages"),
            "{text}"
        );
        if args.is_empty() {
            assert!(text.contains("Fixed findings: 4 (14 kB)"), "{text}");
            // Every cut title ends at a word boundary of the real one.
            let titles: Vec<&str> = json["realised"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["title"].as_str().unwrap())
                .collect();
            let mut cut = 0;
            for line in text
                .lines()
                .filter(|l| l.contains('…') && !l.contains("more"))
            {
                let head = line.trim_start().split_once("  ").map_or(line, |x| x.1);
                let head = head.split('…').next().unwrap();
                let t = titles
                    .iter()
                    .find(|t| t.starts_with(head))
                    .unwrap_or_else(|| panic!("{line:?} in {titles:?}"));
                assert!(
                    t[head.len()..].starts_with(' ') || head.ends_with('/'),
                    "cut mid-word: {line:?} of {t:?}"
                );
                cut += 1;
            }
            assert!(cut > 0, "no title was cut: {text}");
        }
    }
}
