//! Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`: the
//! verdict, a table of checks, the totals and the top fixes.

use std::fmt::Write;

use super::{human, verdict, Options};
use crate::ci::checks::Verdict;
use crate::suggest::Report;

/// Text safe inside a table cell: no `|`, no line break, no stray markup.
pub fn cell(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut o = String::with_capacity(one.len());
    for c in one.chars() {
        match c {
            '|' => o.push_str("\\|"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '`' | '*' | '_' | '[' | ']' => {
                o.push('\\');
                o.push(c);
            }
            c => o.push(c),
        }
    }
    o
}

/// Code that cannot close its fence.
fn fenced(lang: &str, code: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{}\n{fence}\n", code.trim_end())
}

/// Fixes listed, at most.
const FIXES: usize = 5;
/// Findings listed, at most.
const FINDINGS: usize = 10;

/// Rendered, with every control character that came from the image escaped
/// (see [`super::escape`]).
pub fn render(report: &Report, v: &Verdict, opts: &Options) -> String {
    super::escape::block(&render_unescaped(report, v, opts)).into_owned()
}

fn render_unescaped(report: &Report, v: &Verdict, _opts: &Options) -> String {
    let mut o = String::new();
    let ok = v.passed();
    let s = &report.summary;
    let _ = writeln!(
        o,
        "### imgscope {} `{}`\n",
        if ok { "✅ PASS" } else { "❌ FAIL" },
        report.image.source.replace('`', "'")
    );
    let _ = writeln!(o, "{}.\n", verdict::summary(v));
    checks_table(&mut o, &v.checks);
    let _ = writeln!(
        o,
        "| Total | Pull | Wasted | Hidden | Cache | Efficiency | Layers |"
    );
    let _ = writeln!(o, "|---:|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        o,
        "| {} | {} | {} ({:.2}%, ~{} to pull) | {} | {} | {:.2}% | {} |\n",
        human(s.total_bytes),
        human(s.compressed_bytes),
        human(s.wasted_bytes),
        s.waste_ratio * 100.0,
        human(s.wasted_compressed_bytes),
        human(s.hidden_bytes),
        human(s.cache_bytes),
        s.efficiency * 100.0,
        s.layer_count
    );
    if let Some(ig) = &report.ignored {
        let _ = writeln!(o, "_{}_\n", cell(&verdict::ignored_line(ig)));
    }
    if let Some(origin) = &v.origin {
        let _ = writeln!(o, "_rules from {}_\n", cell(origin));
    }
    if v.default_rule {
        let _ = writeln!(
            o,
            "_no rule configured: `--ci` applied the default max-waste 10%_\n"
        );
    }
    if !report.suggestions.is_empty() {
        let _ = writeln!(o, "#### Top fixes\n");
        for (i, sg) in report.suggestions.iter().take(FIXES).enumerate() {
            let layers: Vec<String> = sg.layers.iter().map(|l| l.to_string()).collect();
            let _ = writeln!(
                o,
                "{}. {}**{}** — saves {} (layers {})",
                i + 1,
                if sg.in_base { "[base image] " } else { "" },
                cell(&sg.title),
                human(sg.saves_bytes),
                layers.join(", ")
            );
            let _ = writeln!(o, "   <details><summary>Before / after</summary>\n");
            for (_, block) in crate::present::before_after(sg) {
                for line in fenced("dockerfile", block).lines() {
                    let _ = writeln!(o, "   {line}");
                }
            }
            let _ = writeln!(o, "   </details>\n");
        }
        if report.suggestions.len() > FIXES {
            let _ = writeln!(
                o,
                "_and {} more; run `imgscope IMAGE` for all of them_\n",
                report.suggestions.len() - FIXES
            );
        }
    }
    if !report.waste.is_empty() {
        let shown = report.waste.len().min(FINDINGS);
        let _ = writeln!(
            o,
            "<details><summary>Largest findings ({shown} of {})</summary>\n",
            report.waste.len()
        );
        let _ = writeln!(o, "| Bytes | Kind | Stored in | Hidden by | Path |");
        let _ = writeln!(o, "|---:|---|---:|---:|---|");
        for f in report.waste.iter().take(FINDINGS) {
            let _ = writeln!(
                o,
                "| {} | {} | {}{} | {} | {} |",
                human(f.bytes),
                crate::present::kind_label(f.kind),
                f.stored_in_layer,
                if f.in_base { " (base)" } else { "" },
                f.hidden_by_layer
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "-".into()),
                cell(&f.path.display())
            );
        }
        let _ = writeln!(o, "\n</details>");
    }
    o
}

/// The table of checks (nothing when there are none), also used by `diff`.
pub fn checks_table(o: &mut String, checks: &[crate::ci::checks::Check]) {
    if checks.is_empty() {
        return;
    }
    let _ = writeln!(o, "| Check | Result | Actual | Limit |");
    let _ = writeln!(o, "|---|---|---|---|");
    for c in checks {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            cell(c.name.as_str()),
            if c.passed { "✅ pass" } else { "❌ fail" },
            cell(&c.actual),
            cell(&c.limit)
        );
    }
    let _ = writeln!(o);
}
