//! `imgscope diff OLD NEW`: which change bought which bytes, as text, JSON,
//! Markdown, GitHub annotations, HTML, or the comparison view in a
//! terminal; exit 1 when a `--max-*-growth` rule fails.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use imgscope::ci::rules::Target;
use imgscope::compare;
use imgscope::render;

use super::rules::{gate, RuleFlags};
use super::shared::{self, analyse, analyse_options, emit, json, Env};
use super::tui::run_diff_tui;

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
    pub rules: RuleFlags<true>,
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

pub fn run_diff(a: DiffArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let mut opts = analyse_options(&a.platform).map_err(anyhow::Error::msg)?;
    shared::check_top(a.top).map_err(anyhow::Error::msg)?;
    let rules = a.rules.rule_set().map_err(anyhow::Error::msg)?;
    let mut gate = gate(&rules, Target::Diff, a.ci).map_err(anyhow::Error::msg)?;
    // The default of `diff --ci` is no news: its limit says no `(default)`.
    gate.default_rule = false;
    let ci = env.ci(a.ci, false);
    let plain = a.format.is_some() || a.output.is_some() || !a.rules.is_empty();
    if env.tui(ci, plain) {
        let (old, new) = (
            shared::image_arg(&a.old, None),
            shared::image_arg(&a.new, None),
        );
        run_diff_tui(&old, &new, &opts)?;
        return Ok(ExitCode::SUCCESS);
    }
    let old = analyse(&a.old, &opts)?;
    // The HTML page is the new image's, with its treemap.
    opts.sizes = a.format == Some(DiffFormat::Html);
    let new = analyse(&a.new, &opts)?;
    let d = compare::diff((&old.index, &old.report), (&new.index, &new.report), &gate);
    let body = match a.format.unwrap_or(DiffFormat::Text) {
        DiffFormat::Text => {
            render::diff_text::render(&d, &render::diff_text::DiffTextOptions { top: a.top })
        }
        DiffFormat::Json => json(&d)?,
        DiffFormat::Markdown => render::diff_markdown::render(&d),
        DiffFormat::Github => render::diff_github::render(&d),
        DiffFormat::Html => {
            let Some(files) = &new.sizes else {
                anyhow::bail!("{}: no size tree was computed", a.new);
            };
            render::html::render_diff(&d, &new.report, files)
        }
    };
    emit(a.output.as_deref(), &body)?;
    Ok(if d.checks.iter().all(|c| c.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
