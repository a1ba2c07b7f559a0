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
//! scope = "user"             # count only the layers after the base image's
//! ```
//!
//! Any rule may be `"off"` (or `"disabled"`) to switch it off, which a flag
//! can do to a rule of the file too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use imgscope::ci::rules::{dive_norm, rules, CheckName, Setting, Target};

/// Rules from one origin (flags, a config file, `.dive-ci`): what it says of
/// each rule it names (a value, or off).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSet {
    pub rules: BTreeMap<CheckName, Setting>,
    pub baseline: Option<Setting<PathBuf>>,
    pub ignore: Vec<String>,
    /// Which layers the checks count (`scope = "user"|"all"`).
    pub scope: Option<imgscope::ci::checks::Scope>,
    /// What the file said that was left out (a `.dive-ci`'s unknown keys).
    pub warnings: Vec<String>,
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
        let mut rules = self.rules;
        rules.extend(over.rules);
        let mut warnings = self.warnings;
        warnings.extend(over.warnings);
        RuleSet {
            rules,
            baseline: over.baseline.or(self.baseline),
            ignore,
            scope: over.scope.or(self.scope),
            warnings,
        }
    }

    /// Whether it sets (or switches off) any rule that is a check.
    pub fn says_anything(&self) -> bool {
        self.rules
            .keys()
            .any(|n| *n != CheckName::CountOptionalAsWaste)
            || self.baseline.is_some()
    }

    pub fn get(&self, name: CheckName) -> Option<Setting> {
        self.rules.get(&name).copied()
    }
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

/// The keys of `.imgscope.toml`: the rules' keys, `baseline` and `ignore`.
fn toml_keys() -> Vec<&'static str> {
    let mut k: Vec<&str> = rules(Target::Image).filter_map(|d| d.toml_key).collect();
    k.extend(["baseline", "ignore", "scope"]);
    k
}

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
    let known = toml_keys();
    for (key, value) in &table {
        let k = key.replace('_', "-");
        if !known.contains(&k.as_str()) {
            return Err(format!(
                "unknown key {key:?} (known: {}; or with `_` for `-`, e.g. max_waste)",
                known.join(", ")
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
        match k.as_str() {
            "baseline" => {
                r.baseline = Some(if imgscope::ci::rules::is_off(&text) {
                    Setting::Off
                } else {
                    let p = Path::new(&text);
                    Setting::On(if p.is_relative() {
                        base.join(p)
                    } else {
                        p.to_path_buf()
                    })
                })
            }
            "ignore" => r.ignore.push(text),
            "scope" => {
                r.scope = Some(
                    imgscope::ci::checks::Scope::parse(&text).map_err(|e| format!("{key}: {e}"))?,
                )
            }
            k => {
                let d = rules(Target::Image)
                    .find(|d| d.toml_key == Some(k))
                    .expect("key checked above");
                let v = Setting::parse(d.parser, &text).map_err(|e| format!("{key}: {e}"))?;
                r.rules.insert(d.name, v);
            }
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
/// A key dive's rules do not have (a plugin's `plugin1/rule1`) is left out
/// with a warning, as dive ignores it; a bad value of a known rule is an
/// error.
pub fn parse_dive_ci(text: &str) -> Result<RuleSet, String> {
    use yaml_rust2::{Yaml, YamlLoader};
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    let mut r = RuleSet::default();
    for d in rules(Target::Image) {
        if let Some(v) = d.dive.as_ref().and_then(|k| k.default) {
            let v =
                Setting::parse(d.dive.as_ref().unwrap().parser, v).expect("dive's defaults parse");
            r.rules.insert(d.name, v);
        }
    }
    let Some(doc) = docs.into_iter().next() else {
        return Ok(r);
    };
    let section = match &doc {
        Yaml::Hash(h) => h.get(&Yaml::String("rules".into())).cloned(),
        Yaml::Null => None,
        _ => return Err("a mapping with a `rules:` key is expected".into()),
    };
    let given = match section {
        None | Some(Yaml::Null) => return Ok(r),
        Some(Yaml::Hash(h)) => h,
        Some(_) => return Err("`rules:` must be a mapping".into()),
    };
    for (k, v) in given {
        let Some(key) = k.as_str() else {
            return Err("a rule name must be a string".into());
        };
        let norm = dive_norm(key);
        let Some((d, k)) = rules(Target::Image)
            .filter_map(|d| Some((d, d.dive.as_ref()?)))
            .find(|(_, k)| dive_norm(k.key) == norm)
        else {
            let known: Vec<String> = rules(Target::Image)
                .filter_map(|d| d.dive.as_ref())
                .map(|k| format!("{} or {}", k.key, kebab(k.key)))
                .collect();
            r.warnings.push(format!(
                "rules.{key} is not a dive rule imgscope knows ({}); left out, as dive does",
                known.join(", ")
            ));
            continue;
        };
        let text = match &v {
            Yaml::String(s) | Yaml::Real(s) => s.clone(),
            Yaml::Integer(i) => i.to_string(),
            Yaml::Boolean(false) | Yaml::Null => "disabled".into(),
            _ => return Err(format!("rules.{key}: a number or a string is expected")),
        };
        let v = Setting::parse(k.parser, &text).map_err(|e| format!("rules.{key}: {e}"))?;
        r.rules.insert(d.name, v);
    }
    Ok(r)
}

/// `lowestEfficiency` → `lowest-efficiency`.
fn kebab(camel: &str) -> String {
    let mut o = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            o.push('-');
            o.push(c.to_ascii_lowercase());
        } else {
            o.push(c);
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgscope::ci::checks::Limit;
    use imgscope::ci::rules::Value;
    use CheckName::*;
    use Setting::On;

    #[test]
    fn toml_rules() {
        let r = parse_toml(
            "max-waste = \"10%\"\nmin_efficiency = 0.95\nmax-size = 1000\nmax-cache = \"off\"\n\
             baseline = \"b.json\"\nignore = [\"/usr/share/doc\"]\n",
            Path::new("/cfg"),
        )
        .unwrap();
        assert_eq!(
            r.get(MaxWaste),
            Some(On(Value::Limit(Limit::Percent(10.0))))
        );
        assert_eq!(r.get(MinEfficiency), Some(On(Value::Ratio(0.95))));
        assert_eq!(r.get(MaxSize), Some(On(Value::Size(1000))));
        assert_eq!(r.get(MaxCache), Some(Setting::Off));
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
            rules: [
                (MaxWaste, On(Value::Limit(Limit::Bytes(5)))),
                (MaxHidden, Setting::Off),
            ]
            .into(),
            ignore: vec!["/b".into(), "/a".into()],
            ..RuleSet::default()
        };
        let r = file.under(flags);
        assert_eq!(r.get(MaxWaste), Some(On(Value::Limit(Limit::Bytes(5)))));
        assert_eq!(r.get(MaxHidden), Some(Setting::Off));
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
        assert_eq!(camel.get(MinEfficiency), Some(On(Value::Ratio(0.95))));
        assert_eq!(camel.get(MaxWaste), Some(On(Value::Size(20_000_000))));
        assert_eq!(camel.get(MaxUserWaste), Some(On(Value::Percent(20.0))));

        let partial = parse_dive_ci("rules:\n  lowestEfficiency: disabled\n").unwrap();
        assert_eq!(partial.get(MinEfficiency), Some(Setting::Off));
        assert_eq!(partial.get(MaxWaste), None);
        assert_eq!(partial.get(MaxUserWaste), Some(On(Value::Percent(10.0))));

        let empty = parse_dive_ci("").unwrap();
        assert_eq!(empty.get(MinEfficiency), Some(On(Value::Ratio(0.9))));
        assert!(parse_dive_ci("rules:\n  lowestEfficiency: 2\n").is_err());
        assert!(parse_dive_ci("rules:\n  highestWastedBytes: lots\n").is_err());
        let unknown = parse_dive_ci("rules:\n  mostFun: 1\n").unwrap();
        assert_eq!(unknown.rules, empty.rules);
        assert!(
            unknown.warnings[0].contains("rules.mostFun"),
            "{:?}",
            unknown.warnings
        );
        assert!(unknown.warnings[0].contains("lowestEfficiency or lowest-efficiency"));
        assert!(parse_dive_ci("rules: [\n").is_err());
    }
}
