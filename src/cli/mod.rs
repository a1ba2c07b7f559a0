//! The `imgscope` binary: command-line arguments in, one library call
//! ([`imgscope::analyse`]) per image, a rendering out. `main.rs` only calls
//! [`main`].
//!
//! Files, each importing only those below it in this list (no circle):
//! - `mod.rs` (this file): the top-level parser [`Cli`], the [`Command`]
//!   enum of subcommands, [`main`] (parse, dispatch, the one-line error and
//!   exit code 2).
//! - one file per command, with its clap arguments and its `run_*`:
//!   `share.rs` (`imgscope share`), `diff.rs` (`imgscope diff`), `fix.rs`
//!   (`imgscope fix`), `cat.rs` and `ls.rs`,
//!   `report.rs` (`imgscope IMAGE`: the TUI or a report; its arguments and
//!   their checking into a `Config` are in `args.rs`).
//! - `tui.rs`: the interactive views, behind the `tui` feature.
//! - `args.rs`: the report's flags, merged with the config files into a
//!   `Config` (CI mode, gate, ignores, load options, the TUI decision).
//! - `rules.rs`: the CI rule flags built from the rule table, and the gate.
//! - `config.rs`: `.imgscope.toml` and dive's `.dive-ci`.
//! - `shared.rs`: what every command shares: [`shared::Env`] (terminal, `CI`,
//!   `NO_COLOR`, the TUI decision), the image argument (`docker-archive://`,
//!   `--source`, `--demo`), `--platform` and `--top` checks, the analysis
//!   of a subcommand's image, writing the output.
//!
//! Adding a subcommand (`fix`, `cat`, `ls`, …):
//! 1. `NAME.rs`: `#[derive(clap::Args)] pub struct NameArgs { .. }` and
//!    `pub fn run_name(a: NameArgs, env: &Env) -> anyhow::Result<ExitCode>`.
//!    Get the image's analysis with `shared::image_arg` and
//!    `imgscope::analyse` (or `shared::analyse`), write with `shared::emit`;
//!    put the work itself in the library, not here.
//! 2. Here: `mod NAME;`, a variant of [`Command`] (its doc comment is the
//!    help line) and its arm in [`Command::run`]. A file named like the
//!    subcommand stays readable as an image (see [`parse`]), with no change.

mod args;
mod cat;
mod config;
mod diff;
mod fix;
mod ls;
mod report;
mod rules;
mod share;
mod shared;
mod tui;

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use args::ReportArgs;
use shared::Env;

#[derive(Debug, Parser)]
#[command(
    name = "imgscope",
    version,
    about = "Shows where a container image's bytes go and how to stop wasting them",
    after_help = "IMAGE is a docker/podman save tar, an OCI layout (tar or directory), either \
                  compressed with gzip or zstd, - for standard input, or docker://NAME / \
                  podman://NAME to stream it from the engine (`save`, nothing written to disk; \
                  podman:// reads the local store directly when it holds NAME), \
                  containers-storage:[driver@root+runroot]NAME to read a podman/buildah store, or a \
                  registry reference ([registry/]repo[:tag][@sha256:...], or registry://... to be \
                  explicit) read through the registry's API with no daemon; an existing path always \
                  wins over a reference, and a name ending in .tar/.gz/.zst or starting with / . ~ is \
                  always a path. Credentials: --username/--password-stdin, $REGISTRY_AUTH_FILE, \
                  podman's auth.json, docker's config.json (credHelpers/credsStore too). Layer indexes \
                  are cached in $XDG_CACHE_HOME/imgscope (bounded, least recently used first).\n\
                  Rules may also come from .imgscope.toml in the working directory (or --config), \
                  or from dive's .dive-ci when there is no .imgscope.toml; flags win.\n\
                  Exit codes: 0 analysed and every check passed, 1 a check failed, 2 bad usage or \
                  unreadable input.\n\
                  `imgscope diff OLD NEW` compares two images, `imgscope share IMAGE...` shows what \
                  they share. An image file literally named diff or share: write ./diff (or \
                  `imgscope diff` alone, which reads the file when it exists).",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub report: ReportArgs,
}

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
    Diff(diff::DiffArgs),
    /// What a host or registry storing all these images pays: layers shared by diff_id
    Share(share::ShareArgs),
    /// Write a file's bytes (as of a layer) to standard output
    #[command(
        after_help = "Reads only the layer blob that holds the file: an archive's member, an OCI \
                      directory's blob, one registry blob. Symlinks are followed inside the image; \
                      a hard link gives the file it shares. Standard input (-) is read once: the \
                      entries at PATH are kept (256 MiB at most) as it passes, and PATH must name \
                      the file itself, not a link to it.\n\
                      Exit codes: 0 written, 2 no such path at that layer, a directory, removed or \
                      hidden, or unreadable input."
    )]
    Cat(cat::CatArgs),
    /// List every path as of a layer, or one layer's changes (text, JSON lines, CSV)
    #[command(
        after_help = "Columns: type and mode, uid:gid, size, the layer that last wrote the path, \
                      the change (added, modified, removed), the path and a link's target. \
                      Text and CSV escape control characters and bytes that are not UTF-8 (\\xNN); \
                      JSON keeps names exact ({\"bytes_base64\": ...} when not UTF-8)."
    )]
    Ls(ls::LsArgs),
    /// The Dockerfile with the fixes applied (safe ones by default); --build rebuilds and checks
    Fix(fix::FixArgs),
}

impl Command {
    fn run(self, env: &Env) -> anyhow::Result<ExitCode> {
        match self {
            Command::Diff(a) => diff::run_diff(a, env),
            Command::Share(a) => share::run_share(a, env),
            Command::Cat(a) => cat::run_cat(a, env),
            Command::Ls(a) => ls::run_ls(a, env),
            Command::Fix(a) => fix::run_fix(a, env),
        }
    }
}

/// Parse the command line. A file literally named like a subcommand
/// (`diff`, `share`, …) stays analysable: when the line does not parse with
/// the word as a subcommand and a file of that name exists, it is read as
/// `./diff` (`imgscope diff` alone analyses the file; `imgscope ./diff`
/// always does).
pub fn parse<C: Parser>(args: Vec<OsString>) -> Result<C, clap::Error> {
    let first = C::try_parse_from(&args);
    let Err(err) = &first else { return first };
    if !err.use_stderr() {
        return first;
    }
    let command = C::command();
    let names: Vec<&str> = command.get_subcommands().map(|s| s.get_name()).collect();
    for k in (1..args.len()).rev() {
        let word = args[k].to_str().unwrap_or("");
        if names.contains(&word) && Path::new(word).exists() {
            let mut again = args.clone();
            again[k] = OsString::from(format!("./{word}"));
            if let Ok(c) = C::try_parse_from(&again) {
                return Ok(c);
            }
        }
    }
    first
}

/// The binary: parse, run the command, exit 0/1 by its checks, or 2 with
/// one line on standard error.
pub fn main() -> ExitCode {
    let cli = match parse::<Cli>(std::env::args_os().collect()) {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!(
                "imgscope: {} (see imgscope --help)",
                one_line(&e.render().to_string())
            );
            return ExitCode::from(2);
        }
    };
    let env = Env::current();
    let run = match cli.command {
        Some(c) => c.run(&env),
        None => report::run_report(cli.report, &env),
    };
    match run {
        Ok(code) => code,
        Err(e) => {
            // One line, whatever the image put in the names it quotes.
            eprintln!(
                "imgscope: {}",
                imgscope::render::escape::line(&format!("{e}"))
            );
            ExitCode::from(2)
        }
    }
}

/// A clap error on one line (SPEC: bad usage is one line on stderr): its
/// first paragraph, without the `error:` prefix.
fn one_line(text: &str) -> String {
    let para: Vec<&str> = text
        .trim_start()
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let line = para.join(" ");
    line.strip_prefix("error: ").unwrap_or(&line).to_string()
}
