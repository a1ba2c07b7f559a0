//! What every command shares: the environment that decides CI mode, colour
//! and the TUI; the image argument (`docker-archive://`, `--source`,
//! `--demo`); the `--platform` check; writing the output. Imports nothing
//! else of the binary.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use imgscope::{AnalyseOptions, Analysed, LoadProgress};

/// The environment that decides CI mode and colour.
#[derive(Debug, Clone)]
pub struct Env {
    pub stdout_tty: bool,
    pub stderr_tty: bool,
    /// `CI` is `true` (or `1`).
    pub ci_var: bool,
    /// `NO_COLOR` is set and not empty.
    pub no_color: bool,
    pub cwd: PathBuf,
}

impl Env {
    pub fn current() -> Env {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        Env {
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
            ci_var: var("CI").is_some_and(|v| {
                let v = v.to_string_lossy().to_ascii_lowercase();
                v == "true" || v == "1"
            }),
            no_color: var("NO_COLOR").is_some(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }

    /// CI mode: `--ci`, or `CI=true` with standard output not a terminal
    /// (unless `--no-ci`).
    pub fn ci(&self, flag: bool, no_ci: bool) -> bool {
        flag || (self.ci_var && !self.stdout_tty && !no_ci)
    }

    /// The TUI opens when the build has it, standard output is a terminal,
    /// not in CI mode and nothing asks for a report instead (`plain`: a
    /// format, an output file or a rule was given).
    pub fn tui(&self, ci: bool, plain: bool) -> bool {
        cfg!(feature = "tui") && self.stdout_tty && !ci && !plain
    }
}

/// dive's `--source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiveSource {
    Docker,
    Podman,
    DockerArchive,
}

/// The image bundled with imgscope (`--demo`), built into the binary.
pub fn demo_image() -> String {
    imgscope::load::DEMO_SOURCE.to_string()
}

/// An IMAGE argument as the loader takes it: dive's `docker-archive://PATH`
/// is the path; with dive's `--source docker|podman` a name is read from
/// that engine.
pub fn image_arg(image: &str, source: Option<DiveSource>) -> String {
    if let Some(path) = image.strip_prefix("docker-archive://") {
        return path.to_string();
    }
    if imgscope::load::engine::parse(image).is_some() {
        return image.to_string();
    }
    match source {
        Some(DiveSource::Docker) => format!("docker://{image}"),
        Some(DiveSource::Podman) => format!("podman://{image}"),
        Some(DiveSource::DockerArchive) | None => image.to_string(),
    }
}

/// `--platform`: `os/arch[/variant]`.
pub fn check_platform(p: &Option<String>) -> Result<(), String> {
    if let Some(p) = p {
        let n = p.split('/').count();
        if !(2..=3).contains(&n) || p.split('/').any(str::is_empty) {
            return Err(format!("--platform: {p:?} is not os/arch[/variant]"));
        }
    }
    Ok(())
}

/// The options of the images of `diff` and `share`: the built-in rules,
/// `--platform`.
pub fn analyse_options(platform: &Option<String>) -> Result<AnalyseOptions, String> {
    check_platform(platform)?;
    let mut opts = AnalyseOptions::default();
    opts.load.select.platform = platform.clone();
    Ok(opts)
}

/// One image of `diff` or `share` (IMAGE as [`image_arg`] reads it), analysed.
pub fn analyse(image: &str, opts: &AnalyseOptions) -> anyhow::Result<Analysed> {
    let image = image_arg(image, None);
    Ok(imgscope::analyse(&image, opts, &LoadProgress::default())?)
}

/// `--top`: at least one.
pub fn check_top(top: usize) -> Result<(), String> {
    if top == 0 {
        return Err("--top: give at least 1".into());
    }
    Ok(())
}

/// Write to standard output; a closed pipe (`| head`) is not an error.
pub fn print_stdout(s: &str) -> anyhow::Result<()> {
    print_stdout_bytes(s.as_bytes())
}

/// [`print_stdout`] of bytes (a rendering read back from the report cache).
pub fn print_stdout_bytes(s: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(s).and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e.into());
        }
    }
    Ok(())
}

/// Write `body` to `--output FILE`, or to standard output.
pub fn emit(output: Option<&Path>, body: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, body)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display())),
        None => print_stdout(body),
    }
}

/// JSON as the commands print it: pretty, with a final newline.
pub fn json<T: serde::Serialize>(v: &T) -> anyhow::Result<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}
