//! Presentation, defined once for every output (text, Markdown, SARIF,
//! JUnit, GitHub annotations, HTML and the TUI): sizes and percentages, cut
//! and one-line texts, the labels of waste kinds, a suggestion's
//! before/after block, and the "why" and check explanation texts (from
//! `assets/`). `suggest` and `ci` hold data; this module says it in words.
//!
//! Above `ci` and `compare`, below `render` and `tui`.

pub mod escape;

pub use crate::units::{bytes_text, human, share};

use crate::analyze::waste::WasteKind;
use crate::ci::rules::{CheckName, Target};
use crate::suggest::Suggestion;

/// `12.3%` of `total` (`0.0%` when `total` is 0).
pub fn pct(part: u64, total: u64) -> String {
    format!("{:.1}%", share(part, total))
}

/// A signed size: `+1.2 MB`, `-3 kB`, `0 B`.
pub fn signed(d: i64) -> String {
    match d.signum() {
        1 => format!("+{}", human(d.unsigned_abs())),
        -1 => format!("-{}", human(d.unsigned_abs())),
        _ => "0 B".into(),
    }
}

/// The change as a percentage of `old`: `+12.5%`; empty when `old` is 0.
pub fn change_pct(old: u64, d: i64) -> String {
    if old == 0 {
        return String::new();
    }
    format!("{:+.1}%", d as f64 * 100.0 / old as f64)
}

/// Whitespace runs (newlines included) become single spaces.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cut to `w` characters (one column each), with an ellipsis.
pub fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(w - 1).collect();
    out.push('…');
    out
}

/// One line of at most `max` characters, with what came from the image
/// escaped (see [`escape`]).
pub fn truncate(s: &str, max: usize) -> String {
    fit(&escape::line(&one_line(s)), max)
}

/// A waste kind in words (`metadata only`).
pub fn kind_label(k: WasteKind) -> &'static str {
    match k {
        WasteKind::Removed => "removed",
        WasteKind::Overwritten => "overwritten",
        WasteKind::MetadataOnly => "metadata only",
        WasteKind::Moved => "moved",
        WasteKind::Cache => "cache",
    }
}

/// Why a finding of this kind is waste, in one or two plain sentences
/// (assets/suggestions.toml).
pub fn why(kind: WasteKind) -> &'static str {
    crate::suggest::texts::texts().why(kind)
}

/// What a check measures, in one sentence (assets/checks.toml).
pub fn explain(name: CheckName) -> &'static str {
    #[derive(serde::Deserialize)]
    struct Texts {
        image: std::collections::BTreeMap<String, String>,
        diff: std::collections::BTreeMap<String, String>,
    }
    static T: std::sync::OnceLock<Texts> = std::sync::OnceLock::new();
    let t = T.get_or_init(|| {
        toml::from_str(include_str!("../../assets/checks.toml")).expect("assets/checks.toml parses")
    });
    let map = match name.def().target {
        Target::Image => &t.image,
        Target::Diff => &t.diff,
    };
    map.get(name.as_str()).map(String::as_str).unwrap_or("")
}

/// A suggestion's before/after block: each side's label and text, in the
/// order every output shows them. An optional trade-off on a step without
/// a fix in its own text (a COPY of docs) has no "after": its why says how.
pub fn before_after(sg: &Suggestion) -> Vec<(&'static str, &str)> {
    let mut v = vec![("Before", sg.before.trim_end())];
    if !sg.after.trim().is_empty() {
        v.push(("After", sg.after.trim_end()));
    } else if !sg.no_after.is_empty() {
        v.push(("No After", sg.no_after.trim_end()));
    }
    v
}

/// The before/after block as plain text: `Before:` then its lines indented
/// by two more columns, all after `indent`.
pub fn before_after_text(sg: &Suggestion, indent: &str) -> String {
    let mut o = String::new();
    for (label, text) in before_after(sg) {
        o.push_str(&format!("{indent}{label}:\n"));
        for l in text.lines() {
            o.push_str(&format!("{indent}  {l}\n"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(pct(1, 8), "12.5%");
        assert_eq!(pct(1, 0), "0.0%");
        assert_eq!(signed(-1000), "-1 kB");
        assert_eq!(change_pct(0, 5), "");
        assert_eq!(change_pct(200, -50), "-25.0%");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(truncate("a\n  b\x1b", 10), "a b\\x1b");
    }

    #[test]
    fn every_check_is_explained() {
        for d in crate::ci::rules::RULES.iter() {
            if !matches!(d.eval, crate::ci::rules::Eval::None) {
                assert!(!explain(d.name).is_empty(), "{}", d.name);
            }
        }
    }
}
