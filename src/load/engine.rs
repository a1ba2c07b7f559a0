//! `docker://NAME` and `podman://NAME`: a source like the others. [`Save`]
//! runs the engine's `save` command and hands back its standard output, a
//! reader the loader reads as it reads standard input; nothing is written to
//! disk. [`Save::finish`] then says why a failed load failed (the engine's
//! own message when nothing came through the pipe).

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Location, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    pub fn command(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }
}

/// `docker://NAME` or `podman://NAME` (NAME non-empty).
pub fn parse(arg: &str) -> Option<(Engine, &str)> {
    if let Some(n) = arg.strip_prefix("docker://") {
        return Some((Engine::Docker, n));
    }
    if let Some(n) = arg.strip_prefix("podman://") {
        return Some((Engine::Podman, n));
    }
    None
}

/// The last non-empty line of an engine's error output.
fn last_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// When the engine gave no image: `docker://` asks the engine, not a
/// registry (skopeo writes registry references so); how to read one.
fn registry_hint(cmd: &str, name: &str) -> String {
    format!(
        "; `{cmd}://` reads from the {cmd} engine: to read {name} from its registry, \
         write it without the {cmd}:// prefix (`imgscope {name}`)"
    )
}

/// A running `ENGINE save NAME`.
pub struct Save {
    child: std::process::Child,
    errors: std::thread::JoinHandle<Vec<u8>>,
    read: std::sync::Arc<AtomicU64>,
    cmd: &'static str,
    name: String,
    loc: Location,
}

/// Run `ENGINE save NAME`: the running command, and its standard output.
pub fn open(engine: Engine, name: &str, display: &str) -> Result<(Save, Box<dyn Read + Send>)> {
    let cmd = engine.command();
    let loc = Location::source(display);
    if name.is_empty() || name.starts_with('-') {
        return Err(Error::usage(
            loc,
            format!("give an image name after {cmd}://, e.g. {cmd}://alpine:3.20"),
        ));
    }
    let mut child = Command::new(cmd)
        .arg("save")
        .arg(name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::usage(
                    loc.clone(),
                    format!(
                        "the `{cmd}` command was not found on PATH; install {} or save the \
                         image where it is (`{cmd} save {name} -o image.tar`) and pass the tar{}",
                        if engine == Engine::Docker {
                            "Docker"
                        } else {
                            "Podman"
                        },
                        registry_hint(cmd, name)
                    ),
                )
            } else {
                Error::usage(loc.clone(), format!("cannot run `{cmd} save {name}`: {e}"))
            }
        })?;
    // Drain the engine's messages on a thread so it never blocks on them.
    let mut stderr = child.stderr.take().expect("piped stderr");
    let errors = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stderr).take(1 << 20).read_to_end(&mut buf);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        buf
    });
    let stdout = super::counted::Counted {
        inner: child.stdout.take().expect("piped stdout"),
        tally: std::sync::Arc::new(AtomicU64::new(0)),
    };
    let save = Save {
        read: stdout.tally.clone(),
        child,
        errors,
        cmd,
        name: name.to_string(),
        loc,
    };
    Ok((save, Box::new(stdout)))
}

impl Save {
    /// Wait for the engine after the loader read its output (the loader
    /// drops the pipe when it is done or fails, so the engine can never
    /// block writing to it): what was loaded, or why nothing was.
    pub fn finish<T>(self, loaded: Result<T>) -> Result<T> {
        let Save {
            mut child,
            errors,
            read,
            cmd,
            name,
            loc,
        } = self;
        if loaded.is_err() {
            let _ = child.kill();
        }
        let status = child.wait().map_err(|e| Error::io(loc.clone(), e))?;
        let stderr = errors.join().unwrap_or_default();
        let nothing = read.load(Ordering::Relaxed) == 0;
        let engine_failed = || {
            let why = last_line(&stderr);
            Error::usage(
                loc.clone(),
                format!(
                    "`{cmd} save {name}` failed ({status}){}{}",
                    if why.is_empty() {
                        String::new()
                    } else {
                        format!(": {why}")
                    },
                    if nothing {
                        registry_hint(cmd, &name)
                    } else {
                        String::new()
                    }
                ),
            )
        };
        match loaded {
            Ok(index) if status.success() => Ok(index),
            Ok(_) => Err(engine_failed()),
            // Nothing came through the pipe: the engine's own message says why.
            Err(_) if nothing && !status.success() => Err(engine_failed()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_engine_uris() {
        assert_eq!(
            parse("docker://alpine:3"),
            Some((Engine::Docker, "alpine:3"))
        );
        assert_eq!(parse("podman://x"), Some((Engine::Podman, "x")));
        assert_eq!(parse("image.tar"), None);
        assert_eq!(
            last_line(b"a\nError: no such image\n\n"),
            "Error: no such image"
        );
    }
}
