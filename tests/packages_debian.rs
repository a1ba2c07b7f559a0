//! Real Debian images built with mmdebstrap + buildah (tests/images/build-debian.sh,
//! too big to commit, built into target/debian-images when IMGSCOPE_DEBIAN_BUILD
//! is set, as .ci/run does, or taken from $IMGSCOPE_DEBIAN_IMAGES): per-package visible bytes equal dpkg's own file
//! lists summed here from the layer tars, to the byte; the recommends
//! suggestion's saving equals the measured difference with
//! --no-install-recommends within 1%.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

fn images() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("IMGSCOPE_DEBIAN_IMAGES") {
        return Some(PathBuf::from(d));
    }
    let dir = common::root().join("target/debian-images");
    if dir.join("debian-rec.tar").exists() && dir.join("debian-norec.tar").exists() {
        return Some(dir);
    }
    let have = |t: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    std::env::var_os("IMGSCOPE_DEBIAN_BUILD")?;
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !root || !["mmdebstrap", "buildah", "skopeo"].iter().all(|t| have(t)) {
        return None;
    }
    let ok = Command::new(common::root().join("tests/images/build-debian.sh"))
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(dir)
}

/// The final filesystem as the layer tars say, computed here on its own:
/// regular files (path → size; hard links 0, as stored), symlinks, and the
/// content of dpkg's file lists.
struct Merged {
    files: BTreeMap<String, u64>,
    links: BTreeMap<String, String>,
    lists: BTreeMap<String, String>,
}

fn merged(image: &Path) -> Merged {
    let mut outer = tar::Archive::new(std::fs::File::open(image).unwrap());
    let mut blobs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for e in outer.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().to_string_lossy().into_owned();
        let mut v = Vec::new();
        e.read_to_end(&mut v).unwrap();
        blobs.insert(p, v);
    }
    let manifest: serde_json::Value = serde_json::from_slice(&blobs["manifest.json"]).unwrap();
    let mut m = Merged {
        files: BTreeMap::new(),
        links: BTreeMap::new(),
        lists: BTreeMap::new(),
    };
    for l in manifest[0]["Layers"].as_array().unwrap() {
        let blob = &blobs[l.as_str().unwrap()];
        let mut t = tar::Archive::new(&blob[..]);
        for e in t.entries().unwrap() {
            let mut e = e.unwrap();
            let raw = e.path().unwrap().to_string_lossy().into_owned();
            let p = format!("/{}", raw.trim_start_matches("./").trim_end_matches('/'));
            let (dir, name) = p.rsplit_once('/').unwrap();
            if let Some(gone) = name.strip_prefix(".wh.") {
                let gone = format!("{dir}/{gone}");
                m.files
                    .retain(|k, _| k != &gone && !k.starts_with(&format!("{gone}/")));
                continue;
            }
            match e.header().entry_type() {
                tar::EntryType::Regular => {
                    m.files.insert(p.clone(), e.size());
                    if p.starts_with("/var/lib/dpkg/info/") && p.ends_with(".list") {
                        let mut s = String::new();
                        e.read_to_string(&mut s).unwrap();
                        m.lists.insert(p, s);
                    }
                }
                tar::EntryType::Link => {
                    m.files.insert(p, 0);
                }
                tar::EntryType::Symlink => {
                    let t = e
                        .link_name()
                        .unwrap()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    m.links.insert(p, t);
                }
                _ => {}
            }
        }
    }
    m
}

/// `/bin/ls` → `/usr/bin/ls` through a symlinked top-level directory.
fn usrmerge(m: &Merged, p: &str) -> String {
    let top = p.split('/').nth(1).unwrap_or("");
    match m.links.get(&format!("/{top}")) {
        Some(t) => format!("/{}{}", t.trim_start_matches('/'), &p[top.len() + 1..]),
        None => p.to_string(),
    }
}

fn report(path: &Path) -> imgscope::Report {
    let index = imgscope::load(
        path.to_str().unwrap(),
        &imgscope::LoadOptions::default(),
        &imgscope::LoadProgress::default(),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    imgscope::report(
        &index,
        &imgscope::Rules::builtin(),
        &imgscope::suggest::SuggestOptions::default(),
    )
    .unwrap()
}

#[test]
fn dpkg_sizes_and_recommends_on_real_debian_images() {
    let Some(dir) = images() else {
        eprintln!(
            "skipped: debian images (needs root, mmdebstrap, buildah, skopeo and a Debian mirror)"
        );
        return;
    };
    let rec = dir.join("debian-rec.tar");
    let norec = dir.join("debian-norec.tar");
    let r = report(&rec);
    let m = merged(&rec);
    assert!(r.packages.len() > 80, "{} packages", r.packages.len());
    let mut checked = 0;
    for (list, text) in &m.lists {
        let stem = list.rsplit('/').next().unwrap().trim_end_matches(".list");
        let name = stem.split(':').next().unwrap();
        let want: u64 = text
            .lines()
            .filter_map(|p| m.files.get(&usrmerge(&m, p)))
            .sum();
        let got = r
            .packages
            .iter()
            .find(|p| p.manager == "dpkg" && p.name == name)
            .unwrap_or_else(|| panic!("no package {name}"));
        assert_eq!(got.visible_bytes, want, "{name}");
        checked += 1;
    }
    assert_eq!(checked, r.package_summary.installed);
    // The recommends saving against the measured difference.
    let s = r
        .suggestions
        .iter()
        .find(|s| s.id.starts_with("apt-recommends-"))
        .expect("a recommends suggestion");
    assert!(s.after.contains("--no-install-recommends"), "{}", s.after);
    // Visible bytes but apt's download cache (.debs kept by a minbase
    // rootfs): cache findings, which another suggestion fixes.
    let visible = |m: &Merged| {
        m.files
            .iter()
            .filter(|(p, _)| !p.starts_with("/var/cache/apt/"))
            .map(|(_, s)| s)
            .sum::<u64>()
    };
    let diff = visible(&m) - visible(&merged(&norec));
    let off = (s.saves_bytes as f64 - diff as f64).abs() / diff as f64;
    assert!(
        off < 0.01,
        "suggestion saves {} bytes, measured difference {diff} ({:.2}%)",
        s.saves_bytes,
        off * 100.0
    );
    let rn = report(&norec);
    assert!(!rn
        .suggestions
        .iter()
        .any(|s| s.id.starts_with("apt-recommends-")));
}
