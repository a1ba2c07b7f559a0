//! What the binaries tell: every visible ELF file (static or dynamic,
//! stripped or not, UPX-packed, Go), dynamic executables whose loader or
//! libraries are missing from the final filesystem, images without a
//! package manager that lack CA certificates, zoneinfo or `/etc/passwd`
//! while holding binaries likely to need them, and compressed archives left
//! in the image. Pure over the index; output sorted.

use std::collections::BTreeSet;

use rustc_hash::FxHashSet;
use serde::{Serialize, Serializer};

use super::packages::{Owners, Resolver};
use super::waste::{walk_visible, walk_visible_files, Analysis as Report, ImagePath};
use crate::load::capture::Captured;
use crate::load::elf::{ElfFacts, ElfKind, GoBuild, Linkage};
use crate::load::index::{Index, InodeId, NodeId, NodeKind, ROOT};

use crate::units::human;

/// Unstripped files below this many strippable bytes are not reported.
pub const MIN_STRIPPABLE: u64 = 1024;

/// One finding about a file (or a missing one), for the report's `insights`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Insight {
    /// `unstripped`, `upx-packed`, `missing-interpreter`, `missing-library`,
    /// `no-ca-certificates`, `no-zoneinfo`, `no-passwd`, `compressed-archive`.
    #[serde(deserialize_with = "super::interned::name")]
    pub id: super::interned::Name,
    pub path: ImagePath,
    pub layer: usize,
    pub message: String,
    /// The bytes concerned (what `strip` saves, the archive's size, …).
    pub bytes: u64,
    /// Files the insight names as missing.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub missing: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(skip)]
    pub node: NodeId,
}

fn lossy<S: Serializer>(v: &Option<Box<[u8]>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_some(&String::from_utf8_lossy(b)),
        None => s.serialize_none(),
    }
}

fn lossy_list<S: Serializer>(v: &[Box<[u8]>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|b| String::from_utf8_lossy(b)))
}

/// Read back [`lossy`] (exact when the bytes were UTF-8).
fn unlossy<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Box<[u8]>>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(s.map(|s| s.into_bytes().into_boxed_slice()))
}

/// Read back [`lossy_list`].
fn unlossy_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Box<[u8]>>, D::Error> {
    let v: Vec<String> = serde::Deserialize::deserialize(d)?;
    Ok(v.into_iter()
        .map(|s| s.into_bytes().into_boxed_slice())
        .collect())
}

/// One visible ELF file.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Binary {
    pub path: ImagePath,
    pub layer: usize,
    pub bytes: u64,
    pub kind: ElfKind,
    pub linkage: Linkage,
    #[serde(serialize_with = "lossy", deserialize_with = "unlossy")]
    pub interpreter: Option<Box<[u8]>>,
    #[serde(serialize_with = "lossy_list", deserialize_with = "unlossy_list")]
    pub needed: Vec<Box<[u8]>>,
    /// What `strip` would remove (0 when stripped; absent when unknown).
    pub strippable_bytes: Option<u64>,
    pub upx: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go: Option<GoBuild>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(skip)]
    pub node: NodeId,
}

/// Archive names whose content is compressed (not `.jar`: Java reads it as is).
const ARCHIVES: &[&str] = &[
    ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst", ".tar.lz4", ".zip",
    ".whl", ".7z", ".rar",
];

/// The loader's default search directories for an ELF machine.
fn default_dirs(machine: u16) -> Vec<&'static [u8]> {
    let triple: &[&'static [u8]] = match machine {
        62 => &[
            b"/lib/x86_64-linux-gnu",
            b"/usr/lib/x86_64-linux-gnu",
            b"/lib64",
            b"/usr/lib64",
        ],
        183 => &[
            b"/lib/aarch64-linux-gnu",
            b"/usr/lib/aarch64-linux-gnu",
            b"/lib64",
            b"/usr/lib64",
        ],
        40 => &[b"/lib/arm-linux-gnueabihf", b"/usr/lib/arm-linux-gnueabihf"],
        3 => &[
            b"/lib/i386-linux-gnu",
            b"/usr/lib/i386-linux-gnu",
            b"/lib32",
        ],
        _ => &[],
    };
    let mut v = triple.to_vec();
    v.extend_from_slice(&[b"/lib", b"/usr/lib", b"/usr/local/lib"]);
    v
}

struct Fs<'a> {
    index: &'a Index,
    resolver: Resolver<'a>,
    /// Basenames of every visible file and symlink (built on first need).
    names: Option<FxHashSet<&'a [u8]>>,
}

impl<'a> Fs<'a> {
    /// A regular file reachable at `path` in the final filesystem.
    fn exists(&self, path: &[u8]) -> bool {
        self.resolver.follow(path).is_some_and(|n| {
            self.index.visible(n)
                && self
                    .index
                    .changes(n)
                    .last()
                    .is_some_and(|c| c.kind == NodeKind::File)
        })
    }

    fn anywhere(&mut self, name: &[u8]) -> bool {
        let index = self.index;
        let names = self.names.get_or_insert_with(|| {
            let mut s = FxHashSet::default();
            let mut path = Vec::new();
            walk_visible(index, ROOT, &mut path, &mut |id, _| {
                if index
                    .last_change(id)
                    .is_some_and(|c| c.kind != NodeKind::Dir)
                {
                    s.insert(index.name(id));
                }
            });
            s
        });
        names.contains(name)
    }
}

/// Directories listed by `/etc/ld.so.conf` and `/etc/ld.so.conf.d/*.conf`.
fn ld_so_conf(index: &Index) -> Vec<Vec<u8>> {
    let mut files: Vec<NodeId> = Vec::new();
    if let Some(n) = index.find(b"etc/ld.so.conf") {
        files.push(n);
    }
    if let Some(d) = index.find(b"etc/ld.so.conf.d") {
        files.extend(index.children(d).iter().copied());
    }
    let mut dirs = Vec::new();
    for n in files.into_iter().filter(|&n| index.visible(n)) {
        let Some(c) = index.changes(n).last() else {
            continue;
        };
        if let Some(Captured::Data(d)) = index.captured(c.inode) {
            for line in d.split(|&b| b == b'\n') {
                let line = line.split(|&b| b == b'#').next().unwrap_or(b"");
                let line = line.trim_ascii();
                if line.starts_with(b"/") {
                    dirs.push(line.to_vec());
                }
            }
        }
    }
    dirs
}

fn shown(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// What [`run`] reads of the final filesystem, found by one walk that needs
/// only the index (so it can run beside the findings and the package
/// databases): the visible ELF files and the files named like a compressed
/// archive, each with its path, in path order.
pub struct Scan<'a> {
    elves: Vec<Elf<'a>>,
    archives: Vec<(NodeId, InodeId, Vec<u8>, &'static str)>,
    /// For each of `elves`, what the final filesystem lacks of what it
    /// needs to start (see [`needs`]): read from the index alone too.
    lacks: Vec<Lacks>,
    /// The lookups those checks made, kept for the minimal-image checks.
    fs: Fs<'a>,
}

/// A dynamic executable's loader when it is missing (its `PT_INTERP`), and
/// the libraries it needs that are nowhere to be found.
#[derive(Default)]
struct Lacks {
    interp: bool,
    libraries: Vec<String>,
}

/// A visible ELF file: its node, inode, path and facts.
type Elf<'a> = (NodeId, InodeId, Vec<u8>, &'a ElfFacts);

/// The walk of [`Scan`].
pub fn scan(index: &Index) -> Scan<'_> {
    let mut elves: Vec<Elf> = Vec::new();
    let mut archives = Vec::new();
    walk_visible_files(index, &mut |id, p, inode| {
        if let Some(Captured::Elf(f)) = index.captured(inode) {
            elves.push((id, inode, p.to_vec(), f));
            return;
        }
        if let Some(ext) = archive_ext(index.name(id)) {
            archives.push((id, inode, p.to_vec(), ext));
        }
    });
    let mut fs = Fs {
        index,
        resolver: Resolver::new(index),
        names: None,
    };
    let conf = ld_so_conf(index);
    let lacks = elves
        .iter()
        .map(|(_, _, path, f)| needs(&mut fs, &conf, path, f))
        .collect();
    Scan {
        elves,
        archives,
        lacks,
        fs,
    }
}

/// What a dynamic executable at `path` needs that the final filesystem
/// lacks (nothing for any other ELF file).
fn needs(fs: &mut Fs, conf: &[Vec<u8>], path: &[u8], f: &ElfFacts) -> Lacks {
    if f.kind != ElfKind::Executable || f.linkage != Linkage::Dynamic {
        return Lacks::default();
    }
    let interp = f.interp.as_ref().is_some_and(|i| !fs.exists(i));
    let dir = &path[..path.iter().rposition(|&b| b == b'/').unwrap_or(0)];
    let mut libraries = Vec::new();
    for lib in f.needed.iter().flatten() {
        let found = if lib.contains(&b'/') {
            fs.exists(lib)
        } else {
            let runpath = f.runpath.iter().map(|r| {
                let r: &[u8] = r;
                match r.strip_prefix(b"$ORIGIN") {
                    Some(rest) => [dir, rest].concat(),
                    None => r.to_vec(),
                }
            });
            let mut dirs: Vec<Vec<u8>> = runpath.collect();
            dirs.extend(conf.iter().cloned());
            dirs.extend(default_dirs(f.machine).into_iter().map(<[u8]>::to_vec));
            dirs.iter().any(|d| fs.exists(&[&d[..], b"/", lib].concat()))
                // Found elsewhere: maybe on LD_LIBRARY_PATH; not reported.
                || fs.anywhere(lib)
        };
        if !found {
            libraries.push(shown(lib));
        }
    }
    Lacks { interp, libraries }
}

/// The compressed-archive extension `name` ends with (any case), if any.
fn archive_ext(name: &[u8]) -> Option<&'static str> {
    // Every extension ends in a byte `archive_last_byte` lets through and
    // has its dot within the last 8 bytes: most names fail one of the two
    // and are decided without comparing.
    if !archive_last_byte(*name.last()?) {
        return None;
    }
    let tail = &name[name.len().saturating_sub(ARCHIVE_EXT_MAX)..];
    if !tail.contains(&b'.') {
        return None;
    }
    ARCHIVES.iter().copied().find(|e| {
        name.len() >= e.len() && name[name.len() - e.len()..].eq_ignore_ascii_case(e.as_bytes())
    })
}

/// Whether `b` (any case) is the last byte of one of [`ARCHIVES`].
fn archive_last_byte(b: u8) -> bool {
    ARCHIVE_LAST_BYTES[b as usize]
}

/// The last bytes of [`ARCHIVES`], both cases, derived from the list.
static ARCHIVE_LAST_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < ARCHIVES.len() {
        let e = ARCHIVES[i].as_bytes();
        let b = e[e.len() - 1];
        t[b.to_ascii_lowercase() as usize] = true;
        t[b.to_ascii_uppercase() as usize] = true;
        i += 1;
    }
    t
};

/// The longest of [`ARCHIVES`].
const ARCHIVE_EXT_MAX: usize = 8;

/// Fill `report.binaries` and `report.insights` from the walk [`scan`] made.
pub fn run(index: &Index, report: &mut Report, owners: &Owners, scan: Scan<'_>) {
    let Scan {
        elves,
        archives,
        lacks,
        mut fs,
    } = scan;
    // Archives already reported as cache waste are not reported again.
    let cached: FxHashSet<NodeId> = report
        .waste
        .iter()
        .filter(|f| f.hidden_by_layer.is_none())
        .map(|f| f.node)
        .collect();
    let mut insights = Vec::new();
    for (id, inode, path, ext) in archives {
        if cached.contains(&id) {
            continue;
        }
        let ino = &index.inodes[inode as usize];
        insights.push(Insight {
            id: "compressed-archive",
            path: ImagePath(path),
            layer: ino.layer as usize,
            message: format!(
                "{ext} archive of {} left in the image: layers are compressed already, so \
                 it is stored compressed twice and its unpacked content (if any) besides; \
                 delete it in the RUN that unpacked it",
                human(ino.size)
            ),
            bytes: ino.size,
            missing: Vec::new(),
            package: owners.of(index, id).map(str::to_string),
            node: id,
        });
    }
    let mut binaries = Vec::new();
    for ((node, ino, path, f), lacks) in elves.iter().zip(lacks) {
        let inode = &index.inodes[*ino as usize];
        let layer = inode.layer as usize;
        let package = owners.of(index, *node).map(str::to_string);
        let mut push = |id, message: String, bytes, missing: Vec<String>| {
            insights.push(Insight {
                id,
                path: ImagePath(path.clone()),
                layer,
                message,
                bytes,
                missing,
                package: package.clone(),
                node: *node,
            })
        };
        if let Some(s) = f.strippable.filter(|&s| s >= MIN_STRIPPABLE) {
            push(
                "unstripped",
                format!(
                    "not stripped: `strip` would remove {} of symbol tables and debug \
                     sections ({s} bytes)",
                    human(s)
                ),
                s,
                Vec::new(),
            );
        }
        if f.upx {
            push(
                "upx-packed",
                "packed with UPX: layers are compressed already, and a packed program \
                 cannot share its pages between processes, uses more memory and starts \
                 slower; ship it unpacked"
                    .to_string(),
                inode.size,
                Vec::new(),
            );
        }
        if f.kind == ElfKind::Executable && f.linkage == Linkage::Dynamic {
            if let Some(interp) = &f.interp {
                if lacks.interp {
                    push(
                        "missing-interpreter",
                        format!(
                            "dynamic executable whose loader {} is not in the image: running \
                             it fails with \"no such file or directory\" (link it statically, \
                             or use a base image with its C library)",
                            shown(interp)
                        ),
                        0,
                        vec![shown(interp)],
                    );
                }
            }
            let missing = lacks.libraries;
            if !missing.is_empty() {
                push(
                    "missing-library",
                    format!(
                        "needs {} which {} not in the image: the program cannot start",
                        missing.join(", "),
                        if missing.len() == 1 { "is" } else { "are" }
                    ),
                    0,
                    missing,
                );
            }
        }
        binaries.push(Binary {
            path: ImagePath(path.clone()),
            layer,
            bytes: inode.size,
            kind: f.kind,
            linkage: f.linkage,
            interpreter: f.interp.clone(),
            needed: f.needed.clone().unwrap_or_default(),
            strippable_bytes: f.strippable,
            upx: f.upx,
            go: f.go.clone(),
            package,
            node: *node,
        });
    }
    minimal_image(index, &mut fs, &elves, owners, &mut insights);
    insights.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.id.cmp(b.id))
            .then_with(|| a.path.cmp(&b.path))
    });
    report.insights = insights;
    report.binaries = binaries;
}

/// An image without a package manager (no package database, no `apt`,
/// `apk`, `dnf`, `rpm`, `microdnf` or `yum`): the things a program finds in
/// a distribution but not here.
fn minimal_image(
    index: &Index,
    fs: &mut Fs,
    elves: &[Elf<'_>],
    owners: &Owners,
    out: &mut Vec<Insight>,
) {
    if owners.any() {
        return;
    }
    for m in [
        &b"/usr/bin/apt"[..],
        b"/sbin/apk",
        b"/usr/bin/dnf",
        b"/usr/bin/rpm",
        b"/usr/bin/microdnf",
        b"/usr/bin/yum",
        b"/usr/bin/dpkg",
    ] {
        if fs.exists(m) {
            return;
        }
    }
    let last = index.layers.len().saturating_sub(1);
    let execs: Vec<&Elf<'_>> = elves
        .iter()
        .filter(|e| e.3.kind == ElfKind::Executable)
        .collect();
    let names = |pick: &dyn Fn(&ElfFacts) -> bool| -> BTreeSet<String> {
        execs
            .iter()
            .filter(|e| pick(e.3))
            .map(|e| shown(&e.2))
            .collect()
    };
    let tls_lib = |f: &ElfFacts| {
        f.needed.iter().flatten().any(|l| {
            [
                &b"libssl"[..],
                b"libcrypto",
                b"libcurl",
                b"libgnutls",
                b"libnss3",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
    };
    /// (insight id, where the file would be, who needs it, what it means)
    type Check<'a> = (&'static str, &'a [&'a [u8]], BTreeSet<String>, &'a str);
    let checks: [Check; 3] = [
        (
            "no-ca-certificates",
            &[
                b"/etc/ssl/certs/ca-certificates.crt",
                b"/etc/ssl/cert.pem",
                b"/etc/pki/tls/certs/ca-bundle.crt",
            ],
            names(&|f| f.go.is_some() || tls_lib(f)),
            "no CA certificates (/etc/ssl/certs/ca-certificates.crt): TLS connections fail if they \
             make any (build info and linked libraries do not say whether they do):",
        ),
        (
            "no-zoneinfo",
            &[b"/usr/share/zoneinfo/UTC", b"/usr/share/zoneinfo/Etc/UTC"],
            names(&|f| f.go.is_some()),
            "no time-zone data (/usr/share/zoneinfo): time zones other than UTC fail if they load \
             any (Go programs may embed their own with time/tzdata):",
        ),
        (
            "no-passwd",
            &[b"/etc/passwd"],
            names(&|f| f.go.is_some() || f.linkage == Linkage::Dynamic),
            "no /etc/passwd: user names (USER, ~, getpwuid) do not resolve for",
        ),
    ];
    for (id, paths, users, text) in checks {
        if users.is_empty() || paths.iter().any(|p| fs.exists(p)) {
            continue;
        }
        let list: Vec<&str> = users.iter().take(3).map(String::as_str).collect();
        let more = users.len().saturating_sub(3);
        out.push(Insight {
            id,
            path: ImagePath(paths[0].to_vec()),
            layer: last,
            message: format!(
                "minimal image with {text} {}{} (informational: copy them from a build stage \
                 if the program needs them)",
                list.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
            bytes: 0,
            missing: vec![shown(paths[0])],
            package: None,
            node: ROOT,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_extensions_fit_the_dot_pre_test() {
        assert!(ARCHIVES.iter().all(|e| e.len() <= ARCHIVE_EXT_MAX));
        assert!(ARCHIVES.iter().all(|e| {
            let last = *e.as_bytes().last().unwrap();
            archive_last_byte(last) && archive_last_byte(last.to_ascii_uppercase())
        }));
        assert_eq!(archive_ext(b"x.TAR.ZST"), Some(".tar.zst"));
        assert_eq!(archive_ext(b"f.tar.lz4"), Some(".tar.lz4"));
        assert_eq!(archive_ext(b"notes.txt"), None);
        assert_eq!(archive_ext(b"x.TAR.BZ2"), Some(".tar.bz2"));
        assert_eq!(archive_ext(b"a.whl"), Some(".whl"));
        assert_eq!(archive_ext(b".7z"), Some(".7z"));
        assert_eq!(archive_ext(b"archive.tar.gz.sig"), None);
        assert_eq!(archive_ext(b"README"), None);
        assert_eq!(archive_ext(b""), None);
    }
}
