//! JUnit XML for CI test tabs: one testcase per check, a `<failure>` with
//! the explanation and the largest fixes when it fails.

use std::fmt::Write;

use super::{verdict, Options};
use crate::ci::checks::Verdict;
use crate::present::{before_after_text, explain, human};
use crate::suggest::Report;

/// Escape text for XML 1.0 (attribute or element): markup characters
/// become entities, characters XML cannot hold become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// How many fixes a failure lists.
const FIXES: usize = 3;

pub fn render(report: &Report, v: &Verdict, _opts: &Options) -> String {
    let mut o = String::new();
    let tests = v.checks.len();
    let failures = v.failed_count();
    let image = escape(&report.image.source);
    let _ = writeln!(o, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        o,
        r#"<testsuites name="imgscope" tests="{tests}" failures="{failures}" errors="0" skipped="0" time="0">"#
    );
    let _ = writeln!(
        o,
        r#"  <testsuite name="imgscope: {image}" tests="{tests}" failures="{failures}" errors="0" skipped="0" time="0">"#
    );
    let s = &report.summary;
    let _ = writeln!(o, "    <properties>");
    let mut props: Vec<(&str, String)> = vec![
        ("image", report.image.source.clone()),
        ("total_bytes", s.total_bytes.to_string()),
        ("wasted_bytes", s.wasted_bytes.to_string()),
        ("hidden_bytes", s.hidden_bytes.to_string()),
        ("cache_bytes", s.cache_bytes.to_string()),
        ("efficiency", format!("{:.4}", s.efficiency)),
    ];
    if let Some(ig) = &report.ignored {
        props.push(("ignored_bytes", ig.bytes.to_string()));
        props.push(("ignored_findings", ig.findings.to_string()));
    }
    if let Some(origin) = &v.origin {
        props.push(("rules_from", origin.clone()));
    }
    for (k, v) in props {
        let _ = writeln!(
            o,
            r#"      <property name="{}" value="{}"/>"#,
            escape(k),
            escape(&v)
        );
    }
    let _ = writeln!(o, "    </properties>");
    for c in &v.checks {
        let _ = write!(
            o,
            r#"    <testcase name="{}" classname="imgscope.checks" time="0""#,
            escape(c.name.as_str())
        );
        if c.passed {
            let _ = writeln!(o, "/>");
            continue;
        }
        let _ = writeln!(o, ">");
        let mut body = String::new();
        let _ = writeln!(body, "{}", verdict::check_line(c));
        let _ = writeln!(body, "{}", explain(c.name));
        let _ = writeln!(body, "{}", verdict::totals_line(report));
        if let Some(ig) = &report.ignored {
            let _ = writeln!(body, "{}", verdict::ignored_line(ig));
        }
        if !report.suggestions.is_empty() {
            let _ = writeln!(body, "\nLargest fixes:");
            for (i, sg) in report.suggestions.iter().take(FIXES).enumerate() {
                let _ = writeln!(
                    body,
                    "{}. {} (saves {}, layers {:?})",
                    i + 1,
                    sg.title,
                    human(sg.saves_bytes),
                    sg.layers
                );
                body.push_str(&before_after_text(sg, "   "));
            }
        }
        let _ = writeln!(
            o,
            r#"      <failure message="{}" type="{}">{}</failure>"#,
            escape(&format!("{}, limit {}", c.actual, c.limit)),
            escape(c.name.as_str()),
            escape(body.trim_end())
        );
        let _ = writeln!(o, "    </testcase>");
    }
    let _ = writeln!(
        o,
        "    <system-out>{}</system-out>",
        escape(verdict::render(report, v, false).trim_end())
    );
    let _ = writeln!(o, "  </testsuite>");
    let _ = writeln!(o, "</testsuites>");
    o
}
