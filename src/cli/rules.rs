//! The CI rules' flags and checks, from the rule table
//! ([`imgscope::ci::rules::RULES`]): clap arguments built from it (each
//! rule's flag and dive's spelling), what they say as a [`RuleSet`], and the
//! [`Gate`] a run checks.

use clap::ArgAction;

use super::config::RuleSet;
use imgscope::ci::checks::Gate;
use imgscope::ci::rules::{rules, CheckName, Configured, Setting, Target, Value};

/// Help headings.
pub const RULES: &str =
    "CI rules (SIZE: 50MB, 1.5GiB, 200000; off disables a rule of a config file)";
pub const DIVE: &str = "dive compatibility";
const DIFF_RULES: &str = "CI rules (SIZE: 50MB, 1.5GiB, 200000)";

/// The flags of every rule of a target, read from the rule table:
/// `--FLAG VALUE` and dive's `--camelCase VALUE` (ripgrep's flag
/// definitions are the model). `DIFF` picks `imgscope diff`'s rules.
#[derive(Debug, Clone, Default)]
pub struct RuleFlags<const DIFF: bool> {
    /// `(rule, dive's spelling, value)` for each flag given; a bare switch
    /// has no value.
    pub given: Vec<(CheckName, bool, Option<String>)>,
}

impl<const DIFF: bool> RuleFlags<DIFF> {
    const TARGET: Target = if DIFF { Target::Diff } else { Target::Image };
    const HEADING: &'static str = if DIFF { DIFF_RULES } else { RULES };

    pub fn is_empty(&self) -> bool {
        self.given.is_empty()
    }

    /// What the flags say of each rule (a rule given in both spellings is
    /// an error).
    pub fn rule_set(&self) -> Result<RuleSet, String> {
        let mut out = RuleSet::default();
        for d in rules(Self::TARGET) {
            let mut said = self.given.iter().filter(|g| g.0 == d.name);
            let Some((_, dive, text)) = said.next() else {
                continue;
            };
            if said.next().is_some() {
                let k = d.dive.as_ref().map(|k| k.key).unwrap_or("");
                return Err(format!("--{} and --{k}: give only one of them", d.flag));
            }
            let (name, parser) = match (dive, &d.dive) {
                (true, Some(k)) => (k.key, k.parser),
                _ => (d.flag, d.parser),
            };
            let v = match text {
                None => Setting::On(Value::Bool(true)),
                Some(t) => Setting::parse(parser, t).map_err(|e| format!("--{name}: {e}"))?,
            };
            out.rules.insert(d.name, v);
        }
        Ok(out)
    }
}

impl<const DIFF: bool> clap::FromArgMatches for RuleFlags<DIFF> {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut s = RuleFlags::default();
        s.update_from_arg_matches(m)?;
        Ok(s)
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        for d in rules(Self::TARGET) {
            if matches!(d.parser, imgscope::ci::rules::Parser::Bool { .. }) {
                if m.get_flag(d.flag) {
                    self.given.push((d.name, false, None));
                }
                continue;
            }
            if let Some(v) = m.get_one::<String>(d.flag) {
                self.given.push((d.name, false, Some(v.clone())));
            }
            if let Some(k) = &d.dive {
                if let Some(v) = m.get_one::<String>(k.key) {
                    self.given.push((d.name, true, Some(v.clone())));
                }
            }
        }
        Ok(())
    }
}

impl<const DIFF: bool> clap::Args for RuleFlags<DIFF> {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        use clap::Arg;
        for d in rules(Self::TARGET) {
            let arg = Arg::new(d.flag)
                .long(d.flag)
                .help(d.help)
                .help_heading(Self::HEADING);
            cmd = cmd.arg(match d.parser {
                imgscope::ci::rules::Parser::Bool { .. } => arg.action(ArgAction::SetTrue),
                _ => arg.value_name(d.value_name),
            });
        }
        for d in rules(Self::TARGET) {
            if let Some(k) = &d.dive {
                cmd = cmd.arg(
                    Arg::new(k.key)
                        .long(k.key)
                        .value_name(k.value_name)
                        .help(format!(
                            "dive's rule: same as --{} {}",
                            d.flag, k.value_name
                        ))
                        .help_heading(DIVE),
                );
            }
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// The checks `rules` switch on for `target`; with `ci` and no rule said,
/// the rules' `--ci` defaults (`default_rule`).
pub fn gate(rules: &RuleSet, target: Target, ci: bool) -> Result<Gate, String> {
    let mut gate = Gate::default();
    for d in imgscope::ci::rules::rules(target) {
        if matches!(d.eval, imgscope::ci::rules::Eval::None) {
            continue;
        }
        if let Some(value) = rules.get(d.name).and_then(Setting::on) {
            gate.set(Configured {
                name: d.name,
                value,
            });
        }
    }
    if ci && gate.is_empty() && !rules.says_anything() {
        for d in imgscope::ci::rules::rules(target) {
            if let Some(v) = d.ci_default {
                let value = d.parser.parse(v)?;
                gate.set(Configured {
                    name: d.name,
                    value,
                });
            }
        }
        gate.default_rule = true;
    }
    Ok(gate)
}
