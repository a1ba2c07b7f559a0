//! Rendering a report and its verdict: JSON (the contract), readable text,
//! and the CI formats. Renderers read; they never change what they render.

pub mod diff_github;
pub mod diff_markdown;
pub mod diff_text;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod packages;
pub mod sarif;
pub mod share_text;
pub mod text;
pub mod verdict;

use crate::analyze::sizes::SizeTree;
use crate::ci::checks::Verdict;
use crate::suggest::Report;

/// The formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Junit,
    Markdown,
    Github,
    Html,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Text,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Markdown,
        Format::Github,
        Format::Html,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Github => "github",
            Format::Html => "html",
        }
    }

    /// What the format is for (the command line's help).
    pub fn help(self) -> &'static str {
        match self {
            Format::Text => "The verdict (with checks), then totals, layers, findings and fixes",
            Format::Json => "SPEC.md's report, with `checks`",
            Format::Sarif => "SARIF 2.1.0 for code-scanning dashboards",
            Format::Junit => "JUnit XML, one testcase per check",
            Format::Markdown => "Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY",
            Format::Github => "GitHub Actions ::error/::warning annotations",
            Format::Html => "One self-contained page: treemap, layers, fixes, findings",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// How to render, beside the format.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many findings the text report lists.
    pub top: usize,
    /// Text: the verdict first (`--ci`, or checks or ignores to report).
    pub verdict_first: bool,
    /// ANSI colour in the text verdict.
    pub color: bool,
    /// The Dockerfile given with `--dockerfile`, as given (for locations).
    pub dockerfile: Option<String>,
    /// HTML: the final filesystem's sizes for the treemap
    /// ([`crate::analyze::sizes::size_tree`]; an empty page section without).
    pub sizes: Option<SizeTree>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            top: 20,
            verdict_first: false,
            color: false,
            dockerfile: None,
            sizes: None,
        }
    }
}

/// The report and its verdict in `format`.
pub fn render(report: &Report, verdict: &Verdict, format: Format, opts: &Options) -> String {
    match format {
        Format::Json => json::render(report, verdict),
        Format::Sarif => sarif::render(report, verdict, opts),
        Format::Junit => junit::render(report, verdict, opts),
        Format::Markdown => markdown::render(report, verdict, opts),
        Format::Github => github::render(report, verdict, opts),
        Format::Html => html::render(report, verdict, opts.sizes.as_ref()),
        Format::Text => {
            let body = text::render(report, &text::TextOptions { top: opts.top });
            if !opts.verdict_first {
                return body;
            }
            let mut s = verdict::render(report, verdict, opts.color);
            s.push('\n');
            s.push_str(&body);
            s
        }
    }
}

pub use crate::present::escape;
pub use crate::units::human;
