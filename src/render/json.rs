//! SPEC.md's JSON report: the report, its `checks`, the load's `warnings`
//! and, with ignores, an `ignored` object that says what they left out.

use serde::Serialize;

use crate::analyze::binaries::{Binary, Insight};
use crate::analyze::ignore::Ignored;
use crate::analyze::packages::{Package, PackageSummary};
use crate::ci::checks::{Check, Verdict};
use crate::load::index::Warning;
use crate::suggest::Report;

/// The report as SPEC.md writes it.
#[derive(Serialize)]
pub struct Json<'a> {
    #[serde(flatten)]
    report: &'a Report,
    checks: &'a [Check],
    warnings: &'a [Warning],
    packages: &'a [Package],
    package_summary: &'a PackageSummary,
    insights: &'a [Insight],
    binaries: &'a [Binary],
    /// Left out by the HTML page, which shows it apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ignored: Option<&'a Ignored>,
}

impl<'a> Json<'a> {
    /// With `ignored` (what ignores left out) when there were ignores.
    pub fn new(report: &'a Report, verdict: &'a Verdict) -> Json<'a> {
        Json {
            report,
            checks: &verdict.checks,
            warnings: &report.warnings,
            packages: &report.packages,
            package_summary: &report.package_summary,
            insights: &report.insights,
            binaries: &report.binaries,
            ignored: report.ignored.as_ref(),
        }
    }
}

pub fn render(report: &Report, verdict: &Verdict) -> String {
    let mut s =
        serde_json::to_string_pretty(&Json::new(report, verdict)).expect("report serializes");
    s.push('\n');
    s
}
