//! `imgscope diff --format github`: GitHub Actions workflow commands. An
//! `::error` per failed growth rule, a `::warning` per introduced or grown
//! finding (the largest first), and a `::notice` with the headline.

use std::fmt::Write;

use super::diff_text::headline;
use super::github::{data, property};
use super::human;
use crate::compare::diff::Diff;

/// Warnings written, at most (GitHub shows 10 per step).
const WARNINGS: usize = 10;

/// Rendered, with every control character that came from the image escaped
/// (see [`super::escape`]).
pub fn render(d: &Diff) -> String {
    super::escape::block(&render_unescaped(d)).into_owned()
}

fn render_unescaped(d: &Diff) -> String {
    let mut o = String::new();
    for c in d.checks.iter().filter(|c| !c.passed) {
        let _ = writeln!(
            o,
            "::error title={}::{}",
            property(&format!("imgscope: {} failed", c.name)),
            data(&format!(
                "{} -> {}: {} (limit {})\n{}\n{}",
                d.old.source,
                d.new.source,
                c.actual,
                c.limit,
                crate::present::explain(c.name),
                headline(d)
            ))
        );
    }
    let mut warnings = Vec::new();
    // Empty files (lock files) are no news.
    for f in d.introduced.iter().filter(|f| f.bytes > 0) {
        warnings.push((
            f.bytes,
            format!("imgscope: new waste {}", human(f.bytes)),
            format!(
                "{} {} (stored in layer {}{}) is new in {}",
                crate::present::kind_label(f.kind),
                f.path.display(),
                f.stored_in_layer,
                f.hidden_by_layer
                    .map(|h| format!(", hidden by layer {h}"))
                    .unwrap_or_default(),
                d.new.source
            ),
        ));
    }
    for c in d.changed.iter().filter(|c| c.bytes_delta > 0) {
        warnings.push((
            c.bytes_delta.unsigned_abs(),
            format!(
                "imgscope: waste grew {}",
                human(c.bytes_delta.unsigned_abs())
            ),
            format!(
                "{} {} grew from {} to {}",
                crate::present::kind_label(c.new.kind),
                c.new.path.display(),
                human(c.old.bytes),
                human(c.new.bytes)
            ),
        ));
    }
    warnings.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
    for (_, title, msg) in warnings.iter().take(WARNINGS) {
        let _ = writeln!(o, "::warning title={}::{}", property(title), data(msg));
    }
    let failed = d.checks.iter().any(|c| !c.passed);
    let fixed: u64 = d.fixed.iter().map(|f| f.bytes).sum();
    let _ = writeln!(
        o,
        "::notice title={}::{}",
        property(if failed {
            "imgscope diff FAIL"
        } else {
            "imgscope diff"
        }),
        data(&format!(
            "{} -> {}\n{}\n{} findings fixed ({}), {} introduced, {} changed",
            d.old.source,
            d.new.source,
            headline(d),
            d.fixed.len(),
            human(fixed),
            d.introduced.len(),
            d.changed.len()
        ))
    );
    o
}
