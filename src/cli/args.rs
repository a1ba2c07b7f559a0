//! The report's arguments (`imgscope [OPTIONS] IMAGE`): clap parses them
//! into [`ReportArgs`], checked once into [`Config`] (flags merged over
//! `.imgscope.toml` / `.dive-ci`, baseline read, the TUI decided).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgAction, Args};

use super::config::{self, RuleSet};
use super::rules::{gate, RuleFlags, DIVE, RULES};
use super::shared::{self, DiveSource, Env};
use imgscope::ci::checks::{Baseline, Gate};
use imgscope::ci::rules::{CheckName, Configured, Setting, Target, Value};
use imgscope::load::cache::CacheMode;
use imgscope::load::registry::auth::Credentials;
pub use imgscope::render::Format;
use imgscope::Ignore;

/// `--format`: the names and help of [`Format`].
fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(Format::ALL.map(|f| PossibleValue::new(f.name()).help(f.help())))
        .map(|s| Format::from_name(&s).expect("one of the possible values"))
}

const REGISTRY: &str = "Registry (IMAGE as a reference)";

/// `imgscope [OPTIONS] IMAGE`: analyse one image (the TUI, or a report).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The image to analyse
    #[arg(value_name = "IMAGE", required_unless_present = "demo")]
    pub image: Option<String>,

    /// Analyse the small wasteful image bundled with imgscope
    #[arg(long, conflicts_with = "image")]
    pub demo: bool,

    /// CI mode: never the TUI, no progress bar, no colour unless stdout is a terminal;
    /// the verdict first; exit 0/1 by the checks (default rule: --max-waste 10%).
    /// Also on when CI=true and stdout is not a terminal
    #[arg(long)]
    pub ci: bool,

    /// Not CI mode, even with CI=true
    #[arg(long, conflicts_with = "ci")]
    pub no_ci: bool,

    #[command(flatten)]
    pub rules: RuleFlags<false>,

    /// Findings under paths matching GLOB count for nothing (repeatable; /usr/share/doc/**, *.pyc)
    #[arg(long, value_name = "GLOB", action = ArgAction::Append, help_heading = RULES)]
    pub ignore: Vec<String>,

    /// An earlier `--format json` report: fail when waste grew by more than --max-growth
    #[arg(long, value_name = "REPORT.json", help_heading = RULES)]
    pub baseline: Option<String>,

    /// Read rules from this file instead of ./.imgscope.toml (a *.yml/*.yaml/.dive-ci file is read as dive's)
    #[arg(long, value_name = "PATH", visible_alias = "ci-config", help_heading = RULES)]
    pub config: Option<PathBuf>,

    /// Read no configuration file
    #[arg(long, conflicts_with = "config", help_heading = RULES)]
    pub no_config: bool,

    /// Output format (text by default when stdout is not a terminal)
    #[arg(long, value_parser = format_parser())]
    pub format: Option<Format>,

    /// Write the report (in --format) to FILE; standard output then gets the short verdict
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Choose one image of an archive holding several (NAME:TAG; default: the first)
    #[arg(long = "image", visible_alias = "image-name", value_name = "NAME:TAG")]
    pub image_name: Option<String>,

    /// Choose the platform of a multi-platform index (os/arch[/variant]); default: the host's
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,

    /// The Dockerfile the image was built from: suggestions then cite its lines, and its final FROM marks the base image's layers
    #[arg(long, value_name = "PATH")]
    pub dockerfile: Option<PathBuf>,

    /// The base image (any image imgscope reads: a file, a directory, a reference); its layers must be the image's first ones
    #[arg(long, value_name = "REF|FILE")]
    pub base: Option<String>,

    /// Which layers every CI rule counts: `user` (only those after the base image's) or `all` (default)
    #[arg(long, value_name = "user|all", value_parser = imgscope::ci::checks::Scope::parse)]
    pub scope: Option<imgscope::ci::checks::Scope>,

    /// How many findings the text report lists
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,

    /// Speak plain HTTP to the registry (always so for localhost, 127.0.0.0/8 and ::1)
    #[arg(long, help_heading = REGISTRY)]
    pub insecure: bool,

    /// Give up when the registry sends nothing for this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, help_heading = REGISTRY)]
    pub timeout: f64,

    /// Registry user name (the password is read from standard input with --password-stdin)
    #[arg(long, value_name = "USER", requires = "password_stdin", help_heading = REGISTRY)]
    pub username: Option<String>,

    /// Read the registry password (or token) from standard input
    #[arg(long, requires = "username", help_heading = REGISTRY)]
    pub password_stdin: bool,

    /// Neither read nor write the layer-index cache
    #[arg(long, help_heading = REGISTRY)]
    pub no_cache: bool,

    /// Check every layer against its blob digest and the config's diff_id, in the pass that reads it (a mismatch is exit 2; the default for standard input)
    #[arg(long, conflicts_with = "no_verify")]
    pub verify: bool,

    /// Skip the digest checks (the default for files; standard input is checked)
    #[arg(long)]
    pub no_verify: bool,

    /// Also cache the indexes of local archives' layers (by diff_id); registry layers always are
    #[arg(long, conflicts_with = "no_cache", help_heading = REGISTRY)]
    pub cache: bool,

    /// dive's --source: docker or podman reads IMAGE from the engine, docker-archive from a file
    #[arg(long, value_enum, value_name = "SOURCE", help_heading = DIVE)]
    pub source: Option<DiveSource>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Tui,
    Report(Format),
}

#[derive(Debug)]
pub struct Config {
    /// A path, `-`, `docker://NAME` / `podman://NAME`, `containers-storage:NAME`.
    pub image: String,
    pub mode: Mode,
    /// CI mode (flag, or CI=true with stdout not a terminal); its effects
    /// are in the fields below, tests read it.
    #[allow(dead_code)]
    pub ci: bool,
    pub gate: Gate,
    pub ignore: Ignore,
    /// Optional files count as cache waste (`--count-optional-as-waste`,
    /// `optional = "waste"`).
    pub optional_as_waste: bool,
    /// The verdict goes first in text output (`--ci`, or checks to report).
    pub verdict: bool,
    pub output: Option<PathBuf>,
    pub load: imgscope::LoadOptions,
    pub top: usize,
    pub progress: bool,
    pub color: bool,
    pub dockerfile: Option<PathBuf>,
    /// `--base REF|FILE`.
    pub base: Option<String>,
}

impl ReportArgs {
    /// The rules given as flags (dive's spellings included).
    fn flag_rules(&self) -> Result<RuleSet, String> {
        let mut r = self.rules.rule_set()?;
        r.baseline = self.baseline.as_ref().map(|p| {
            if imgscope::ci::rules::is_off(p) {
                Setting::Off
            } else {
                Setting::On(PathBuf::from(p))
            }
        });
        r.ignore = self.ignore.clone();
        Ok(r)
    }

    fn image_arg(&self) -> String {
        if self.demo {
            return shared::demo_image();
        }
        shared::image_arg(self.image.as_deref().unwrap_or_default(), self.source)
    }

    pub fn into_config_in(self, env: &Env) -> Result<Config, String> {
        let image = self.image_arg();
        shared::check_platform(&self.platform)?;
        shared::check_top(self.top)?;
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout < 1e6) {
            return Err(format!(
                "--timeout: {} is not a number of seconds",
                self.timeout
            ));
        }
        let credentials = match &self.username {
            Some(user) if self.password_stdin => {
                if image == "-" {
                    return Err("--password-stdin: standard input cannot carry both the password and the image".into());
                }
                Some(read_password(user)?)
            }
            _ => None,
        };
        let flags = self.flag_rules()?;
        let rule_flags = flags.says_anything() || !flags.ignore.is_empty();
        let file = if self.no_config {
            None
        } else {
            config::load(self.config.as_deref(), &env.cwd)?
        };
        let origin = file.as_ref().map(|(_, o)| o.to_string());
        if let Some((f, o)) = &file {
            for w in &f.warnings {
                eprintln!("imgscope: warning: {o}: {w}");
            }
        }
        let rules = match file {
            Some((f, _)) => f.under(flags),
            None => flags,
        };
        let ci = env.ci(self.ci, self.no_ci);

        let ignore = Ignore::new(&rules.ignore)?;
        let baseline = match &rules.baseline {
            Some(Setting::On(p)) => Some(read_baseline(p, &ignore)?),
            _ => None,
        };
        let mut gate = gate(&rules, Target::Image, self.ci)?;
        match (&baseline, gate.get(CheckName::MaxGrowth)) {
            (None, Some(_)) => {
                return Err(
                    "--max-growth: give the earlier report with --baseline REPORT.json".into(),
                )
            }
            // A baseline alone: waste must not grow.
            (Some(_), None) => gate.set(Configured {
                name: CheckName::MaxGrowth,
                value: Value::Limit(imgscope::ci::checks::Limit::Bytes(0)),
            }),
            _ => {}
        }
        gate.baseline = baseline;
        gate.origin = origin;
        gate.scope = self.scope.or(rules.scope).unwrap_or_default();

        let plain = rule_flags || self.format.is_some() || self.output.is_some();
        let mode = if env.tui(ci, plain) {
            Mode::Tui
        } else {
            Mode::Report(self.format.unwrap_or(Format::Text))
        };
        let progress = mode != Mode::Tui
            && !ci
            && !matches!(mode, Mode::Report(Format::Json))
            && env.stderr_tty;
        // Only an explicit --ci changes the text output of a run without
        // rules (CI=true alone keeps a pipeline's existing output as it was).
        let verdict = self.ci || !gate.is_empty() || !ignore.is_empty();
        Ok(Config {
            image,
            mode,
            ci,
            gate,
            ignore,
            optional_as_waste: rules.get(CheckName::CountOptionalAsWaste)
                == Some(Setting::On(Value::Bool(true))),
            verdict,
            output: self.output,
            load: imgscope::LoadOptions {
                verify: if self.verify {
                    Some(true)
                } else if self.no_verify {
                    Some(false)
                } else {
                    None
                },
                select: imgscope::load::image::Select {
                    image: self.image_name,
                    platform: self.platform,
                },
                cache: imgscope::load::cache::CacheOptions {
                    mode: if self.no_cache {
                        CacheMode::Off
                    } else if self.cache {
                        CacheMode::All
                    } else {
                        CacheMode::Registry
                    },
                    ..Default::default()
                },
                registry: imgscope::load::registry::Options {
                    insecure: self.insecure,
                    timeout: Duration::from_secs_f64(self.timeout),
                    credentials,
                },
                // Only the text report and the TUI show the estimate.
                pull_estimate: matches!(mode, Mode::Tui | Mode::Report(Format::Text)),
                // Every file's content hashed, as before issue 26 (for
                // measuring what reading only what can matter saves).
                hash_all: std::env::var_os("IMGSCOPE_HASH_ALL").is_some_and(|v| v == "1"),
            },
            top: self.top,
            progress,
            color: env.stdout_tty && !env.no_color,
            dockerfile: self.dockerfile,
            base: self.base,
        })
    }
}

/// The password from standard input (one line; the newline is not part of it).
fn read_password(user: &str) -> Result<Credentials, String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| format!("--password-stdin: cannot read standard input: {e}"))?;
    let secret = s.strip_suffix('\n').unwrap_or(&s);
    let secret = secret.strip_suffix('\r').unwrap_or(secret);
    if secret.is_empty() {
        return Err("--password-stdin: standard input was empty".into());
    }
    Ok(Credentials {
        username: user.to_string(),
        secret: secret.to_string(),
    })
}

fn read_baseline(p: &Path, ignore: &Ignore) -> Result<Baseline, String> {
    let name = p.display().to_string();
    let text =
        std::fs::read_to_string(p).map_err(|e| format!("--baseline {name}: cannot read: {e}"))?;
    Baseline::from_json(&text, &name, ignore).map_err(|e| format!("--baseline {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgscope::ci::checks::Limit;

    fn env(stdout_tty: bool, ci_var: bool) -> Env {
        Env {
            stdout_tty,
            stderr_tty: stdout_tty,
            ci_var,
            no_color: false,
            cwd: PathBuf::from("/nonexistent-imgscope-test-dir"),
        }
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: ReportArgs,
    }

    fn parse(args: &[&str], e: &Env) -> Result<Config, String> {
        use clap::Parser;
        let mut v = vec!["imgscope"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v).unwrap().args.into_config_in(e)
    }

    #[test]
    fn ci_mode_from_flag_or_environment() {
        let c = parse(&["x.tar"], &env(false, true)).unwrap();
        assert!(c.ci && !c.gate.default_rule && c.gate.is_empty() && !c.verdict);
        let c = parse(&["--no-ci", "x.tar"], &env(false, true)).unwrap();
        assert!(!c.ci);
        let c = parse(&["x.tar"], &env(true, true)).unwrap();
        assert!(!c.ci);
        assert_eq!(
            c.mode,
            if cfg!(feature = "tui") {
                Mode::Tui
            } else {
                Mode::Report(Format::Text)
            }
        );
        let c = parse(&["--ci", "x.tar"], &env(true, false)).unwrap();
        assert!(c.ci && c.gate.default_rule && c.verdict && !c.progress && c.color);
        assert_eq!(c.mode, Mode::Report(Format::Text));
        assert_eq!(
            c.gate.get(CheckName::MaxWaste).map(|c| c.value),
            Some(Value::Limit(Limit::Percent(10.0)))
        );
        let c = parse(&["--ci", "--max-waste", "off", "x.tar"], &env(false, false)).unwrap();
        assert!(c.gate.is_empty() && !c.gate.default_rule);
        let c = parse(&["--max-size", "1GB", "x.tar"], &env(true, false)).unwrap();
        assert_eq!(c.mode, Mode::Report(Format::Text));
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        let mut e = env(true, false);
        assert!(parse(&["--ci", "x"], &e).unwrap().color);
        e.no_color = true;
        assert!(!parse(&["--ci", "x"], &e).unwrap().color);
        assert!(!parse(&["--ci", "x"], &env(false, false)).unwrap().color);
    }

    #[test]
    fn bad_rules_are_usage_errors() {
        let e = env(false, false);
        for args in [
            &["--max-waste", "lots", "x"][..],
            &["--min-efficiency", "2", "x"],
            &["--max-size", "10%", "x"],
            &["--max-growth", "1MB", "x"],
            &["--ignore", "a[", "x"],
            &["--max-waste", "1%", "--highestWastedBytes", "1MB", "x"],
            &["--baseline", "/nonexistent/base.json", "x"],
        ] {
            assert!(parse(args, &e).is_err(), "{args:?}");
        }
    }

    #[test]
    fn dive_flags_map_to_rules() {
        let c = parse(
            &[
                "--source",
                "docker",
                "--lowestEfficiency",
                "0.95",
                "--highestWastedBytes",
                "20MB",
                "--highestUserWastedPercent",
                "0.2",
                "alpine:3",
            ],
            &env(false, false),
        )
        .unwrap();
        assert_eq!(c.image, "docker://alpine:3");
        let v = |n| c.gate.get(n).map(|c| c.value);
        assert_eq!(v(CheckName::MinEfficiency), Some(Value::Ratio(0.95)));
        assert_eq!(v(CheckName::MaxWaste), Some(Value::Size(20_000_000)));
        assert_eq!(v(CheckName::MaxUserWaste), Some(Value::Percent(20.0)));
        let c = parse(&["docker-archive://a/b.tar"], &env(false, false)).unwrap();
        assert_eq!(c.image, "a/b.tar");
    }
}
