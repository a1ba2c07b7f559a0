//! Real images built with buildah on the Debian minbase rootfs
//! (tests/images/build-debian.sh, too big to commit, built into
//! target/debian-images when IMGSCOPE_DEBIAN_BUILD is set, as .ci/run does, or
//! taken from $IMGSCOPE_DEBIAN_IMAGES): a pip install, an npm install (Node
//! from Debian), a Go binary (built with Debian's golang-go in a first stage)
//! and gcc builds in one image, one step each; the static and the dynamic gcc
//! build copied onto scratch. Figures are checked
//! against the layer tars and against `strip` run in the image.

use crate::common;

use std::path::PathBuf;

use common::{merged, real_report};

/// Built once for the three tests of this binary (they run in parallel).
fn images(test: &str) -> Option<PathBuf> {
    static BUILT: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    match BUILT.get_or_init(built) {
        Ok(d) => Some(d.clone()),
        Err(why) => {
            eprintln!("skipped: {test}: {why}");
            None
        }
    }
}

fn built() -> Result<PathBuf, String> {
    common::debian_images(&[
        "debian-apps.tar",
        "debian-apps.strip",
        "scratch-static.tar",
        "scratch-dynamic.tar",
    ])
}

/// One test for the big image: it is built and read once.
#[test]
fn pip_npm_go_and_gcc_builds_in_a_real_debian_image() {
    let Some(dir) = images("pip_npm_go_and_gcc_builds_in_a_real_debian_image") else {
        return;
    };
    let image = dir.join("debian-apps.tar");
    let r = real_report(&image);
    let m = merged(&image);
    let layer_of = |what: &str| {
        r.layers
            .iter()
            .position(|l| l.created_by.contains(what))
            .unwrap_or_else(|| panic!("no layer runs {what}"))
    };
    let pkg = |manager: &str, name: &str| {
        r.packages
            .iter()
            .find(|p| p.manager == manager && p.name == name)
            .unwrap_or_else(|| panic!("no {manager} package {name}"))
    };

    // pip: the distribution owns what its RECORD lists (paths relative to
    // site-packages), sizes from the layer tars.
    let (record, text) = m
        .records
        .iter()
        .find(|(p, _)| p.contains("/imgscope_hello-1.0.dist-info/"))
        .expect("pip's RECORD");
    let site = record.rsplitn(3, '/').nth(2).unwrap();
    let mut want = 0;
    let mut files = 0;
    for line in text.lines() {
        let rel = line.split(',').next().unwrap();
        let mut parts: Vec<&str> = site.split('/').collect();
        for c in rel.split('/') {
            match c {
                ".." => {
                    parts.pop();
                }
                c => parts.push(c),
            }
        }
        if let Some(s) = m.files.get(&parts.join("/")) {
            want += s;
            files += 1;
        }
    }
    let py = pkg("python", "imgscope_hello");
    assert_eq!(py.version, "1.0");
    assert_eq!((py.visible_bytes, py.files), (want, files));
    assert!(files >= 3, "__init__.py, its bytecode and the dist-info");
    assert_eq!(py.layer, Some(layer_of("pip install")));

    // npm: the package owns its directory under node_modules.
    let dep = pkg("npm", "imgscope-dep");
    assert_eq!(dep.version, "1.0.0");
    let prefix = "/src/js/node_modules/imgscope-dep/";
    let want: u64 = m
        .files
        .iter()
        .filter(|(p, _)| p.starts_with(prefix))
        .map(|(_, s)| s)
        .sum();
    assert!(want > 0);
    assert_eq!(dep.visible_bytes, want);
    assert_eq!(dep.layer, Some(layer_of("npm install")));

    // The node modules inside Debian's npm package are dpkg's, not listed
    // as npm packages of their own.
    let empty: Vec<&str> = r
        .packages
        .iter()
        .filter(|p| p.manager != "dpkg" && p.files == 0)
        .map(|p| p.name.as_str())
        .collect();
    assert!(empty.is_empty(), "{empty:?}");
    assert_eq!(
        r.packages.iter().filter(|p| p.manager == "npm").count(),
        1,
        "only the installed tarball"
    );

    // Go: the main module of the binary's build info owns the binary.
    let go = pkg("go", "example.com/imgscope-hello");
    assert_eq!(go.visible_bytes, m.files["/usr/local/bin/hello-go"]);
    assert_eq!(go.layer, Some(layer_of("/usr/local/bin/hello-go")));
    let gob = r
        .binaries
        .iter()
        .find(|b| b.path.display() == "/usr/local/bin/hello-go")
        .unwrap();
    assert_ne!(gob.linkage, imgscope::load::elf::Linkage::Dynamic);

    // gcc -g: the strippable bytes against what strip removed in the image.
    let saving: u64 = std::fs::read_to_string(dir.join("debian-apps.strip"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let un = r
        .insights
        .iter()
        .find(|i| i.id == "unstripped" && i.path.display() == "/usr/local/bin/hello-c")
        .expect("the -g build is unstripped");
    let off = (un.bytes as f64 - saving as f64).abs() / saving as f64;
    assert!(off < 0.01, "estimated {}, strip saved {saving}", un.bytes);
    let st = r
        .binaries
        .iter()
        .find(|b| b.path.display() == "/usr/local/bin/hello-static")
        .unwrap();
    assert_eq!(st.strippable_bytes, Some(0));
    assert!(r
        .suggestions
        .iter()
        .any(|s| s.id == format!("strip-{}", un.layer)));

    // The toolchains are named in one multi-stage suggestion: either the
    // toolchain paths' own (the packages added to its why) or, when no
    // path rule saw them, "dev-packages"; never both for the same layers
    // (the bytes would be counted twice).
    let multi: Vec<_> = r
        .suggestions
        .iter()
        .filter(|s| s.kind == imgscope::suggest::SuggestionKind::MultiStage)
        .collect();
    let dev = multi
        .iter()
        .find(|s| {
            ["gcc-12", "libc6-dev", "cpp-12"]
                .iter()
                .all(|n| s.why.contains(n))
        })
        .unwrap_or_else(|| panic!("no multi-stage suggestion names the toolchain: {multi:#?}"));
    if dev.id == "dev-packages" {
        assert!(
            dev.title
                .starts_with("-dev packages and compilers in the final image: "),
            "{}",
            dev.title
        );
    }
    for (i, a) in multi.iter().enumerate() {
        for b in &multi[i + 1..] {
            assert!(
                !a.layers.iter().any(|l| b.layers.contains(l)),
                "{} and {} both move layers {:?} / {:?}",
                a.id,
                b.id,
                a.layers,
                b.layers
            );
        }
    }
}

#[test]
fn static_binary_on_scratch_has_no_insight() {
    let Some(dir) = images("static_binary_on_scratch_has_no_insight") else {
        return;
    };
    let r = real_report(&dir.join("scratch-static.tar"));
    assert_eq!(r.binaries.len(), 1);
    assert_ne!(r.binaries[0].linkage, imgscope::load::elf::Linkage::Dynamic);
    assert!(r.insights.is_empty(), "{:?}", r.insights);
}

#[test]
fn dynamic_binary_on_scratch_names_its_loader_and_libc() {
    let Some(dir) = images("dynamic_binary_on_scratch_names_its_loader_and_libc") else {
        return;
    };
    let r = real_report(&dir.join("scratch-dynamic.tar"));
    assert_eq!(r.binaries.len(), 1);
    assert_eq!(r.binaries[0].linkage, imgscope::load::elf::Linkage::Dynamic);
    let missing = |id: &str| {
        r.insights
            .iter()
            .find(|i| i.id == id)
            .unwrap_or_else(|| panic!("no {id}: {:?}", r.insights))
            .missing
            .clone()
    };
    // Debian's gcc on amd64 links against this loader and glibc.
    if cfg!(target_arch = "x86_64") {
        assert_eq!(
            missing("missing-interpreter"),
            ["/lib64/ld-linux-x86-64.so.2"]
        );
    }
    assert_eq!(missing("missing-library"), ["libc.so.6"]);
}
