//! `imgscope diff --format markdown`: a pull-request comment. A headline,
//! the totals, the aligned layers, collapsible details (findings, realised
//! suggestions, file changes) and the fixes that remain. GitHub refuses a
//! comment over 65,536 characters: lists are cut shorter until the comment
//! fits, and a note says what was left out.

use std::fmt::Write;

use super::diff_text::headline;
use super::markdown::cell;
use crate::analyze::waste::Finding;
use crate::compare::diff::Diff;
use crate::present::{change_pct, human, kind_label, signed};

/// GitHub's limit on a comment body, in characters.
pub const GITHUB_LIMIT: usize = 65_536;
/// What we aim under (bytes, which are never fewer than characters).
const BUDGET: usize = 64_000;

/// Markdown's minus sign for a signed size.
fn minus(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => s,
    }
}

fn sz(d: i64) -> String {
    minus(signed(d))
}

fn pct(old: u64, d: i64) -> String {
    minus(change_pct(old, d))
}

fn short(s: &str, max: usize) -> String {
    crate::present::truncate(s, max)
}

/// The comment, at most [`GITHUB_LIMIT`] characters.
/// Rendered, with every control character that came from the image escaped
/// (see [`super::escape`]).
pub fn render(d: &Diff) -> String {
    super::escape::block(&render_unescaped(d)).into_owned()
}

fn render_unescaped(d: &Diff) -> String {
    // Rows per list, shrinking until the comment fits.
    for rows in [50usize, 25, 12, 6, 3, 1, 0] {
        let (body, left_out) = render_with(d, rows, rows.max(2) * 4);
        if body.len() <= BUDGET {
            return finish(body, left_out);
        }
    }
    // Even without lists it is too long (thousands of layers): cut the text.
    let (body, left_out) = render_with(d, 0, 40);
    let mut cut = BUDGET - 400;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut body = body[..cut].to_string();
    body.push_str("\n\n");
    finish(body, left_out.max(1))
}

fn finish(mut body: String, left_out: usize) -> String {
    if left_out > 0 {
        let _ = writeln!(
            body,
            "\n_Truncated to stay under GitHub's {GITHUB_LIMIT}-character comment limit: \
             {left_out} rows left out. `imgscope diff --format json OLD NEW` has everything._"
        );
    }
    body
}

fn findings_table(o: &mut String, list: &[Finding], rows: usize) -> usize {
    let _ = writeln!(o, "| Bytes | Kind | Stored in | Hidden by | Rule | Path |");
    let _ = writeln!(o, "|---:|---|---:|---:|---|---|");
    let (shown, empty) = crate::present::nonempty(list, |f| f.bytes);
    for f in shown.iter().take(rows) {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            human(f.bytes),
            kind_label(f.kind),
            f.stored_in_layer,
            f.hidden_by_layer.map_or("-".into(), |l| l.to_string()),
            f.rule.as_deref().unwrap_or("-"),
            cell(&short(&f.path.display(), 200))
        );
    }
    if empty > 0 {
        let _ = writeln!(o, "\n_{}_", crate::present::empty_note(empty));
    }
    shown.len().saturating_sub(rows)
}

/// The comment with at most `rows` rows per list and `layer_rows` layers;
/// also how many rows were left out.
fn render_with(d: &Diff, rows: usize, layer_rows: usize) -> (String, usize) {
    let mut o = String::new();
    let mut left_out = 0;
    let failed = d.checks.iter().filter(|c| !c.passed).count();
    let mark = if d.checks.is_empty() {
        ""
    } else if failed == 0 {
        "✅ "
    } else {
        "❌ "
    };
    let _ = writeln!(o, "### {mark}imgscope diff: {}\n", minus_all(&headline(d)));
    let _ = writeln!(
        o,
        "`{}` → `{}`\n",
        short(&d.old.source, 200).replace('`', "'"),
        short(&d.new.source, 200).replace('`', "'")
    );
    super::markdown::checks_table(&mut o, &d.checks);
    let (os, ns) = (&d.old.summary, &d.new.summary);
    let _ = writeln!(o, "| | Old | New | Change |");
    let _ = writeln!(o, "|---|---:|---:|---:|");
    for (name, a, b, delta) in [
        ("Image", os.total_bytes, ns.total_bytes, d.total_delta),
        (
            "Visible",
            os.visible_bytes,
            ns.visible_bytes,
            d.visible_delta,
        ),
        (
            "**Wasted**",
            os.wasted_bytes,
            ns.wasted_bytes,
            d.wasted_delta,
        ),
        ("Pull", d.old.pull_bytes, d.new.pull_bytes, d.pull_delta),
    ] {
        let p = pct(a, delta);
        let p = if p.is_empty() { p } else { format!(" ({p})") };
        let _ = writeln!(
            o,
            "| {name} | {} | {} | {}{p} |",
            human(a),
            human(b),
            sz(delta)
        );
    }
    let _ = writeln!(o);

    let _ = writeln!(o, "| Old | New | Layer | Bytes | Waste | Instruction |");
    let _ = writeln!(o, "|---:|---:|---|---:|---:|---|");
    let idx = |i: Option<usize>| i.map_or("–".to_string(), |i| i.to_string());
    for l in d.layers.iter().take(layer_rows) {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            idx(l.old),
            idx(l.new),
            l.status.as_str(),
            sz(l.bytes_delta),
            sz(l.wasted_delta),
            cell(&short(&l.command(), 120))
        );
    }
    if d.layers.len() > layer_rows {
        left_out += d.layers.len() - layer_rows;
        let _ = writeln!(o, "\n_{} more layers_", d.layers.len() - layer_rows);
    }
    let _ = writeln!(o);

    for (name, list) in [("Fixed", &d.fixed), ("Introduced", &d.introduced)] {
        if list.is_empty() {
            continue;
        }
        let total: u64 = list.iter().map(|f| f.bytes).sum();
        let _ = writeln!(
            o,
            "<details><summary>{name} findings: {} ({})</summary>\n",
            list.len(),
            human(total)
        );
        left_out += findings_table(&mut o, list, rows);
        let _ = writeln!(o, "\n</details>\n");
    }
    if !d.changed.is_empty() {
        let _ = writeln!(
            o,
            "<details><summary>Changed findings: {}</summary>\n",
            d.changed.len()
        );
        let _ = writeln!(o, "| Change | Old | New | Kind | Path |");
        let _ = writeln!(o, "|---:|---:|---:|---|---|");
        for c in d.changed.iter().take(rows) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                sz(c.bytes_delta),
                human(c.old.bytes),
                human(c.new.bytes),
                kind_label(c.old.kind),
                cell(&short(&c.old.path.display(), 200))
            );
        }
        left_out += d.changed.len().saturating_sub(rows);
        let _ = writeln!(o, "\n</details>\n");
    }
    if !d.realised.is_empty() {
        let all = d
            .realised
            .iter()
            .filter(|r| r.realised_bytes == r.saves_bytes)
            .count();
        let _ = writeln!(
            o,
            "<details><summary>Suggestions for the old image: {all} of {} fully realised</summary>\n",
            d.realised.len()
        );
        let _ = writeln!(o, "| Suggested saving | Realised | Fix |");
        let _ = writeln!(o, "|---:|---:|---|");
        for r in d.realised.iter().take(rows.max(1) * 2) {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                human(r.saves_bytes),
                human(r.realised_bytes),
                cell(&crate::present::truncate_words(&r.title, 160))
            );
        }
        left_out += d.realised.len().saturating_sub(rows.max(1) * 2);
        let _ = writeln!(o, "\n</details>\n");
    }
    if !d.files.is_empty() {
        let _ = writeln!(
            o,
            "<details><summary>File changes: {}</summary>\n",
            d.files.len()
        );
        let _ = writeln!(o, "| Change | Status | Path |");
        let _ = writeln!(o, "|---:|---|---|");
        for f in d.files.iter().take(rows) {
            let path = short(&f.path.display(), 200);
            let path = if f.dir {
                format!("{}/ ({} files)", cell(&path), f.files)
            } else {
                cell(&path)
            };
            let _ = writeln!(
                o,
                "| {} | {} | {path} |",
                sz(f.bytes_delta),
                f.status.as_str()
            );
        }
        left_out += d.files.len().saturating_sub(rows);
        let _ = writeln!(o, "\n</details>\n");
    }
    if !d.remaining.is_empty() {
        let _ = writeln!(o, "#### Fixes that remain\n");
        for (i, s) in d.remaining.iter().take(rows.max(1) * 2).enumerate() {
            let _ = writeln!(
                o,
                "{}. **{}** — saves {}",
                i + 1,
                cell(&crate::present::truncate_words(&s.title, 200)),
                human(s.saves_bytes)
            );
        }
        left_out += d.remaining.len().saturating_sub(rows.max(1) * 2);
    }
    (o, left_out)
}

/// Every ASCII minus before a digit as a typographic minus.
fn minus_all(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '-' && it.peek().is_some_and(|n| n.is_ascii_digit()) {
            o.push('−');
        } else {
            o.push(c);
        }
    }
    o
}
