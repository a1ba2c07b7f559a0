//! GitHub Actions workflow commands: `::error` per failed check,
//! `::warning` per suggestion (on its Dockerfile line when known), and a
//! `::notice` with the verdict.

use std::fmt::Write;

use super::{verdict, Options};
use crate::ci::checks::Verdict;
use crate::present::{before_after_text, explain, human};
use crate::suggest::Report;

/// Escape a message (data) of a workflow command.
pub fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value (`file=`, `title=`) of a workflow command.
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Suggestions annotated, at most (GitHub shows 10 warnings per step).
const FIXES: usize = 10;

/// Rendered, with every control character that came from the image escaped
/// (see [`super::escape`]).
pub fn render(report: &Report, v: &Verdict, opts: &Options) -> String {
    super::escape::block(&render_unescaped(report, v, opts)).into_owned()
}

fn render_unescaped(report: &Report, v: &Verdict, opts: &Options) -> String {
    let mut o = String::new();
    for c in v.checks.iter().filter(|c| !c.passed) {
        let _ = writeln!(
            o,
            "::error title={}::{}",
            property(&format!("imgscope: {} failed", c.name)),
            data(&format!(
                "{} — {}\n{}\n{}",
                report.image.source,
                verdict::check_line(c),
                explain(c.name),
                verdict::totals_line(report)
            ))
        );
    }
    for sg in report.suggestions.iter().take(FIXES) {
        let mut props = Vec::new();
        if let (Some(df), Some(line)) = (&opts.dockerfile, sg.dockerfile_lines.first()) {
            props.push(format!("file={}", property(df)));
            props.push(format!("line={line}"));
            if let Some(end) = sg.dockerfile_lines.last().filter(|e| *e > line) {
                props.push(format!("endLine={end}"));
            }
        }
        props.push(format!(
            "title={}",
            property(&format!("imgscope: saves {}", human(sg.saves_bytes)))
        ));
        let mut msg = sg.title.clone();
        if !sg.why.is_empty() {
            msg.push_str(&format!("\n{}", sg.why));
        }
        msg.push('\n');
        msg.push_str(before_after_text(sg, "").trim_end());
        let _ = writeln!(o, "::warning {}::{}", props.join(","), data(&msg));
    }
    let mut summary = vec![verdict::headline(report, v), verdict::totals_line(report)];
    if let Some(ig) = &report.ignored {
        summary.push(verdict::ignored_line(ig));
    }
    let _ = writeln!(
        o,
        "::notice title={}::{}",
        property(&format!(
            "imgscope {}",
            if v.passed() { "PASS" } else { "FAIL" }
        )),
        data(&summary.join("\n"))
    );
    o
}
