//! `imgscope ls IMAGE [--layer N] [--changes] [--format text|json|csv]`:
//! every path as of a layer, or one layer's changes, streamed row by row
//! (the walk is [`imgscope::look::ls`]).

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use imgscope::look::ls;
use imgscope::{LoadOptions, LoadProgress};

use super::cat::located;
use super::shared::{check_platform, image_arg, Env};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LsFormat {
    Text,
    /// One JSON object per line
    Json,
    /// With a header row
    Csv,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// The image (any IMAGE imgscope reads)
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// List as of layer N (0 is the first; default: the last)
    #[arg(long, value_name = "N")]
    pub layer: Option<usize>,
    /// Only the paths that layer changed (added, modified, removed)
    #[arg(long)]
    pub changes: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: LsFormat,
    /// Choose the platform of multi-platform indexes (os/arch[/variant])
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
}

pub fn run_ls(a: LsArgs, _env: &Env) -> anyhow::Result<ExitCode> {
    check_platform(&a.platform).map_err(anyhow::Error::msg)?;
    let mut opts = LoadOptions::default();
    opts.select.platform = a.platform.clone();
    let image = image_arg(&a.image, None);
    let index = imgscope::index_only(&image, &opts, &LoadProgress::default())?;
    imgscope::look::layer_or_last(&index, a.layer).map_err(|e| located(&image, e))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut head = match a.format {
        LsFormat::Csv => writeln!(out, "{}", ls::CSV_HEADER),
        _ => Ok(()),
    };
    if head.is_ok() {
        head = ls::list(&index, a.layer, a.changes, |r| match a.format {
            LsFormat::Text => ls::text_line(r, &mut out),
            LsFormat::Json => ls::json_line(r, &mut out),
            LsFormat::Csv => ls::csv_line(r, &mut out),
        })
        .map_err(|e| located(&image, e))?;
    }
    match head.and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
