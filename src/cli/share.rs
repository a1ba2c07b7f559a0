//! `imgscope share IMAGE...`: what a host or registry storing all these
//! images pays, with the layers they share by diff_id.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use imgscope::compare;
use imgscope::render;
use imgscope::Report;

use super::shared::{analyse, analyse_options, emit, json, Env};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShareFormat {
    Text,
    Json,
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

pub fn run_share(a: ShareArgs, _env: &Env) -> anyhow::Result<ExitCode> {
    let opts = analyse_options(&a.platform).map_err(anyhow::Error::msg)?;
    let mut reports = Vec::with_capacity(a.images.len());
    for image in &a.images {
        reports.push(analyse(image, &opts)?.report);
    }
    let refs: Vec<&Report> = reports.iter().collect();
    let s = compare::share(&refs);
    let body = match a.format {
        ShareFormat::Text => render::share_text::render(&s),
        ShareFormat::Json => json(&s)?,
    };
    emit(a.output.as_deref(), &body)?;
    Ok(ExitCode::SUCCESS)
}
