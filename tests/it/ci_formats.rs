//! Every CI output format, validated: JSON parsed back, SARIF against the
//! 2.1.0 schema's required fields, JUnit parsed as XML, the Markdown table,
//! GitHub annotations by regex.

use crate::common;

use common::{root, single_layer_image, steps_docker};
use serde_json::Value;

/// dive's 14-step scenario (tests/dive_steps.rs): wasted 60000 bytes of
/// 2082799 (2.88%), hidden 50000, cache 10000.
fn dive_image() -> String {
    steps_docker().display().to_string()
}

/// The busybox base alone: no waste.
fn single_layer() -> String {
    single_layer_image().display().to_string()
}

/// stdout and exit code of imgscope in an empty directory.
fn out(args: &[&str]) -> (i32, String) {
    let r = common::exec(args);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    (r.code, r.stdout)
}

const FAILING: &[&str] = &["--ci", "--max-waste", "1%", "--max-cache", "10%"];

fn with(base: &[&str], format: &str, img: &str) -> Vec<String> {
    let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    v.extend(["--format".into(), format.into(), img.into()]);
    v
}

fn run_format(base: &[&str], format: &str, img: &str) -> (i32, String) {
    let args = with(base, format, img);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    out(&refs)
}

#[test]
fn json_parses_back_with_checks() {
    let (c, s) = run_format(FAILING, "json", &dive_image());
    assert_eq!(c, 1);
    let v: Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["schema"], 1);
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    for c in checks {
        assert!(c["name"].is_string() && c["limit"].is_string() && c["actual"].is_string());
        assert!(c["passed"].is_boolean());
    }
    let sum: u64 = v["waste"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, v["summary"]["wasted_bytes"].as_u64().unwrap());
}

fn req<'a>(v: &'a Value, field: &str, what: &str) -> &'a Value {
    let f = &v[field];
    assert!(!f.is_null(), "SARIF: {what} requires {field}: {v}");
    f
}

/// The required properties of SARIF 2.1.0 (sarif-schema-2.1.0.json) for the
/// objects imgscope writes, and the constraints of their values.
fn validate_sarif(v: &Value) {
    assert_eq!(req(v, "version", "sarifLog"), "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif"));
    let runs = req(v, "runs", "sarifLog").as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = req(req(run, "tool", "run"), "driver", "tool");
    assert!(req(driver, "name", "toolComponent").is_string());
    let rules = driver["rules"].as_array().unwrap();
    let mut ids = Vec::new();
    for r in rules {
        let id = req(r, "id", "reportingDescriptor").as_str().unwrap();
        ids.push(id.to_string());
        for d in ["shortDescription", "fullDescription", "help"] {
            if !r[d].is_null() {
                assert!(req(&r[d], "text", "multiformatMessageString").is_string());
            }
        }
        let level = r["defaultConfiguration"]["level"].as_str().unwrap();
        assert!(["none", "note", "warning", "error"].contains(&level));
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "rule ids are unique");
    for inv in run["invocations"].as_array().unwrap() {
        assert!(req(inv, "executionSuccessful", "invocation").is_boolean());
    }
    for r in run["results"].as_array().unwrap() {
        let msg = req(r, "message", "result");
        assert!(msg["text"].is_string(), "message needs text or id: {r}");
        let level = r["level"].as_str().unwrap();
        assert!(["none", "note", "warning", "error"].contains(&level));
        let id = r["ruleId"].as_str().unwrap();
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[idx], id, "ruleIndex points at its rule");
        for loc in r["locations"].as_array().unwrap() {
            let phys = &loc["physicalLocation"];
            // physicalLocation: anyOf address / artifactLocation.
            assert!(phys["artifactLocation"]["uri"].is_string() || !phys["address"].is_null());
            // A region only where a line is known (never a made-up line 1).
            if !phys["region"].is_null() {
                assert!(phys["region"]["startLine"].as_u64().unwrap() >= 1);
            }
        }
        for (_, fp) in r["partialFingerprints"].as_object().unwrap() {
            assert!(fp.is_string());
        }
    }
}

/// SARIF results point at real places: with `--dockerfile`, the line of
/// the step a suggestion is about (a RUN/COPY/ADD line) or the file alone;
/// without it, the image file, with no line.
#[test]
fn sarif_locations_are_real_lines_or_none() {
    let demo = root().join("assets/demo/demo.tar.zst");
    let file = root().join("assets/demo/Containerfile");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let sarif = |extra: &[&str]| {
        let mut args = vec!["--ci", "--max-waste", "1%", "--format", "sarif"];
        args.extend_from_slice(extra);
        args.push(demo.to_str().unwrap());
        let (_, s) = out(&args);
        let v: Value = serde_json::from_str(&s).unwrap();
        validate_sarif(&v);
        (s, v)
    };
    let (s, v) = sarif(&["--dockerfile", file.to_str().unwrap()]);
    let mut with_line = 0;
    for r in v["runs"][0]["results"].as_array().unwrap() {
        let phys = &r["locations"][0]["physicalLocation"];
        assert!(phys["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("Containerfile"));
        if let Some(n) = phys["region"]["startLine"].as_u64() {
            let l = lines[n as usize - 1];
            assert!(
                ["RUN ", "COPY ", "ADD "].iter().any(|i| l.starts_with(i)),
                "{}: line {n} is {l:?}",
                r["ruleId"]
            );
            with_line += 1;
        } else {
            assert!(
                !r["ruleId"].as_str().unwrap().starts_with("suggestion/")
                    || r["properties"]["layers"].as_array().unwrap().is_empty(),
                "{r}"
            );
        }
    }
    assert!(with_line >= 3, "{s}");
    // Without a Dockerfile: the image, no line.
    let (_, v) = sarif(&[]);
    for r in v["runs"][0]["results"].as_array().unwrap() {
        let phys = &r["locations"][0]["physicalLocation"];
        assert!(phys["region"].is_null(), "{r}");
        assert!(
            phys["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("demo.tar.zst"),
            "{r}"
        );
    }
}

/// The base image's waste is never an error, even when a check fails:
/// SARIF levels, and Markdown marks it.
#[test]
fn base_image_findings_are_never_errors() {
    let img = common::built("app-wasteful.tar.zst");
    let img = img.to_str().unwrap();
    let (c, s) = run_format(&["--ci", "--max-waste", "0"], "sarif", img);
    assert_eq!(c, 1);
    let v: Value = serde_json::from_str(&s).unwrap();
    validate_sarif(&v);
    let (mut base, mut user) = (0, 0);
    for r in v["runs"][0]["results"].as_array().unwrap() {
        if r["ruleId"].as_str().unwrap().starts_with("check/") {
            continue;
        }
        if r["properties"]["in_base"] == true {
            assert_ne!(r["level"], "error", "{r}");
            base += 1;
        } else {
            assert_eq!(r["level"], "error", "{r}");
            user += 1;
        }
    }
    assert!(base > 0 && user > 0, "{s}");
    let (_, md) = run_format(&["--ci", "--max-waste", "0"], "markdown", img);
    assert!(md.contains("[base image] **"), "{md}");
    assert!(md.contains(" (base) |"), "{md}");
}

#[test]
fn sarif_has_the_required_fields_and_stable_rules() {
    let (c, s) = run_format(FAILING, "sarif", &dive_image());
    assert_eq!(c, 1);
    let v: Value = serde_json::from_str(&s).unwrap();
    validate_sarif(&v);
    let results = v["runs"][0]["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    // The failed check, then one result per suggestion.
    assert_eq!(ids[0], "check/max-waste");
    assert_eq!(results[0]["level"], "error");
    assert!(ids.iter().all(|id| id.starts_with("check/")
        || id.starts_with("suggestion/")
        || id.starts_with("finding/")));
    assert!(ids.contains(&"suggestion/chain-cleanup"), "{ids:?}");
    // max-waste failed: every waste result is an error.
    assert!(results.iter().all(|r| r["level"] == "error"));
    // Passing checks: warnings, and no check result.
    let (c, s) = run_format(&["--ci", "--max-waste", "10%"], "sarif", &dive_image());
    assert_eq!(c, 0);
    let v: Value = serde_json::from_str(&s).unwrap();
    validate_sarif(&v);
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| r["level"] == "warning"), "{s}");
    assert_eq!(v["runs"][0]["invocations"][0]["exitCode"], 0);
    // Only max-hidden failed: the cache suggestion stays a warning.
    let (_, s) = run_format(&["--ci", "--max-hidden", "1kB"], "sarif", &dive_image());
    let v: Value = serde_json::from_str(&s).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let cache = results
        .iter()
        .find(|r| {
            // A suggestion (the check's own message names the image file,
            // whose path may itself be under /tmp).
            r["ruleId"].as_str().unwrap().starts_with("suggestion/")
                && r["message"]["text"].as_str().unwrap().contains("/tmp")
        })
        .unwrap();
    assert_eq!(cache["level"], "warning", "{cache}");
    // Deterministic, fingerprints included.
    let (_, again) = run_format(&["--ci", "--max-hidden", "1kB"], "sarif", &dive_image());
    assert_eq!(s, again);
    // A clean image: a valid log with no results.
    let (c, s) = run_format(&["--ci"], "sarif", &single_layer());
    assert_eq!(c, 0);
    let v: Value = serde_json::from_str(&s).unwrap();
    validate_sarif(&v);
    assert_eq!(v["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn sarif_points_at_dockerfile_lines() {
    let dir = tempfile::tempdir().unwrap();
    let df = dir.path().join("Dockerfile");
    // The Containerfile the image was built from.
    std::fs::copy(
        root().join("tests/images/src/dive-steps/Containerfile"),
        &df,
    )
    .unwrap();
    let dfs = df.to_str().unwrap();
    let (_, s) = run_format(&["--ci", "--dockerfile", dfs], "sarif", &dive_image());
    let v: Value = serde_json::from_str(&s).unwrap();
    validate_sarif(&v);
    let lines: Vec<u64> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let p = &r["locations"][0]["physicalLocation"];
            assert_eq!(p["artifactLocation"]["uri"], dfs);
            p["region"]["startLine"].as_u64().unwrap()
        })
        .collect();
    assert!(lines.iter().any(|&l| l > 1), "{lines:?}");
    // GitHub annotations carry file and line too.
    let (_, g) = run_format(&["--ci", "--dockerfile", dfs], "github", &dive_image());
    let re = regex_lite_file_line();
    assert!(g.lines().any(re), "{g}");
}

/// `::warning file=…,line=N` (no regex crate needed for this one).
fn regex_lite_file_line() -> impl Fn(&str) -> bool {
    |l: &str| {
        l.strip_prefix("::warning file=")
            .and_then(|r| r.split_once(",line="))
            .is_some_and(|(_, rest)| rest.chars().next().is_some_and(|c| c.is_ascii_digit()))
    }
}

#[test]
fn junit_is_xml_with_one_testcase_per_check() {
    use quick_xml::events::Event;
    use quick_xml::XmlVersion;
    let (c, s) = run_format(FAILING, "junit", &dive_image());
    assert_eq!(c, 1);
    let mut reader = quick_xml::Reader::from_str(&s);
    reader.config_mut().check_end_names = true;
    let mut testcases = Vec::new();
    let mut failures = Vec::new();
    let mut suites = 0;
    let mut stack: Vec<String> = Vec::new();
    let mut failure_text = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testsuite" => {
                suites += 1;
                let attr = |n: &str| {
                    e.try_get_attribute(n)
                        .unwrap()
                        .unwrap()
                        .normalized_value(XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned()
                };
                assert_eq!(attr("tests"), "2");
                assert_eq!(attr("failures"), "1");
                stack.push("testsuite".into());
            }
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if name == "testcase" {
                    let n = e.try_get_attribute("name").unwrap().unwrap();
                    testcases.push(
                        n.normalized_value(XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned(),
                    );
                }
                if name == "failure" {
                    let m = e.try_get_attribute("message").unwrap().unwrap();
                    failures.push(
                        m.normalized_value(XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned(),
                    );
                }
                stack.push(name);
            }
            Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                let n = e.try_get_attribute("name").unwrap().unwrap();
                testcases.push(
                    n.normalized_value(XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned(),
                );
            }
            Event::Text(t) if stack.last().map(String::as_str) == Some("failure") => {
                failure_text.push_str(&t.decode().unwrap());
            }
            Event::GeneralRef(r) if stack.last().map(String::as_str) == Some("failure") => {
                failure_text.push_str(match &*r {
                    b"amp" => "&",
                    b"lt" => "<",
                    b"gt" => ">",
                    b"quot" => "\"",
                    b"apos" => "'",
                    _ => "?",
                });
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty());
    assert_eq!(suites, 1);
    assert_eq!(testcases, ["max-waste", "max-cache"]);
    assert_eq!(failures, ["2.88% (60000 bytes), limit 1%"]);
    assert!(
        failure_text.contains("must not be above the limit"),
        "{failure_text}"
    );
    assert!(failure_text.contains("Largest fixes"), "{failure_text}");
    assert!(
        failure_text.contains("&&"),
        "escaped and read back: {failure_text}"
    );
}

#[test]
fn markdown_has_a_checks_table_and_fixes() {
    let (c, s) = run_format(FAILING, "markdown", &dive_image());
    assert_eq!(c, 1);
    assert!(s.starts_with("### imgscope ❌ FAIL"), "{s}");
    let lines: Vec<&str> = s.lines().collect();
    let head = lines
        .iter()
        .position(|l| *l == "| Check | Result | Actual | Limit |")
        .expect("checks table");
    assert_eq!(lines[head + 1], "|---|---|---|---|");
    let rows: Vec<Vec<&str>> = lines[head + 2..]
        .iter()
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(str::trim)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.len() == 4));
    assert_eq!(
        rows[0],
        ["max-waste", "❌ fail", "2.88% (60000 bytes)", "1%"]
    );
    assert_eq!(rows[1][1], "✅ pass");
    // Every table row has as many cells as its header.
    let mut cols = 0;
    for l in &lines {
        if l.starts_with('|') {
            let n = l.replace("\\|", "").matches('|').count();
            if cols == 0 {
                cols = n;
            }
            assert_eq!(n, cols, "{l}");
        } else {
            cols = 0;
        }
    }
    assert!(s.contains("#### Top fixes"));
    assert!(s.contains("```dockerfile"));
    let (c, s) = run_format(&["--ci"], "markdown", &single_layer());
    assert_eq!(c, 0);
    assert!(s.starts_with("### imgscope ✅ PASS"));
}

#[test]
fn github_annotations_match_the_workflow_command_syntax() {
    let (c, s) = run_format(FAILING, "github", &dive_image());
    assert_eq!(c, 1);
    let mut errors = 0;
    let mut warnings = 0;
    let mut notices = 0;
    for line in s.lines() {
        // ::LEVEL[ key=value(,key=value)*]::message — nothing unescaped.
        let rest = line.strip_prefix("::").expect(line);
        let (cmd, msg) = rest.split_once("::").expect(line);
        let (level, props) = cmd.split_once(' ').unwrap_or((cmd, ""));
        match level {
            "error" => errors += 1,
            "warning" => warnings += 1,
            "notice" => notices += 1,
            _ => panic!("{line}"),
        }
        for p in props.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = p.split_once('=').expect(p);
            assert!(
                ["file", "line", "endLine", "title", "col"].contains(&k),
                "{p}"
            );
            assert!(!v.contains(':') && !v.contains('\n'), "{p}");
        }
        assert!(!msg.contains('\r') && !msg.is_empty());
        // `%` only as an escape.
        for (i, _) in msg.match_indices('%') {
            let esc = &msg[i..(i + 3).min(msg.len())];
            assert!(["%25", "%0A", "%0D"].contains(&esc), "{line}");
        }
    }
    assert_eq!(errors, 1, "{s}");
    assert!(warnings >= 1);
    assert_eq!(notices, 1);
    assert!(s.starts_with("::error title=imgscope%3A max-waste failed::"));
    assert!(s.contains("2.88%25 (60000 bytes), limit 1%25"));
}

#[test]
fn every_format_writes_to_output_with_the_verdict_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["text", "json", "sarif", "junit", "markdown", "github"] {
        let file = dir.path().join(format!("report.{f}"));
        let (c, s) = out(&[
            "--ci",
            "--max-waste",
            "1%",
            "--format",
            f,
            "--output",
            file.to_str().unwrap(),
            &dive_image(),
        ]);
        assert_eq!(c, 1);
        assert!(
            s.starts_with("imgscope FAIL 1 of 1 check failed"),
            "{f}: {s}"
        );
        assert!(s.contains(&format!("report ({f}) written to")), "{s}");
        let body = std::fs::read_to_string(&file).unwrap();
        let (_, direct) = out(&["--ci", "--max-waste", "1%", "--format", f, &dive_image()]);
        assert_eq!(body, direct, "{f}: the file holds what stdout would");
    }
}
