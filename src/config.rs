//! CI rules from configuration files: `.imgscope.toml` (or `--config PATH`)
//! and dive's `.dive-ci`, merged under the command-line flags.
//!
//! `.imgscope.toml` holds the same rules as the flags, kebab-case keys at the
//! top level:
//!
//! ```toml
//! max-waste = "10%"          # or "50MB", or 200000
//! min-efficiency = 0.9       # or "90%"
//! max-hidden = "20MB"
//! max-cache = "1%"
//! max-size = "1GB"
//! max-user-waste = "10%"     # dive's highestUserWastedPercent
//! baseline = "imgscope-baseline.json"   # relative to this file
//! max-growth = "1MB"
//! ignore = ["/usr/share/doc/**", "*.pyc"]
//! ```
//!
//! Any rule may be `"off"` (or `"disabled"`) to switch it off, which a flag
//! can do to a rule of the file too.

use std::path::{Path, PathBuf};

use imgscope::ci::checks::{parse_ratio, parse_size, Limit};

/// A rule's setting: a value, or explicitly switched off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Setting<T> {
    Off,
    On(T),
}

/// Rules from one origin (flags, a config file, `.dive-ci`). `None`: not said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSet {
    pub max_waste: Option<Setting<Limit>>,
    pub min_efficiency: Option<Setting<f64>>,
    pub max_hidden: Option<Setting<Limit>>,
    pub max_cache: Option<Setting<Limit>>,
    pub max_optional: Option<Setting<Limit>>,
    /// `optional = "waste"`: optional files count as cache waste.
    pub optional_as_waste: Option<Setting<bool>>,
    pub max_size: Option<Setting<u64>>,
    /// Percent.
    pub max_user_waste: Option<Setting<f64>>,
    pub max_growth: Option<Setting<Limit>>,
    pub baseline: Option<Setting<PathBuf>>,
    pub ignore: Vec<String>,
}

impl RuleSet {
    /// `self` under `over`: each rule `over` says wins; ignores add up.
    pub fn under(self, over: RuleSet) -> RuleSet {
        let mut ignore = self.ignore;
        for g in over.ignore {
            if !ignore.contains(&g) {
                ignore.push(g);
            }
        }
        RuleSet {
            max_waste: over.max_waste.or(self.max_waste),
            min_efficiency: over.min_efficiency.or(self.min_efficiency),
            max_hidden: over.max_hidden.or(self.max_hidden),
            max_cache: over.max_cache.or(self.max_cache),
            max_optional: over.max_optional.or(self.max_optional),
            optional_as_waste: over.optional_as_waste.or(self.optional_as_waste),
            max_size: over.max_size.or(self.max_size),
            max_user_waste: over.max_user_waste.or(self.max_user_waste),
            max_growth: over.max_growth.or(self.max_growth),
            baseline: over.baseline.or(self.baseline),
            ignore,
        }
    }

    /// Whether it sets (or switches off) any rule.
    pub fn says_anything(&self) -> bool {
        self.max_waste.is_some()
            || self.min_efficiency.is_some()
            || self.max_hidden.is_some()
            || self.max_cache.is_some()
            || self.max_optional.is_some()
            || self.max_size.is_some()
            || self.max_user_waste.is_some()
            || self.max_growth.is_some()
            || self.baseline.is_some()
    }
}

fn is_off(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "off" | "disabled" | "disable" | "none" | "false"
    )
}

/// A rule value given as text (a flag, or a string in a file).
pub fn setting<T>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Setting<T>, String> {
    if is_off(text) {
        Ok(Setting::Off)
    } else {
        parse(text).map(Setting::On)
    }
}

pub fn limit(s: &str) -> Result<Limit, String> {
    Limit::parse(s)
}

pub fn size_only(s: &str) -> Result<u64, String> {
    if s.trim().ends_with('%') {
        return Err(format!("{s:?}: give a size (e.g. 500MB), not a percentage"));
    }
    parse_size(s)
}

/// `10%` or a ratio `0.1`, as a percentage.
pub fn percent(s: &str) -> Result<f64, String> {
    parse_ratio(s).map(|r| r * 100.0)
}

/// Where the rules of a run came from (said in the verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    ImgscopeToml(PathBuf),
    DiveCi(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::ImgscopeToml(p) => write!(f, "{}", p.display()),
            Origin::DiveCi(p) => write!(f, "{} (dive)", p.display()),
        }
    }
}

/// The configuration file's rules: `explicit` (`--config PATH`) or else
/// `.imgscope.toml` in `dir`, or else `.dive-ci` in `dir`. A file named
/// `*.yaml`, `*.yml` or `.dive-ci` given with `--config` is read as dive's.
pub fn load(explicit: Option<&Path>, dir: &Path) -> Result<Option<(RuleSet, Origin)>, String> {
    if let Some(p) = explicit {
        let text = std::fs::read_to_string(p)
            .map_err(|e| format!("{}: cannot read the config file: {e}", p.display()))?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let base = p.parent().unwrap_or(Path::new(""));
        return if name.ends_with(".yaml") || name.ends_with(".yml") || name.contains("dive-ci") {
            parse_dive_ci(&text)
                .map(|r| Some((r, Origin::DiveCi(p.to_path_buf()))))
                .map_err(|e| format!("{}: {e}", p.display()))
        } else {
            parse_toml(&text, base)
                .map(|r| Some((r, Origin::ImgscopeToml(p.to_path_buf()))))
                .map_err(|e| format!("{}: {e}", p.display()))
        };
    }
    let toml_path = dir.join(".imgscope.toml");
    if toml_path.is_file() {
        return load(Some(&toml_path), dir)
            .map(|o| o.map(|(r, _)| (r, Origin::ImgscopeToml(PathBuf::from(".imgscope.toml")))));
    }
    let dive = dir.join(".dive-ci");
    if dive.is_file() {
        let text =
            std::fs::read_to_string(&dive).map_err(|e| format!(".dive-ci: cannot read: {e}"))?;
        return parse_dive_ci(&text)
            .map(|r| Some((r, Origin::DiveCi(PathBuf::from(".dive-ci")))))
            .map_err(|e| format!(".dive-ci: {e}"));
    }
    Ok(None)
}

const TOML_KEYS: &[&str] = &[
    "max-waste",
    "min-efficiency",
    "max-hidden",
    "max-cache",
    "max-optional",
    "optional",
    "max-size",
    "max-user-waste",
    "max-growth",
    "baseline",
    "ignore",
];

/// Parse `.imgscope.toml`; a relative `baseline` is taken from `base`.
pub fn parse_toml(text: &str, base: &Path) -> Result<RuleSet, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let msg = e.message().to_string();
        match e.span() {
            Some(sp) => format!("line {}: {msg}", line_of(text, sp.start)),
            None => msg,
        }
    })?;
    let mut r = RuleSet::default();
    for (key, value) in &table {
        let k = key.replace('_', "-");
        if !TOML_KEYS.contains(&k.as_str()) {
            return Err(format!(
                "unknown key {key:?} (known: {})",
                TOML_KEYS.join(", ")
            ));
        }
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(false) => "off".to_string(),
            toml::Value::Array(a) if k == "ignore" => {
                for g in a {
                    match g.as_str() {
                        Some(g) => r.ignore.push(g.to_string()),
                        None => return Err("ignore: a list of glob strings is expected".into()),
                    }
                }
                continue;
            }
            _ => return Err(format!("{key}: a string or a number is expected")),
        };
        let ctx = |e: String| format!("{key}: {e}");
        match k.as_str() {
            "max-waste" => r.max_waste = Some(setting(&text, limit).map_err(ctx)?),
            "min-efficiency" => r.min_efficiency = Some(setting(&text, parse_ratio).map_err(ctx)?),
            "max-hidden" => r.max_hidden = Some(setting(&text, limit).map_err(ctx)?),
            "max-cache" => r.max_cache = Some(setting(&text, limit).map_err(ctx)?),
            "max-optional" => r.max_optional = Some(setting(&text, limit).map_err(ctx)?),
            "optional" => {
                r.optional_as_waste = Some(match text.trim() {
                    "waste" => Setting::On(true),
                    "apart" | "off" => Setting::Off,
                    other => {
                        return Err(format!(
                            "{key}: \"waste\" (count optional bytes as waste) or \"apart\" (the default) is expected, not {other:?}"
                        ))
                    }
                })
            }
            "max-size" => r.max_size = Some(setting(&text, size_only).map_err(ctx)?),
            "max-user-waste" => r.max_user_waste = Some(setting(&text, percent).map_err(ctx)?),
            "max-growth" => r.max_growth = Some(setting(&text, limit).map_err(ctx)?),
            "baseline" => {
                r.baseline = Some(setting(&text, |p| {
                    let p = Path::new(p);
                    Ok(if p.is_relative() {
                        base.join(p)
                    } else {
                        p.to_path_buf()
                    })
                })?)
            }
            "ignore" => r.ignore.push(text),
            _ => unreachable!("key checked above"),
        }
    }
    Ok(r)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parse dive's `.dive-ci` and map it to imgscope's rules:
///
/// | dive rule | imgscope rule |
/// |---|---|
/// | `lowestEfficiency: R` | `min-efficiency R` |
/// | `highestWastedBytes: SIZE` | `max-waste SIZE` |
/// | `highestUserWastedPercent: R` | `max-user-waste R×100%` |
///
/// Keys in camelCase or kebab-case; `disabled` switches a rule off; a rule
/// the file does not name takes dive's default (lowestEfficiency 0.9,
/// highestWastedBytes disabled, highestUserWastedPercent 0.1), as in dive.
pub fn parse_dive_ci(text: &str) -> Result<RuleSet, String> {
    use yaml_rust2::{Yaml, YamlLoader};
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    let mut r = RuleSet {
        min_efficiency: Some(Setting::On(0.9)),
        max_waste: None,
        max_user_waste: Some(Setting::On(10.0)),
        ..RuleSet::default()
    };
    let Some(doc) = docs.into_iter().next() else {
        return Ok(r);
    };
    let rules = match &doc {
        Yaml::Hash(h) => h.get(&Yaml::String("rules".into())).cloned(),
        Yaml::Null => None,
        _ => return Err("a mapping with a `rules:` key is expected".into()),
    };
    let rules = match rules {
        None | Some(Yaml::Null) => return Ok(r),
        Some(Yaml::Hash(h)) => h,
        Some(_) => return Err("`rules:` must be a mapping".into()),
    };
    for (k, v) in rules {
        let Some(key) = k.as_str() else {
            return Err("a rule name must be a string".into());
        };
        let text = match &v {
            Yaml::String(s) | Yaml::Real(s) => s.clone(),
            Yaml::Integer(i) => i.to_string(),
            Yaml::Boolean(false) | Yaml::Null => "disabled".into(),
            _ => return Err(format!("rules.{key}: a number or a string is expected")),
        };
        let norm: String = key
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_ascii_lowercase();
        let ctx = |e: String| format!("rules.{key}: {e}");
        match norm.as_str() {
            "lowestefficiency" => {
                r.min_efficiency = Some(setting(&text, dive_ratio).map_err(ctx)?);
            }
            "highestwastedbytes" => {
                r.max_waste =
                    Some(setting(&text, |s| size_only(s).map(Limit::Bytes)).map_err(ctx)?);
            }
            "highestuserwastedpercent" => {
                r.max_user_waste =
                    Some(setting(&text, |s| dive_ratio(s).map(|x| x * 100.0)).map_err(ctx)?);
            }
            _ => {
                return Err(format!(
                    "unknown rule {key:?} (dive knows lowestEfficiency, highestWastedBytes, \
                     highestUserWastedPercent)"
                ))
            }
        }
    }
    Ok(r)
}

/// dive's ratios are plain numbers in 0..=1.
fn dive_ratio(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a ratio between 0 and 1"))?;
    if !v.is_finite() || !(0.0..=1.0).contains(&v) {
        return Err(format!("{s:?} is not a ratio between 0 and 1"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_rules() {
        let r = parse_toml(
            "max-waste = \"10%\"\nmin_efficiency = 0.95\nmax-size = 1000\nmax-cache = \"off\"\n\
             baseline = \"b.json\"\nignore = [\"/usr/share/doc\"]\n",
            Path::new("/cfg"),
        )
        .unwrap();
        assert_eq!(r.max_waste, Some(Setting::On(Limit::Percent(10.0))));
        assert_eq!(r.min_efficiency, Some(Setting::On(0.95)));
        assert_eq!(r.max_size, Some(Setting::On(1000)));
        assert_eq!(r.max_cache, Some(Setting::Off));
        assert_eq!(r.baseline, Some(Setting::On(PathBuf::from("/cfg/b.json"))));
        assert_eq!(r.ignore, vec!["/usr/share/doc".to_string()]);
        assert!(parse_toml("max-wast = \"1%\"", Path::new("")).is_err());
        assert!(parse_toml("max-size = \"5%\"", Path::new("")).is_err());
        let e = parse_toml("max-waste = \n", Path::new("")).unwrap_err();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn flags_win_and_ignores_add_up() {
        let file = parse_toml(
            "max-waste = \"10%\"\nmax-hidden = \"1MB\"\nignore = [\"/a\"]",
            Path::new(""),
        )
        .unwrap();
        let flags = RuleSet {
            max_waste: Some(Setting::On(Limit::Bytes(5))),
            max_hidden: Some(Setting::Off),
            ignore: vec!["/b".into(), "/a".into()],
            ..RuleSet::default()
        };
        let r = file.under(flags);
        assert_eq!(r.max_waste, Some(Setting::On(Limit::Bytes(5))));
        assert_eq!(r.max_hidden, Some(Setting::Off));
        assert_eq!(r.ignore, vec!["/a".to_string(), "/b".to_string()]);
    }

    #[test]
    fn dive_ci_both_spellings_and_defaults() {
        let camel = parse_dive_ci(
            "rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n  \
             highestUserWastedPercent: 0.20\n",
        )
        .unwrap();
        let kebab = parse_dive_ci(
            "rules:\n  lowest-efficiency: \"0.95\"\n  highest-wasted-bytes: 20MB\n  \
             highest-user-wasted-percent: 0.2\n",
        )
        .unwrap();
        assert_eq!(camel, kebab);
        assert_eq!(camel.min_efficiency, Some(Setting::On(0.95)));
        assert_eq!(camel.max_waste, Some(Setting::On(Limit::Bytes(20_000_000))));
        assert_eq!(camel.max_user_waste, Some(Setting::On(20.0)));

        let partial = parse_dive_ci("rules:\n  lowestEfficiency: disabled\n").unwrap();
        assert_eq!(partial.min_efficiency, Some(Setting::Off));
        assert_eq!(partial.max_waste, None);
        assert_eq!(partial.max_user_waste, Some(Setting::On(10.0)));

        let empty = parse_dive_ci("").unwrap();
        assert_eq!(empty.min_efficiency, Some(Setting::On(0.9)));
        assert!(parse_dive_ci("rules:\n  lowestEfficiency: 2\n").is_err());
        assert!(parse_dive_ci("rules:\n  highestWastedBytes: lots\n").is_err());
        assert!(parse_dive_ci("rules:\n  mostFun: 1\n").is_err());
        assert!(parse_dive_ci("rules: [\n").is_err());
    }
}
