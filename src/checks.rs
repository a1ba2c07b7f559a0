//! CI checks: limits parsed once, evaluated against a report.

use crate::analysis::{Check, Report};
use crate::output::human;

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
            let v: f64 = p.trim().parse().map_err(|_| format!("{s:?} is not a percentage"))?;
            if !(0.0..=100.0).contains(&v) || !v.is_finite() {
                return Err(format!("{s:?}: a percentage must be between 0% and 100%"));
            }
            return Ok(Limit::Percent(v));
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
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024f64.powi(4),
        other => return Err(format!("{s:?}: unknown size unit {other:?} (use B, kB, MB, GB, KiB, MiB, GiB)")),
    };
    let v = num * mult;
    if !v.is_finite() || v < 0.0 || v > u64::MAX as f64 {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(v.round() as u64)
}

/// `max-waste`: fails when wasted_bytes is above the limit.
pub fn max_waste(report: &Report, limit: Limit) -> Check {
    let s = &report.summary;
    let lim = limit.bytes(s.total_bytes);
    let actual = match limit {
        Limit::Percent(_) => format!(
            "{:.2}% ({} bytes)",
            if s.total_bytes == 0 { 0.0 } else { s.wasted_bytes as f64 * 100.0 / s.total_bytes as f64 },
            s.wasted_bytes
        ),
        Limit::Bytes(_) => format!("{} ({} bytes)", human(s.wasted_bytes), s.wasted_bytes),
    };
    Check {
        name: "max-waste".into(),
        limit: limit.describe(),
        actual,
        passed: s.wasted_bytes <= lim,
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
        assert!(Limit::parse("lots").is_err());
        assert!(Limit::parse("120%").is_err());
        assert_eq!(Limit::Percent(10.0).bytes(1000), 100);
    }
}
