//! `imgscope fix --dockerfile FILE IMAGE`: the patched Dockerfile, and with
//! `--build` its rebuild compared with IMAGE (the work is in
//! [`imgscope::fix`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use imgscope::fix::{self, verify, FixOptions};
use imgscope::{AnalyseOptions, LoadOptions, LoadProgress};

use super::shared::{print_stdout, Env};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixFormat {
    /// The patched Dockerfile on stdout, what was applied on stderr
    Text,
    /// {"dockerfile","applied","skipped","predicted"[,"verification"]}
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    /// Only fixes that keep the final filesystem but the bytes they remove
    Safe,
    /// Also the fixes that change what the image contains
    All,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    /// The Dockerfile that built IMAGE
    #[arg(long, value_name = "FILE", required = true)]
    pub dockerfile: PathBuf,
    /// The image it built (any IMAGE imgscope reads)
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Write the patched Dockerfile to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "write")]
    pub output: Option<PathBuf>,
    /// Replace the Dockerfile, keeping the original as FILE.orig
    #[arg(long)]
    pub write: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: FixFormat,
    /// Which fixes: safe (default) or all
    #[arg(long, value_enum, default_value = "safe")]
    pub level: Level,
    /// Content-changing kinds to add to the safe ones: recommends,multistage,strip,optional
    #[arg(long, value_name = "KINDS", conflicts_with = "level")]
    pub include: Option<String>,
    /// Rebuild the patched Dockerfile and compare the result with IMAGE
    #[arg(long)]
    pub build: bool,
    /// The builder for --build (default: the first of buildah, docker, podman on PATH)
    #[arg(long, value_name = "NAME", requires = "build")]
    pub builder: Option<String>,
    /// The build context for --build (default: the Dockerfile's directory)
    #[arg(long, value_name = "DIR", requires = "build")]
    pub context: Option<PathBuf>,
    /// NAME=ARCHIVE: a docker-archive to provide as image NAME to the build
    /// (a FROM image that is in no registry)
    #[arg(long, value_name = "NAME=ARCHIVE", requires = "build")]
    pub base_archive: Vec<String>,
    /// With buildah: build in the store at DIR (DIR/root, DIR/run; overlay
    /// driver), kept with its layer cache, instead of a private store
    /// removed afterwards
    #[arg(long, value_name = "DIR", requires = "build")]
    pub buildah_store: Option<PathBuf>,
    /// Keep the rebuilt image as a docker-archive at FILE
    #[arg(long, value_name = "FILE", requires = "build")]
    pub save_image: Option<PathBuf>,
    /// Choose the platform of multi-platform indexes (os/arch[/variant])
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
}

/// `image` built from `dockerfile`, through the one front door (which
/// reads the Dockerfile once, before the image).
fn report_of(
    image: &str,
    dockerfile: &std::path::Path,
    load: &LoadOptions,
) -> anyhow::Result<(imgscope::Index, imgscope::Report, imgscope::DockerfileRead)> {
    let opts = AnalyseOptions {
        load: load.clone(),
        dockerfile: Some(dockerfile.to_path_buf()),
        ..Default::default()
    };
    let a = imgscope::analyse(image, &opts, &LoadProgress::default())?;
    let df = a
        .dockerfile
        .ok_or_else(|| anyhow::anyhow!("{}: not read", dockerfile.display()))?;
    Ok((a.index, a.report, df))
}

pub fn run_fix(a: FixArgs, _env: &Env) -> anyhow::Result<ExitCode> {
    let opts = match (&a.include, a.level) {
        (Some(k), _) => FixOptions::including(k).map_err(anyhow::Error::msg)?,
        (None, Level::All) => FixOptions::all(),
        (None, Level::Safe) => FixOptions::default(),
    };
    let safe_only = opts.include.is_empty();
    let builder = if a.build {
        Some(verify::find_builder(a.builder.as_deref()).map_err(anyhow::Error::msg)?)
    } else {
        None
    };
    if a.buildah_store.is_some() && builder.as_deref() != Some("buildah") {
        anyhow::bail!(
            "--buildah-store: only with the buildah builder (this build uses {})",
            builder.as_deref().unwrap_or("none")
        );
    }
    let mut bases = Vec::new();
    for b in &a.base_archive {
        let (name, file) = b
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--base-archive: {b:?} is not NAME=ARCHIVE"))?;
        bases.push((name.to_string(), PathBuf::from(file)));
    }
    let load = LoadOptions {
        select: imgscope::load::image::Select {
            image: None,
            platform: a.platform.clone(),
        },
        // `--build` compares the files of two images by content.
        hash_all: builder.is_some(),
        ..Default::default()
    };
    let (index, report, df) = report_of(&a.image, &a.dockerfile, &load)?;
    let fixed = fix::fix(&index, &report, &df, &opts)?;

    let mut verification = None;
    if let Some(builder) = &builder {
        let context = match &a.context {
            Some(c) => c.clone(),
            None => a
                .dockerfile
                .parent()
                .map(|p| {
                    if p.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        p.to_path_buf()
                    }
                })
                .unwrap_or_else(|| PathBuf::from(".")),
        };
        let mut work = verify::Work::new()?.in_store(a.buildah_store.clone());
        let archive = verify::build(builder, &fixed.dockerfile, &context, &bases, &mut work)
            .map_err(anyhow::Error::msg)?;
        if let Some(keep) = &a.save_image {
            std::fs::copy(&archive, keep)
                .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", keep.display()))?;
        }
        let patched = work.dir.join("Dockerfile");
        let (ni, nr, _) = report_of(&archive.display().to_string(), &patched, &load)?;
        verification = Some(verify::verify(
            builder,
            &fixed,
            &fixed.removal_roots,
            (&index, &report),
            (&ni, &nr),
        ));
    }

    // The patched file where it was asked for.
    if a.write {
        let orig = PathBuf::from(format!("{}.orig", a.dockerfile.display()));
        std::fs::write(&orig, &df.text)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", orig.display()))?;
        std::fs::write(&a.dockerfile, &fixed.dockerfile)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", a.dockerfile.display()))?;
    } else if let Some(o) = &a.output {
        std::fs::write(o, &fixed.dockerfile)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", o.display()))?;
    }
    match a.format {
        FixFormat::Json => {
            // SPEC's fields in order, then the verification of --build.
            #[derive(serde::Serialize)]
            struct Out<'a> {
                #[serde(flatten)]
                fixed: &'a fix::Fixed,
                #[serde(skip_serializing_if = "Option::is_none")]
                verification: Option<&'a verify::Verification>,
            }
            let v = Out {
                fixed: &fixed,
                verification: verification.as_ref(),
            };
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            print_stdout(&s)?;
        }
        FixFormat::Text => {
            if !a.write && a.output.is_none() {
                print_stdout(&fixed.dockerfile)?;
            }
            eprint!("{}", fix::summary_text(&fixed));
            if let Some(v) = &verification {
                eprint!("{}", verify::text(v, 20));
            }
        }
    }
    let failed = safe_only
        && verification
            .as_ref()
            .is_some_and(|v| !v.unexpected.is_empty());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
