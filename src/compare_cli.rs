//! The `diff` and `share` subcommands: their arguments and their runs.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use imgscope::ci::rules::Target;
use imgscope::compare;
use imgscope::render;
use imgscope::{Index, LoadOptions, LoadProgress, Report, Rules};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare two images: which change bought which bytes
    #[command(
        after_help = "Layers are matched by diff_id, then by instruction, then by position; \
                      findings by kind, path and the layer that caused them.\n\
                      In a terminal (no --format, --ci or --output) this opens the comparison view.\n\
                      --ci without a rule applies --max-waste-growth 0 (waste must not grow).\n\
                      Exit codes: 0 compared and every check passed, 1 a check failed, 2 bad usage \
                      or unreadable input."
    )]
    Diff(DiffArgs),
    /// What a host or registry storing all these images pays: layers shared by diff_id
    Share(ShareArgs),
    /// The Dockerfile with the fixes applied (safe ones by default); --build rebuilds and checks
    Fix(crate::fix_cli::FixArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Totals old -> new, aligned layers, findings, realised fixes, file changes
    Text,
    /// {"schema":1,"old","new","layers","fixed","introduced","changed","files",…}
    Json,
    /// A pull-request comment (under GitHub's 65,536 characters)
    Markdown,
    /// GitHub Actions annotations
    Github,
    /// The new image's HTML page with what changed since the old one
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShareFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The image before the change (any IMAGE imgscope reads)
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The image after the change
    #[arg(value_name = "NEW")]
    pub new: String,
    /// CI mode: never the TUI; exit 0/1 by the rules
    #[arg(long)]
    pub ci: bool,
    #[command(flatten)]
    pub rules: crate::cli_rules::RuleFlags<true>,
    /// Output format (text by default when stdout is not a terminal)
    #[arg(long, value_enum)]
    pub format: Option<DiffFormat>,
    /// Write the output to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Choose the platform of multi-platform indexes (os/arch[/variant])
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// How many findings and files each text list shows
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct ShareArgs {
    /// The images (any IMAGE imgscope reads)
    #[arg(value_name = "IMAGE", required = true, num_args = 1..)]
    pub images: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: ShareFormat,
    /// Write the output to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Choose the platform of multi-platform indexes (os/arch[/variant])
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
}

/// Parse the command line. A file literally named `diff` or `share` stays
/// analysable: when the line does not parse with the word as a subcommand
/// and a file of that name exists, it is read as `./diff` (`imgscope diff`
/// alone analyses the file; `imgscope ./diff` always does).
pub fn parse<C: Parser>(args: Vec<OsString>) -> Result<C, clap::Error> {
    let first = C::try_parse_from(&args);
    let Err(err) = &first else { return first };
    if !err.use_stderr() {
        return first;
    }
    for k in (1..args.len()).rev() {
        let word = args[k].to_str().unwrap_or("");
        if (word == "diff" || word == "share") && Path::new(word).exists() {
            let mut again = args.clone();
            again[k] = OsString::from(format!("./{word}"));
            if let Ok(c) = C::try_parse_from(&again) {
                return Ok(c);
            }
        }
    }
    first
}

fn load_options(platform: &Option<String>) -> Result<LoadOptions, String> {
    if let Some(p) = platform {
        let n = p.split('/').count();
        if !(2..=3).contains(&n) || p.split('/').any(str::is_empty) {
            return Err(format!("--platform: {p:?} is not os/arch[/variant]"));
        }
    }
    Ok(LoadOptions {
        select: imgscope::load::image::Select {
            image: None,
            platform: platform.clone(),
        },
        ..Default::default()
    })
}

/// Load one image and make its full report (findings and suggestions).
pub fn analyse(image: &str, load: &LoadOptions) -> anyhow::Result<(Index, Report)> {
    let image = image.strip_prefix("docker-archive://").unwrap_or(image);
    let index = imgscope::load(image, load, &LoadProgress::default())?;
    let report = imgscope::report(
        &index,
        &Rules::builtin(),
        &imgscope::suggest::SuggestOptions::default(),
    )?;
    Ok((index, report))
}

fn emit(output: &Option<PathBuf>, body: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, body)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display())),
        None => crate::print_stdout(body),
    }
}

pub fn run_diff(a: DiffArgs, env: &crate::cli::Env) -> anyhow::Result<ExitCode> {
    let load = load_options(&a.platform).map_err(anyhow::Error::msg)?;
    if a.top == 0 {
        anyhow::bail!("--top: give at least 1");
    }
    let rules = a.rules.rule_set().map_err(anyhow::Error::msg)?;
    let mut gate =
        crate::cli_rules::gate(&rules, Target::Diff, a.ci).map_err(anyhow::Error::msg)?;
    // The default of `diff --ci` is no news: its limit says no `(default)`.
    gate.default_rule = false;
    let ci = a.ci || (env.ci_var && !env.stdout_tty);
    let tui = cfg!(feature = "tui")
        && env.stdout_tty
        && !ci
        && a.format.is_none()
        && a.output.is_none()
        && a.rules.is_empty();
    #[cfg(feature = "tui")]
    if tui {
        imgscope::tui::run_diff(&a.old, &a.new, &load, &Rules::builtin())?;
        return Ok(ExitCode::SUCCESS);
    }
    let _ = tui;
    let (oi, or) = analyse(&a.old, &load)?;
    let (ni, nr) = analyse(&a.new, &load)?;
    let d = compare::diff((&oi, &or), (&ni, &nr), &gate);
    let body = match a.format.unwrap_or(DiffFormat::Text) {
        DiffFormat::Text => {
            render::diff_text::render(&d, &render::diff_text::DiffTextOptions { top: a.top })
        }
        DiffFormat::Json => {
            let mut s = serde_json::to_string_pretty(&d)?;
            s.push('\n');
            s
        }
        DiffFormat::Markdown => render::diff_markdown::render(&d),
        DiffFormat::Github => render::diff_github::render(&d),
        DiffFormat::Html => {
            let files = imgscope::analyze::sizes::size_tree(&ni, &nr);
            render::html::render_diff(&d, &nr, &files)
        }
    };
    emit(&a.output, &body)?;
    Ok(if d.checks.iter().all(|c| c.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn run_share(a: ShareArgs) -> anyhow::Result<ExitCode> {
    let load = load_options(&a.platform).map_err(anyhow::Error::msg)?;
    let mut reports = Vec::with_capacity(a.images.len());
    for image in &a.images {
        reports.push(analyse(image, &load)?.1);
    }
    let refs: Vec<&Report> = reports.iter().collect();
    let s = compare::share(&refs);
    let body = match a.format {
        ShareFormat::Text => render::share_text::render(&s),
        ShareFormat::Json => {
            let mut j = serde_json::to_string_pretty(&s)?;
            j.push('\n');
            j
        }
    };
    emit(&a.output, &body)?;
    Ok(ExitCode::SUCCESS)
}
