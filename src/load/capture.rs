//! The little of a file's content the analysis needs beyond its hash, taken
//! while the layer streams past: package-database files by path (whole, up
//! to a bound), the facts of ELF files (bounded windows, see `elf`), and the
//! name and version of npm packages. Every capture is bounded, and so is
//! their sum per layer; a file over a bound is simply not captured.

use serde::{Deserialize, Serialize};

use super::elf::{ElfFacts, ElfScan};

/// What was kept of one regular file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Captured {
    /// The whole content of a package-database or loader-config file.
    Data(Box<[u8]>),
    Elf(Box<ElfFacts>),
    /// `node_modules/…/package.json`: its `name` and `version`.
    Npm {
        name: String,
        version: String,
    },
}

/// Largest sum of whole-file captures in one layer.
pub const LAYER_BUDGET: u64 = 512 * 1024 * 1024;

/// What kind of whole-file capture a path gets, with its size bound.
fn data_bound(path: &[u8]) -> Option<u64> {
    const MB: u64 = 1024 * 1024;
    let (dir, name) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&b""[..], path),
    };
    match dir {
        b"var/lib/dpkg" if name == b"status" => return Some(256 * MB),
        b"var/lib/dpkg/info" if name.ends_with(b".list") => return Some(64 * MB),
        b"var/lib/dpkg/status.d" => return Some(64 * MB),
        b"var/lib/apt" if name == b"extended_states" => return Some(64 * MB),
        b"lib/apk/db" if name == b"installed" => return Some(256 * MB),
        b"usr/lib/sysimage/rpm" | b"var/lib/rpm" if name == b"rpmdb.sqlite" => {
            return Some(512 * MB)
        }
        b"etc" if name == b"ld.so.conf" => return Some(MB),
        b"etc/ld.so.conf.d" if name.ends_with(b".conf") => return Some(MB),
        _ => {}
    }
    // The parent directory's name only for the two names that need it.
    let parent = || dir.rsplit(|&b| b == b'/').next().unwrap_or(b"");
    if (name == b"RECORD" && parent().ends_with(b".dist-info"))
        || (name == b"installed-files.txt" && parent().ends_with(b".egg-info"))
    {
        return Some(64 * MB);
    }
    None
}

/// `…/node_modules/NAME/package.json` or `…/node_modules/@SCOPE/NAME/package.json`.
fn is_npm_manifest(path: &[u8]) -> bool {
    let Some(dir) = path.strip_suffix(b"/package.json") else {
        return false;
    };
    let mut parts = dir.rsplit(|&b| b == b'/');
    let name = parts.next().unwrap_or(b"");
    let Some(up) = parts.next() else { return false };
    if up == b"node_modules" {
        return !name.starts_with(b"@") && !name.starts_with(b".");
    }
    up.starts_with(b"@") && parts.next() == Some(b"node_modules")
}

/// One file's capture in progress.
pub enum Capturer {
    Data(Vec<u8>),
    Npm(Vec<u8>),
    /// A file that may be ELF, of this size: decided by its first bytes.
    Sniff(u64),
    Elf(Box<ElfScan>),
    /// Nothing to keep.
    Skip,
}

impl Capturer {
    /// The capture for a regular file of `size` bytes at `path` (relative, as
    /// in the layer), charged to the layer's remaining `budget`.
    pub fn new(path: &[u8], size: u64, budget: &mut u64) -> Option<Capturer> {
        if let Some(bound) = data_bound(path) {
            if size > bound || size > *budget {
                return None;
            }
            *budget -= size;
            return Some(Capturer::Data(Vec::with_capacity(size as usize)));
        }
        if is_npm_manifest(path) {
            return (size <= 4 * 1024 * 1024).then(|| Capturer::Npm(Vec::new()));
        }
        (size >= 52).then_some(Capturer::Sniff(size))
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        match self {
            Capturer::Data(v) | Capturer::Npm(v) => v.extend_from_slice(chunk),
            Capturer::Elf(s) => s.feed(chunk),
            Capturer::Sniff(size) => {
                *self = match ElfScan::new(*size) {
                    Some(mut s) if chunk.starts_with(b"\x7fELF") => {
                        s.feed(chunk);
                        Capturer::Elf(Box::new(s))
                    }
                    _ => Capturer::Skip,
                }
            }
            Capturer::Skip => {}
        }
    }

    /// False when the rest of the file is of no interest.
    pub fn wants_more(&self) -> bool {
        match self {
            Capturer::Elf(s) => s.wants_more(),
            Capturer::Skip => false,
            _ => true,
        }
    }

    pub fn finish(self) -> Option<Captured> {
        match self {
            Capturer::Data(v) => Some(Captured::Data(v.into_boxed_slice())),
            Capturer::Npm(v) => {
                #[derive(Deserialize)]
                struct Manifest {
                    name: Option<String>,
                    version: Option<String>,
                }
                let m: Manifest = serde_json::from_slice(&v).ok()?;
                Some(Captured::Npm {
                    name: m.name?,
                    version: m.version.unwrap_or_default(),
                })
            }
            Capturer::Elf(s) => s.finish().map(|f| Captured::Elf(Box::new(f))),
            Capturer::Sniff(_) | Capturer::Skip => None,
        }
    }
}

/// Captures of one layer, by entry index (increasing).
pub type LayerCaptures = Vec<(u32, Captured)>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_are_captured() {
        for p in [
            &b"var/lib/dpkg/status"[..],
            b"var/lib/dpkg/info/libc6:amd64.list",
            b"var/lib/dpkg/status.d/base",
            b"usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD",
            b"usr/lib/python3.11/site-packages/foo.egg-info/installed-files.txt",
            b"usr/lib/sysimage/rpm/rpmdb.sqlite",
            b"var/lib/rpm/rpmdb.sqlite",
        ] {
            assert!(data_bound(p).is_some(), "{}", String::from_utf8_lossy(p));
        }
        for p in [
            &b"var/lib/dpkg/status-old"[..],
            b"var/lib/dpkg/info/libc6.md5sums",
            b"RECORD",
            b"x/RECORD",
        ] {
            assert!(data_bound(p).is_none(), "{}", String::from_utf8_lossy(p));
        }
        assert!(is_npm_manifest(b"usr/lib/node_modules/npm/package.json"));
        assert!(is_npm_manifest(
            b"app/node_modules/@types/node/package.json"
        ));
        assert!(is_npm_manifest(
            b"app/node_modules/a/node_modules/b/package.json"
        ));
        assert!(!is_npm_manifest(b"app/package.json"));
        assert!(!is_npm_manifest(b"app/node_modules/a/lib/package.json"));
    }

    #[test]
    fn budget_bounds_whole_file_captures() {
        let mut budget = 10;
        assert!(Capturer::new(b"var/lib/dpkg/status", 8, &mut budget).is_some());
        assert!(Capturer::new(b"var/lib/dpkg/status", 8, &mut budget).is_none());
        assert_eq!(budget, 2);
    }
}
