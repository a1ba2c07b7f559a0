//! The two 14-layer images of ../shared/images/dive/, built from the same
//! Dockerfile by `docker save` (2018) and by kaniko. The expectations are
//! written by hand from the Dockerfile steps (see that folder's README):
//!
//! layer 1  ADD README.md /somefile.txt          (S bytes)
//! layer 3  cp → /root/example/somefile1.txt     stored
//! layer 4  chmod 444 somefile1.txt              → layer-3 copy metadata_only (hidden by 4)
//! layer 5  cp → somefile2.txt                   stored
//! layer 6  cp → somefile3.txt                   stored
//! layer 7  mv somefile3.txt /root/saved.txt     → layer-6 copy moved (hidden by 7)
//! layer 9  rm -rf /root/example/                → layer-4 somefile1 and layer-5 somefile2 removed (by 9)
//! layer 11 cp → /tmp/saved.again1.txt           visible under /tmp → cache (rule tmp)
//! layer 13 chmod +x /root/saved.txt             → layer-7 copy metadata_only (hidden by 13)

mod common;
use common::*;

fn expected(s: u64) -> Vec<(String, &'static str, u64, usize, Option<usize>)> {
    let mut v = vec![
        (
            "/root/example/somefile1.txt".to_string(),
            "metadata_only",
            s,
            3,
            Some(4),
        ),
        (
            "/root/example/somefile1.txt".to_string(),
            "removed",
            s,
            4,
            Some(9),
        ),
        (
            "/root/example/somefile2.txt".to_string(),
            "removed",
            s,
            5,
            Some(9),
        ),
        (
            "/root/example/somefile3.txt".to_string(),
            "moved",
            s,
            6,
            Some(7),
        ),
        (
            "/root/saved.txt".to_string(),
            "metadata_only",
            s,
            7,
            Some(13),
        ),
        ("/tmp/saved.again1.txt".to_string(), "cache", s, 11, None),
    ];
    v.sort_by(|a, b| a.0.cmp(&b.0).then(a.3.cmp(&b.3)));
    v
}

fn check(name: &str, s: u64, base_bytes: u64, scripts: u64) {
    let r = analyse(&shared(name));
    let mut got = findings(&r);
    got.sort_by(|a, b| a.0.cmp(&b.0).then(a.3.cmp(&b.3)));
    assert_eq!(got, expected(s), "{name}");
    let sum = &r.summary;
    assert_eq!(sum.layer_count, 14);
    // Layer bytes: base + somefile + 8 copies of it + the two scripts.
    assert_eq!(sum.total_bytes, base_bytes + 10 * s + scripts);
    assert_eq!(sum.hidden_bytes, 5 * s);
    assert_eq!(sum.cache_bytes, s);
    assert_eq!(sum.wasted_bytes, 6 * s);
    assert_eq!(sum.visible_bytes, sum.total_bytes - 5 * s);
    assert!((sum.waste_ratio - 6.0 * s as f64 / sum.total_bytes as f64).abs() < 1e-12);
    let hidden_rule = r
        .waste
        .iter()
        .filter(|f| f.kind != imgscope::analysis::WasteKind::Cache)
        .all(|f| f.rule.is_none());
    assert!(hidden_rule, "no hidden finding matches a cache rule");
    // Per-layer waste attribution.
    let lw: Vec<u64> = r.layers.iter().map(|l| l.wasted_bytes).collect();
    assert_eq!(lw, vec![0, 0, 0, s, s, s, s, s, 0, 0, 0, s, 0, 0]);
    // Layer 9 removed the two files left under /root/example.
    assert_eq!(r.layers[9].removed, 2);
    assert_eq!(r.layers[7].added, 1);
    assert_eq!(r.layers[7].removed, 1);
    assert_eq!(r.layers[13].modified, 1);
    assert!(r.layers[4].created_by.contains("chmod 444"));
}

#[test]
fn docker_save_image_findings_match_the_dockerfile() {
    // Base layer: regular-file bytes summed with `tar tvf` (busybox binary,
    // hard-linked ~400 times, counted once, plus /etc files).
    check("test-docker-image.tar", 6405, 1_154_361, 917 + 1270);
}

#[test]
fn kaniko_image_findings_match_the_dockerfile() {
    check("test-kaniko-image.tar", 9249, 1_231_733, 917 + 1270);
}

#[test]
fn hard_links_in_the_base_count_once() {
    // busybox's ~400 applet names are hard links to one 1,075,464-byte file:
    // the layer stores it once and it is visible once.
    let r = analyse(&shared("test-docker-image.tar"));
    assert!(r.layers[0].files > 390);
    assert!(r.layers[0].bytes < 1_075_464 * 2);
    assert!(r.layers[0].bytes >= 1_075_464);
}

#[test]
fn oci_layouts_load_with_every_layer_compression() {
    for name in [
        "test-oci-gzip-image.tar",
        "test-oci-zstd-image.tar",
        "test-oci-estargz-image.tar",
        "test-oci-uncompressed-image.tar",
    ] {
        let r = analyse(&shared(name));
        assert_eq!(r.image.format, "oci-layout", "{name}");
        assert_eq!(r.image.architecture, "arm64", "{name}");
        assert_eq!(r.summary.layer_count, 1, "{name}");
        // One README.md of 11,189 bytes; the eStargz TOC is not a file.
        assert_eq!(r.summary.total_bytes, 11_189, "{name}");
        assert_eq!(r.summary.file_count, 1, "{name}");
        assert_eq!(r.summary.wasted_bytes, 0, "{name}");
        assert_eq!(r.summary.efficiency, 1.0, "{name}");
    }
}
