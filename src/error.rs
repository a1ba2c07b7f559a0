//! Errors of the core. Each one says which file, which layer and which path
//! it is about, so the binary can print one clear line.

use std::path::PathBuf;

/// Where in the input an error happened.
#[derive(Debug, Clone, Default)]
pub struct Location {
    /// The image file or directory given on the command line.
    pub source: String,
    /// The member inside the archive (e.g. `blobs/sha256/…`, `manifest.json`).
    pub member: Option<String>,
    /// The layer's position and digest when the error happened inside a layer.
    pub layer: Option<(usize, String)>,
    /// The path of the entry inside a layer.
    pub path: Option<String>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some((i, d)) = &self.layer {
            write!(f, ": layer {i} ({d})")?;
        }
        if let Some(m) = &self.member {
            if self.layer.is_none() {
                write!(f, ": {m}")?;
            }
        }
        if let Some(p) = &self.path {
            write!(f, ": {p}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}: cannot open: {1}")]
    Open(Box<PathBuf>, #[source] std::io::Error),
    #[error("{loc}: {msg}")]
    Format { loc: Box<Location>, msg: String },
    #[error("{loc}: read error: {err}")]
    Io {
        loc: Box<Location>,
        #[source]
        err: std::io::Error,
    },
    #[error("{loc}: {msg}")]
    Usage { loc: Box<Location>, msg: String },
}

impl Error {
    pub fn format(loc: Location, msg: impl Into<String>) -> Self {
        Error::Format {
            loc: Box::new(loc),
            msg: msg.into(),
        }
    }
    pub fn io(loc: Location, err: std::io::Error) -> Self {
        // Decoders report corrupt data as io errors with InvalidData/InvalidInput;
        // name them as corruption rather than as a failing disk.
        Error::Io {
            loc: Box::new(loc),
            err,
        }
    }
    pub fn usage(loc: Location, msg: impl Into<String>) -> Self {
        Error::Usage {
            loc: Box::new(loc),
            msg: msg.into(),
        }
    }
}

/// Longest entry path quoted in an error.
pub const MAX_SHOWN_PATH: usize = 300;

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Location {
    pub fn source(s: impl Into<String>) -> Self {
        Location {
            source: s.into(),
            ..Default::default()
        }
    }
    pub fn member(&self, m: impl Into<String>) -> Self {
        let mut l = self.clone();
        l.member = Some(m.into());
        l
    }
    pub fn layer(&self, i: usize, digest: impl Into<String>) -> Self {
        let mut l = self.clone();
        l.layer = Some((i, digest.into()));
        l
    }
    /// The entry's path, cut to [`MAX_SHOWN_PATH`] characters: an error
    /// never quotes a whole absurd name.
    pub fn path(&self, p: impl Into<String>) -> Self {
        let mut l = self.clone();
        let mut p: String = p.into();
        if p.len() > MAX_SHOWN_PATH {
            let mut end = MAX_SHOWN_PATH;
            while !p.is_char_boundary(end) {
                end -= 1;
            }
            let total = p.len();
            p.truncate(end);
            p.push_str(&format!("… ({total} bytes)"));
        }
        l.path = Some(p);
        l
    }
}
