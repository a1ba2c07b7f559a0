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

/// [`truncate`], cut at a word boundary (a space, or after a `/` of a
/// path) where one leaves at least half of `max`: a title is not cut
/// mid-word.
pub fn truncate_words(s: &str, max: usize) -> String {
    let s = escape::line(&one_line(s)).into_owned();
    if s.chars().count() <= max || max == 0 {
        return fit(&s, max);
    }
    let keep: String = s.chars().take(max - 1).collect();
    if s.chars().nth(max - 1) == Some(' ') {
        return format!("{}…", keep.trim_end());
    }
    let at = keep.rfind(' ').max(keep.rfind('/').map(|i| i + 1));
    match at {
        Some(i) if keep[..i].chars().count() >= max / 2 => format!("{}…", keep[..i].trim_end()),
        _ => format!("{keep}…"),
    }
}

/// The findings of a diff list worth a line (empty files, such as lock
/// files, are only counted), and how many were left out.
pub fn nonempty<T>(list: &[T], bytes: impl Fn(&T) -> u64) -> (Vec<&T>, usize) {
    let v: Vec<&T> = list.iter().filter(|f| bytes(f) > 0).collect();
    let empty = list.len() - v.len();
    (v, empty)
}

/// `, 2 empty files not listed` (nothing when none).
pub fn empty_note(empty: usize) -> String {
    match empty {
        0 => String::new(),
        1 => "1 empty file not listed".into(),
        n => format!("{n} empty files not listed"),
    }
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

/// Why a finding the base image stored is there, and what removes it: not
/// a cleanup in your RUN (a later layer cannot take bytes out of a base
/// layer), only another base.
pub fn why_base() -> &'static str {
    "Stored by a layer of the base image: no step of your Dockerfile can remove these bytes, \
     deleting them later only hides them. Pick a base image without them, or build in a stage \
     and copy the finished files into a fresh one (which gives up sharing the base layers)."
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
        assert_eq!(
            truncate_words("Delete the apt lists in one RUN", 16),
            "Delete the apt…"
        );
        assert_eq!(
            truncate_words("Delete the apt lists", 15),
            "Delete the apt…"
        );
        assert_eq!(truncate_words("Deletetheaptlists in one", 10), "Deletethe…");
        assert_eq!(truncate_words("short", 10), "short");
        assert_eq!(
            truncate_words("Delete /opt/some/file in one", 20),
            "Delete /opt/some/…"
        );
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
