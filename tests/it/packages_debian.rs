//! Real Debian images built with mmdebstrap + buildah (tests/images/build-debian.sh,
//! too big to commit, built into target/debian-images when IMGSCOPE_DEBIAN_BUILD
//! is set, as .ci/run does, or taken from $IMGSCOPE_DEBIAN_IMAGES): per-package visible bytes equal dpkg's own file
//! lists summed here from the layer tars, to the byte; the recommends
//! suggestion's saving equals the measured difference with
//! --no-install-recommends within 1%.

use crate::common;

use std::path::PathBuf;

use common::{merged, real_report as report, usrmerge, Merged};

fn images() -> Result<PathBuf, String> {
    common::debian_images(&["debian-rec.tar", "debian-norec.tar"])
}

#[test]
fn dpkg_sizes_and_recommends_on_real_debian_images() {
    let dir = match images() {
        Ok(d) => d,
        Err(why) => {
            eprintln!("skipped: dpkg_sizes_and_recommends_on_real_debian_images: {why}");
            return;
        }
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
    // rootfs: cache findings) and the optional files (the recommended
    // packages' documentation, man pages, locales): other suggestions claim
    // those, and no byte is counted in two suggestions.
    let visible = |m: &Merged, r: &imgscope::Report| {
        let optional: std::collections::HashSet<String> =
            r.optional.iter().map(|o| o.path.display()).collect();
        m.files
            .iter()
            .filter(|(p, _)| !p.starts_with("/var/cache/apt/") && !optional.contains(*p))
            .map(|(_, s)| s)
            .sum::<u64>()
    };
    let diff = visible(&m, &r) - visible(&merged(&norec), &report(&norec));
    let off = (s.saves_bytes as f64 - diff as f64).abs() / diff as f64;
    assert!(
        off < 0.01,
        "suggestion saves {} bytes, measured difference {diff} ({:.2}%)",
        s.saves_bytes,
        off * 100.0
    );
    // The documentation of the packages the RUN installed, named by their
    // number: packages whose list holds a visible doc file (not a licence
    // text) stored by that layer.
    let licence = |p: &str| {
        let name = p.rsplit('/').next().unwrap();
        p.matches('/').count() == 5
            && (name == "copyright" || name.starts_with("LICENSE") || name.starts_with("COPYING"))
    };
    let with_docs = m
        .lists
        .values()
        .filter(|text| {
            text.lines().map(|p| usrmerge(&m, p)).any(|p| {
                p.starts_with("/usr/share/doc/") && !licence(&p) && m.layer.get(&p) == Some(&1)
            })
        })
        .count();
    assert!(with_docs > 10, "{with_docs}");
    let docs = r
        .suggestions
        .iter()
        .find(|s| s.id == "optional:L1")
        .expect("an optional suggestion for the install");
    assert!(
        docs.title
            .contains(&format!("documentation of {with_docs} packages"))
            && docs.title.ends_with("; dpkg path-exclude in the same RUN)"),
        "{} ({with_docs} packages with docs)",
        docs.title
    );
    // openssh-client and procps bring no compiler (gcc-12-base is libgcc's
    // copyright files, not gcc).
    assert!(
        !r.suggestions.iter().any(|s| s.id == "dev-packages"),
        "no toolchain in this image"
    );
    let rn = report(&norec);
    assert!(!rn
        .suggestions
        .iter()
        .any(|s| s.id.starts_with("apt-recommends-")));
}
