//! dive's 14-step test scenario, rebuilt by this project (tests/images/build.sh
//! dive-steps, from tests/images/src/dive-steps/Containerfile) and exported in
//! five layouts: `docker save` legacy (`<id>/layer.tar`), kaniko (`.tar.gz`
//! layers), OCI with gzip, zstd and uncompressed layers. The expectations are
//! worked out by hand from the Containerfile, with S = 10000 (somefile.txt,
//! `head -c 10000` in build.sh) and the two scripts of `.scripts/` (123 + 322
//! bytes); layer indexes are 0-based, base = 0:
//!
//! layer 1  ADD somefile.txt /somefile.txt       S
//! layer 2  mkdir -p /root/example/really/nested 0 (directories, buildah's empty mount points)
//! layer 3  cp → /root/example/somefile1.txt     S stored
//! layer 4  chmod 444 somefile1.txt              S; layer-3 copy metadata_only (hidden by 4)
//! layer 5  cp → somefile2.txt                   S stored
//! layer 6  cp → somefile3.txt                   S stored
//! layer 7  mv somefile3.txt /root/saved.txt     S; layer-6 copy moved (hidden by 7)
//! layer 8  cp → /root/.saved.txt                S, stays visible
//! layer 9  rm -rf /root/example/                0; layer-4 somefile1 and layer-5 somefile2 removed (by 9)
//! layer 10 ADD .scripts/ /root/.data/           123 + 322
//! layer 11 cp → /tmp/saved.again1.txt           S visible under /tmp → cache (rule tmp)
//! layer 12 cp → /root/.data/saved.again2.txt    S, stays visible
//! layer 13 chmod +x /root/saved.txt             S; layer-7 copy metadata_only (hidden by 13)

use crate::common;
use common::*;

const S: u64 = 10_000;
const SCRIPTS: u64 = 123 + 322;
/// The busybox base: bin/busybox 1982256 (its 268 applet names are hard links
/// to it: 0 bytes each), etc/passwd 71, etc/group 27. See tests/images/README.md.
const BASE: u64 = 1_982_256 + 71 + 27;

const LAYOUTS: [(&str, &str); 5] = [
    ("dive-steps.docker.tar.zst", "docker-archive"),
    ("dive-steps.kaniko.tar", "docker-archive"),
    ("dive-steps.oci-gzip.tar", "oci-layout"),
    ("dive-steps.oci-zstd.tar", "oci-layout"),
    ("dive-steps.oci-uncompressed.tar.zst", "oci-layout"),
];

fn expected() -> Vec<(String, &'static str, u64, usize, Option<usize>)> {
    let mut v = vec![
        (
            "/root/example/somefile1.txt".to_string(),
            "metadata_only",
            S,
            3,
            Some(4),
        ),
        (
            "/root/example/somefile1.txt".to_string(),
            "removed",
            S,
            4,
            Some(9),
        ),
        (
            "/root/example/somefile2.txt".to_string(),
            "removed",
            S,
            5,
            Some(9),
        ),
        (
            "/root/example/somefile3.txt".to_string(),
            "moved",
            S,
            6,
            Some(7),
        ),
        (
            "/root/saved.txt".to_string(),
            "metadata_only",
            S,
            7,
            Some(13),
        ),
        ("/tmp/saved.again1.txt".to_string(), "cache", S, 11, None),
    ];
    v.sort_by(|a, b| a.0.cmp(&b.0).then(a.3.cmp(&b.3)));
    v
}

fn check(name: &str, format: &str) {
    let r = analyse(&built(name));
    assert_eq!(r.image.format, format, "{name}");
    assert_eq!(r.image.architecture, "amd64", "{name}");
    let mut got = findings(&r);
    got.sort_by(|a, b| a.0.cmp(&b.0).then(a.3.cmp(&b.3)));
    assert_eq!(got, expected(), "{name}");
    let sum = &r.summary;
    assert_eq!(sum.layer_count, 14, "{name}");
    // Layer bytes: the base, somefile and 9 copies of it, the two scripts.
    assert_eq!(sum.total_bytes, 2_082_799, "{name}");
    assert_eq!(sum.total_bytes, BASE + 10 * S + SCRIPTS, "{name}");
    assert_eq!(sum.hidden_bytes, 5 * S, "{name}");
    assert_eq!(sum.cache_bytes, S, "{name}");
    assert_eq!(sum.wasted_bytes, 6 * S, "{name}");
    assert_eq!(sum.visible_bytes, 2_032_799, "{name}");
    assert!(
        (sum.waste_ratio - 60_000.0 / 2_082_799.0).abs() < 1e-12,
        "{name}"
    );
    let hidden_rule = r
        .waste
        .iter()
        .filter(|f| f.kind != imgscope::analyze::waste::WasteKind::Cache)
        .all(|f| f.rule.is_none());
    assert!(hidden_rule, "no hidden finding matches a cache rule");
    let bytes: Vec<u64> = r.layers.iter().map(|l| l.bytes).collect();
    assert_eq!(
        bytes,
        [BASE, S, 0, S, S, S, S, S, S, 0, SCRIPTS, S, S, S],
        "{name}"
    );
    // Per-layer waste attribution: the layer that stored each wasted copy.
    let lw: Vec<u64> = r.layers.iter().map(|l| l.wasted_bytes).collect();
    assert_eq!(lw, [0, 0, 0, S, S, S, S, S, 0, 0, 0, S, 0, 0], "{name}");
    // Layer 9 removed the two files left under /root/example.
    assert_eq!(r.layers[9].removed, 2, "{name}");
    assert_eq!(r.layers[7].added, 1, "{name}");
    assert_eq!(r.layers[7].removed, 1, "{name}");
    assert_eq!(r.layers[13].modified, 1, "{name}");
    assert!(r.layers[4].created_by.contains("chmod 444"), "{name}");
}

#[test]
fn docker_save_legacy_layout_findings_match_the_steps() {
    check(LAYOUTS[0].0, LAYOUTS[0].1);
}

#[test]
fn kaniko_gzip_layers_findings_match_the_steps() {
    check(LAYOUTS[1].0, LAYOUTS[1].1);
}

#[test]
fn oci_layouts_with_every_layer_compression_match_the_steps() {
    for (name, format) in &LAYOUTS[2..] {
        check(name, format);
    }
}

#[test]
fn the_layouts_really_differ_as_named() {
    // Whole-archive zstd hides the layout: look inside the decompressed tars.
    let names = |p| -> Vec<(String, tar::EntryType)> {
        let bytes = read_uncompressed(&built(p));
        tar::Archive::new(&bytes[..])
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    e.header().entry_type(),
                )
            })
            .collect()
    };
    let docker = names("dive-steps.docker.tar.zst");
    let layers: Vec<_> = docker
        .iter()
        .filter(|(n, _)| n.ends_with("/layer.tar"))
        .collect();
    assert_eq!(layers.len(), 14);
    assert!(layers.iter().all(|(_, t)| *t == tar::EntryType::Regular));
    assert!(docker.iter().any(|(n, _)| n == "repositories"));
    let kaniko = names("dive-steps.kaniko.tar");
    assert_eq!(
        kaniko
            .iter()
            .filter(|(n, _)| n.ends_with(".tar.gz"))
            .count(),
        14
    );
    for p in [
        "dive-steps.oci-gzip.tar",
        "dive-steps.oci-uncompressed.tar.zst",
    ] {
        assert!(names(p).iter().any(|(n, _)| n == "index.json"), "{p}");
    }
}

#[test]
fn hard_links_in_the_base_count_once() {
    // busybox's 268 applet names are hard links to one 1,982,256-byte file:
    // the layer stores it once and it is visible once.
    let r = analyse(&steps_docker());
    assert_eq!(r.layers[0].bytes, BASE);
    assert_eq!(r.layers[0].files, 3 + 268);
}
