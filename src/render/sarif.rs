//! SARIF 2.1.0 for code-scanning dashboards.
//!
//! One result per suggestion (rule `suggestion/<kind>`), one per group of
//! findings no suggestion covers (rule `finding/<kind>`, grouped by kind and
//! layers), and one per failed check (rule `check/<name>`). Rule ids are
//! fixed strings. A result's level is `error` when a failed check is about
//! its kind of waste, else `warning` (`note` for a multi-stage build
//! suggestion, which is about visible bytes, unless `max-size` failed).
//! Results point at the Dockerfile given with `--dockerfile`, at the line
//! of the step when known (else the file alone), or without one at the
//! image, with no line; the image paths are in `properties.paths`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::Options;
use crate::analyze::waste::WasteKind;
use crate::ci::checks::Verdict;
use crate::ci::rules::CheckName;
use crate::present::{before_after, explain, human, kind_label, why};
use crate::suggest::Report;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Paths listed per result, at most.
const MAX_PATHS: usize = 20;

fn fingerprint(parts: &[&str]) -> String {
    let mut s = String::new();
    for p in parts {
        s.push_str(p);
        s.push('\0');
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(s.as_bytes()))
}

struct Rules {
    defs: BTreeMap<String, Value>,
}

impl Rules {
    fn add(&mut self, id: &str, short: &str, full: &str, default_level: &str) {
        self.defs.entry(id.to_string()).or_insert_with(|| {
            json!({
                "id": id,
                "name": id.replace(['/', '-', '_'], " "),
                "shortDescription": {"text": short},
                "fullDescription": {"text": full},
                "help": {"text": full},
                "defaultConfiguration": {"level": default_level},
            })
        });
    }
}

/// Where a result points: with `--dockerfile`, that file, at `line` when
/// known (else the file alone); without it, the image (`source`), with no
/// line: never a made-up `Dockerfile:1`.
fn location(ctx: &Options, source: &str, line: Option<usize>) -> Value {
    match (&ctx.dockerfile, line.filter(|&l| l >= 1)) {
        (Some(_), Some(l)) => json!({
            "physicalLocation": {
                "artifactLocation": {"uri": ctx.dockerfile_uri()},
                "region": {"startLine": l},
            }
        }),
        (Some(_), None) => json!({
            "physicalLocation": {"artifactLocation": {"uri": ctx.dockerfile_uri()}}
        }),
        (None, _) => json!({
            "physicalLocation": {"artifactLocation": {"uri": super::verdict::uri(source)}}
        }),
    }
}

/// The SARIF log of a report.
pub fn render(report: &Report, v: &Verdict, ctx: &Options) -> String {
    let failed_kinds: BTreeSet<WasteKind> = v
        .checks
        .iter()
        .filter(|c| !c.passed)
        .flat_map(|c| c.name.kinds().iter().copied())
        .collect();
    let size_failed = v
        .checks
        .iter()
        .any(|c| !c.passed && c.name == CheckName::MaxSize);
    let command = |l: usize| {
        report
            .layers
            .get(l)
            .map(|l| l.command.as_str())
            .unwrap_or("")
    };
    let mut rules = Rules {
        defs: BTreeMap::new(),
    };
    let mut results: Vec<(String, Value)> = Vec::new();

    // Failed checks first: they are why the build fails.
    for c in v.checks.iter().filter(|c| !c.passed) {
        let id = format!("check/{}", c.name);
        rules.add(
            &id,
            &format!("imgscope check {} failed", c.name),
            explain(c.name),
            "error",
        );
        results.push((
            id.clone(),
            json!({
                "level": "error",
                "message": {"text": format!(
                    "{} failed for {}: {}, limit {}. {}",
                    c.name, report.image.source, c.actual, c.limit, explain(c.name)
                )},
                "locations": [location(ctx, &report.image.source, None)],
                "partialFingerprints": {"imgscope/v1": fingerprint(&[&id])},
                "properties": {"limit": c.limit, "actual": c.actual},
            }),
        ));
    }

    let fix_of = crate::suggest::suggestion_of_findings(report);
    for sg in &report.suggestions {
        let id = format!("suggestion/{}", sg.kind);
        let (short, full) = crate::suggest::texts::texts().sarif(sg.kind);
        let kinds: BTreeSet<WasteKind> = sg
            .findings
            .iter()
            .filter_map(|&i| report.waste.get(i))
            .map(|f| f.kind)
            .collect();
        let level = if kinds.iter().any(|k| failed_kinds.contains(k)) || size_failed {
            "error"
        } else if sg.findings.is_empty() {
            "note"
        } else {
            "warning"
        };
        rules.add(
            &id,
            short,
            full,
            if sg.findings.is_empty() {
                "note"
            } else {
                "warning"
            },
        );
        let paths: BTreeSet<String> = sg
            .findings
            .iter()
            .filter_map(|&i| report.waste.get(i))
            .map(|f| f.path.display())
            .collect();
        let commands: Vec<&str> = sg.layers.iter().map(|&l| command(l)).collect();
        let mut fp_parts = vec![id.as_str()];
        fp_parts.extend(commands.iter().copied());
        let mut text = format!(
            "{} Saves {} ({} bytes) in layer{} {}.",
            sg.title.trim_end_matches('.').to_string() + ".",
            human(sg.saves_bytes),
            sg.saves_bytes,
            if sg.layers.len() == 1 { "" } else { "s" },
            sg.layers
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !sg.why.is_empty() {
            text.push(' ');
            text.push_str(&sg.why);
        }
        let mut markdown = format!("{text}\n");
        for (label, block) in before_after(sg) {
            markdown.push_str(&format!("\n{label}:\n```dockerfile\n{block}\n```"));
        }
        results.push((
            id.clone(),
            json!({
                "level": level,
                "message": {"text": text, "markdown": markdown},
                "locations": [location(
                    ctx,
                    &report.image.source,
                    sg.dockerfile_lines.first().copied(),
                )],
                "partialFingerprints": {"imgscope/v1": fingerprint(&fp_parts)},
                "properties": {
                    "suggestion": sg.id,
                    "saves_bytes": sg.saves_bytes,
                    "layers": sg.layers,
                    "paths": paths.iter().take(MAX_PATHS).collect::<Vec<_>>(),
                    "path_count": paths.len(),
                    "before": sg.before,
                    "after": sg.after,
                },
            }),
        ));
    }

    // Findings no suggestion covers, by kind and layers.
    let mut groups: BTreeMap<(WasteKind, usize, Option<usize>), Vec<usize>> = BTreeMap::new();
    for (i, f) in report.waste.iter().enumerate() {
        if fix_of[i].is_none() {
            groups
                .entry((f.kind, f.stored_in_layer, f.hidden_by_layer))
                .or_default()
                .push(i);
        }
    }
    for ((kind, stored, hidden), list) in groups {
        let id = format!("finding/{}", kind.as_str());
        rules.add(
            &id,
            &format!("Wasted bytes: {}", kind_label(kind)),
            why(kind),
            "warning",
        );
        let bytes: u64 = list.iter().map(|&i| report.waste[i].bytes).sum();
        let paths: Vec<String> = list
            .iter()
            .take(MAX_PATHS)
            .map(|&i| report.waste[i].path.display())
            .collect();
        let whose = match hidden {
            Some(h) => format!("stored in layer {stored}, hidden by layer {h}"),
            None => format!("stored in layer {stored}, still in the image"),
        };
        let text = format!(
            "{} {} ({} bytes) {}: {}{}. {}",
            list.len(),
            if list.len() == 1 {
                "file wastes"
            } else {
                "files waste"
            },
            human(bytes),
            bytes,
            kind_label(kind),
            if list.len() == 1 {
                format!(" {} {whose}", paths[0])
            } else {
                format!(", {whose}")
            },
            why(kind)
        );
        let level = if failed_kinds.contains(&kind) {
            "error"
        } else {
            "warning"
        };
        let hidden_cmd = hidden.map(command).unwrap_or("");
        results.push((
            id.clone(),
            json!({
                "level": level,
                "message": {"text": text},
                "locations": [location(ctx, &report.image.source, None)],
                "partialFingerprints": {"imgscope/v1": fingerprint(&[&id, command(stored), hidden_cmd])},
                "properties": {
                    "bytes": bytes,
                    "stored_in_layer": stored,
                    "hidden_by_layer": hidden,
                    "paths": paths,
                    "path_count": list.len(),
                },
            }),
        ));
    }

    let index: BTreeMap<&String, usize> =
        rules.defs.keys().enumerate().map(|(i, k)| (k, i)).collect();
    let results: Vec<Value> = results
        .into_iter()
        .map(|(id, mut r)| {
            r["ruleId"] = json!(id);
            r["ruleIndex"] = json!(index[&id]);
            r
        })
        .collect();
    let mut properties = json!({
        "image": report.image,
        "summary": report.summary,
        "checks": v.checks,
    });
    if let Some(ig) = &report.ignored {
        properties["ignored"] = json!(ig);
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "imgscope",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules.defs.into_values().collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": true,
                "exitCode": if v.passed() { 0 } else { 1 },
            }],
            "results": results,
            "properties": properties,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    s.push('\n');
    s
}
