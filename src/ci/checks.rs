//! CI checks: limits parsed once, rules evaluated against a report into a
//! [`Verdict`] (SPEC.md's `checks`).

use serde::Serialize;

use super::rules::{rules, CheckName, Configured, Eval, Target};
use crate::analyze::ignore::Ignore;
use crate::analyze::waste::{Analysis as Report, Summary};
use crate::suggest::Report as FullReport;
use crate::units::{bytes_text, human, share as pct};

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: CheckName,
    pub limit: String,
    pub actual: String,
    pub passed: bool,
    /// `user` when the check counted only the layers after the base
    /// image's (`--scope user`, and `max-user-waste` always); not written
    /// for `all`.
    #[serde(skip_serializing_if = "Scope::is_all")]
    pub scope: Scope,
}

/// Which layers the checks count: all of them, or only the user's (those
/// after the base image's, see [`crate::analyze::base`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    All,
    User,
}

impl Scope {
    pub fn parse(s: &str) -> Result<Scope, String> {
        match s.trim() {
            "all" => Ok(Scope::All),
            "user" => Ok(Scope::User),
            other => Err(format!("{other:?}: the scope is \"user\" or \"all\"")),
        }
    }

    pub fn is_all(&self) -> bool {
        *self == Scope::All
    }
}

/// The summary the checks of `scope` read: the report's, or the same
/// figures over the user's layers only (findings and optional files stored
/// by those layers; totals of those layers).
pub fn scoped(report: &Report, scope: Scope) -> std::borrow::Cow<'_, Summary> {
    use crate::analyze::waste::WasteKind;
    let s = &report.summary;
    if scope == Scope::All {
        return std::borrow::Cow::Borrowed(s);
    }
    let mine = || report.waste.iter().filter(|f| !f.in_base);
    let hidden: u64 = mine()
        .filter(|f| f.kind != WasteKind::Cache)
        .map(|f| f.bytes)
        .sum();
    let cache: u64 = mine()
        .filter(|f| f.kind == WasteKind::Cache)
        .map(|f| f.bytes)
        .sum();
    let total = s.user_bytes;
    let wasted = hidden + cache;
    let ratio = if total == 0 {
        0.0
    } else {
        wasted as f64 / total as f64
    };
    let user_layers = || report.layers.iter().filter(|l| !l.in_base);
    std::borrow::Cow::Owned(Summary {
        total_bytes: total,
        visible_bytes: total.saturating_sub(hidden),
        hidden_bytes: hidden,
        cache_bytes: cache,
        optional_bytes: report
            .optional
            .iter()
            .filter(|o| !report.image.base.contains(o.layer))
            .map(|o| o.bytes)
            .sum(),
        wasted_bytes: wasted,
        waste_ratio: ratio,
        efficiency: 1.0 - ratio,
        layer_count: user_layers().count(),
        file_count: s.file_count,
        squash_saves_bytes: hidden,
        compressed_bytes: user_layers().map(|l| l.compressed_bytes).sum(),
        pull_bytes: user_layers().map(|l| l.pull_bytes()).sum(),
        pull_estimated_layers: user_layers().filter(|l| l.pull_estimate.is_some()).count(),
        wasted_compressed_bytes: mine().map(|f| f.compressed_bytes).sum(),
        user_bytes: total,
        user_wasted_bytes: wasted,
    })
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
            Limit::Bytes(b) => bytes_text(b),
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

/// Every rule of a run, after flags and configuration files were merged:
/// the rules that are on, in [`super::rules::RULES`]'s order.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    pub rules: Vec<Configured>,
    /// Regression gate against an earlier report (`max-growth`).
    pub baseline: Option<Baseline>,
    /// Where rules came from besides flags (`.imgscope.toml`, `.dive-ci (dive)`).
    pub origin: Option<String>,
    /// The `--ci` default applied because no rule was set: limits say `(default)`.
    pub default_rule: bool,
    /// Which layers the checks count (`--scope`, `scope` in `.imgscope.toml`).
    pub scope: Scope,
}

impl Gate {
    /// Whether any rule is set.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.baseline.is_none()
    }

    /// The rule of that name, when it is on.
    pub fn get(&self, name: CheckName) -> Option<&Configured> {
        self.rules.iter().find(|c| c.name == name)
    }

    /// Switch a rule on (replacing its value), keeping the table's order.
    pub fn set(&mut self, rule: Configured) {
        self.rules.retain(|c| c.name != rule.name);
        self.rules.push(rule);
        self.rules.sort_by_key(|c| c.name);
    }
}

/// The figures of an earlier JSON report that the growth rule compares with.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Where it was read from (for messages).
    pub source: String,
    pub wasted_bytes: u64,
    pub total_bytes: u64,
    /// Its waste in the user's layers (`summary.user_wasted_bytes`), for
    /// `--scope user`; None in a report older than that field.
    pub user_wasted_bytes: Option<u64>,
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
        let mut user_wasted_bytes = num("user_wasted_bytes").ok();
        if let Some(list) = v.get("waste").and_then(|w| w.as_array()) {
            let (mut kept, mut kept_user) = (0u64, 0u64);
            for f in list {
                let bytes = f.get("bytes").and_then(|b| b.as_u64());
                let path = f.get("path").and_then(json_path);
                match (path, bytes) {
                    (Some(p), Some(b)) => {
                        if !ignore.matches(&p) {
                            kept += b;
                            if f.get("in_base").and_then(|x| x.as_bool()) != Some(true) {
                                kept_user += b;
                            }
                        }
                    }
                    _ => return Err(format!("{source}: a `waste` entry has no path or bytes")),
                }
            }
            if !ignore.is_empty() {
                wasted_bytes = kept;
                user_wasted_bytes = user_wasted_bytes.map(|_| kept_user);
            }
        }
        Ok(Baseline {
            source: source.to_string(),
            wasted_bytes,
            total_bytes,
            user_wasted_bytes,
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

/// A limit on `value` (a part of `total`): passes when `value` is not above it.
fn limit_check(name: CheckName, value: u64, total: u64, limit: Limit) -> Check {
    let actual = match limit {
        Limit::Percent(_) => format!("{:.2}% ({value} bytes)", pct(value, total)),
        Limit::Bytes(_) => bytes_text(value),
    };
    Check {
        name,
        limit: limit.describe(),
        actual,
        passed: value <= limit.bytes(total),
        scope: Scope::All,
    }
}

/// `min-efficiency`: fails when efficiency (1 − wasted/total) is below `min`.
/// An empty image is fully efficient.
pub fn min_efficiency(s: &Summary, min: f64) -> Check {
    let eff = if s.total_bytes == 0 {
        1.0
    } else {
        1.0 - s.wasted_bytes as f64 / s.total_bytes as f64
    };
    Check {
        name: CheckName::MinEfficiency,
        limit: format!("{min}"),
        actual: format!("{eff:.4} ({:.2}%)", eff * 100.0),
        passed: eff >= min,
        scope: Scope::All,
    }
}

/// `max-user-waste` (dive's `highestUserWastedPercent`): the waste stored by
/// the user's layers over those layers' bytes, with the real base-image
/// boundary (every layer when it is unknown).
pub fn max_user_waste(report: &Report, percent: f64) -> Check {
    let s = &report.summary;
    let (user, wasted) = (s.user_bytes, s.user_wasted_bytes);
    let share = pct(wasted, user);
    let base = &report.image.base;
    let after = if base.layers > 0 {
        format!("after {}'s {} layers", base.label(), base.layers)
    } else {
        "in every layer (base unknown)".to_string()
    };
    Check {
        name: CheckName::MaxUserWaste,
        limit: format!("{percent}%"),
        actual: format!("{share:.2}% ({wasted} bytes of {user} bytes in the layers {after})"),
        passed: share <= percent,
        scope: Scope::User,
    }
}

pub fn max_growth(report: &Report, base: &Baseline, limit: Limit, scope: Scope) -> Check {
    let (before, now) = match scope {
        Scope::All => (base.wasted_bytes, report.summary.wasted_bytes),
        Scope::User => (
            base.user_wasted_bytes.unwrap_or(base.wasted_bytes),
            report.summary.user_wasted_bytes,
        ),
    };
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
        name: CheckName::MaxGrowth,
        limit: limit_text,
        actual: format!(
            "{sign}{} ({sign}{} bytes: {before} -> {now} wasted bytes, baseline {})",
            human(growth.unsigned_abs() as u64),
            growth.unsigned_abs(),
            base.source
        ),
        passed: growth <= allowed as i128,
        scope,
    }
}

/// Growth of `what` bytes from `old` to `new` (a percentage is of `old`).
pub(crate) fn growth_check(name: CheckName, what: &str, old: u64, new: u64, limit: Limit) -> Check {
    let growth = new as i128 - old as i128;
    let allowed = limit.bytes(old);
    let sign = if growth >= 0 { "+" } else { "-" };
    let limit_text = match limit {
        Limit::Percent(p) => format!("{p}% of the old {old} {what} bytes ({allowed} bytes)"),
        Limit::Bytes(_) => limit.describe(),
    };
    Check {
        name,
        limit: limit_text,
        actual: format!(
            "{sign}{} ({sign}{} bytes: {old} -> {new} {what} bytes)",
            human(growth.unsigned_abs() as u64),
            growth.unsigned_abs()
        ),
        passed: growth <= allowed as i128,
        scope: Scope::All,
    }
}

/// Every check of `gate` over an image's report, in the table's order.
pub fn evaluate(report: &FullReport, gate: &Gate) -> Verdict {
    let report: &Report = report;
    let summary = scoped(report, gate.scope);
    let mut out: Vec<Check> = rules(Target::Image)
        .filter_map(|d| {
            let c = gate.get(d.name)?;
            match d.eval {
                Eval::Part(part) => {
                    let s = &summary;
                    let mut c = limit_check(d.name, part(s), s.total_bytes, c.value.limit());
                    if gate.scope == Scope::User {
                        c.scope = Scope::User;
                        c.actual.push_str(" in your layers");
                    }
                    Some(c)
                }
                Eval::Image(f) => f(report, &summary, c, gate),
                _ => None,
            }
        })
        .collect();
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

/// Every diff rule of `gate` over the summaries of OLD and NEW, in the
/// table's order.
pub fn evaluate_diff(old: &Summary, new: &Summary, gate: &Gate) -> Vec<Check> {
    rules(Target::Diff)
        .filter_map(|d| match d.eval {
            Eval::Diff(f) => Some(f(old, new, gate.get(d.name)?)),
            _ => None,
        })
        .collect()
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
