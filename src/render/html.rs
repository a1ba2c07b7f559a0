//! `--format html`: one self-contained page. The report value `--format json`
//! writes is embedded as JSON (with the size tree of the final filesystem
//! from `analyze::sizes`), and a small plain script (assets/html/app.js)
//! draws the treemap, the layer chart, the fixes and the findings from it.
//! A Content-Security-Policy forbids every fetch: the page needs nothing but
//! itself.

use serde::Serialize;

use crate::analyze::ignore::Ignored;
use crate::analyze::sizes::SizeTree;
use crate::ci::checks::Verdict;
use crate::compare::diff::Diff;
use crate::suggest::Report;

const PAGE: &str = include_str!("../../assets/html/page.html");
const STYLE: &str = include_str!("../../assets/html/style.css");
const SCRIPT: &str = include_str!("../../assets/html/app.js");

/// The page lists the largest findings up to this many (the JSON report
/// lists every one); the totals always cover all of them.
pub const MAX_FINDINGS: usize = 2_000;

#[derive(Serialize)]
struct Page<'a> {
    generator: String,
    /// The JSON report, `waste`, `optional`, `packages`, `insights` and
    /// `binaries` cut to their first `MAX_FINDINGS` (largest first).
    report: serde_json::Value,
    /// How many findings the report has (the page may list fewer).
    findings_total: usize,
    /// The length of each list of the report that the page may cut.
    totals: std::collections::BTreeMap<&'static str, usize>,
    ignored: Option<&'a Ignored>,
    /// `imgscope diff`: the comparison (the report and files are then the
    /// new image's), its lists cut to `MAX_FINDINGS` each.
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<serde_json::Value>,
    /// Each layer's instruction without the `/bin/sh -c` noise.
    commands: Vec<&'a str>,
    files: Option<&'a SizeTree>,
    /// Each waste kind's label in words (`metadata only`), as every human
    /// output shows it.
    kind_labels: std::collections::BTreeMap<&'static str, &'static str>,
}

/// The page's data as JSON, safe inside a `<script>` element: `<`, `>` and
/// `&` only occur inside JSON strings, where `\u003c` etc. mean the same.
pub fn data_json(
    report: &Report,
    verdict: &Verdict,
    files: Option<&SizeTree>,
    diff: Option<&Diff>,
) -> String {
    let ignored = report.ignored.as_ref();
    let mut json = super::json::Json::new(report, verdict);
    json.ignored = None;
    let mut value = serde_json::to_value(json).expect("report serializes");
    // Lists that grow with the image are cut; `totals` keeps their lengths.
    let mut totals = std::collections::BTreeMap::new();
    for key in ["waste", "optional", "packages", "insights", "binaries"] {
        if let Some(serde_json::Value::Array(w)) = value.get_mut(key) {
            totals.insert(key, w.len());
            w.truncate(MAX_FINDINGS);
        }
    }
    let page = Page {
        generator: format!("imgscope {}", env!("CARGO_PKG_VERSION")),
        report: value,
        findings_total: report.waste.len(),
        totals,
        ignored,
        diff: diff.map(|d| {
            let mut v = serde_json::to_value(d).expect("diff serializes");
            let mut totals = serde_json::Map::new();
            for key in ["fixed", "introduced", "changed", "files"] {
                if let Some(serde_json::Value::Array(w)) = v.get_mut(key) {
                    totals.insert(key.to_string(), w.len().into());
                    w.truncate(MAX_FINDINGS);
                }
            }
            v["totals"] = serde_json::Value::Object(totals);
            v
        }),
        commands: report.layers.iter().map(|l| l.command.as_str()).collect(),
        files,
        kind_labels: crate::analyze::waste::WasteKind::ALL
            .iter()
            .map(|&k| (k.as_str(), crate::present::kind_label(k)))
            .collect(),
    };
    let json = serde_json::to_string(&page).expect("page data serializes");
    let mut out = String::with_capacity(json.len() + 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole page of one image's report.
pub fn render(report: &Report, verdict: &Verdict, files: Option<&SizeTree>) -> String {
    page(report, verdict, files, None)
}

/// `imgscope diff --format html`: the new image's page with a section on
/// what changed since the old one. `report` and `files` are the new image's.
pub fn render_diff(diff: &Diff, report: &Report, files: &SizeTree) -> String {
    page(report, &Verdict::default(), Some(files), Some(diff))
}

fn name_of(source: &str, tags: &[String]) -> String {
    tags.first().cloned().unwrap_or_else(|| source.to_string())
}

fn page(
    report: &Report,
    verdict: &Verdict,
    files: Option<&SizeTree>,
    diff: Option<&Diff>,
) -> String {
    let title = match diff {
        Some(d) => format!(
            "imgscope diff: {} → {}",
            name_of(&d.old.source, &d.old.tags),
            name_of(&d.new.source, &d.new.tags)
        ),
        None => format!(
            "imgscope: {}",
            name_of(&report.image.source, &report.image.tags)
        ),
    };
    // One pass over the template; the data goes last so nothing in it is
    // ever taken for a placeholder.
    let mut out = String::with_capacity(PAGE.len() + STYLE.len() + SCRIPT.len() + (1 << 16));
    let mut rest = PAGE;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        match &rest[start + 2..start + len] {
            "TITLE" => out.push_str(&escape_html(&title)),
            "STYLE" => out.push_str(STYLE),
            "SCRIPT" => out.push_str(SCRIPT),
            "DATA" => out.push_str(&data_json(report, verdict, files, diff)),
            other => {
                out.push_str("{{");
                out.push_str(other);
                out.push_str("}}");
            }
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping() {
        assert_eq!(escape_html("a</b>&'\""), "a&lt;/b&gt;&amp;&#39;&quot;");
    }

    #[test]
    fn template_has_every_placeholder_once() {
        for p in ["{{STYLE}}", "{{SCRIPT}}", "{{DATA}}"] {
            assert_eq!(PAGE.matches(p).count(), 1, "{p}");
        }
        assert!(!SCRIPT.contains("{{") && !STYLE.contains("{{"));
        assert!(!SCRIPT.contains("</script"));
        assert!(!STYLE.contains("</style"));
    }
}
