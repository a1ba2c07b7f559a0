//! `imgscope cat IMAGE PATH [--layer N]`: a file's bytes on standard
//! output, read again from the one layer blob that holds them (the work is
//! in [`imgscope::look`]).

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use clap::Args;

use imgscope::look::{self, read};
use imgscope::{LoadOptions, LoadProgress};

use super::shared::{check_platform, image_arg, Env};

#[derive(Debug, Args)]
pub struct CatArgs {
    /// The image (any IMAGE imgscope reads; - reads standard input once)
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The path inside the image (with or without a leading /)
    #[arg(value_name = "PATH")]
    pub path: OsString,
    /// The version as of layer N (0 is the first): the one N stored, even
    /// if a later layer hides it. Default: the visible version
    #[arg(long, value_name = "N")]
    pub layer: Option<usize>,
    /// Choose the platform of multi-platform indexes (os/arch[/variant])
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
}

pub fn run_cat(a: CatArgs, _env: &Env) -> anyhow::Result<ExitCode> {
    check_platform(&a.platform).map_err(anyhow::Error::msg)?;
    let mut opts = LoadOptions::default();
    opts.select.platform = a.platform.clone();
    let image = image_arg(&a.image, None);
    let path = a.path.as_bytes();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    if image == "-" {
        // Read once: the entries at PATH are kept as the stream passes.
        let wanted = normalised(path)?;
        let (index, cap) = read::load_capturing(Box::new(std::io::stdin()), "-", &opts, &wanted)?;
        let v = look::resolve(&index, path, a.layer).map_err(|e| located("-", e))?;
        let st = look::stored(&index, v.change.inode);
        if st.path != wanted {
            anyhow::bail!(
                "-: {}: its bytes are stored at /{} (through a link); standard input is read once, so give that path",
                look::show(path),
                look::show(&st.path)
            );
        }
        let member = &index.layers[st.layer].r.member;
        let bytes = cap.get(member, &st).map_err(|why| {
            anyhow::anyhow!("-: layer {}: /{}: {why}", st.layer, look::show(&st.path))
        })?;
        write_all(&mut out, bytes)?;
    } else {
        let index = imgscope::index_only(&image, &opts, &LoadProgress::default())?;
        let v = look::resolve(&index, path, a.layer).map_err(|e| located(&image, e))?;
        let st = look::stored(&index, v.change.inode);
        read::copy_stored(&image, &opts, &index, &st, &mut out)?;
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// The error named with the image it is about.
pub fn located(image: &str, e: look::LookError) -> anyhow::Error {
    anyhow::anyhow!("{image}: {e}")
}

/// PATH as the layer tars write it: relative, normalised.
fn normalised(path: &[u8]) -> anyhow::Result<Vec<u8>> {
    imgscope::load::layer::normalize_path(path)
        .map_err(|m| anyhow::anyhow!("{}: {m}", look::show(path)))?
        .ok_or_else(|| anyhow::anyhow!("/: is a directory"))
}

fn write_all(out: &mut impl Write, bytes: &[u8]) -> anyhow::Result<()> {
    match out.write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
