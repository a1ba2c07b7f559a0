//! CI checks: limits parsed once, rules evaluated against a report into a
//! [`Verdict`] (SPEC.md's `checks`).

use serde::Serialize;

use crate::analyze::ignore::Ignore;
use crate::analyze::waste::{Analysis as Report, WasteKind};
use crate::render::human;
use crate::suggest::Report as FullReport;

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub limit: String,
    pub actual: String,
    pub passed: bool,
}

/// The checks of a run and what they were read from.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    pub checks: Vec<Check>,
    /// Where rules came from besides flags.
    pub origin: Option<String>,
    /// `max-waste 10%` was applied because `--ci` had no rule.
    pub default_rule: bool,
}

impl Verdict {
    /// Whether every check passed (no check: passed).
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    pub fn failed_count(&self) -> usize {
        self.checks.iter().filter(|c| !c.passed).count()
    }
}

/// A limit given as a share of a total or as a size in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Percent(f64),
    Bytes(u64),
}

impl Limit {
    /// `10%`, `0.5%`, `50MB`, `1.5GiB`, `200000`, `200 kB`.
    pub fn parse(s: &str) -> Result<Limit, String> {
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            return parse_percent(p, s).map(Limit::Percent);
        }
        parse_size(t).map(Limit::Bytes)
    }

    /// The limit in bytes against `total`.
    pub fn bytes(&self, total: u64) -> u64 {
        match *self {
            Limit::Bytes(b) => b,
            Limit::Percent(p) => (total as f64 * p / 100.0).floor() as u64,
        }
    }

    pub fn describe(&self) -> String {
        match *self {
            Limit::Percent(p) => format!("{p}%"),
            Limit::Bytes(b) => format!("{} ({b} bytes)", human(b)),
        }
    }
}

fn parse_percent(p: &str, orig: &str) -> Result<f64, String> {
    let v: f64 = p
        .trim()
        .parse()
        .map_err(|_| format!("{orig:?} is not a percentage"))?;
    if !v.is_finite() || !(0.0..=100.0).contains(&v) {
        return Err(format!(
            "{orig:?}: a percentage must be between 0% and 100%"
        ));
    }
    Ok(v)
}

/// A ratio `0.9` or a percentage `90%`, as a ratio in 0..=1.
pub fn parse_ratio(s: &str) -> Result<f64, String> {
    let t = s.trim();
    if let Some(p) = t.strip_suffix('%') {
        return parse_percent(p, s).map(|v| v / 100.0);
    }
    let v: f64 = t
        .parse()
        .map_err(|_| format!("{s:?} is not a ratio (try 0.9 or 90%)"))?;
    if !v.is_finite() || !(0.0..=1.0).contains(&v) {
        return Err(format!(
            "{s:?}: a ratio must be between 0 and 1 (or a percentage such as 90%)"
        ));
    }
    Ok(v)
}

/// Parse a size: plain bytes or a number with a decimal (kB, MB, GB, TB) or
/// binary (KiB, MiB, GiB, TiB) unit; `K`, `M`, `G` alone are decimal.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (try 50MB, 1.5GiB or 200000)"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024.0 * 1024.0,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "ti" | "tib" => 1024f64.powi(4),
        other => {
            return Err(format!(
                "{s:?}: unknown size unit {other:?} (use B, kB, MB, GB, KiB, MiB, GiB)"
            ))
        }
    };
    let v = num * mult;
    if !v.is_finite() || v < 0.0 || v > u64::MAX as f64 {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(v.round() as u64)
}

/// Every rule of a run, after flags and configuration files were merged.
/// `None` is a rule that is not checked.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// Total bytes of the image.
    pub max_size: Option<u64>,
    /// Wasted bytes (hidden + cache), a share of total bytes or a size.
    pub max_waste: Option<Limit>,
    /// Ratio in 0..=1: fails when efficiency is below it.
    pub min_efficiency: Option<f64>,
    /// Hidden bytes only (layering waste).
    pub max_hidden: Option<Limit>,
    /// Cache bytes only.
    pub max_cache: Option<Limit>,
    pub max_optional: Option<Limit>,
    /// Percentage: wasted bytes over the bytes of all layers but the first
    /// (dive's `highestUserWastedPercent`).
    pub max_user_waste: Option<f64>,
    /// Regression gate against an earlier report.
    pub baseline: Option<Baseline>,
    /// Allowed growth of wasted bytes against the baseline: a size, or a
    /// share of the baseline's wasted bytes.
    pub max_growth: Option<Limit>,
    /// Where rules came from besides flags (`.imgscope.toml`, `.dive-ci (dive)`).
    pub origin: Option<String>,
    /// `max-waste 10%` applied because `--ci` had no rule: limits say `(default)`.
    pub default_rule: bool,
}

impl Gate {
    /// Whether any rule is set.
    pub fn is_empty(&self) -> bool {
        self.max_size.is_none()
            && self.max_waste.is_none()
            && self.min_efficiency.is_none()
            && self.max_hidden.is_none()
            && self.max_cache.is_none()
            && self.max_optional.is_none()
            && self.max_user_waste.is_none()
            && self.baseline.is_none()
    }
}

/// The figures of an earlier JSON report that the growth rule compares with.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Where it was read from (for messages).
    pub source: String,
    pub wasted_bytes: u64,
    pub total_bytes: u64,
}

impl Baseline {
    /// Read an imgscope JSON report (`--format json`). Its wasted bytes are
    /// taken less what `ignore` ignores of the findings it lists, so both
    /// sides are measured alike.
    pub fn from_json(text: &str, source: &str, ignore: &Ignore) -> Result<Baseline, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("{source}: not a JSON report: {e}"))?;
        let num = |field: &str| -> Result<u64, String> {
            v.get("summary")
                .and_then(|s| s.get(field))
                .and_then(|n| n.as_u64())
                .ok_or_else(|| {
                    format!(
                        "{source}: not an imgscope JSON report (no summary.{field}); \
                         make one with `imgscope --format json IMAGE > {source}`"
                    )
                })
        };
        let mut wasted_bytes = num("wasted_bytes")?;
        let total_bytes = num("total_bytes")?;
        if let Some(list) = v.get("waste").and_then(|w| w.as_array()) {
            let mut kept = 0u64;
            for f in list {
                let bytes = f.get("bytes").and_then(|b| b.as_u64());
                let path = f.get("path").and_then(json_path);
                match (path, bytes) {
                    (Some(p), Some(b)) => {
                        if !ignore.matches(&p) {
                            kept += b;
                        }
                    }
                    _ => return Err(format!("{source}: a `waste` entry has no path or bytes")),
                }
            }
            if !ignore.is_empty() {
                wasted_bytes = kept;
            }
        }
        Ok(Baseline {
            source: source.to_string(),
            wasted_bytes,
            total_bytes,
        })
    }
}

fn json_path(v: &serde_json::Value) -> Option<Vec<u8>> {
    if let Some(s) = v.as_str() {
        return Some(s.as_bytes().to_vec());
    }
    use base64::Engine;
    let b = v.get("bytes_base64")?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(b).ok()
}

fn pct(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 * 100.0 / total as f64
    }
}

fn bytes_text(b: u64) -> String {
    format!("{} ({b} bytes)", human(b))
}

/// A limit on `value` (a part of `total`): passes when `value` is not above it.
fn limit_check(name: &str, value: u64, total: u64, limit: Limit) -> Check {
    let actual = match limit {
        Limit::Percent(_) => format!("{:.2}% ({value} bytes)", pct(value, total)),
        Limit::Bytes(_) => bytes_text(value),
    };
    Check {
        name: name.into(),
        limit: limit.describe(),
        actual,
        passed: value <= limit.bytes(total),
    }
}

/// `max-waste`: fails when wasted_bytes is above the limit.
pub fn max_waste(report: &Report, limit: Limit) -> Check {
    let s = &report.summary;
    limit_check("max-waste", s.wasted_bytes, s.total_bytes, limit)
}

/// `max-hidden`: fails when hidden bytes (layering waste, no caches) are above the limit.
pub fn max_hidden(report: &Report, limit: Limit) -> Check {
    let s = &report.summary;
    limit_check("max-hidden", s.hidden_bytes, s.total_bytes, limit)
}

/// `max-optional`: fails when optional bytes are above the limit.
pub fn max_optional(report: &Report, limit: Limit) -> Check {
    let s = &report.summary;
    limit_check("max-optional", s.optional_bytes, s.total_bytes, limit)
}

/// `max-cache`: fails when cache bytes are above the limit.
pub fn max_cache(report: &Report, limit: Limit) -> Check {
    let s = &report.summary;
    limit_check("max-cache", s.cache_bytes, s.total_bytes, limit)
}

/// `max-size`: fails when the image's total bytes are above the limit.
pub fn max_size(report: &Report, limit: u64) -> Check {
    let s = &report.summary;
    limit_check(
        "max-size",
        s.total_bytes,
        s.total_bytes,
        Limit::Bytes(limit),
    )
}

/// `min-efficiency`: fails when efficiency (1 − wasted/total) is below `min`.
/// An empty image is fully efficient.
pub fn min_efficiency(report: &Report, min: f64) -> Check {
    let s = &report.summary;
    let eff = if s.total_bytes == 0 {
        1.0
    } else {
        1.0 - s.wasted_bytes as f64 / s.total_bytes as f64
    };
    Check {
        name: "min-efficiency".into(),
        limit: format!("{min}"),
        actual: format!("{eff:.4} ({:.2}%)", eff * 100.0),
        passed: eff >= min,
    }
}

/// The bytes dive calls "user" bytes: those of every layer but the first, or
/// of the whole image when that is zero (a single-layer image has no base to
/// leave out).
pub fn user_bytes(report: &Report) -> u64 {
    let rest: u64 = report.layers.iter().skip(1).map(|l| l.bytes).sum();
    if rest == 0 {
        report.summary.total_bytes
    } else {
        rest
    }
}

/// `max-user-waste` (dive's `highestUserWastedPercent`): wasted bytes over
/// [`user_bytes`]; fails when above `percent`. Never NaN: 0 bytes over 0 is 0%.
pub fn max_user_waste(report: &Report, percent: f64) -> Check {
    let user = user_bytes(report);
    let wasted = report.summary.wasted_bytes;
    let share = pct(wasted, user);
    Check {
        name: "max-user-waste".into(),
        limit: format!("{percent}%"),
        actual: format!("{share:.2}% ({wasted} bytes of {user} bytes in layers after the first)"),
        passed: share <= percent,
    }
}

/// `max-growth`: fails when wasted bytes grew by more than `limit` against the
/// baseline (a percentage is of the baseline's wasted bytes).
pub fn max_growth(report: &Report, base: &Baseline, limit: Limit) -> Check {
    let before = base.wasted_bytes;
    let now = report.summary.wasted_bytes;
    let growth = now as i128 - before as i128;
    let allowed = limit.bytes(before);
    let sign = if growth >= 0 { "+" } else { "-" };
    let limit_text = match limit {
        Limit::Percent(p) => {
            format!("{p}% of the baseline's {before} wasted bytes ({allowed} bytes)")
        }
        Limit::Bytes(_) => limit.describe(),
    };
    Check {
        name: "max-growth".into(),
        limit: limit_text,
        actual: format!(
            "{sign}{} ({sign}{} bytes: {before} -> {now} wasted bytes, baseline {})",
            human(growth.unsigned_abs() as u64),
            growth.unsigned_abs(),
            base.source
        ),
        passed: growth <= allowed as i128,
    }
}

/// Every check of `gate`, in a fixed order.
pub fn evaluate(report: &FullReport, gate: &Gate) -> Verdict {
    let report: &Report = report;
    let mut out = Vec::new();
    if let Some(l) = gate.max_size {
        out.push(max_size(report, l));
    }
    if let Some(l) = gate.max_waste {
        out.push(max_waste(report, l));
    }
    if let Some(m) = gate.min_efficiency {
        out.push(min_efficiency(report, m));
    }
    if let Some(l) = gate.max_hidden {
        out.push(max_hidden(report, l));
    }
    if let Some(l) = gate.max_cache {
        out.push(max_cache(report, l));
    }
    if let Some(l) = gate.max_optional {
        out.push(max_optional(report, l));
    }
    if let Some(p) = gate.max_user_waste {
        out.push(max_user_waste(report, p));
    }
    if let Some(b) = &gate.baseline {
        out.push(max_growth(
            report,
            b,
            gate.max_growth.unwrap_or(Limit::Bytes(0)),
        ));
    }
    if gate.default_rule {
        for c in &mut out {
            c.limit.push_str(" (default)");
        }
    }
    Verdict {
        checks: out,
        origin: gate.origin.clone(),
        default_rule: gate.default_rule,
    }
}

/// What a check measures, in one sentence (for JUnit failures, SARIF and
/// annotations).
pub fn explain(name: &str) -> &'static str {
    match name {
        "max-size" => "The image's total bytes (every regular file of every layer) must not be above the limit.",
        "max-waste" => "Wasted bytes (bytes hidden by later layers plus package-manager caches and temp files left in the image) must not be above the limit.",
        "min-efficiency" => "Efficiency (1 - wasted bytes / total bytes) must not be below the limit.",
        "max-hidden" => "Hidden bytes (stored in a layer, then removed, overwritten, moved or re-stored by a later one) must not be above the limit.",
        "max-optional" => "Optional bytes (Python bytecode, documentation, man pages, locales: visible files a team may remove at a cost) must not be above the limit.",
        "max-cache" => "Cache bytes (package-manager caches and temp files still visible in the image) must not be above the limit.",
        "max-user-waste" => "Wasted bytes over the bytes of every layer but the first (dive's highestUserWastedPercent) must not be above the limit.",
        "max-growth" => "Wasted bytes must not grow by more than the limit against the baseline report.",
        _ => "",
    }
}

/// Which waste kinds a check is about (a failed check makes the findings of
/// these kinds errors in SARIF). `max-size` is about everything.
pub fn kinds_of(name: &str) -> &'static [WasteKind] {
    match name {
        "max-hidden" => &[
            WasteKind::Removed,
            WasteKind::Overwritten,
            WasteKind::MetadataOnly,
            WasteKind::Moved,
        ],
        "max-cache" => &[WasteKind::Cache],
        // Optional files are not findings.
        "max-optional" => &[],
        _ => &WasteKind::ALL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_limits() {
        assert_eq!(Limit::parse("10%").unwrap(), Limit::Percent(10.0));
        assert_eq!(Limit::parse("50MB").unwrap(), Limit::Bytes(50_000_000));
        assert_eq!(Limit::parse("1.5GiB").unwrap(), Limit::Bytes(1_610_612_736));
        assert_eq!(Limit::parse("200000").unwrap(), Limit::Bytes(200_000));
        assert_eq!(Limit::parse("200 kB").unwrap(), Limit::Bytes(200_000));
        assert!(Limit::parse("lots").is_err());
        assert!(Limit::parse("120%").is_err());
        assert!(Limit::parse("-1%").is_err());
        assert!(Limit::parse("5 parsecs").is_err());
        assert_eq!(Limit::Percent(10.0).bytes(1000), 100);
    }

    #[test]
    fn parses_ratios() {
        assert_eq!(parse_ratio("0.9").unwrap(), 0.9);
        assert_eq!(parse_ratio("90%").unwrap(), 0.9);
        assert!(parse_ratio("1.5").is_err());
        assert!(parse_ratio("NaN").is_err());
    }
}
