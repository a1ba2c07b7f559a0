//! CI mode (issue 4): exit codes of every rule on real images, ignores,
//! configuration files (`.imgscope.toml`, dive's `.dive-ci`), baselines,
//! CI detection and determinism.
//!
//! Every command runs in an empty temporary directory (so no configuration
//! file is picked up unless a test writes one) with `CI` and `NO_COLOR`
//! removed from the environment.

use crate::common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{
    exec as run, exec_in as run_in, read_uncompressed, single_layer_image, steps_docker, Run,
};
use serde_json::Value;

/// dive's 14-step scenario (tests/dive_steps.rs): 14 layers, 2082799 bytes;
/// wasted 60000 = hidden 50000 + cache 10000 (/tmp/saved.again1.txt), so
/// waste 2.88%, efficiency 0.9712, hidden 2.40%, cache 0.48%; all hidden
/// findings are under /root. dive's "user wasted" is 60000 over the 100445
/// bytes of layers 1..13: 59.73%.
fn dive_image() -> String {
    steps_docker().display().to_string()
}

/// A single-layer image (the busybox base) with no waste.
fn single_layer() -> String {
    single_layer_image().display().to_string()
}

fn cmd_in(dir: &Path) -> Command {
    let mut c = common::imgscope();
    c.current_dir(dir);
    c
}

fn code(args: &[&str]) -> i32 {
    let r = run(args);
    assert!(
        r.code != 2 || (r.stdout.is_empty() && r.stderr.lines().count() == 1),
        "{args:?}: exit 2 must print one line on stderr and nothing on stdout\n{}{}",
        r.stdout,
        r.stderr
    );
    r.code
}

fn json(args: &[&str]) -> (i32, Value) {
    common::json_report(args)
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {}", report["checks"]))
}

/// The usage error of `args`: exit 2, one line on stderr, nothing on stdout.
fn usage_error(args: &[&str]) -> String {
    let r = run(args);
    assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{args:?}: stdout {:?}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
    r.stderr
}

#[test]
fn every_rule_passes_fails_and_rejects_bad_values() {
    let img = dive_image();
    let img = img.as_str();
    // (rule, passing value, failing value, bad value)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("--max-waste", "10%", "1%", "lots"),
        ("--max-waste", "60000", "59999", "12 parsecs"),
        ("--max-waste", "70kB", "50kB", "150%"),
        ("--min-efficiency", "0.9", "0.98", "1.5"),
        ("--min-efficiency", "97%", "98%", "1.01"),
        ("--max-hidden", "50000", "49999", "many"),
        ("--max-hidden", "3%", "2%", "200%"),
        ("--max-cache", "10000", "9999", "x"),
        ("--max-cache", "0.5%", "0.4%", "1%%"),
        ("--max-size", "3MB", "2MB", "10%"),
        ("--max-size", "2082799", "2082798", "big"),
        ("--max-user-waste", "60%", "10%", "7MB"),
        ("--max-user-waste", "0.6", "0.5", "2"),
    ];
    for (rule, pass, fail, bad) in cases {
        assert_eq!(code(&["--ci", rule, pass, img]), 0, "{rule} {pass}");
        assert_eq!(code(&["--ci", rule, fail, img]), 1, "{rule} {fail}");
        let e = usage_error(&["--ci", rule, bad, img]);
        assert!(e.contains(rule), "{e}");
        // Not only in CI mode: a rule is a gate wherever it is given.
        assert_eq!(code(&["--format", "json", rule, fail, img]), 1);
    }
}

#[test]
fn checks_report_limit_actual_and_result() {
    let img = dive_image();
    let (c, r) = json(&[
        "--ci",
        "--max-waste",
        "1%",
        "--min-efficiency",
        "0.9",
        "--max-hidden",
        "60kB",
        "--max-cache",
        "0",
        "--max-size",
        "3MB",
        "--max-user-waste",
        "10%",
        &img,
    ]);
    assert_eq!(c, 1);
    let names: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "max-size",
            "max-waste",
            "min-efficiency",
            "max-hidden",
            "max-cache",
            "max-user-waste"
        ]
    );
    let w = check(&r, "max-waste");
    assert_eq!(w["limit"], "1%");
    assert_eq!(w["actual"], "2.88% (60000 bytes)");
    assert_eq!(w["passed"], false);
    assert_eq!(check(&r, "min-efficiency")["passed"], true);
    assert_eq!(check(&r, "max-hidden")["passed"], true);
    assert_eq!(check(&r, "max-cache")["passed"], false);
    assert_eq!(check(&r, "max-size")["passed"], true);
    // dive's user-wasted: 60000 over the 100445 bytes of layers 1..13.
    let u = check(&r, "max-user-waste");
    assert!(u["actual"].as_str().unwrap().starts_with("59.73%"), "{u}");
    assert_eq!(u["passed"], false);
}

#[test]
fn ci_alone_applies_the_default_rule() {
    let (c, r) = json(&["--ci", &dive_image()]);
    assert_eq!(c, 0);
    let checks = r["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0]["name"], "max-waste");
    assert_eq!(checks[0]["limit"], "10% (default)");
    // Switching every rule off is respected.
    let (c, r) = json(&["--ci", "--max-waste", "off", &dive_image()]);
    assert_eq!(c, 0);
    assert_eq!(r["checks"], serde_json::json!([]));
}

#[test]
fn single_layer_image_passes_with_zero_waste_never_nan() {
    let img = single_layer();
    let r = run(&[
        "--ci",
        "--max-waste",
        "0",
        "--min-efficiency",
        "1",
        "--max-user-waste",
        "0%",
        "--max-hidden",
        "0%",
        "--max-cache",
        "0",
        "--format",
        "json",
        &img,
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(!r.stdout.to_lowercase().contains("nan"), "{}", r.stdout);
    assert!(!r.stdout.to_lowercase().contains("inf"), "{}", r.stdout);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["layer_count"], 1);
    assert_eq!(v["summary"]["wasted_bytes"], 0);
    assert_eq!(v["summary"]["efficiency"], 1.0);
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["passed"] == true));
    assert!(check(&v, "max-user-waste")["actual"]
        .as_str()
        .unwrap()
        .starts_with("0.00%"));
    let text = run(&["--ci", &img]);
    assert_eq!(text.code, 0);
    assert!(text.stdout.starts_with("imgscope PASS"), "{}", text.stdout);
    assert!(!text.stdout.contains("NaN"));
}

#[test]
fn ignores_recompute_every_figure_and_say_what_they_removed() {
    let img = dive_image();
    let (c, full) = json(&["--max-waste", "10000", &img]);
    assert_eq!(c, 1);
    let (c, r) = json(&["--max-waste", "10000", "--ignore", "/root", &img]);
    assert_eq!(c, 0, "{}", r["checks"]);
    let s = &r["summary"];
    assert_eq!(s["hidden_bytes"], 0);
    assert_eq!(s["cache_bytes"], 10000);
    assert_eq!(s["wasted_bytes"], 10000);
    assert_eq!(s["squash_saves_bytes"], 0);
    assert_eq!(s["total_bytes"], full["summary"]["total_bytes"]);
    assert_eq!(s["visible_bytes"], full["summary"]["visible_bytes"]);
    let ratio = s["waste_ratio"].as_f64().unwrap();
    assert!((ratio - 10000.0 / 2082799.0).abs() < 1e-12);
    // 2,072,799 of the 2,082,799 bytes are not wasted.
    assert!((s["efficiency"].as_f64().unwrap() - 2072799.0 / 2082799.0).abs() < 1e-12);
    // Ignored findings leave `waste`; what is left still adds up.
    let waste = r["waste"].as_array().unwrap();
    assert!(waste
        .iter()
        .all(|f| !f["path"].as_str().unwrap().starts_with("/root/")));
    let sum: u64 = waste.iter().map(|f| f["bytes"].as_u64().unwrap()).sum();
    assert_eq!(sum, 10000);
    let layer_sum: u64 = r["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["wasted_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(layer_sum, 10000);
    // Suggestions about ignored paths are gone; the rest still add up.
    for sg in r["suggestions"].as_array().unwrap() {
        let text = format!("{}{}", sg["title"], sg["before"]);
        assert!(!text.contains("somefile"), "{sg}");
    }
    let ig = &r["ignored"];
    assert_eq!(ig["globs"], serde_json::json!(["/root"]));
    assert_eq!(ig["findings"], 5);
    assert_eq!(ig["bytes"], 50000);
    assert_eq!(ig["hidden_bytes"], 50000);
    assert_eq!(ig["cache_bytes"], 0);
    // No `ignored` object without ignores.
    assert!(full.get("ignored").is_none());

    // Globs: a name anywhere, `**`, and several flags add up.
    let (_, r) = json(&["--ignore", "*.txt", &img]);
    assert_eq!(r["summary"]["wasted_bytes"], 0);
    let (_, r) = json(&["--ignore", "/tmp/**", "--ignore", "/root/example/**", &img]);
    assert_eq!(r["summary"]["cache_bytes"], 0);
    assert_eq!(
        r["summary"]["wasted_bytes"], 10000,
        "only /root/saved.txt left"
    );
    assert_eq!(r["ignored"]["findings"], 5);

    // The text verdict says it too.
    let t = run(&["--ci", "--ignore", "/root", &img]);
    assert!(
        t.stdout
            .contains("ignored 5 findings, 50 kB (50000 bytes: hidden 50000, cache 0) under /root"),
        "{}",
        t.stdout
    );
    assert!(usage_error(&["--ignore", "a[b", &img]).contains("--ignore"));
}

#[test]
fn baseline_gates_growth_of_waste() {
    let dir = tempfile::tempdir().unwrap();
    let img = dive_image();
    let same = dir.path().join("same.json");
    let clean = dir.path().join("clean.json");
    let r = run_in(dir.path(), &["--format", "json", &img]);
    std::fs::write(&same, r.stdout).unwrap();
    let r = run_in(dir.path(), &["--format", "json", &single_layer()]);
    std::fs::write(&clean, r.stdout).unwrap();
    let same = same.to_str().unwrap();
    let clean = clean.to_str().unwrap();

    assert_eq!(code(&["--ci", "--baseline", same, &img]), 0);
    // Against a clean baseline, 60000 bytes more waste: fails by default (0 growth).
    let (c, r) = json(&["--ci", "--baseline", clean, &img]);
    assert_eq!(c, 1);
    let g = check(&r, "max-growth");
    assert_eq!(g["passed"], false);
    assert!(g["actual"].as_str().unwrap().contains("0 -> 60000"), "{g}");
    assert_eq!(
        code(&["--ci", "--baseline", clean, "--max-growth", "70kB", &img]),
        0
    );
    assert_eq!(
        code(&["--ci", "--baseline", clean, "--max-growth", "50kB", &img]),
        1
    );
    // A percentage is of the baseline's waste: 50% of 0 is 0.
    assert_eq!(
        code(&["--ci", "--baseline", clean, "--max-growth", "50%", &img]),
        1
    );
    // Shrinking passes.
    assert_eq!(code(&["--ci", "--baseline", same, &single_layer()]), 0);
    // Ignores apply to the baseline's findings too.
    assert_eq!(
        code(&["--ci", "--baseline", same, "--ignore", "/root", &img]),
        0
    );
    // Bad baselines are usage errors naming the file.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema\": 1}").unwrap();
    assert!(usage_error(&["--baseline", bad.to_str().unwrap(), &img]).contains("bad.json"));
    assert!(usage_error(&["--baseline", "/nonexistent/x.json", &img]).contains("x.json"));
    assert!(usage_error(&["--max-growth", "1MB", &img]).contains("--baseline"));
}

#[test]
fn imgscope_toml_rules_and_flags_winning() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let img = dive_image();
    std::fs::write(
        d.join(".imgscope.toml"),
        "# rules\nmax-waste = \"1%\"\nmax-size = \"3MB\"\n",
    )
    .unwrap();
    let r = run_in(d, &["--ci", "--format", "json", &img]);
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(check(&v, "max-waste")["limit"], "1%");
    assert_eq!(check(&v, "max-size")["passed"], true);
    // Flags win; `off` switches a file's rule off.
    assert_eq!(run_in(d, &["--ci", "--max-waste", "10%", &img]).code, 0);
    assert_eq!(run_in(d, &["--ci", "--max-waste", "off", &img]).code, 0);
    assert_eq!(run_in(d, &["--ci", "--no-config", &img]).code, 0);
    // The verdict says where the rules came from.
    assert!(run_in(d, &["--ci", &img])
        .stdout
        .contains("rules from .imgscope.toml"));
    // Ignores in the file; flags add to them.
    std::fs::write(
        d.join("other.toml"),
        "max-waste = 10000\nignore = [\"/root\"]\nbaseline = \"base.json\"\n",
    )
    .unwrap();
    let base = run_in(d, &["--format", "json", &img]).stdout;
    std::fs::write(d.join("base.json"), base).unwrap();
    let r = run_in(d, &["--config", "other.toml", "--format", "json", &img]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ignored"]["globs"], serde_json::json!(["/root"]));
    assert_eq!(check(&v, "max-growth")["passed"], true);
    let r = run_in(
        d,
        &[
            "--config",
            "other.toml",
            "--ignore",
            "/tmp",
            "--format",
            "json",
            &img,
        ],
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ignored"]["globs"], serde_json::json!(["/root", "/tmp"]));
    assert_eq!(v["summary"]["wasted_bytes"], 0);
    // Errors in the file: exit 2, one line naming it.
    std::fs::write(d.join("typo.toml"), "max-wast = \"1%\"\n").unwrap();
    let r = run_in(d, &["--config", "typo.toml", &img]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("typo.toml") && r.stderr.contains("max-wast"),
        "{}",
        r.stderr
    );
    std::fs::write(d.join(".imgscope.toml"), "max-waste = [\n").unwrap();
    let r = run_in(d, &["--ci", &img]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(".imgscope.toml"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn dive_ci_is_read_when_there_is_no_imgscope_toml() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let img = dive_image();
    // dive's defaults apply to rules the file does not name:
    // highestUserWastedPercent 0.1 fails this image (59.73% user-wasted), as in dive.
    std::fs::write(d.join(".dive-ci"), "rules:\n  lowestEfficiency: 0.9\n").unwrap();
    let r = run_in(d, &["--ci", "--format", "json", &img]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(check(&v, "min-efficiency")["limit"], "0.9");
    assert_eq!(check(&v, "max-user-waste")["limit"], "10%");
    assert_eq!(check(&v, "max-user-waste")["passed"], false);
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["name"] != "max-waste"));

    for text in [
        "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 70KB\n  highestUserWastedPercent: disabled\n",
        "rules:\n  lowest-efficiency: \"0.95\"\n  highest-wasted-bytes: 70KB\n  highest-user-wasted-percent: disabled\n",
    ] {
        std::fs::write(d.join(".dive-ci"), text).unwrap();
        let r = run_in(d, &["--ci", "--format", "json", &img]);
        assert_eq!(r.code, 0, "{text}: {}", r.stdout);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(check(&v, "max-waste")["limit"], "70 kB (70000 bytes)");
        assert_eq!(check(&v, "min-efficiency")["limit"], "0.95");
    }
    std::fs::write(
        d.join(".dive-ci"),
        "rules:\n  highestWastedBytes: 20KB\n  highestUserWastedPercent: disabled\n",
    )
    .unwrap();
    let r = run_in(d, &["--ci", &img]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("rules from .dive-ci (dive)"),
        "{}",
        r.stdout
    );
    // Flags win over it.
    assert_eq!(run_in(d, &["--ci", "--max-waste", "70kB", &img]).code, 0);
    // dive's own flags work too.
    assert_eq!(
        run_in(d, &["--ci", "--highestWastedBytes", "70KB", &img]).code,
        0
    );
    // .imgscope.toml wins over .dive-ci.
    std::fs::write(d.join(".imgscope.toml"), "max-waste = \"10%\"\n").unwrap();
    assert_eq!(run_in(d, &["--ci", &img]).code, 0);
    std::fs::remove_file(d.join(".imgscope.toml")).unwrap();
    // A broken .dive-ci is a usage error.
    std::fs::write(d.join(".dive-ci"), "rules:\n  lowestEfficiency: 3\n").unwrap();
    let r = run_in(d, &["--ci", &img]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(".dive-ci"), "{}", r.stderr);
    // --config takes a dive file too (dive's --ci-config).
    let cfg = d.join("dive.yaml");
    std::fs::write(&cfg, "rules:\n  highestWastedBytes: 1KB\n").unwrap();
    let r = run_in(d, &["--ci", "--ci-config", cfg.to_str().unwrap(), &img]);
    assert_eq!(r.code, 1);
}

/// dive ignores the keys it does not know (its own test data has
/// `plugins:` and `plugin1/rule1`): a `.dive-ci` with them warns and goes
/// on, naming both spellings of the rules it knows; `.imgscope.toml` stays
/// strict.
#[test]
fn dive_ci_with_unknown_keys_warns_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let layer = common::layer(&[common::E::File("app", vec![7; 1000])]);
    let img = d.join("image.oci.tar");
    std::fs::write(&img, common::oci_tar(&common::oci_members(&[layer]))).unwrap();
    let img = img.to_str().unwrap();
    std::fs::write(
        d.join(".dive-ci"),
        "plugins:\n  - plugin1\n\nrules:\n  lowestEfficiency: 0.95\n  \
         highestWastedBytes: 20MB\n  highestUserWastedPercent: 0.20\n  plugin1/rule1: error\n",
    )
    .unwrap();
    let r = run_in(d, &["--ci", "--format", "json", img]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(check(&v, "min-efficiency")["limit"], "0.95");
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    for want in [
        ".dive-ci",
        "plugin1/rule1",
        "lowestEfficiency",
        "lowest-efficiency",
    ] {
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
    }
    // A bad value of a rule dive knows is still an error.
    std::fs::write(d.join(".dive-ci"), "rules:\n  lowestEfficiency: 3\n").unwrap();
    assert_eq!(run_in(d, &["--ci", img]).code, 2);
    // .imgscope.toml is strict, and names both spellings of its keys.
    std::fs::write(d.join(".imgscope.toml"), "plugin1 = \"x\"\n").unwrap();
    let r = run_in(d, &["--ci", img]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    for want in ["plugin1", "max-waste", "max_waste"] {
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
    }
}

#[test]
fn ci_environment_variable_and_output_stability() {
    let img = dive_image();
    let dir = tempfile::tempdir().unwrap();
    // CI=true alone: no TUI, no colour, and the same report as without it.
    let plain = cmd_in(dir.path()).args([&img]).output().unwrap();
    let with_ci = cmd_in(dir.path())
        .env("CI", "true")
        .args([&img])
        .output()
        .unwrap();
    assert_eq!(with_ci.status.code(), Some(0));
    assert_eq!(plain.stdout, with_ci.stdout);
    // --ci output is deterministic and has no colour when not a terminal.
    let a = run(&["--ci", "--max-waste", "1%", &img]);
    let b = run(&["--ci", "--max-waste", "1%", &img]);
    assert_eq!(a.stdout, b.stdout);
    assert!(!a.stdout.contains('\x1b'));
    assert!(a.stderr.is_empty(), "no progress bar: {}", a.stderr);
    // The verdict comes first, then the report without a second checks list.
    assert!(a.stdout.starts_with("imgscope FAIL 1 of 1 check failed: "));
    assert!(a
        .stdout
        .contains("\n  FAIL  max-waste  2.88% (60000 bytes), limit 1%\n"));
    assert!(a.stdout.contains("What to fix"));
    assert!(!a.stdout.contains("\nChecks\n"));
    assert_eq!(code(&["--ci", "--no-ci", &img]), 2);
}

#[test]
fn output_file_gets_the_format_and_stdout_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let img = dive_image();
    let out = dir.path().join("report.json");
    let r = run_in(
        dir.path(),
        &[
            "--ci",
            "--max-waste",
            "1%",
            "--format",
            "json",
            "--output",
            "report.json",
            &img,
        ],
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("imgscope FAIL"), "{}", r.stdout);
    assert!(r.stdout.contains("report (json) written to report.json"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(check(&v, "max-waste")["passed"], false);
    // An unwritable output: exit 2, nothing on stdout.
    let r = run_in(
        dir.path(),
        &["--ci", "--output", "/nonexistent/dir/r.txt", &img],
    );
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
}

fn fake_engine(dir: &Path, name: &str, script: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn docker_and_podman_uris_stream_the_engines_save() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // `docker save` writes an uncompressed archive: the committed one is zstd as a whole.
    let saved = dir.path().join("saved.tar");
    std::fs::write(&saved, read_uncompressed(&steps_docker())).unwrap();
    let img = saved.display().to_string();
    // A stand-in engine: `save NAME` writes the archive to stdout.
    for engine in ["docker", "podman"] {
        fake_engine(
            &bin,
            engine,
            &format!(
                "[ \"$1\" = save ] && [ \"$2\" = dive-test:latest ] && exec cat '{img}'\n\
                 echo \"Error: No such image: $2\" >&2; exit 1"
            ),
        );
    }
    let path = format!("{}:/usr/bin:/bin", bin.display());
    // podman:// reads the local store when it holds the image: here a store
    // that holds none, so the stand-in `podman save` is what is read.
    let conf = dir.path().join("storage.conf");
    std::fs::write(
        &conf,
        format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\n",
            dir.path().join("no-store").display()
        ),
    )
    .unwrap();
    let with_path = |path: &str, args: &[&str]| {
        let r = cmd_in(dir.path())
            .env("PATH", path)
            .env("CONTAINERS_STORAGE_CONF", &conf)
            .args(args)
            .output()
            .unwrap();
        Run {
            code: r.status.code().unwrap_or(-1),
            stdout: String::from_utf8(r.stdout).unwrap(),
            stderr: String::from_utf8(r.stderr).unwrap(),
        }
    };
    let (_, direct) = json(&[&img]);
    for engine in ["docker", "podman"] {
        let uri = format!("{engine}://dive-test:latest");
        let r = with_path(&path, &["--ci", "--format", "json", &uri]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["image"]["source"], uri.as_str());
        v["image"]["source"] = direct["image"]["source"].clone();
        v["checks"] = direct["checks"].clone();
        assert_eq!(v, direct);
        // The engine's own error, on one line.
        let r = with_path(&path, &["--ci", &format!("{engine}://missing:1")]);
        assert_eq!(r.code, 2);
        assert!(r.stdout.is_empty());
        assert!(
            r.stderr.contains("No such image: missing:1"),
            "{}",
            r.stderr
        );
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
    // dive's --source docker means the same.
    let r = with_path(
        &path,
        &["--source", "docker", "--format", "json", "dive-test:latest"],
    );
    assert_eq!(r.code, 0);
    // No engine at all: a clear error.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for engine in ["docker", "podman"] {
        let r = with_path(
            empty.to_str().unwrap(),
            &["--ci", &format!("{engine}://alpine:3")],
        );
        assert_eq!(r.code, 2);
        assert!(r.stdout.is_empty());
        assert!(
            r.stderr
                .contains(&format!("the `{engine}` command was not found")),
            "{}",
            r.stderr
        );
    }
    assert!(usage_error(&["docker://"]).contains("give an image name"));
}

/// With a real podman (Debian's package), when it can run here.
#[test]
fn podman_for_real_when_available() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.tar");
    std::fs::write(&saved, read_uncompressed(&steps_docker())).unwrap();
    let ok = std::process::Command::new("podman")
        .args(["load", "-q", "-i"])
        .arg(&saved)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!(
            "podman_for_real_when_available: skipped: podman is not installed or cannot load images here"
        );
        return;
    }
    let (c, v) = json(&["--ci", "podman://docker.io/library/dive-steps:latest"]);
    assert_eq!(c, 0);
    assert_eq!(v["summary"]["wasted_bytes"], 60000);
    assert_eq!(v["summary"]["total_bytes"], 2082799);
}
