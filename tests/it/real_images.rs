//! Images built with real tools (buildah + skopeo, tests/images/build.sh),
//! asserted to the byte. The expected figures are in tests/images/README.md,
//! measured from the layer tars with `tar tv`.

use crate::common;
use common::*;

type F = (String, &'static str, u64, usize, Option<usize>);

fn f(p: &str, kind: &'static str, bytes: u64, stored: usize, hidden: Option<usize>) -> F {
    (p.to_string(), kind, bytes, stored, hidden)
}

const BASE: u64 = 1_982_354;

/// Findings sorted as the report sorts them (bytes desc, then path), and the
/// summary totals.
fn check(name: &str, want: &[F], total: u64, visible: u64, cache: u64) -> imgscope::Analysis {
    let r = analyse(&built(name));
    let got = findings(&r);
    let mut want = want.to_vec();
    want.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.3.cmp(&b.3)));
    assert_eq!(got, want, "{name}");
    let s = &r.summary;
    assert_eq!(s.total_bytes, total, "{name} total");
    assert_eq!(s.visible_bytes, visible, "{name} visible");
    assert_eq!(s.hidden_bytes, total - visible, "{name} hidden");
    assert_eq!(s.cache_bytes, cache, "{name} cache");
    assert_eq!(s.wasted_bytes, total - visible + cache, "{name} wasted");
    assert_eq!(r.layers[0].bytes, BASE, "{name} base layer");
    r
}

#[test]
fn single_layer_has_no_waste() {
    let r = check("single-layer.tar.gz", &[], BASE, BASE, 0);
    assert_eq!(r.summary.waste_ratio, 0.0);
    assert_eq!(r.summary.efficiency, 1.0);
    // 3 regular files + 268 symlinks.
    assert_eq!(r.layers[0].files, 271);
}

#[test]
fn cleanup_in_a_later_run() {
    let want = [
        f("/data/big.bin", "removed", 300_000, 1, Some(2)),
        f(
            "/var/cache/apt/archives/x.deb",
            "removed",
            100_000,
            1,
            Some(2),
        ),
        f(
            "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
            "removed",
            50_000,
            1,
            Some(2),
        ),
        f(
            "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
            "removed",
            10_000,
            1,
            Some(2),
        ),
    ];
    for name in ["cleanup-later.tar.zst", "cleanup-later.ocidir"] {
        let r = check(name, &want, BASE + 460_000, BASE, 0);
        let rules: Vec<Option<&str>> = r.waste.iter().map(|f| f.rule.as_deref()).collect();
        assert_eq!(
            rules,
            vec![
                None,
                Some("apt-archives"),
                Some("apt-lists"),
                Some("apt-lists")
            ]
        );
        assert_eq!(r.layers[1].bytes, 460_000);
        assert_eq!(r.layers[1].wasted_bytes, 460_000);
        assert_eq!(r.layers[2].bytes, 0);
        assert_eq!(r.layers[2].removed, 4);
    }
    let r = analyse(&built("cleanup-later.ocidir"));
    assert_eq!(r.image.format, "oci-layout");
    assert_eq!(r.image.tags, vec!["cleanup-later:latest".to_string()]);
    // gzip blobs: the base compresses to about half; the whiteout-only layer is tiny.
    assert!(r.layers[0].compressed_bytes > 900_000 && r.layers[0].compressed_bytes < BASE);
    assert!(r.layers[2].compressed_bytes < 1_000);
}

#[test]
fn cleanup_chained_in_one_run_has_no_waste() {
    check("cleanup-chained.tar.zst", &[], BASE, BASE, 0);
}

#[test]
fn chmod_chown_and_touch_in_later_runs() {
    let want = [
        f("/app/big.bin", "metadata_only", 200_000, 1, Some(2)),
        f("/app/big.bin", "metadata_only", 200_000, 2, Some(3)),
        f("/app/notes.txt", "metadata_only", 10_000, 1, Some(4)),
    ];
    for name in ["chmod-chown.tar.zst", "chmod-chown.oci-zstd.tar"] {
        let r = check(name, &want, BASE + 620_000, BASE + 210_000, 0);
        assert_eq!(r.layers[3].modified, 1, "{name}");
        assert_eq!(
            r.layers[3].wasted_bytes, 0,
            "{name}: the surviving copy is not waste"
        );
    }
}

#[test]
fn mv_across_layers_and_overwrite_with_same_size() {
    let want = [
        f("/opt/a/file.bin", "moved", 150_000, 1, Some(2)),
        f("/opt/config.txt", "overwritten", 20_000, 1, Some(3)),
    ];
    check(
        "mv-across.tar.zst",
        &want,
        BASE + 340_000,
        BASE + 170_000,
        0,
    );
}

#[test]
fn directory_replaced_wholesale_overlay_and_vfs_agree() {
    let want = [
        f("/srv/dir/sub/three.txt", "removed", 30_000, 1, Some(2)),
        f("/srv/dir/two.txt", "removed", 20_000, 1, Some(2)),
        f("/srv/dir/one.txt", "removed", 10_000, 1, Some(2)),
    ];
    let a = check(
        "dir-replaced-overlay.tar.zst",
        &want,
        BASE + 60_009,
        BASE + 9,
        0,
    );
    let b = check(
        "dir-replaced-vfs.tar.zst",
        &want,
        BASE + 60_009,
        BASE + 9,
        0,
    );
    // Opaque marker vs per-file whiteouts: the same three files removed.
    assert_eq!(a.layers[2].removed, 3);
    assert_eq!(b.layers[2].removed, 3);
    assert_eq!(a.summary.file_count, b.summary.file_count);
}

#[test]
fn hard_links_count_once_and_hide_with_their_last_name() {
    // /h/a with links b, c: a and b deleted, c keeps the bytes visible.
    // /h/d with link e: both deleted in one layer, hidden once (20000),
    // reported at the name the bytes were stored under.
    let want = [f("/h/d", "removed", 20_000, 1, Some(2))];
    let r = check("hardlinks.tar.zst", &want, BASE + 70_000, BASE + 50_000, 0);
    assert_eq!(r.layers[1].bytes, 70_000);
    assert_eq!(r.layers[2].removed, 4);
}

#[test]
fn download_extract_delete_and_move() {
    let want = [
        f("/opt/pkg-1.0/data.bin", "moved", 80_000, 2, Some(4)),
        f("/opt/pkg-1.0/main.c", "moved", 60_000, 2, Some(4)),
        f("/tmp/src.tar.gz", "removed", 23_564, 1, Some(3)),
    ];
    let r = check(
        "download-extract.tar.zst",
        &want,
        BASE + 303_564,
        BASE + 140_000,
        0,
    );
    assert_eq!(r.waste[2].rule.as_deref(), Some("tmp"));
}

#[test]
fn pip_cache_left_in_the_image() {
    let want = [
        f("/root/.cache/pip/wheels/c4/5e/5d/66060b991c13a1f38f41b1355fd3d49c8c31d4d5d7d6ab34e8/toml-0.10.2-py2.py3-none-any.whl", "cache", 18_761, 1, None),
        f("/root/.cache/pip/wheels/c7/a5/d9/f6f5f728e371928297bee0c000ea2e4331c24d8f3804f44db6/six-1.16.0-py2.py3-none-any.whl", "cache", 11_126, 1, None),
        f("/root/.cache/pip/wheels/c4/5e/5d/66060b991c13a1f38f41b1355fd3d49c8c31d4d5d7d6ab34e8/origin.json", "cache", 327, 1, None),
        f("/root/.cache/pip/wheels/c7/a5/d9/f6f5f728e371928297bee0c000ea2e4331c24d8f3804f44db6/origin.json", "cache", 326, 1, None),
    ];
    let r = check(
        "pip-cache.tar.zst",
        &want,
        BASE + 30_540,
        BASE + 30_540,
        30_540,
    );
    assert!(r
        .waste
        .iter()
        .all(|f| f.rule.as_deref() == Some("pip-cache")));
}

#[test]
fn toolchain_images_have_no_layer_waste() {
    check(
        "toolchain-single.tar.zst",
        &[],
        BASE + 1_465_598 + 682_696,
        BASE + 1_465_598 + 682_696,
        0,
    );
    check(
        "toolchain-multistage.tar.zst",
        &[],
        BASE + 682_696,
        BASE + 682_696,
        0,
    );
}

#[test]
fn skopeo_archives_resolve_symlinked_legacy_layer_names() {
    // skopeo writes <sha256>.tar blobs: the digest comes from the name.
    let r = analyse(&built("mv-across.tar.zst"));
    for l in &r.layers {
        assert!(
            l.digest.starts_with("sha256:") && l.digest.len() == 71,
            "{}",
            l.digest
        );
        assert!(l.diff_id.starts_with("sha256:"));
    }
    assert_eq!(
        r.layers[0].diff_id,
        "sha256:bdfa86aa299e3551f38435df4f0438bd561b338197638db0f101708fd0ecf754"
    );
    assert!(r.layers[2]
        .created_by
        .starts_with("/bin/sh -c mkdir -p /opt/b"));
}
