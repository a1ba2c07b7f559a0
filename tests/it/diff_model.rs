//! `imgscope diff` over synthetic images: diff A B and diff B A are mirror
//! images, an image against itself changes nothing (property tests), and the
//! Markdown comment of a very large diff stays under GitHub's limit (insta
//! snapshot).

use crate::common;

use std::hash::{Hash, Hasher};

use common::{docker_archive_with, layer, E};
use proptest::prelude::*;
use serde_json::Value;

use imgscope::compare::{diff, Diff};
use imgscope::{Index, LoadOptions, LoadProgress, Report, Rules};

/// A content-derived diff_id (not sha256, but equal exactly when the layer
/// tars are equal, which is all the comparison looks at).
fn diff_id(tar: &[u8]) -> String {
    let mut parts = String::new();
    for seed in 0..4u64 {
        let mut h = std::hash::DefaultHasher::new();
        seed.hash(&mut h);
        tar.hash(&mut h);
        parts.push_str(&format!("{:016x}", h.finish()));
    }
    format!("sha256:{parts}")
}

/// A docker-archive of (layer tar, created_by) pairs.
fn archive(layers: &[(Vec<u8>, String)]) -> Vec<u8> {
    let ids: Vec<String> = layers
        .iter()
        .map(|(t, _)| format!("\"{}\"", diff_id(t)))
        .collect();
    let history: Vec<String> = layers
        .iter()
        .map(|(_, c)| format!("{{\"created_by\":{}}}", serde_json::to_string(c).unwrap()))
        .collect();
    let config = format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{}]}},\"history\":[{}]}}",
        ids.join(","),
        history.join(",")
    );
    let tars: Vec<Vec<u8>> = layers.iter().map(|(t, _)| t.clone()).collect();
    docker_archive_with(&tars, &[], None, Some(&config))
}

fn analyse(bytes: Vec<u8>, name: &str) -> (Index, Report) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name.replace('/', "_"));
    std::fs::write(&path, bytes).unwrap();
    let index = imgscope::load(
        path.to_str().unwrap(),
        &LoadOptions::default(),
        &LoadProgress::default(),
    )
    .unwrap();
    // Findings and totals only: the comparison of suggestions is covered by
    // the real images in diff_images.rs.
    let mut analysis = imgscope::analyze(&index, &Rules::builtin(), &imgscope::Ignore::none());
    analysis.image.source = name.to_string();
    let report = imgscope::Report {
        analysis,
        suggestions: Vec::new(),
    };
    (index, report)
}

fn json(d: &Diff) -> Value {
    serde_json::to_value(d).unwrap()
}

fn neg(v: &Value) -> Value {
    Value::from(-v.as_i64().unwrap())
}

fn sorted(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|x| x.to_string());
    v
}

/// `d` seen from the other side: old and new swapped, deltas negated.
fn mirror_of(d: &Value) -> Value {
    let swap_status = |s: &Value, a: &str, b: &str| {
        if s == a {
            Value::from(b)
        } else if s == b {
            Value::from(a)
        } else {
            s.clone()
        }
    };
    let layers: Vec<Value> = d["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            serde_json::json!({
                "old": l["new"], "new": l["old"],
                "status": swap_status(&l["status"], "added", "removed"),
                "old_bytes": l["new_bytes"], "new_bytes": l["old_bytes"],
                "bytes_delta": neg(&l["bytes_delta"]),
                "wasted_delta": neg(&l["wasted_delta"]),
                "pull_delta": neg(&l["pull_delta"]),
                "created_by_old": l["created_by_new"], "created_by_new": l["created_by_old"],
            })
        })
        .collect();
    let changed: Vec<Value> = d["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| serde_json::json!({"old": c["new"], "new": c["old"], "bytes_delta": neg(&c["bytes_delta"])}))
        .collect();
    let files: Vec<Value> = d["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = swap_status(&f["status"], "added", "removed");
            serde_json::json!({
                "path": f["path"],
                "status": swap_status(&s, "grown", "shrunk"),
                "old_bytes": f["new_bytes"], "new_bytes": f["old_bytes"],
                "bytes_delta": neg(&f["bytes_delta"]),
                "dir": f["dir"], "files": f["files"],
            })
        })
        .collect();
    let mut m = serde_json::Map::new();
    m.insert("old".into(), d["new"].clone());
    m.insert("new".into(), d["old"].clone());
    m.insert("layers".into(), Value::from(sorted(layers)));
    m.insert("fixed".into(), d["introduced"].clone());
    m.insert("introduced".into(), d["fixed"].clone());
    m.insert("changed".into(), Value::from(sorted(changed)));
    m.insert("files".into(), Value::from(sorted(files)));
    for k in [
        "total_delta",
        "visible_delta",
        "wasted_delta",
        "hidden_delta",
        "cache_delta",
        "pull_delta",
    ] {
        m.insert(k.into(), neg(&d[k]));
    }
    Value::Object(m)
}

/// The fields the mirror relation covers, lists in a canonical order.
fn comparable(d: &Value) -> Value {
    let mut m = serde_json::Map::new();
    for k in [
        "old",
        "new",
        "fixed",
        "introduced",
        "total_delta",
        "visible_delta",
        "wasted_delta",
        "hidden_delta",
        "cache_delta",
        "pull_delta",
    ] {
        m.insert(k.into(), d[k].clone());
    }
    for k in ["layers", "changed", "files"] {
        m.insert(
            k.into(),
            Value::from(sorted(d[k].as_array().unwrap().clone())),
        );
    }
    Value::Object(m)
}

const PATHS: [&str; 6] = ["a", "b", "d/x", "d/y", "e/f/g", "var/lib/apt/lists/p"];
const COMMANDS: [&str; 5] = [
    "/bin/sh -c apt-get update && apt-get install -y curl",
    "/bin/sh -c apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
    "/bin/sh -c rm -rf /var/lib/apt/lists/*",
    "/bin/sh -c #(nop) COPY file:abc in /d/x",
    "/bin/sh -c chmod +x /a",
];

#[derive(Debug, Clone)]
enum Op {
    File(usize, u8, bool),
    Whiteout(usize),
    Opaque,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..PATHS.len(), 0u8..4, any::<bool>()).prop_map(|(p, c, x)| Op::File(p, c, x)),
        2 => (0..PATHS.len()).prop_map(Op::Whiteout),
        1 => Just(Op::Opaque),
    ]
}

fn build(ops: &[Op], cmd: usize) -> (Vec<u8>, String) {
    let entries: Vec<E> = ops
        .iter()
        .map(|o| match *o {
            Op::File(p, c, x) => E::FileMode(
                PATHS[p],
                vec![b'a' + c; 100 * (c as usize + 1)],
                if x { 0o755 } else { 0o644 },
            ),
            Op::Whiteout(p) => E::Whiteout(PATHS[p]),
            Op::Opaque => E::Opaque("d"),
        })
        .collect();
    (layer(&entries), COMMANDS[cmd].to_string())
}

type Recipe = (Vec<Op>, usize);

fn recipe() -> impl Strategy<Value = Recipe> {
    (prop::collection::vec(op(), 0..5), 0..COMMANDS.len())
}

/// A pair of images: B reuses some of A's layers (so diff_ids match, in
/// any order) and has new ones.
fn pair() -> impl Strategy<Value = (Vec<Recipe>, Vec<Result<usize, Recipe>>)> {
    prop::collection::vec(recipe(), 1..6).prop_flat_map(|a| {
        let n = a.len();
        let b = prop::collection::vec(
            prop_oneof![(0..n).prop_map(Ok), recipe().prop_map(Err),],
            1..7,
        );
        (Just(a), b)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn diff_b_a_mirrors_diff_a_b((a, b) in pair()) {
        let la: Vec<(Vec<u8>, String)> = a.iter().map(|(ops, c)| build(ops, *c)).collect();
        let lb: Vec<(Vec<u8>, String)> = b
            .iter()
            .map(|x| match x {
                Ok(i) => la[*i].clone(),
                Err((ops, c)) => build(ops, *c),
            })
            .collect();
        let (ai, ar) = analyse(archive(&la), "A");
        let (bi, br) = analyse(archive(&lb), "B");
        let ab = json(&diff((&ai, &ar), (&bi, &br), &Default::default()));
        let ba = json(&diff((&bi, &br), (&ai, &ar), &Default::default()));
        prop_assert_eq!(comparable(&mirror_of(&ab)), comparable(&ba));
        // Every layer of each image appears exactly once, in order.
        for (side, n) in [("old", la.len()), ("new", lb.len())] {
            let seen: Vec<u64> = ab["layers"].as_array().unwrap().iter()
                .filter_map(|l| l[side].as_u64()).collect();
            prop_assert_eq!(seen, (0..n as u64).collect::<Vec<_>>());
        }
        // The deltas add up: per layer to the total, per finding to the waste.
        let sum = |k: &str| ab["layers"].as_array().unwrap().iter()
            .map(|l| l[k].as_i64().unwrap()).sum::<i64>();
        prop_assert_eq!(sum("bytes_delta"), ab["total_delta"].as_i64().unwrap());
        prop_assert_eq!(sum("wasted_delta"), ab["wasted_delta"].as_i64().unwrap());
        let bytes = |k: &str| ab[k].as_array().unwrap().iter()
            .map(|f| f["bytes"].as_i64().unwrap()).sum::<i64>();
        let changed: i64 = ab["changed"].as_array().unwrap().iter()
            .map(|c| c["bytes_delta"].as_i64().unwrap()).sum();
        prop_assert_eq!(
            bytes("introduced") - bytes("fixed") + changed,
            ab["wasted_delta"].as_i64().unwrap()
        );
        // The file deltas add up to the change of visible bytes.
        let files: i64 = ab["files"].as_array().unwrap().iter()
            .map(|f| f["bytes_delta"].as_i64().unwrap()).sum();
        prop_assert_eq!(files, ab["visible_delta"].as_i64().unwrap());
    }

    #[test]
    fn an_image_against_itself_is_all_same(a in prop::collection::vec(recipe(), 1..6)) {
        let la: Vec<(Vec<u8>, String)> = a.iter().map(|(ops, c)| build(ops, *c)).collect();
        let (ai, ar) = analyse(archive(&la), "A");
        let d = diff((&ai, &ar), (&ai, &ar), &Default::default());
        prop_assert_eq!(d.layers.len(), la.len());
        for (k, l) in d.layers.iter().enumerate() {
            prop_assert_eq!(l.status, imgscope::compare::LayerStatus::Same);
            prop_assert_eq!((l.old, l.new), (Some(k), Some(k)));
            prop_assert_eq!((l.bytes_delta, l.wasted_delta), (0, 0));
        }
        prop_assert!(d.fixed.is_empty() && d.introduced.is_empty() && d.changed.is_empty());
        prop_assert!(d.files.is_empty());
        prop_assert_eq!((d.total_delta, d.wasted_delta, d.visible_delta), (0, 0, 0));
    }
}

/// A large diff: 300 layers on each side with long commands, thousands of
/// findings and files. The comment is cut to fit and says so.
#[test]
fn markdown_for_a_large_diff_stays_under_githubs_limit() {
    const NAMES: [&str; 60] = [
        "n00", "n01", "n02", "n03", "n04", "n05", "n06", "n07", "n08", "n09", "n10", "n11", "n12",
        "n13", "n14", "n15", "n16", "n17", "n18", "n19", "n20", "n21", "n22", "n23", "n24", "n25",
        "n26", "n27", "n28", "n29", "n30", "n31", "n32", "n33", "n34", "n35", "n36", "n37", "n38",
        "n39", "n40", "n41", "n42", "n43", "n44", "n45", "n46", "n47", "n48", "n49", "n50", "n51",
        "n52", "n53", "n54", "n55", "n56", "n57", "n58", "n59",
    ];
    let dirs: Vec<&'static str> = (0..150)
        .map(|i| {
            &*Box::leak(
                format!("srv/application-data/module-{i:03}/vendor/packages/long-directory-name")
                    .into_boxed_str(),
            )
        })
        .collect();
    let file =
        |d: &str, n: &str| -> &'static str { Box::leak(format!("{d}/{n}").into_boxed_str()) };
    let image = |variant: usize| {
        let mut layers = Vec::new();
        for (i, d) in dirs.iter().enumerate() {
            let entries: Vec<E> = NAMES
                .iter()
                .map(|n| E::File(file(d, n), vec![b'x'; 1000 + 10 * i + variant * 7]))
                .collect();
            let cmd = format!(
                "/bin/sh -c install-module --module {i:03} --variant {variant} --prefix /srv/application-data --with-vendor-packages --verbose"
            );
            layers.push((layer(&entries), cmd));
            let cleanup: Vec<E> = NAMES
                .iter()
                .step_by(2)
                .map(|n| E::Whiteout(file(d, n)))
                .collect();
            layers.push((
                layer(&cleanup),
                format!("/bin/sh -c rm -rf /srv/application-data/module-{i:03}/vendor/packages/*/n0* # variant {variant}"),
            ));
        }
        archive(&layers)
    };
    let (oi, or) = analyse(image(0), "registry.example.com/team/application:main");
    let (ni, nr) = analyse(
        image(1),
        "registry.example.com/team/application:pull-request-1234",
    );
    let d = diff((&oi, &or), (&ni, &nr), &Default::default());
    assert!(d.changed.len() > 4000, "{}", d.changed.len());
    assert!(d.files.len() > 4000);
    let md = imgscope::render::diff_markdown::render(&d);
    assert!(md.chars().count() < 65_536, "{}", md.chars().count());
    assert!(md.contains("_Truncated to stay under GitHub's 65536-character comment limit"));
    insta::assert_snapshot!(md);
}

/// `share` on three synthetic images on one base: two of them ran the same
/// instruction into different bytes, so the hint says what rebuilding one on
/// the other's layer would share.
#[test]
fn share_hints_at_layers_built_apart() {
    let base = (
        layer(&[E::File("bin/sh", vec![b's'; 5000])]),
        "/bin/sh -c #(nop) ADD file:base in /".to_string(),
    );
    let install = |fill: u8, n: usize| {
        (
            layer(&[E::File("opt/tool", vec![fill; n])]),
            "/bin/sh -c install-tool".to_string(),
        )
    };
    let a = archive(&[base.clone(), install(b'a', 3000)]);
    let b = archive(&[base.clone(), install(b'b', 2000)]);
    let c = archive(std::slice::from_ref(&base));
    let reports: Vec<Report> = [(a, "A"), (b, "B"), (c, "C")]
        .into_iter()
        .map(|(bytes, n)| analyse(bytes, n).1)
        .collect();
    let refs: Vec<&Report> = reports.iter().collect();
    let s = imgscope::compare::share(&refs);
    assert_eq!(s.disk_bytes, 5000 + 3000 + 2000);
    assert_eq!(s.disk_bytes_without_sharing, 3 * 5000 + 3000 + 2000);
    assert_eq!(
        [
            s.images[0].unique_bytes,
            s.images[1].unique_bytes,
            s.images[2].unique_bytes
        ],
        [3000, 2000, 0]
    );
    assert!(s.images.iter().all(|i| i.shared_bytes == 5000));
    assert_eq!(s.hints.len(), 1);
    let h = &s.hints[0];
    assert_eq!(
        (h.base, h.other, h.layers.clone(), h.bytes),
        (0, 1, vec![1], 2000)
    );
    let text = imgscope::render::share_text::render(&s);
    assert!(
        text.contains("A and B would share another 2 kB if B were built on A's layer 1"),
        "{text}"
    );
}
