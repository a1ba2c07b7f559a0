//! The short CI verdict (PASS/FAIL per check, actual vs limit) and the
//! lines every CI format shares.

use std::fmt::Write;

use super::Options;
use crate::analyze::ignore::Ignored;
use crate::ci::checks::{Check, Verdict};
use crate::present::{human, share as pct, truncate};
use crate::suggest::Report;

impl Options {
    /// The file annotations and SARIF results point at.
    pub fn dockerfile_uri(&self) -> String {
        uri(self.dockerfile.as_deref().unwrap_or("Dockerfile"))
    }
}

/// A path as a relative URI reference (`\\` → `/`, `%`, ` `, `#`, `?`
/// escaped).
pub fn uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '\\' => uri.push('/'),
            '%' => uri.push_str("%25"),
            ' ' => uri.push_str("%20"),
            '#' => uri.push_str("%23"),
            '?' => uri.push_str("%3F"),
            c => uri.push(c),
        }
    }
    uri
}

/// What was checked: `2 of 3 checks failed`, `no checks configured`.
pub fn summary(verdict: &Verdict) -> String {
    let n = verdict.checks.len();
    let failed = verdict.failed_count();
    let s = if n == 1 { "" } else { "s" };
    if n == 0 {
        "no checks configured".to_string()
    } else if failed == 0 {
        format!("{n} of {n} check{s} passed")
    } else {
        format!("{failed} of {n} check{s} failed")
    }
}

/// One line: `PASS`/`FAIL`, what was checked, the image.
pub fn headline(report: &Report, verdict: &Verdict) -> String {
    format!(
        "{} {}: {}",
        if verdict.passed() { "PASS" } else { "FAIL" },
        summary(verdict),
        report.image.source
    )
}

/// One line on a check: `max-waste: 3.10% (32025 bytes), limit 10%`.
pub fn check_line(c: &Check) -> String {
    format!("{}: {}, limit {}", c.name, c.actual, c.limit)
}

/// The totals in one line.
pub fn totals_line(report: &Report) -> String {
    let s = &report.summary;
    let yours = if report.image.base.layers > 0 {
        format!(
            "; yours {} of {} ({:.2}%) after the base image's {} layers",
            human(s.user_wasted_bytes),
            human(s.user_bytes),
            pct(s.user_wasted_bytes, s.user_bytes),
            report.image.base.layers
        )
    } else {
        String::new()
    };
    format!(
        "wasted {} of {} ({:.2}%): hidden {}, cache {}; efficiency {:.2}%{yours}",
        human(s.wasted_bytes),
        human(s.total_bytes),
        pct(s.wasted_bytes, s.total_bytes),
        human(s.hidden_bytes),
        human(s.cache_bytes),
        if s.total_bytes == 0 {
            100.0
        } else {
            s.efficiency * 100.0
        }
    )
}

/// What ignores removed, in one line.
pub fn ignored_line(ig: &Ignored) -> String {
    format!(
        "ignored {} finding{}, {} ({} bytes: hidden {}, cache {}) under {}",
        ig.findings,
        if ig.findings == 1 { "" } else { "s" },
        human(ig.bytes),
        ig.bytes,
        ig.hidden_bytes,
        ig.cache_bytes,
        ig.globs.join(", ")
    )
}

struct Paint(bool);

impl Paint {
    fn status(&self, ok: bool) -> String {
        match (self.0, ok) {
            (false, true) => "PASS".into(),
            (false, false) => "FAIL".into(),
            (true, true) => "\x1b[1;32mPASS\x1b[0m".into(),
            (true, false) => "\x1b[1;31mFAIL\x1b[0m".into(),
        }
    }
}

/// The short verdict: a headline, a line per check, the totals, what was
/// ignored, where the rules came from and the largest fix. Deterministic;
/// ANSI colour only with `color`.
pub fn render(report: &Report, verdict: &Verdict, color: bool) -> String {
    let paint = Paint(color);
    let mut o = String::new();
    let head = headline(report, verdict);
    let ok = verdict.passed();
    let rest = head.split_once(' ').map(|x| x.1).unwrap_or("");
    let _ = writeln!(o, "imgscope {} {rest}", paint.status(ok));
    let width = verdict
        .checks
        .iter()
        .map(|c| c.name.as_str().len())
        .max()
        .unwrap_or(0);
    for c in &verdict.checks {
        let _ = writeln!(
            o,
            "  {}  {:<width$}  {}, limit {}",
            paint.status(c.passed),
            c.name,
            c.actual,
            c.limit
        );
    }
    let _ = writeln!(o, "  {}", totals_line(report));
    if let Some(ig) = &report.ignored {
        let _ = writeln!(o, "  {}", ignored_line(ig));
    }
    if let Some(origin) = &verdict.origin {
        let _ = writeln!(o, "  rules from {origin}");
    }
    if verdict.default_rule {
        let _ = writeln!(
            o,
            "  no rule configured: --ci applied the default max-waste 10%"
        );
    }
    // The gate is about waste: point to the largest fix of the waste, not to
    // a trade-off of visible bytes (strip, docs, multi-stage).
    if let Some(sg) = report.suggestions.iter().find(|s| !s.findings.is_empty()) {
        let _ = writeln!(
            o,
            "  largest fix of the waste: {} (saves {})",
            truncate(&sg.title, 100),
            human(sg.saves_bytes)
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dockerfile_uris() {
        let ctx = |p: Option<&str>| Options {
            dockerfile: p.map(str::to_string),
            ..Options::default()
        };
        assert_eq!(ctx(None).dockerfile_uri(), "Dockerfile");
        assert_eq!(
            ctx(Some("build dir\\Dockerfile#1")).dockerfile_uri(),
            "build%20dir/Dockerfile%231"
        );
    }
}
