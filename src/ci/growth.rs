//! Rules over a diff (`imgscope diff --ci`): how much an image and its waste
//! may grow from OLD to NEW.

use crate::ci::checks::Check;
use crate::ci::checks::Limit;
use crate::compare::Diff;
use crate::render::human;

/// The limits of a diff; `None` is no rule.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GrowthGate {
    /// Growth of total bytes: a size, or a % of the old image's total.
    pub max_growth: Option<Limit>,
    /// Growth of wasted bytes: a size, or a % of the old image's waste.
    pub max_waste_growth: Option<Limit>,
}

impl GrowthGate {
    pub fn is_empty(&self) -> bool {
        self.max_growth.is_none() && self.max_waste_growth.is_none()
    }
}

fn growth_check(name: &str, what: &str, old: u64, new: u64, limit: Limit) -> Check {
    let growth = new as i128 - old as i128;
    let allowed = limit.bytes(old);
    let sign = if growth >= 0 { "+" } else { "-" };
    let limit_text = match limit {
        Limit::Percent(p) => format!("{p}% of the old {old} {what} bytes ({allowed} bytes)"),
        Limit::Bytes(_) => limit.describe(),
    };
    Check {
        name: name.into(),
        limit: limit_text,
        actual: format!(
            "{sign}{} ({sign}{} bytes: {old} -> {new} {what} bytes)",
            human(growth.unsigned_abs() as u64),
            growth.unsigned_abs()
        ),
        passed: growth <= allowed as i128,
    }
}

/// Every rule of `gate` over `diff`, in a fixed order.
pub fn evaluate(diff: &Diff, gate: &GrowthGate) -> Vec<Check> {
    let (o, n) = (&diff.old.summary, &diff.new.summary);
    let mut out = Vec::new();
    if let Some(l) = gate.max_growth {
        out.push(growth_check(
            "max-growth",
            "total",
            o.total_bytes,
            n.total_bytes,
            l,
        ));
    }
    if let Some(l) = gate.max_waste_growth {
        out.push(growth_check(
            "max-waste-growth",
            "wasted",
            o.wasted_bytes,
            n.wasted_bytes,
            l,
        ));
    }
    out
}

/// What a diff rule means, for annotations.
pub fn explain(name: &str) -> &'static str {
    match name {
        "max-growth" => "The new image must not be larger than the old one by more than the limit.",
        "max-waste-growth" => {
            "The new image must not waste more bytes than the old one by more than the limit."
        }
        _ => "",
    }
}
