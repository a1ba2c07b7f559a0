//! Optional bytes (SPEC): bytecode, docs, man/info pages and locales are
//! trade-offs, reported apart and never counted as waste. The figures are
//! computed here independently: this test reads the real image's layer tars
//! itself, applies whiteouts, and sums what the rules name.

use crate::common;

use std::collections::BTreeMap;
use std::io::Read;

/// The final filesystem of a docker-archive (`.tar.zst`): path → (size,
/// layer). Regular files only; `.wh.NAME` removes NAME and what is below it.
fn final_files(archive: &std::path::Path) -> BTreeMap<String, (u64, usize)> {
    let mut raw = Vec::new();
    zstd::stream::read::Decoder::new(std::fs::File::open(archive).unwrap())
        .unwrap()
        .read_to_end(&mut raw)
        .unwrap();
    let mut members: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut outer = tar::Archive::new(&raw[..]);
    for e in outer.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        if e.header().entry_type().is_file() {
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            members.insert(name, b);
        }
    }
    let manifest: serde_json::Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
    let mut files: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for (i, l) in manifest[0]["Layers"].as_array().unwrap().iter().enumerate() {
        let mut ar = tar::Archive::new(&members[l.as_str().unwrap()][..]);
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let p = format!(
                "/{}",
                e.path().unwrap().to_string_lossy().trim_start_matches("./")
            );
            let (dir, base) = p.rsplit_once('/').unwrap();
            if let Some(gone) = base.strip_prefix(".wh.") {
                let gone = format!("{dir}/{gone}");
                let below = format!("{gone}/");
                files.retain(|k, _| *k != gone && !k.starts_with(&below));
            } else if e.header().entry_type().is_file() {
                files.insert(p, (e.header().size().unwrap(), i));
            }
        }
    }
    files
}

fn json(args: &[&str]) -> (serde_json::Value, i32) {
    let r = common::exec(args);
    (r.report(), r.code)
}

fn sum(files: &BTreeMap<String, (u64, usize)>, f: impl Fn(&str) -> bool) -> u64 {
    files
        .iter()
        .filter(|(p, _)| f(p))
        .map(|(_, (s, _))| s)
        .sum()
}

#[test]
fn python_image_bytecode_docs_and_locales_are_optional_not_waste() {
    let img = common::built("python-optional.tar.zst");
    let files = final_files(&img);
    let bytecode = sum(&files, |p| {
        p.contains("/__pycache__/")
            || (p.ends_with(".pyc") && files.contains_key(&p[..p.len() - 1]))
    });
    let docs = sum(&files, |p| {
        p.starts_with("/usr/share/doc/") && !p.ends_with("/copyright")
    });
    let man_info = sum(&files, |p| {
        p.starts_with("/usr/share/man/") || p.starts_with("/usr/share/info/")
    });
    let locales = sum(&files, |p| p.starts_with("/usr/share/locale/"));
    assert!(bytecode > 0 && docs > 0 && man_info > 0 && locales > 0);
    // The sourceless .pyc and the copyright file are in the image, not optional.
    assert!(files.contains_key("/opt/app/main.pyc"));
    assert!(files.contains_key("/usr/share/doc/busybox/copyright"));

    let path = img.to_str().unwrap();
    let (r, _) = json(&["--format", "json", path]);
    let s = &r["summary"];
    assert_eq!(s["optional_bytes"], bytecode + docs + man_info + locales);
    let opt = r["optional"].as_array().unwrap();
    let of_rule = |id: &str| -> u64 {
        opt.iter()
            .filter(|o| o["rule"] == id)
            .map(|o| o["bytes"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(of_rule("python-bytecode"), bytecode);
    assert_eq!(of_rule("docs"), docs);
    assert_eq!(of_rule("locales"), locales);
    for o in opt {
        let p = o["path"].as_str().unwrap();
        assert_eq!(o["layer"], files[p].1, "{p}");
        assert_eq!(o["bytes"], files[p].0, "{p}");
    }
    // Nothing optional is waste; the bytecode deleted by a later RUN still is.
    let waste = r["waste"].as_array().unwrap();
    assert!(waste.iter().all(|f| f["kind"] != "cache"));
    let removed: Vec<_> = waste.iter().filter(|f| f["kind"] == "removed").collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(
        removed[0]["path"],
        "/usr/lib/python3/dist-packages/json/__pycache__/decoder.cpython-311.pyc"
    );
    assert_eq!(removed[0]["rule"], "python-bytecode");
    assert_eq!(s["wasted_bytes"], s["hidden_bytes"]);
    let hidden = s["hidden_bytes"].as_u64().unwrap();
    let total = s["total_bytes"].as_u64().unwrap();

    // The old strictness: the same files counted as cache waste.
    let (strict, _) = json(&["--format", "json", "--count-optional-as-waste", path]);
    let ss = &strict["summary"];
    assert_eq!(ss["optional_bytes"], 0);
    assert_eq!(ss["cache_bytes"], bytecode + docs + man_info + locales);
    assert_eq!(
        ss["wasted_bytes"].as_u64().unwrap(),
        hidden + bytecode + docs + man_info + locales
    );
    // Wasted bytes drop by exactly the optional bytes, and the gate follows:
    // a limit between the two ratios passes by default, fails when strict.
    let limit = (hidden + (bytecode + docs + man_info + locales) / 2) * 100 / total + 1;
    let limit_arg = format!("{limit}%");
    assert!(hidden * 100 / total < limit);
    let (_, code) = json(&["--ci", "--max-waste", &limit_arg, "--format", "json", path]);
    assert_eq!(code, 0);
    let (_, code) = json(&[
        "--ci",
        "--max-waste",
        &limit_arg,
        "--count-optional-as-waste",
        "--format",
        "json",
        path,
    ]);
    assert_eq!(code, 1);
}

#[test]
fn text_report_shows_optional_on_its_own_line() {
    let out = common::Exec::new(["--format", "text", "tests/images/python-optional.tar.zst"])
        .dir(&common::root())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = out.stdout;
    // The summary, up to the layer table.
    let head: String = text
        .lines()
        .take_while(|l| *l != "Layers")
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        head.contains("Optional      155.61 kB  (155610 bytes, 7.1% of total"),
        "{head}"
    );
    insta::assert_snapshot!("text_summary_with_optional", head);
}

#[test]
fn max_optional_gates_optional_bytes() {
    let img = common::built("python-optional.tar.zst");
    let path = img.to_str().unwrap();
    let (r, _) = json(&["--format", "json", path]);
    let optional = r["summary"]["optional_bytes"].as_u64().unwrap();
    let below = (optional - 1).to_string();
    let (r, code) = json(&["--ci", "--max-optional", &below, "--format", "json", path]);
    assert_eq!(code, 1);
    let check = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "max-optional")
        .expect("max-optional check");
    assert_eq!(check["passed"], false);
    let at = optional.to_string();
    let (_, code) = json(&["--ci", "--max-optional", &at, "--format", "json", path]);
    assert_eq!(code, 0);
}

#[test]
fn imgscope_toml_optional_switch_counts_them_as_waste() {
    let img = common::built("python-optional.tar.zst");
    let dir = tempfile::tempdir().unwrap();
    let run = |toml: &str| -> serde_json::Value {
        std::fs::write(dir.path().join(".imgscope.toml"), toml).unwrap();
        common::exec_in(dir.path(), &["--format", "json", img.to_str().unwrap()]).report()
    };
    let apart = run("optional = \"apart\"\n");
    let waste = run("optional = \"waste\"\n");
    let opt = apart["summary"]["optional_bytes"].as_u64().unwrap();
    assert!(opt > 0);
    assert_eq!(waste["summary"]["optional_bytes"], 0);
    assert_eq!(
        waste["summary"]["wasted_bytes"].as_u64().unwrap(),
        apart["summary"]["wasted_bytes"].as_u64().unwrap() + opt
    );
    // A bad value is one line and exit 2.
    std::fs::write(dir.path().join(".imgscope.toml"), "optional = \"maybe\"\n").unwrap();
    common::exec_in(dir.path(), &["--format", "json", img.to_str().unwrap()]).rejected("optional");
}
