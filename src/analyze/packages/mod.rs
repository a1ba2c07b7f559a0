//! Where the bytes come from: the package databases found in the image (in
//! the final filesystem and in every layer's copy of them) give each
//! package its files; every visible byte and every wasted byte is then
//! attributed to the package that owns its path, or to no package.
//!
//! Readers: `dpkg` (status, `info/*.list`, distroless `status.d/`), `apk`
//! (`lib/apk/db/installed`), `python` (`*.dist-info/RECORD`,
//! `*.egg-info/installed-files.txt`), `npm` (`node_modules/**/package.json`:
//! a package owns its directory but nested `node_modules`) and `go` (a Go
//! binary's embedded build info owns that binary) and `rpm` (the sqlite
//! `rpmdb.sqlite`; the Berkeley DB and ndb formats are not read).

pub mod apk;
pub mod dpkg;
pub mod python;
pub mod rpm;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::analyze::waste::{walk_visible_files, Analysis as Report};
use crate::load::capture::Captured;
use crate::load::image::display_command;
use crate::load::index::{Index, InodeId, NodeId, NodeKind, Op, NO_INODE, ROOT};

/// One installed (or once installed) package and the bytes it accounts for.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Package {
    /// `dpkg`, `apk`, `python`, `npm` or `go`.
    #[serde(deserialize_with = "super::interned::name")]
    pub manager: super::interned::Name,
    pub name: String,
    pub version: String,
    /// The layer that installed it (the first of the layers since which
    /// its database record is continuously present), when known.
    pub layer: Option<usize>,
    /// That layer's instruction.
    pub created_by: String,
    /// In the final filesystem's database (false: installed, then removed).
    pub installed: bool,
    pub visible_bytes: u64,
    pub wasted_bytes: u64,
    /// Visible regular files it owns.
    pub files: u64,
    /// Wasted bytes by finding kind (`removed`, `overwritten`, …, `cache`).
    #[serde(deserialize_with = "super::interned::names_map")]
    pub wasted_by_kind: BTreeMap<&'static str, u64>,
    /// Everything its database record says beyond name and version that
    /// the suggestions use (dpkg: `Section`, `Priority`, dependencies).
    #[serde(skip)]
    pub meta: Meta,
}

/// Database details some suggestions need.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub section: String,
    pub priority: String,
    pub essential: bool,
    /// `Depends` and `Pre-Depends`: each a list of alternatives.
    pub depends: Vec<Vec<String>>,
    pub provides: Vec<String>,
    /// Marked automatically installed (apt's `extended_states`).
    pub auto: Option<bool>,
}

/// The image's split between packaged and unowned bytes.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct PackageSummary {
    /// Packages in the final filesystem's databases.
    pub installed: usize,
    /// Visible bytes owned by a package.
    pub visible_bytes: u64,
    /// Visible bytes owned by none.
    pub no_package_visible_bytes: u64,
    pub wasted_bytes: u64,
    pub no_package_wasted_bytes: u64,
}

/// What a reader found: a package and the paths it claims.
pub struct Found {
    pub manager: &'static str,
    pub name: String,
    pub version: String,
    pub layer: Option<usize>,
    pub installed: bool,
    pub meta: Meta,
    /// Absolute paths of its files, as the database writes them.
    pub paths: Vec<Vec<u8>>,
    /// Directories it owns wholly (npm), absolute.
    pub dirs: Vec<Vec<u8>>,
    /// Files it owns by node (Go binaries; dpkg resolves its lists itself).
    pub nodes: Vec<NodeId>,
}

impl Found {
    /// A package that owns the files at `paths`.
    pub fn files(
        manager: &'static str,
        name: String,
        version: String,
        layer: Option<usize>,
        installed: bool,
        meta: Meta,
        paths: Vec<Vec<u8>>,
    ) -> Found {
        Found {
            manager,
            name,
            version,
            layer,
            installed,
            meta,
            paths,
            dirs: Vec::new(),
            nodes: Vec::new(),
        }
    }
}

/// Every captured version of the file at `node`, in layer order:
/// (layer, inode, what was captured).
pub fn versions(index: &Index, node: NodeId) -> Vec<(usize, InodeId, &Captured)> {
    index
        .changes(node)
        .iter()
        .filter(|c| c.op != Op::Remove && c.kind == NodeKind::File && c.inode != NO_INODE)
        .filter_map(|c| Some((c.layer as usize, c.inode, index.captured(c.inode)?)))
        .collect()
}

/// The captured bytes of a file version, if it was captured whole.
pub fn data(c: &Captured) -> Option<&[u8]> {
    match c {
        Captured::Data(d) => Some(d),
        _ => None,
    }
}

/// Path resolution through the symbolic links of the final filesystem
/// (`/bin` → `usr/bin` on merged-/usr systems). A file list names paths
/// depth first, a directory's entries in name order, so the resolver keeps
/// the directories of the last path it resolved: the next path resolves
/// from the deepest one it shares, and a name is looked for from where the
/// last one was found in the same directory.
pub struct Resolver<'a> {
    index: &'a Index,
    /// The directory part of the last path resolved.
    prev: Vec<u8>,
    /// For each of `prev`'s components in turn (split at `/`), the state
    /// after it: see [`Resolved`].
    states: Vec<Resolved>,
}

/// Where resolving a path's components leads: the node reached (None: no
/// such path) and the symbolic links followed so far (at most 40 in a
/// path), and in that node's children, the position after the last name
/// found there.
#[derive(Clone, Copy)]
struct Resolved {
    at: Option<(NodeId, u32)>,
    next: usize,
}

/// Most symbolic links followed in one path.
const MAX_HOPS: u32 = 40;

impl<'a> Resolver<'a> {
    pub fn new(index: &'a Index) -> Self {
        Resolver {
            index,
            prev: Vec::new(),
            states: Vec::new(),
        }
    }

    /// The symlink target of a node, by its last state that is not a removal.
    fn link(&self, id: NodeId) -> Option<&'a [u8]> {
        let c = self
            .index
            .changes(id)
            .iter()
            .rev()
            .find(|c| c.op != Op::Remove)?;
        (c.kind == NodeKind::Symlink)
            .then(|| self.index.link(c))
            .flatten()
    }

    /// The node an absolute path leads to, following every symlink.
    pub fn follow(&self, path: &[u8]) -> Option<NodeId> {
        self.components(ROOT, 0, path).map(|(n, _)| n)
    }

    /// From `start` (having followed `hops` links), the components of
    /// `path` in turn (`..` goes up, `.` and empty ones stay), every
    /// symlink met followed (its target's components taking its place;
    /// an absolute one from the root): the node reached and the links
    /// followed.
    fn components(&self, start: NodeId, hops: u32, path: &[u8]) -> Option<(NodeId, u32)> {
        let index = self.index;
        let mut todo: Vec<&[u8]> = path.rsplit(|&b| b == b'/').collect();
        let (mut cur, mut hops) = (start, hops);
        while let Some(c) = todo.pop() {
            match c {
                b"" | b"." => continue,
                // The root's parent is the root.
                b".." => {
                    cur = index.parent(cur);
                    continue;
                }
                _ => {}
            }
            let child = index.child(cur, c)?;
            if let Some(target) = self.link(child) {
                hops += 1;
                if hops > MAX_HOPS {
                    return None;
                }
                if target.starts_with(b"/") {
                    cur = ROOT;
                }
                todo.extend(target.rsplit(|&b| b == b'/'));
                continue;
            }
            cur = child;
        }
        Some((cur, hops))
    }

    /// The node of an absolute path, directories resolved through symlinks
    /// (the last component is not followed).
    pub fn resolve(&mut self, path: &[u8]) -> Option<NodeId> {
        let path = path.strip_suffix(b"/").unwrap_or(path);
        let (dir, name) = match path.iter().rposition(|&b| b == b'/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&b""[..], path),
        };
        // The components `dir` shares with the last directory keep their
        // states; the others are resolved from the last shared one. Most
        // paths are in the last one's directory or just below it.
        let prev = &self.prev[..];
        // (components kept, where the first one not kept starts in `dir`)
        let (kept, from) = if self.states.is_empty() {
            (0, 0)
        } else if dir == prev {
            (self.states.len(), dir.len() + 1)
        } else if dir.starts_with(prev) && dir.get(prev.len()) == Some(&b'/') {
            (self.states.len(), prev.len() + 1)
        } else {
            let common = common_prefix(dir, prev);
            let (mut kept, mut from) = (0, 0);
            for (k, c) in dir.split(|&b| b == b'/').enumerate() {
                let end = from + c.len();
                let boundary = prev.len() == end || prev.get(end) == Some(&b'/');
                if end > common || !boundary || k >= self.states.len() {
                    break;
                }
                kept = k + 1;
                from = end + 1;
            }
            (kept, from)
        };
        self.states.truncate(kept);
        let mut rest = dir
            .get(from..)
            .into_iter()
            .flat_map(|d| d.split(|&b| b == b'/'));
        while let Some(c) = rest.next() {
            let before = self.states.last().copied();
            let (node, hops, mut next) = match before {
                Some(Resolved {
                    at: Some((n, h)),
                    next,
                }) => (n, h, next),
                Some(Resolved { at: None, .. }) => {
                    // No such directory: nor anything below it.
                    let n = 1 + rest.count();
                    self.states
                        .extend(std::iter::repeat_n(Resolved { at: None, next: 0 }, n));
                    break;
                }
                None => (ROOT, 0, 0),
            };
            let at = match c {
                b"" | b"." | b".." => self.components(node, hops, c),
                // A name: looked for from where the last was found here;
                // a symbolic link is followed from the start.
                _ => match child_near(self.index, node, c, &mut next) {
                    Some(ch) if self.link(ch).is_none() => Some((ch, hops)),
                    Some(_) => self.components(node, hops, c),
                    None => None,
                },
            };
            if let Some(b) = self.states.last_mut() {
                b.next = next;
            }
            self.states.push(Resolved { at, next: 0 });
        }
        self.prev.clear();
        self.prev.extend_from_slice(dir);
        let (d, _) = self.states.last()?.at?;
        if name.is_empty() {
            return Some(d);
        }
        let last = self.states.last_mut().expect("a directory's state");
        child_near(self.index, d, name, &mut last.next)
    }
}

/// How many leading bytes `a` and `b` share.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().expect("8 bytes"));
        let y = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// The child of `dir` named `name`, as [`Index::child`] finds it, looked
/// for at `*next` first, then after it (galloping), then before it;
/// `*next` is left after the child found.
fn child_near(index: &Index, dir: NodeId, name: &[u8], next: &mut usize) -> Option<NodeId> {
    let ch = index.children(dir);
    let at = (*next).min(ch.len());
    let pos = match ch.get(at).map(|&c| index.name(c).cmp(name)) {
        Some(std::cmp::Ordering::Equal) => at,
        Some(std::cmp::Ordering::Less) => {
            // Past `at`: double the step until a name not below `name`.
            let (mut lo, mut step) = (at + 1, 1);
            let mut hi = loop {
                let probe = at + step;
                if probe >= ch.len() {
                    break ch.len();
                }
                if index.name(ch[probe]) >= name {
                    break probe + 1;
                }
                lo = probe + 1;
                step *= 2;
            };
            hi = hi.min(ch.len());
            lo + ch[lo..hi].partition_point(|&c| index.name(c) < name)
        }
        _ => ch[..at].partition_point(|&c| index.name(c) < name),
    };
    let found = *ch.get(pos)?;
    if index.name(found) != name {
        return None;
    }
    *next = pos + 1;
    Some(found)
}

/// Join a relative path to a directory and fold `.` and `..`.
pub fn join_normalized(dir: &[u8], rel: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    let full: Vec<u8> = if rel.starts_with(b"/") {
        rel.to_vec()
    } else {
        [dir, b"/", rel].concat()
    };
    for c in full.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = Vec::with_capacity(full.len());
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    out
}

/// The layer that installed a record, given whether it is present in each
/// database version (`(layer, present)`, in layer order): the start of its
/// last run of presence (for a record removed later, the run before that).
pub fn since(run: &[(usize, bool)]) -> Option<usize> {
    let mut start = None;
    let mut last_start = None;
    for &(layer, present) in run {
        match (present, start) {
            (true, None) => start = Some(layer),
            (false, Some(s)) => {
                last_start = Some(s);
                start = None;
            }
            _ => {}
        }
    }
    start.or(last_start)
}

/// Which package owns a path: by its node, or (npm) by a directory above it.
#[derive(Debug, Clone, Default)]
pub struct Owners {
    /// By node: the owner's number, or [`NO_OWNER`] (empty: no owner at
    /// all).
    owner: Vec<u32>,
    dir_owner: FxHashMap<NodeId, u32>,
    /// `manager:name` of each owner.
    names: Vec<String>,
    /// What [`prepare`]'s walk of the final filesystem met, kept for the
    /// suggestions' package sizes (None: not walked).
    visible: Option<VisibleFiles>,
}

/// Of the regular files of the final filesystem (each inode once, at its
/// first name in path order, as [`walk_visible_files`] gives them): those a
/// package owns, and those under `/var/lib/dpkg/info/`. The suggestions
/// that count a set of packages' bytes read these instead of walking the
/// final filesystem again.
#[derive(Debug, Clone, Default)]
pub struct VisibleFiles {
    /// (owner number, inode), in path order.
    pub owned: Vec<(u32, InodeId)>,
    /// (node, inode) of the files under [`DPKG_INFO`], in path order.
    pub dpkg_info: Vec<(NodeId, InodeId)>,
}

/// [`Owners`]' mark of a node no package owns by itself.
const NO_OWNER: u32 = u32::MAX;

/// Where dpkg keeps its own files of each package (`NAME[:ARCH].list`, …).
pub const DPKG_INFO: &[u8] = b"/var/lib/dpkg/info/";

impl Owners {
    fn index_of(&self, index: &Index, node: NodeId) -> Option<u32> {
        if let Some(o) = self.owner_of_node(node) {
            return Some(o);
        }
        // Bytecode compiled at install (Debian's py3compile, pip): not in
        // the file list, it belongs to the package owning its source,
        // `D/__pycache__/NAME.TAG[.opt-N].pyc` → `D/NAME.py`.
        if let Some(o) = self.source_of_bytecode(index, node) {
            return Some(o);
        }
        if self.dir_owner.is_empty() {
            return None;
        }
        let mut n = node;
        while n != ROOT {
            n = index.parent(n);
            if let Some(&o) = self.dir_owner.get(&n) {
                return Some(o);
            }
        }
        None
    }

    fn source_of_bytecode(&self, index: &Index, node: NodeId) -> Option<u32> {
        let name = index.name(node);
        if !name.ends_with(b".pyc") || node == ROOT {
            return None;
        }
        let cache = index.parent(node);
        if cache == ROOT || index.name(cache) != b"__pycache__" {
            return None;
        }
        let stem = name.split(|&b| b == b'.').next()?;
        let mut py = stem.to_vec();
        py.extend_from_slice(b".py");
        let source = index.child(index.parent(cache), &py)?;
        self.owner_of_node(source)
    }

    /// The package that owns `node` itself (not by a directory above it).
    fn owner_of_node(&self, node: NodeId) -> Option<u32> {
        self.owner
            .get(node as usize)
            .copied()
            .filter(|&o| o != NO_OWNER)
    }

    /// `manager:name` of the package owning `node`.
    pub fn of(&self, index: &Index, node: NodeId) -> Option<&str> {
        self.index_of(index, node)
            .map(|o| self.names[o as usize].as_str())
    }

    /// The owner of `node`, as a number below [`Owners::count`].
    pub fn number_of(&self, index: &Index, node: NodeId) -> Option<u32> {
        self.index_of(index, node)
    }

    /// How many owners there are.
    pub fn count(&self) -> usize {
        self.names.len()
    }

    /// `manager:name` of owner number `o`.
    pub fn name(&self, o: u32) -> &str {
        &self.names[o as usize]
    }

    /// True when some package database was found.
    pub fn any(&self) -> bool {
        !self.names.is_empty()
    }

    /// The visible files [`prepare`] met (None when it did not walk).
    pub fn visible_files(&self) -> Option<&VisibleFiles> {
        self.visible.as_ref()
    }
}

/// Read every package database and attribute the report's bytes: fills
/// `report.packages`, `report.package_summary` and each finding's `package`.
pub fn attribute(index: &Index, report: &mut Report) -> Owners {
    prepare(index).apply(index, report)
}

/// What [`prepare`] computes from the index alone: the packages with their
/// visible bytes and who owns which path, before the findings are
/// attributed ([`Prepared::apply`]).
pub struct Prepared {
    /// None: no package database at all.
    found: Option<(Vec<Package>, Owners)>,
}

/// The index-only half of [`attribute`]: read every package database,
/// resolve their paths and count each package's visible bytes. It needs no
/// finding, so it can run beside the waste analysis.
pub fn prepare(index: &Index) -> Prepared {
    let mut found = Vec::new();
    found.extend(dpkg::read(index));
    found.extend(apk::read(index));
    found.extend(rpm::read(index));
    found.extend(python::read(index));
    found.extend(npm_and_go(index));
    if found.is_empty() {
        return Prepared { found: None };
    }
    // Installed packages claim first, the system's package managers before
    // the language ones, then in name order.
    let system = |m: &str| matches!(m, "dpkg" | "apk" | "rpm");
    found.sort_by(|a, b| {
        b.installed
            .cmp(&a.installed)
            .then_with(|| system(b.manager).cmp(&system(a.manager)))
            .then_with(|| a.manager.cmp(b.manager))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.version.cmp(&b.version))
    });
    let mut resolver = Resolver::new(index);
    let mut owners = Owners {
        names: found
            .iter()
            .map(|f| format!("{}:{}", f.manager, f.name))
            .collect(),
        ..Owners::default()
    };
    let Owners {
        owner, dir_owner, ..
    } = &mut owners;
    *owner = vec![NO_OWNER; index.node_count()];
    // The first package to claim a node owns it.
    let mut claim = |n: NodeId, i: usize| {
        let o = &mut owner[n as usize];
        if *o == NO_OWNER {
            *o = i as u32;
        }
    };
    for (i, f) in found.iter().enumerate() {
        for p in &f.paths {
            if let Some(n) = resolver.resolve(p) {
                claim(n, i);
            }
        }
        for &n in &f.nodes {
            claim(n, i);
        }
        for d in &f.dirs {
            if let Some(n) = resolver.resolve(d) {
                dir_owner.entry(n).or_insert(i as u32);
            }
        }
    }
    let owner_of = |node: NodeId| owners.index_of(index, node);
    let mut pkgs: Vec<Package> = found
        .iter()
        .map(|f| Package {
            manager: f.manager,
            name: f.name.clone(),
            version: f.version.clone(),
            layer: f.layer,
            created_by: f
                .layer
                .and_then(|l| index.layers.get(l))
                .map(|l| display_command(&l.r.created_by))
                .unwrap_or_default(),
            installed: f.installed,
            visible_bytes: 0,
            wasted_bytes: 0,
            files: 0,
            wasted_by_kind: BTreeMap::new(),
            meta: f.meta.clone(),
        })
        .collect();
    // Visible bytes: each inode once, at its first name in path order.
    // The files met are kept for the suggestions (room for every inode is
    // reserved, not touched: only the pages written are faulted in).
    let mut visible = VisibleFiles {
        owned: Vec::with_capacity(index.inodes.len()),
        dpkg_info: Vec::new(),
    };
    walk_visible_files(index, &mut |id, p, inode| {
        if p.starts_with(DPKG_INFO) {
            visible.dpkg_info.push((id, inode));
        }
        if let Some(o) = owner_of(id) {
            let p = &mut pkgs[o as usize];
            p.visible_bytes += index.inodes[inode as usize].size;
            p.files += 1;
            visible.owned.push((o, inode));
        }
    });
    owners.visible = Some(visible);
    Prepared {
        found: Some((pkgs, owners)),
    }
}

impl Prepared {
    /// The half of [`attribute`] that needs the findings.
    pub fn apply(self, index: &Index, report: &mut Report) -> Owners {
        let Some((pkgs, owners)) = self.found else {
            report.package_summary = PackageSummary::default();
            report.package_summary.no_package_visible_bytes = report.summary.visible_bytes;
            report.package_summary.no_package_wasted_bytes = report.summary.wasted_bytes;
            return Owners::default();
        };
        apply(index, report, pkgs, owners)
    }
}

fn apply(index: &Index, report: &mut Report, mut pkgs: Vec<Package>, owners: Owners) -> Owners {
    let owner_of = |node: NodeId| owners.index_of(index, node);
    let mut sum = PackageSummary::default();
    for f in &mut report.waste {
        let Some(o) = owner_of(f.node) else {
            sum.no_package_wasted_bytes += f.bytes;
            continue;
        };
        let p = &mut pkgs[o as usize];
        p.wasted_bytes += f.bytes;
        *p.wasted_by_kind.entry(f.kind.as_str()).or_default() += f.bytes;
        sum.wasted_bytes += f.bytes;
        f.package = Some(owners.names[o as usize].clone());
    }
    // Keep installed packages, and removed ones that left bytes behind. A
    // package found by its manifest (npm, Python, Go) whose every file a
    // system package owns is part of that package (the node modules Debian's
    // npm ships): not listed apart.
    pkgs.retain(|p| {
        let part = matches!(p.manager, "npm" | "python" | "go") && p.files == 0;
        (p.installed || p.wasted_bytes > 0) && !(part && p.wasted_bytes == 0)
    });
    sum.installed = pkgs.iter().filter(|p| p.installed).count();
    sum.visible_bytes = pkgs.iter().map(|p| p.visible_bytes).sum();
    sum.no_package_visible_bytes = report.summary.visible_bytes - sum.visible_bytes;
    pkgs.sort_by(|a, b| {
        (b.visible_bytes + b.wasted_bytes)
            .cmp(&(a.visible_bytes + a.wasted_bytes))
            .then_with(|| a.manager.cmp(b.manager))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.version.cmp(&b.version))
    });
    report.packages = pkgs;
    report.package_summary = sum;
    owners
}

/// npm packages (by their `package.json`) and Go modules (by the build info
/// of their binaries), both visible in the final filesystem.
fn npm_and_go(index: &Index) -> Vec<Found> {
    let mut out: BTreeMap<(&'static str, String, String), Found> = BTreeMap::new();
    for (ino, c) in &index.captured {
        let inode = &index.inodes[*ino as usize];
        if index.hidden(*ino).is_some() {
            continue;
        }
        let (manager, name, version) = match c {
            Captured::Npm { name, version } => ("npm", name.clone(), version.clone()),
            Captured::Elf(f) => match &f.go {
                Some(g) if !g.path.is_empty() => ("go", g.path.clone(), g.version.clone()),
                _ => continue,
            },
            Captured::Data(_) => continue,
        };
        let entry = out
            .entry((manager, name.clone(), version.clone()))
            .or_insert_with(|| {
                let layer = Some(inode.layer as usize);
                Found::files(
                    manager,
                    name,
                    version,
                    layer,
                    true,
                    Meta::default(),
                    Vec::new(),
                )
            });
        entry.layer = entry.layer.min(Some(inode.layer as usize));
        if manager == "npm" {
            let p = index.path(inode.node);
            let dir = p[..p.len() - b"/package.json".len()].to_vec();
            entry.dirs.push(dir);
        } else {
            entry.nodes.push(inode.node);
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_folds() {
        assert_eq!(join_normalized(b"/a/b", b"../c/./d"), b"/a/c/d");
        assert_eq!(join_normalized(b"/a", b"/x"), b"/x");
        assert_eq!(join_normalized(b"/", b"../../x"), b"/x");
    }

    /// The resolution the resolver's shortcuts must agree with: every path
    /// on its own, component by component from the root.
    fn resolve_alone(index: &Index, path: &[u8]) -> Option<NodeId> {
        let path = path.strip_suffix(b"/").unwrap_or(path);
        let (dir, name) = match path.iter().rposition(|&b| b == b'/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&b""[..], path),
        };
        let link = |id: NodeId| {
            let c = index
                .changes(id)
                .iter()
                .rev()
                .find(|c| c.op != Op::Remove)?;
            (c.kind == NodeKind::Symlink)
                .then(|| index.link(c))
                .flatten()
        };
        let mut todo: Vec<Vec<u8>> = dir
            .split(|&b| b == b'/')
            .rev()
            .map(<[u8]>::to_vec)
            .collect();
        let mut stack = vec![ROOT];
        let mut hops = 0;
        while let Some(c) = todo.pop() {
            match &c[..] {
                b"" | b"." => continue,
                b".." => {
                    if stack.len() > 1 {
                        stack.pop();
                    }
                    continue;
                }
                _ => {}
            }
            let child = index.child(*stack.last()?, &c)?;
            if let Some(target) = link(child) {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                if target.starts_with(b"/") {
                    stack.truncate(1);
                }
                todo.extend(target.split(|&b| b == b'/').rev().map(<[u8]>::to_vec));
                continue;
            }
            stack.push(child);
        }
        let d = *stack.last()?;
        if name.is_empty() {
            return Some(d);
        }
        index.child(d, name)
    }

    #[test]
    fn resolves_as_each_path_alone() {
        use crate::testing::{image, E};
        let f = |p| E::File(p, b"x".to_vec());
        let (index, _) = image(&[&[
            E::Dir("usr"),
            E::Dir("usr/bin"),
            E::Dir("usr/lib"),
            E::Dir("usr/lib/x"),
            E::Dir("usr/share/doc/a"),
            E::Dir("usr/share/doc/b"),
            f("usr/bin/a"),
            f("usr/bin/b"),
            f("usr/bin/c"),
            f("usr/bin/d"),
            f("usr/bin/e"),
            f("usr/bin/f"),
            f("usr/lib/x/1"),
            f("usr/lib/x/2"),
            f("usr/share/doc/a/c"),
            f("usr/share/doc/b/c"),
            E::Symlink("bin", "usr/bin"),
            E::Symlink("lib", "/usr/lib"),
            E::Symlink("usr/lib/up", "../share/doc"),
            E::Symlink("usr/lib/loop", "loop"),
            E::Symlink("usr/bin/tool", "f"),
        ]]);
        let paths: &[&str] = &[
            "/.",
            "/bin",
            "/bin/a",
            "/bin/c",
            "/bin/b",
            "/bin/f",
            "/bin/tool",
            "/bin/zz",
            "/usr",
            "/usr/bin",
            "/usr/bin/a",
            "/usr/bin/e",
            "/usr/bin/",
            "/usr/lib/x/1",
            "/usr/lib/x/2",
            "/lib/x/2",
            "/lib/x/1",
            "/lib/up/a/c",
            "/lib/up/b/c",
            "/lib/up/b",
            "/usr/lib/loop/x",
            "/usr/lib/loop",
            "/usr//bin/d",
            "/usr/./bin/d",
            "/usr/lib/../bin/c",
            "/usr/share/doc/a/c",
            "/usr/share/doc/b/c",
            "/usr/share/doc/a/c",
            "/nothing/here",
            "/nothing/here/either",
            "/usr/share/doc",
            "/",
            "usr/bin/a",
            "bin",
            "/../usr/bin/b",
            "/usr/bin/tool/x",
            "/usr/bin/a/x",
        ];
        let mut r = Resolver::new(&index);
        // Twice over, then backwards: every order of neighbours.
        let all = paths.iter().chain(paths).chain(paths.iter().rev());
        for p in all {
            assert_eq!(
                r.resolve(p.as_bytes()),
                resolve_alone(&index, p.as_bytes()),
                "{p}"
            );
        }
        assert_eq!(r.resolve(b"/lib/up/b/c"), index.find(b"usr/share/doc/b/c"));
        assert_eq!(r.resolve(b"/bin/a"), index.find(b"usr/bin/a"));
        assert!(index.find(b"usr/bin/a").is_some());
    }

    #[test]
    fn since_is_the_start_of_the_last_run() {
        assert_eq!(since(&[(1, true), (3, true)]), Some(1));
        assert_eq!(since(&[(1, true), (3, false), (5, true)]), Some(5));
        assert_eq!(since(&[(1, true), (3, false)]), Some(1));
        assert_eq!(since(&[(1, false)]), None);
    }
}
