//! `imgscope fix --build`: rebuild the patched Dockerfile with a real
//! builder, read the result like any image, and hold the prediction to it:
//! realised saving against predicted (in all and per waste kind), and every
//! path of the final filesystem that changed other than what the fixes said
//! they remove.
//!
//! buildah builds in a private store under a temporary directory (never the
//! user's; the overlay driver, as docker's and podman's default, so layers
//! hold what they would), or in the store `--buildah-store` names (kept, with
//! its layer cache), `--isolation chroot`, and exports a docker-archive with
//! `buildah push`; docker and podman build in their own store and `save`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::compare::files::merge_children;
use crate::load::index::{Index, NodeId, NodeKind, Op, NO_INODE, ROOT};
use crate::suggest::Report;

use super::Fixed;

/// The builders `--build` knows, in the order it looks for them.
pub const BUILDERS: [&str; 3] = ["buildah", "docker", "podman"];

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| {
            let f = d.join(name);
            f.is_file()
                && std::fs::metadata(&f).is_ok_and(|m| {
                    use std::os::unix::fs::PermissionsExt;
                    m.permissions().mode() & 0o111 != 0
                })
        })
    })
}

/// The builder to use: the one asked for, else the first of [`BUILDERS`]
/// on PATH. Err: the sentence saying which were looked for.
pub fn find_builder(want: Option<&str>) -> Result<String, String> {
    let look: Vec<&str> = match want {
        Some(w) if BUILDERS.contains(&w) => vec![w],
        Some(w) => {
            return Err(format!(
                "--builder: unknown builder {w:?} (buildah, docker or podman)"
            ))
        }
        None => BUILDERS.to_vec(),
    };
    look.iter()
        .find(|b| on_path(b))
        .map(|b| b.to_string())
        .ok_or_else(|| {
            format!(
                "--build: no builder on PATH (looked for {})",
                look.join(", ")
            )
        })
}

/// A temporary directory, removed when dropped (after buildah's store in it
/// is emptied). With `store`, buildah builds in that store instead
/// (`store/root`, `store/run`), which is left as it is.
pub struct Work {
    pub dir: PathBuf,
    buildah_store: bool,
    store: Option<PathBuf>,
}

impl Work {
    pub fn new() -> std::io::Result<Work> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("imgscope-fix-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Work {
            dir,
            buildah_store: false,
            store: None,
        })
    }

    /// Build in the buildah store at `store` (kept) instead of a private one.
    pub fn in_store(mut self, store: Option<PathBuf>) -> Work {
        self.store = store;
        self
    }

    fn buildah(&self) -> Command {
        let home = self.store.as_ref().unwrap_or(&self.dir);
        let mut c = Command::new("buildah");
        c.arg("--root")
            .arg(home.join("root"))
            .arg("--runroot")
            .arg(home.join("run"))
            .arg("--storage-driver")
            .arg("overlay");
        c
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if self.buildah_store && self.store.is_none() {
            let _ = self.buildah().args(["rm", "-a"]).output();
            let _ = self.buildah().args(["rmi", "-a", "-f"]).output();
            // The overlay driver mounts its own home: undo the mounts made
            // under our directory, deepest first, before removing it.
            let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
            let mut under: Vec<&str> = mounts
                .lines()
                .filter_map(|l| l.split_whitespace().nth(1))
                .filter(|m| Path::new(m).starts_with(&self.dir))
                .collect();
            under.sort_unstable_by(|a, b| b.cmp(a));
            for m in under {
                let ok = Command::new("umount")
                    .arg(m)
                    .output()
                    .is_ok_and(|o| o.status.success());
                if !ok {
                    let _ = Command::new("umount").arg("-l").arg(m).output();
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(mut c: Command, what: &str) -> Result<String, String> {
    let out = c.output().map_err(|e| format!("{what}: cannot run: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        return Err(format!("{what} failed ({}): {last}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Build `dockerfile` in `context` with `builder` and export the image as
/// a docker-archive in `work`. `bases` are docker-archives to make
/// available under a name first (buildah's private store has no image of
/// its own: a `FROM` that is not in a registry comes from them).
pub fn build(
    builder: &str,
    dockerfile: &str,
    context: &Path,
    bases: &[(String, PathBuf)],
    work: &mut Work,
) -> Result<PathBuf, String> {
    let df = work.dir.join("Dockerfile");
    std::fs::write(&df, dockerfile).map_err(|e| format!("{}: {e}", df.display()))?;
    let out = work.dir.join("rebuilt.tar");
    let tag = "localhost/imgscope-fix-rebuilt:latest";
    match builder {
        "buildah" => {
            work.buildah_store = true;
            for (name, archive) in bases {
                let mut c = work.buildah();
                c.args(["pull", "--quiet"])
                    .arg(format!("docker-archive:{}", archive.display()));
                let id = run(c, "buildah pull")?;
                let mut c = work.buildah();
                c.args(["tag", id.trim(), name]);
                run(c, "buildah tag")?;
            }
            // Pushed by id: in a shared store (`--buildah-store`) another
            // build may move the tag meanwhile.
            let iid = work.dir.join("iid");
            let mut c = work.buildah();
            c.args(["bud", "--isolation", "chroot", "--layers", "-f"])
                .arg(&df)
                .args(["-t", tag])
                .arg("--iidfile")
                .arg(&iid)
                .arg(context);
            run(c, "buildah bud")?;
            let id = std::fs::read_to_string(&iid)
                .map_err(|e| format!("buildah bud: no image id ({}: {e})", iid.display()))?;
            let mut c = work.buildah();
            c.args(["push", "--quiet", id.trim()])
                .arg(format!("docker-archive:{}:{tag}", out.display()));
            run(c, "buildah push")?;
        }
        "docker" | "podman" => {
            for (name, archive) in bases {
                let mut c = Command::new(builder);
                c.args(["load", "-i"]).arg(archive);
                let loaded = run(c, &format!("{builder} load"))?;
                if let Some(id) = loaded.split_whitespace().last() {
                    let mut c = Command::new(builder);
                    c.args(["tag", id, name]);
                    run(c, &format!("{builder} tag"))?;
                }
            }
            let mut c = Command::new(builder);
            c.args(["build", "-f"])
                .arg(&df)
                .args(["-t", tag])
                .arg(context);
            run(c, &format!("{builder} build"))?;
            let mut c = Command::new(builder);
            c.args(["save", "-o"]).arg(&out).arg(tag);
            if builder == "podman" {
                c.args(["--format", "docker-archive"]);
            }
            run(c, &format!("{builder} save"))?;
        }
        other => return Err(format!("unknown builder {other}")),
    }
    Ok(out)
}

/// One path whose state differs between the two final filesystems.
#[derive(Debug, Clone, Serialize)]
pub struct PathChange {
    pub path: String,
    /// `added`, `removed`, `content`, `mode`, `owner`, `type`, `link`.
    pub change: String,
    /// Why it is expected (`claimed`: a fix said it removes it;
    /// `rebuild`: files every build writes anew, logs and caches with
    /// timestamps), or empty: not explained by any applied fix.
    pub expected: String,
}

/// Predicted against realised, overall and per waste kind.
#[derive(Debug, Clone, Serialize)]
pub struct KindFigures {
    pub kind: String,
    pub predicted_bytes: u64,
    pub realised_bytes: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub builder: String,
    pub predicted_bytes: u64,
    pub realised_bytes: i64,
    pub old_total_bytes: u64,
    pub new_total_bytes: u64,
    pub by_kind: Vec<KindFigures>,
    /// Paths changed that no fix explains: each makes a safe-level run fail.
    pub unexpected: Vec<PathChange>,
    /// Paths changed as a fix said (or as every rebuild does).
    pub expected: Vec<PathChange>,
}

impl Verification {
    /// |realised − predicted| as a fraction of predicted (0 when both are 0).
    pub fn deviation(&self) -> f64 {
        let p = self.predicted_bytes as f64;
        let r = self.realised_bytes as f64;
        if p == 0.0 {
            if r == 0.0 {
                0.0
            } else {
                1.0
            }
        } else {
            (r - p).abs() / p
        }
    }
}

/// Files a rebuild writes anew whatever the Dockerfile: logs, caches that
/// hold timestamps, and the mount points a builder leaves in a layer with a
/// RUN (`/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`: one RUN fewer
/// may leave them out).
fn rebuild_noise(path: &str) -> bool {
    ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"].contains(&path)
        || path.starts_with("/var/log/")
        || path.starts_with("/var/cache/debconf/")
        || path == "/var/cache/ldconfig/aux-cache"
        || path.ends_with(".pyc")
}

#[derive(PartialEq, Eq)]
struct State {
    kind: NodeKind,
    hash: u128,
    size: u64,
    mode: u32,
    uid: u32,
    gid: u32,
    link: Option<Vec<u8>>,
}

fn state(index: &Index, id: NodeId) -> Option<State> {
    let c = index.changes(id).last()?;
    if c.op == Op::Remove {
        return None;
    }
    let (hash, size) = if c.kind == NodeKind::File && c.inode != NO_INODE {
        let i = &index.inodes[c.inode as usize];
        (i.hash(), i.size)
    } else {
        (0, 0)
    };
    let link = if c.kind == NodeKind::Symlink {
        index.link(c).map(<[u8]>::to_vec)
    } else {
        None
    };
    Some(State {
        kind: c.kind,
        hash,
        size,
        mode: c.mode & 0o7777,
        uid: c.uid,
        gid: c.gid,
        link,
    })
}

/// Every path whose final state differs between `old` and `new`.
pub fn fs_changes(old: &Index, new: &Index) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let mut stack: Vec<(Option<NodeId>, Option<NodeId>, Vec<u8>)> =
        vec![(Some(ROOT), Some(ROOT), Vec::new())];
    while let Some((o, n, path)) = stack.pop() {
        let so = o.filter(|&x| x != ROOT).and_then(|x| state(old, x));
        let sn = n.filter(|&x| x != ROOT).and_then(|x| state(new, x));
        let is_root = o == Some(ROOT);
        let (o, n) = (
            if is_root {
                o
            } else {
                o.filter(|_| so.is_some())
            },
            if is_root {
                n
            } else {
                n.filter(|_| sn.is_some())
            },
        );
        if !is_root {
            let p = String::from_utf8_lossy(&path).into_owned();
            let change = match (&so, &sn) {
                (None, None) => continue,
                (Some(_), None) => Some("removed"),
                (None, Some(_)) => Some("added"),
                (Some(a), Some(b)) if a.kind != b.kind => Some("type"),
                (Some(a), Some(b)) if a.hash != b.hash || a.size != b.size => Some("content"),
                (Some(a), Some(b)) if a.link != b.link => Some("link"),
                (Some(a), Some(b)) if a.mode != b.mode => Some("mode"),
                (Some(a), Some(b)) if (a.uid, a.gid) != (b.uid, b.gid) => Some("owner"),
                _ => None,
            };
            if let Some(c) = change {
                out.push((p, c));
            }
        }
        let dir =
            |s: &Option<State>| is_root || s.as_ref().is_some_and(|s| s.kind == NodeKind::Dir);
        let kids: Vec<(Vec<u8>, Option<NodeId>, Option<NodeId>)> = match (o, n) {
            (Some(a), Some(b)) if dir(&so) && dir(&sn) => merge_children(old, a, new, b)
                .into_iter()
                .map(|(name, x, y)| (name.to_vec(), x, y))
                .collect(),
            (Some(a), _) if dir(&so) => old
                .children(a)
                .iter()
                .map(|&c| (old.name(c).to_vec(), Some(c), None))
                .collect(),
            (_, Some(b)) if dir(&sn) => new
                .children(b)
                .iter()
                .map(|&c| (new.name(c).to_vec(), None, Some(c)))
                .collect(),
            _ => Vec::new(),
        };
        for (name, x, y) in kids.into_iter().rev() {
            let mut p = path.clone();
            p.push(b'/');
            p.extend_from_slice(&name);
            stack.push((x, y, p));
        }
    }
    out
}

/// Compare the original image with the rebuilt one.
pub fn verify(
    builder: &str,
    fixed: &Fixed,
    removal_roots: &[String],
    (oi, or): (&Index, &Report),
    (ni, nr): (&Index, &Report),
) -> Verification {
    let mut predicted_kind: BTreeMap<String, u64> = BTreeMap::new();
    for a in &fixed.applied {
        for (k, b) in &a.by_kind {
            *predicted_kind.entry(k.clone()).or_default() += b;
        }
    }
    let by_kind_of = |r: &Report| -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for f in &r.waste {
            *m.entry(f.kind.as_str().to_string()).or_default() += f.bytes;
        }
        m
    };
    let (ok, nk) = (by_kind_of(or), by_kind_of(nr));
    let kinds: std::collections::BTreeSet<&String> = predicted_kind
        .keys()
        .chain(ok.keys())
        .chain(nk.keys())
        .collect();
    let by_kind = kinds
        .into_iter()
        .map(|k| KindFigures {
            kind: k.clone(),
            predicted_bytes: predicted_kind.get(k).copied().unwrap_or(0),
            realised_bytes: ok.get(k).copied().unwrap_or(0) as i64
                - nk.get(k).copied().unwrap_or(0) as i64,
        })
        .collect();
    let claimed = |p: &str, change: &str| {
        change == "removed"
            && removal_roots.iter().any(|r| {
                p == r || crate::suggest::is_inside(p, r) || crate::suggest::is_inside(r, p)
            })
    };
    let mut unexpected = Vec::new();
    let mut expected = Vec::new();
    for (path, change) in fs_changes(oi, ni) {
        let why = if claimed(&path, change) {
            "claimed"
        } else if rebuild_noise(&path) {
            "rebuild"
        } else {
            ""
        };
        let c = PathChange {
            path,
            change: change.to_string(),
            expected: why.to_string(),
        };
        if why.is_empty() {
            unexpected.push(c);
        } else {
            expected.push(c);
        }
    }
    let (ot, nt) = (or.summary.total_bytes, nr.summary.total_bytes);
    Verification {
        builder: builder.to_string(),
        predicted_bytes: fixed.predicted.saves_bytes,
        realised_bytes: ot as i64 - nt as i64,
        old_total_bytes: ot,
        new_total_bytes: nt,
        by_kind,
        unexpected,
        expected,
    }
}

/// The verification in words (stderr of `fix --build`).
pub fn text(v: &Verification, top: usize) -> String {
    use crate::units::human;
    let mut o = format!(
        "rebuilt with {}: image {} → {}; saving predicted {} ({} bytes), realised {} ({} bytes), {:.2}% apart\n",
        v.builder,
        human(v.old_total_bytes),
        human(v.new_total_bytes),
        human(v.predicted_bytes),
        v.predicted_bytes,
        crate::present::signed(v.realised_bytes),
        v.realised_bytes,
        v.deviation() * 100.0
    );
    for k in &v.by_kind {
        o.push_str(&format!(
            "  {:<14} predicted {:>12} bytes  realised {:>12} bytes\n",
            k.kind, k.predicted_bytes, k.realised_bytes
        ));
    }
    let claimed = v
        .expected
        .iter()
        .filter(|c| c.expected == "claimed")
        .count();
    let noise = v.expected.len() - claimed;
    o.push_str(&format!(
        "  final filesystem: {claimed} paths removed as claimed, {noise} rebuild-dependent (logs, timestamped caches), {} other changes\n",
        v.unexpected.len()
    ));
    for c in v.unexpected.iter().take(top) {
        o.push_str(&format!("  changed  {:<8} {}\n", c.change, c.path));
    }
    if v.unexpected.len() > top {
        o.push_str(&format!("  and {} more\n", v.unexpected.len() - top));
    }
    o
}
