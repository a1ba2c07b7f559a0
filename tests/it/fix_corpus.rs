//! The fix corpus (tests/fix-corpus/<case>/: a Dockerfile, its build
//! context, a `smoke` command and, for fixes that change content, `level`
//! = all): each case is built with buildah on one shared Debian minbase
//! base (tests/images/build-fix-corpus.sh, too big to commit, built into
//! target/fix-corpus when IMGSCOPE_DEBIAN_BUILD is set, as .ci/run does, or
//! taken from $IMGSCOPE_FIX_CORPUS), then `imgscope fix --build` patches and
//! rebuilds it. Asserted per case: the rebuild succeeds; the smoke command
//! passes in the rebuilt image (buildah run); at the safe level the final
//! filesystem equals the original except the paths the fixes said they
//! remove (the command's exit code); the realised saving is within 1% of
//! the predicted one. Every case's figures are printed (docs/fix.md has the
//! table). The reports of the originals show only valid Afters and
//! suggestion totals within the image.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{imgscope, root};

fn images() -> Result<PathBuf, String> {
    let cases = cases();
    let mut files: Vec<String> = cases.iter().map(|c| format!("{c}.tar")).collect();
    files.push("debian-base.tar".into());
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    common::built_on_demand(
        "build-fix-corpus.sh",
        "fix-corpus",
        &files,
        &["mmdebstrap", "buildah", "skopeo"],
        "IMGSCOPE_FIX_CORPUS",
        Some("IMGSCOPE_DEBIAN_BUILD"),
    )
}

fn corpus() -> PathBuf {
    root().join("tests/fix-corpus")
}

fn cases() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("Dockerfile").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn run_in(archive: &Path, cmd: &str) -> (bool, String) {
    let out = Command::new(root().join("tests/images/run-in-image.sh"))
        .arg(archive)
        .arg(cmd)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The report of an image (optionally with its Dockerfile): every After
/// valid, no comment after an instruction, totals within the image.
fn check_report(image: &Path, dockerfile: Option<&Path>) -> Result<(), String> {
    let mut args = vec!["--format".to_string(), "json".into()];
    if let Some(d) = dockerfile {
        args.push("--dockerfile".into());
        args.push(d.display().to_string());
    }
    args.push(image.display().to_string());
    let out = imgscope().args(&args).output().unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{}: no JSON ({e})", image.display()))?;
    let total = r["summary"]["total_bytes"].as_u64().unwrap();
    let mut sum = 0;
    for s in r["suggestions"].as_array().unwrap() {
        sum += s["saves_bytes"].as_u64().unwrap();
        let after = s["after"].as_str().unwrap_or("");
        if let Some(why) = imgscope::suggest::valid::invalid(after) {
            return Err(format!(
                "{}: {}: invalid After: {why}",
                image.display(),
                s["id"]
            ));
        }
        if after.contains("COPY file:") || after.contains("COPY dir:") {
            return Err(format!(
                "{}: {}: history text in After",
                image.display(),
                s["id"]
            ));
        }
        for l in after
            .lines()
            .chain(s["before"].as_str().unwrap_or("").lines())
        {
            let t = l.trim_start();
            if !t.starts_with('#') && t.contains(" #") {
                return Err(format!(
                    "{}: {}: comment after an instruction: {l}",
                    image.display(),
                    s["id"]
                ));
            }
        }
    }
    if sum > total {
        return Err(format!(
            "{}: suggestions save {sum} of an image of {total}",
            image.display()
        ));
    }
    let html = imgscope()
        .args(["--format", "html"])
        .arg(image)
        .output()
        .unwrap();
    let page = String::from_utf8_lossy(&html.stdout);
    if page.contains("COPY file:") && page.contains("\"after\":\"COPY file:") {
        return Err(format!(
            "{}: history text in the HTML's After",
            image.display()
        ));
    }
    Ok(())
}

struct Figures {
    case: String,
    level: String,
    applied: Vec<String>,
    predicted: u64,
    realised: i64,
}

fn one(dir: &Path, case: &str, tmp: &Path) -> Result<Figures, String> {
    let src = corpus().join(case);
    let image = dir.join(format!("{case}.tar"));
    let level = std::fs::read_to_string(src.join("level"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "safe".into());
    let smoke = std::fs::read_to_string(src.join("smoke")).unwrap();
    let smoke = smoke.trim();
    check_report(&image, None)?;
    check_report(&image, Some(&src.join("Dockerfile")))?;
    let (ok, out) = run_in(&image, smoke);
    if !ok {
        return Err(format!("{case}: smoke fails in the original image: {out}"));
    }
    let rebuilt = tmp.join(format!("{case}.rebuilt.tar"));
    let base = format!(
        "localhost/debian-base={}",
        dir.join("debian-base.tar").display()
    );
    let mut args: Vec<String> = vec![
        "fix".into(),
        "--dockerfile".into(),
        src.join("Dockerfile").display().to_string(),
        "--build".into(),
        "--builder".into(),
        "buildah".into(),
        "--context".into(),
        src.display().to_string(),
        "--base-archive".into(),
        base,
        "--save-image".into(),
        rebuilt.display().to_string(),
        "--format".into(),
        "json".into(),
        "--level".into(),
        level.clone(),
    ];
    args.push(image.display().to_string());
    let out = imgscope().args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{case}: exit {code}, no JSON ({e}): {stderr}"))?;
    let ver = &v["verification"];
    if code != 0 {
        return Err(format!(
            "{case}: exit {code}: {stderr}; unexpected changes: {}",
            ver["unexpected"]
        ));
    }
    let applied: Vec<String> = v["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    if applied.is_empty() {
        return Err(format!("{case}: no fix applied: {}", v["skipped"]));
    }
    if level == "safe" && !ver["unexpected"].as_array().unwrap().is_empty() {
        return Err(format!("{case}: files changed: {}", ver["unexpected"]));
    }
    let (ok, out) = run_in(&rebuilt, smoke);
    if !ok {
        return Err(format!(
            "{case}: smoke fails in the rebuilt image: {out}\n{}",
            v["dockerfile"].as_str().unwrap()
        ));
    }
    let predicted = ver["predicted_bytes"].as_u64().unwrap();
    let realised = ver["realised_bytes"].as_i64().unwrap();
    let f = Figures {
        case: case.into(),
        level,
        applied,
        predicted,
        realised,
    };
    if (realised - predicted as i64).unsigned_abs() as f64 > predicted as f64 * 0.01 {
        return Err(format!(
            "{case}: realised {realised} bytes, predicted {predicted}: more than 1% apart ({:?})",
            f.applied
        ));
    }
    Ok(f)
}

#[test]
fn every_corpus_case_builds_runs_and_saves_what_was_predicted() {
    let dir = match images() {
        Ok(d) => d,
        Err(why) => {
            eprintln!("skipped: every_corpus_case_builds_runs_and_saves_what_was_predicted: {why}");
            return;
        }
    };
    let tmp = dir.join("rebuilt");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for case in cases() {
        match one(&dir, &case, &tmp) {
            Ok(f) => table.push(f),
            Err(e) => failures.push(e),
        }
    }
    println!("| case | level | fixes applied | predicted bytes | realised bytes | apart |");
    println!("|---|---|---|---:|---:|---:|");
    for f in &table {
        println!(
            "| {} | {} | {} | {} | {} | {:.3}% |",
            f.case,
            f.level,
            f.applied.join(", "),
            f.predicted,
            f.realised,
            (f.realised - f.predicted as i64).abs() as f64 * 100.0 / f.predicted.max(1) as f64
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(table.len() >= 12, "{} cases", table.len());
}
