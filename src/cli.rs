//! Command line: clap parses into `Cli`, which is checked once into `Config`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use imgscope::checks::Limit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Parser)]
#[command(
    name = "imgscope",
    version,
    about = "Shows where a container image's bytes go and how to stop wasting them",
    after_help = "IMAGE is a docker/podman save tar, an OCI layout (tar or directory), either \
                  compressed with gzip or zstd, or - for standard input.\n\
                  Exit codes: 0 analysed and every check passed, 1 a check failed, 2 bad usage or unreadable input."
)]
pub struct Cli {
    /// The image to analyse
    #[arg(value_name = "IMAGE", required_unless_present = "demo")]
    pub image: Option<String>,

    /// Analyse the small wasteful image bundled with imgscope
    #[arg(long, conflicts_with = "image")]
    pub demo: bool,

    /// CI mode: never open the TUI; print a report and exit 0/1 by the checks
    #[arg(long)]
    pub ci: bool,

    /// Fail when wasted bytes are above this: a percentage of the total (10%) or a size (50MB, 1.5GiB, 200000)
    #[arg(long, value_name = "LIMIT")]
    pub max_waste: Option<String>,

    /// Output format (text by default when stdout is not a terminal)
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Write the report to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Choose one image of an archive holding several (NAME:TAG)
    #[arg(long, value_name = "NAME:TAG")]
    pub image_name: Option<String>,

    /// Choose the platform of a multi-platform index (os/arch[/variant]); default: the host's
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,

    /// The Dockerfile the image was built from: suggestions then cite its lines
    #[arg(long, value_name = "PATH")]
    pub dockerfile: Option<PathBuf>,

    /// How many findings the text report lists
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Tui,
    Report(Format),
}

#[derive(Debug)]
pub struct Config {
    pub image: String,
    pub mode: Mode,
    pub ci: bool,
    pub max_waste: Option<Limit>,
    pub output: Option<PathBuf>,
    pub load: imgscope::LoadOptions,
    pub top: usize,
    pub progress: bool,
    pub dockerfile: Option<PathBuf>,
}

pub fn demo_image() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/demo.tar").to_string()
}

impl Cli {
    pub fn into_config(self) -> Result<Config, String> {
        let image = if self.demo { demo_image() } else { self.image.clone().unwrap_or_default() };
        let max_waste = self
            .max_waste
            .as_deref()
            .map(Limit::parse)
            .transpose()
            .map_err(|e| format!("--max-waste: {e}"))?;
        if let Some(p) = &self.platform {
            let n = p.split('/').count();
            if !(2..=3).contains(&n) || p.split('/').any(str::is_empty) {
                return Err(format!("--platform: {p:?} is not os/arch[/variant]"));
            }
        }
        let stdout_tty = std::io::stdout().is_terminal();
        let tui_possible = cfg!(feature = "tui") && stdout_tty && !self.ci && self.format.is_none() && self.output.is_none();
        let mode = if tui_possible || (self.demo && !self.ci && self.format.is_none() && stdout_tty && cfg!(feature = "tui")) {
            Mode::Tui
        } else {
            Mode::Report(self.format.unwrap_or(Format::Text))
        };
        let progress = mode != Mode::Tui
            && !self.ci
            && !matches!(mode, Mode::Report(Format::Json))
            && std::io::stderr().is_terminal();
        Ok(Config {
            image,
            mode,
            ci: self.ci,
            max_waste,
            output: self.output,
            load: imgscope::LoadOptions {
                select: imgscope::image::Select {
                    image: self.image_name,
                    platform: self.platform,
                },
            },
            top: self.top,
            progress,
            dockerfile: self.dockerfile,
        })
    }
}
