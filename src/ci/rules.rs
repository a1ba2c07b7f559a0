//! The CI rules, each defined once in [`RULES`]: its name, its flag, its
//! `.imgscope.toml` key and dive's spelling, its value parser, its
//! evaluation; its explanation is in `assets/checks.toml` (see
//! [`crate::present::explain`]). The command
//! line, the configuration files, the evaluator and every renderer read this
//! table; none spells a rule out.
//!
//! To give every rule a new attribute, add a field to [`RuleDef`] (what the
//! rule is) or to [`Configured`] (what a run set for it): both reach the
//! evaluation.

use serde::{Serialize, Serializer};

use super::checks::{self, parse_ratio, parse_size, Check, Gate, Limit};
use crate::analyze::waste::{Analysis, Summary, WasteKind};

/// A rule by name. Serialised as its flag (`max-waste`), the check's name in
/// SPEC.md's `checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckName {
    MaxSize,
    MaxWaste,
    MinEfficiency,
    MaxHidden,
    MaxCache,
    MaxOptional,
    MaxUserWaste,
    /// Growth of wasted bytes against `--baseline`.
    MaxGrowth,
    /// Not a check: optional bytes count as cache waste.
    CountOptionalAsWaste,
    /// `imgscope diff`: growth of total bytes from OLD to NEW.
    DiffGrowth,
    /// `imgscope diff`: growth of wasted bytes from OLD to NEW.
    DiffWasteGrowth,
}

impl CheckName {
    /// Its definition.
    pub fn def(self) -> &'static RuleDef {
        &RULES[self as usize]
    }

    /// Its name: the flag without `--`, and the check's name in reports.
    pub fn as_str(self) -> &'static str {
        self.def().flag
    }

    /// Which waste kinds the check is about (a failed check makes the
    /// findings of these kinds errors in SARIF).
    pub fn kinds(self) -> &'static [WasteKind] {
        self.def().kinds
    }
}

impl std::fmt::Display for CheckName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What a rule is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One image's report (`imgscope IMAGE`).
    Image,
    /// A comparison (`imgscope diff OLD NEW`).
    Diff,
}

/// How a rule's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    /// A percentage of a total (`10%`) or a size (`50MB`).
    Limit,
    /// A size only (`500MB`, `200000`), no percentage.
    Size,
    /// A ratio `0.9` or a percentage `90%`.
    Ratio,
    /// A percentage `10%` or a ratio `0.1`, kept as a percentage.
    Percent,
    /// On or off: a bare flag; in a file, the word `on` (or `true`), or
    /// `off` for off.
    Bool { on: &'static str, off: &'static str },
}

/// A rule's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Limit(Limit),
    Size(u64),
    Ratio(f64),
    Percent(f64),
    Bool(bool),
}

impl Value {
    /// As a limit (a size is a limit in bytes).
    pub fn limit(self) -> Limit {
        match self {
            Value::Limit(l) => l,
            Value::Size(b) => Limit::Bytes(b),
            Value::Percent(p) => Limit::Percent(p),
            Value::Ratio(r) => Limit::Percent(r * 100.0),
            Value::Bool(_) => Limit::Bytes(0),
        }
    }

    fn number(self) -> f64 {
        match self {
            Value::Ratio(v) | Value::Percent(v) => v,
            Value::Size(b) => b as f64,
            Value::Limit(Limit::Bytes(b)) => b as f64,
            Value::Limit(Limit::Percent(p)) => p,
            Value::Bool(b) => b as u8 as f64,
        }
    }
}

impl Parser {
    pub fn parse(self, s: &str) -> Result<Value, String> {
        match self {
            Parser::Limit => Limit::parse(s).map(Value::Limit),
            Parser::Size => {
                if s.trim().ends_with('%') {
                    return Err(format!("{s:?}: give a size (e.g. 500MB), not a percentage"));
                }
                parse_size(s).map(Value::Size)
            }
            Parser::Ratio => parse_ratio(s).map(Value::Ratio),
            Parser::Percent => parse_ratio(s).map(|r| Value::Percent(r * 100.0)),
            Parser::Bool { on, off } => match s.trim() {
                w if w == on || w == "on" || w == "true" => Ok(Value::Bool(true)),
                w if w == off || w == "off" || w == "false" => Ok(Value::Bool(false)),
                other => Err(format!(
                    "{on:?} or {off:?} (the default) is expected, not {other:?}"
                )),
            },
        }
    }
}

/// A rule's setting in one origin (flags, a file): a value, or explicitly off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Setting<T = Value> {
    Off,
    On(T),
}

/// Words that switch a rule off (a flag can switch off a rule of a file).
pub fn is_off(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "off" | "disabled" | "disable" | "none" | "false"
    )
}

impl<T> Setting<T> {
    pub fn on(self) -> Option<T> {
        match self {
            Setting::On(v) => Some(v),
            Setting::Off => None,
        }
    }
}

impl Setting {
    /// A rule's value given as text: `off` (and its synonyms) or a value.
    pub fn parse(parser: Parser, text: &str) -> Result<Setting, String> {
        if is_off(text) {
            Ok(Setting::Off)
        } else {
            parser.parse(text).map(Setting::On)
        }
    }
}

/// dive's spelling of a rule (`.dive-ci` keys, camelCase or kebab-case, and
/// the same names as flags).
#[derive(Debug)]
pub struct DiveKey {
    pub key: &'static str,
    pub value_name: &'static str,
    pub parser: Parser,
    /// dive's default when a `.dive-ci` does not name the rule.
    pub default: Option<&'static str>,
}

/// A rule switched on for a run, with its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Configured {
    pub name: CheckName,
    pub value: Value,
}

/// How a rule is checked.
#[derive(Clone, Copy)]
pub enum Eval {
    /// Not a check (it changes what the analysis counts).
    None,
    /// A part of the image's total bytes against a limit (a share of the
    /// total or a size).
    Part(fn(&Summary) -> u64),
    /// Over an image's report and its summary in the run's scope; `None`
    /// when the run lacks what it needs.
    Image(fn(&Analysis, &Summary, &Configured, &Gate) -> Option<Check>),
    /// Over the summaries of OLD and NEW.
    Diff(fn(&Summary, &Summary, &Configured) -> Check),
}

impl std::fmt::Debug for Eval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Eval::None => "None",
            Eval::Part(_) => "Part",
            Eval::Image(_) => "Image",
            Eval::Diff(_) => "Diff",
        })
    }
}

/// One rule.
#[derive(Debug)]
pub struct RuleDef {
    pub name: CheckName,
    pub target: Target,
    /// The long flag (without `--`) and the check's name.
    pub flag: &'static str,
    /// Its key in `.imgscope.toml` (`_` may stand for `-`).
    pub toml_key: Option<&'static str>,
    pub value_name: &'static str,
    pub parser: Parser,
    /// The flag's help.
    pub help: &'static str,
    pub dive: Option<DiveKey>,
    /// The value `--ci` applies when no rule is configured.
    pub ci_default: Option<&'static str>,
    /// The waste kinds it is about.
    pub kinds: &'static [WasteKind],
    pub eval: Eval,
}

const HIDDEN: &[WasteKind] = &[
    WasteKind::Removed,
    WasteKind::Overwritten,
    WasteKind::MetadataOnly,
    WasteKind::Moved,
];

/// Every rule, in the order checks are made and listed (indexed by
/// [`CheckName`]).
pub static RULES: [RuleDef; 11] = [
    RuleDef {
        name: CheckName::MaxSize,
        target: Target::Image,
        flag: "max-size",
        toml_key: Some("max-size"),
        value_name: "SIZE",
        parser: Parser::Size,
        help: "Fail when the image's total bytes are above this SIZE",
        dive: None,
        ci_default: None,
        kinds: &WasteKind::ALL,
        eval: Eval::Part(|s| s.total_bytes),
    },
    RuleDef {
        name: CheckName::MaxWaste,
        target: Target::Image,
        flag: "max-waste",
        toml_key: Some("max-waste"),
        value_name: "LIMIT",
        parser: Parser::Limit,
        help: "Fail when wasted bytes (hidden + cache) are above this: a percentage of the total (10%) or a SIZE",
        dive: Some(DiveKey {
            key: "highestWastedBytes",
            value_name: "SIZE",
            parser: Parser::Size,
            default: None,
        }),
        ci_default: Some("10%"),
        kinds: &WasteKind::ALL,
        eval: Eval::Part(|s| s.wasted_bytes),
    },
    RuleDef {
        name: CheckName::MinEfficiency,
        target: Target::Image,
        flag: "min-efficiency",
        toml_key: Some("min-efficiency"),
        value_name: "RATIO",
        parser: Parser::Ratio,
        help: "Fail when efficiency (1 - wasted/total) is below this ratio (0.9 or 90%)",
        dive: Some(DiveKey {
            key: "lowestEfficiency",
            value_name: "RATIO",
            parser: Parser::Ratio,
            default: Some("0.9"),
        }),
        ci_default: None,
        kinds: &WasteKind::ALL,
        eval: Eval::Image(|_, s, c, _| Some(checks::min_efficiency(s, c.value.number()))),
    },
    RuleDef {
        name: CheckName::MaxHidden,
        target: Target::Image,
        flag: "max-hidden",
        toml_key: Some("max-hidden"),
        value_name: "LIMIT",
        parser: Parser::Limit,
        help: "Fail when hidden bytes (layering waste only, no caches) are above this: % of the total or a SIZE",
        dive: None,
        ci_default: None,
        kinds: HIDDEN,
        eval: Eval::Part(|s| s.hidden_bytes),
    },
    RuleDef {
        name: CheckName::MaxCache,
        target: Target::Image,
        flag: "max-cache",
        toml_key: Some("max-cache"),
        value_name: "LIMIT",
        parser: Parser::Limit,
        help: "Fail when cache bytes (caches and temp files left in the image) are above this: % or SIZE",
        dive: None,
        ci_default: None,
        kinds: &[WasteKind::Cache],
        eval: Eval::Part(|s| s.cache_bytes),
    },
    RuleDef {
        name: CheckName::MaxOptional,
        target: Target::Image,
        flag: "max-optional",
        toml_key: Some("max-optional"),
        value_name: "LIMIT",
        parser: Parser::Limit,
        help: "Fail when optional bytes (bytecode, docs, man pages, locales: trade-offs, not waste) are above this: % or SIZE",
        dive: None,
        ci_default: None,
        // Optional files are not findings.
        kinds: &[],
        eval: Eval::Part(|s| s.optional_bytes),
    },
    RuleDef {
        name: CheckName::MaxUserWaste,
        target: Target::Image,
        flag: "max-user-waste",
        toml_key: Some("max-user-waste"),
        value_name: "PERCENT",
        parser: Parser::Percent,
        help: "Fail when the waste your own layers store, over their bytes, is above this (10% or 0.1; dive's highestUserWastedPercent, with the real base-image boundary)",
        dive: Some(DiveKey {
            key: "highestUserWastedPercent",
            value_name: "RATIO",
            parser: Parser::Percent,
            default: Some("0.1"),
        }),
        ci_default: None,
        kinds: &WasteKind::ALL,
        eval: Eval::Image(|r, _, c, _| Some(checks::max_user_waste(r, c.value.number()))),
    },
    RuleDef {
        name: CheckName::MaxGrowth,
        target: Target::Image,
        flag: "max-growth",
        toml_key: Some("max-growth"),
        value_name: "LIMIT",
        parser: Parser::Limit,
        help: "Allowed growth of wasted bytes against --baseline: a SIZE or a % of the baseline's waste (default 0)",
        dive: None,
        ci_default: None,
        kinds: &WasteKind::ALL,
        eval: Eval::Image(|r, _, c, g| {
            g.baseline
                .as_ref()
                .map(|b| checks::max_growth(r, b, c.value.limit(), g.scope))
        }),
    },
    RuleDef {
        name: CheckName::CountOptionalAsWaste,
        target: Target::Image,
        flag: "count-optional-as-waste",
        toml_key: Some("optional"),
        value_name: "",
        parser: Parser::Bool {
            on: "waste",
            off: "apart",
        },
        help: "Count optional bytes (bytecode, docs, man pages, locales) as cache waste, as before they were reported apart",
        dive: None,
        ci_default: None,
        kinds: &[],
        eval: Eval::None,
    },
    RuleDef {
        name: CheckName::DiffGrowth,
        target: Target::Diff,
        flag: "max-growth",
        toml_key: None,
        value_name: "LIMIT",
        parser: Parser::Limit,
        help: "Fail when NEW's total bytes exceed OLD's by more than this: a SIZE or a % of OLD's total",
        dive: None,
        ci_default: None,
        kinds: &WasteKind::ALL,
        eval: Eval::Diff(|o, n, c| {
            checks::growth_check(c.name, "total", o.total_bytes, n.total_bytes, c.value.limit())
        }),
    },
    RuleDef {
        name: CheckName::DiffWasteGrowth,
        target: Target::Diff,
        flag: "max-waste-growth",
        toml_key: None,
        value_name: "LIMIT",
        parser: Parser::Limit,
        help: "Fail when NEW's wasted bytes exceed OLD's by more than this: a SIZE or a % of OLD's waste",
        dive: None,
        ci_default: Some("0"),
        kinds: &WasteKind::ALL,
        eval: Eval::Diff(|o, n, c| {
            checks::growth_check(
                c.name,
                "wasted",
                o.wasted_bytes,
                n.wasted_bytes,
                c.value.limit(),
            )
        }),
    },
];

/// The rules of a target, in table order.
pub fn rules(target: Target) -> impl Iterator<Item = &'static RuleDef> {
    RULES.iter().filter(move |d| d.target == target)
}

/// dive's keys compare without case, `-` and `_`.
pub fn dive_norm(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect::<String>()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_name() {
        for (i, d) in RULES.iter().enumerate() {
            assert_eq!(d.name as usize, i, "{:?}", d.name);
            if let Some(k) = &d.dive {
                if let Some(v) = k.default {
                    k.parser.parse(v).unwrap();
                }
            }
            if let Some(v) = d.ci_default {
                d.parser.parse(v).unwrap();
            }
        }
        for target in [Target::Image, Target::Diff] {
            let names: Vec<&str> = rules(target).map(|d| d.flag).collect();
            let mut unique = names.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(names.len(), unique.len(), "{names:?}");
        }
        assert_eq!(
            serde_json::to_value(CheckName::MaxWaste).unwrap(),
            serde_json::json!("max-waste")
        );
    }

    #[test]
    fn parsers() {
        assert_eq!(
            Parser::Limit.parse("10%").unwrap(),
            Value::Limit(Limit::Percent(10.0))
        );
        assert!(Parser::Size.parse("10%").is_err());
        assert_eq!(Parser::Percent.parse("0.2").unwrap(), Value::Percent(20.0));
        assert_eq!(Parser::Ratio.parse("90%").unwrap(), Value::Ratio(0.9));
        let b = Parser::Bool {
            on: "waste",
            off: "apart",
        };
        assert_eq!(b.parse("waste").unwrap(), Value::Bool(true));
        assert_eq!(b.parse("apart").unwrap(), Value::Bool(false));
        assert!(b.parse("maybe").is_err());
        assert_eq!(
            Setting::parse(Parser::Limit, "disabled").unwrap(),
            Setting::Off
        );
    }
}
