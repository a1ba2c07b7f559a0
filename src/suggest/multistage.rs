//! Multi-stage builds: a build toolchain (gcc, clang, go, rustc, the JDK,
//! node-gyp) visible in the final image. Its saving is the visible bytes the
//! toolchain and its headers occupy, which are not findings: this rule claims
//! no finding and is kept apart from the others' "no byte claimed twice".
//! Never suggested when no toolchain marker is present.

use crate::suggest::SuggestionKind;
use std::collections::{BTreeMap, BTreeSet};

use super::installed::{install_names, is_build_tool, not_needed, package_bytes};
use super::texts::{fill, GroupedGlobs};
use super::Ctx;
use crate::analyze::globfilter::DirFilter;
use crate::analyze::rules::Rules;
use crate::analyze::waste::{walk_visible, InodeSet};
use crate::load::index::{Index, InodeId, NodeKind, NO_INODE, ROOT};
use crate::suggest::Suggestion;

/// How many artifacts the after-snippet copies at most.
const MAX_ARTIFACTS: usize = 8;

/// Does a shell command run `word` (a command name, or a command and its
/// first argument such as `go build`) as a command, not as an argument?
fn runs(body: &str, word: &str) -> bool {
    let want: Vec<&str> = word.split_whitespace().collect();
    let body = body.replace("\\\n", " ");
    body.split(['&', '|', ';', '\n', '(', ')', '`']).any(|cmd| {
        let mut toks = cmd.split_whitespace().skip_while(|t| {
            t.contains('=') || ["sudo", "env", "exec", "time", "then", "do", "else"].contains(t)
        });
        let Some(first) = toks.next() else {
            return false;
        };
        let first = first.rsplit('/').next().unwrap_or(first);
        first == want[0] && want[1..].iter().all(|w| toks.next() == Some(*w))
    })
}

/// Where (`bytes`, `path`) goes in `list` (largest first, ties: the first
/// path first).
fn position(list: &[(u64, Vec<u8>)], bytes: u64, path: &[u8]) -> usize {
    list.partition_point(|(b, p)| *b > bytes || (*b == bytes && &p[..] < path))
}

/// Would [`keep_largest`] keep (`bytes`, `path`)?
fn would_keep(list: &[(u64, Vec<u8>)], bytes: u64, path: &[u8]) -> bool {
    position(list, bytes, path) <= MAX_ARTIFACTS
}

/// Keep (`bytes`, `path`) in `list` if it is among the [`MAX_ARTIFACTS`] + 1
/// largest (ties: the first path), largest first.
fn keep_largest(list: &mut Vec<(u64, Vec<u8>)>, bytes: u64, path: &[u8]) {
    let at = position(list, bytes, path);
    // One more than copied: a build that wrote more is not copied file by file.
    if at <= MAX_ARTIFACTS {
        list.insert(at, (bytes, path.to_vec()));
        list.truncate(MAX_ARTIFACTS + 1);
    }
}

/// What the rule reads of the final filesystem, from the index and the
/// rules alone (so it can be computed beside the waste analysis).
#[derive(Debug, Default)]
pub struct Scan {
    /// Which toolchains' markers are present.
    present: Vec<bool>,
    /// (toolchain, layer, bytes, inode) of each visible file in a footprint.
    files: Vec<(usize, usize, u64, InodeId)>,
    /// Of the visible files outside the footprints, the largest few of
    /// each layer that are not cache files: (bytes, path), largest first.
    others: BTreeMap<usize, Vec<(u64, Vec<u8>)>>,
}

/// Scan the final filesystem for toolchains (see [`Scan`]).
pub fn scan(index: &Index, rules: &Rules) -> Scan {
    let tcs = &super::texts::texts().toolchain;
    let markers = GroupedGlobs::new(tcs.iter().map(|t| t.markers.as_slice()));
    // First, cheaply: is any toolchain there? Only names the markers'
    // pre-test lets through (decided per directory) get a full glob match.
    let mut present = vec![false; tcs.len()];
    let mut marker_dirs = DirFilter::new(&markers.filter, index);
    for id in index.node_ids() {
        if (id != ROOT && !marker_dirs.may_match(id)) || !index.visible(id) {
            continue;
        }
        let kind = index.last_change(id).map(|c| c.kind);
        if kind == Some(NodeKind::Dir) {
            continue;
        }
        let groups = markers.groups_at(&mut marker_dirs, id, || index.path(id));
        for g in groups {
            present[g] = true;
        }
    }
    if !(0..tcs.len()).any(|g| present[g] && !tcs[g].markers.is_empty()) {
        return Scan {
            present,
            ..Scan::default()
        };
    }
    let globs = GroupedGlobs::new(tcs.iter().map(|t| t.globs.as_slice()));
    let mut glob_dirs = DirFilter::new(&globs.filter, index);
    let mut rule_dirs = rules.dirs(index);
    let mut files = Vec::new();
    let mut others: BTreeMap<usize, Vec<(u64, Vec<u8>)>> = BTreeMap::new();
    let mut seen = InodeSet::new(index);
    let mut path = Vec::new();
    walk_visible(index, ROOT, &mut path, &mut |id, p| {
        let Some(c) = index.changes(id).last() else {
            return;
        };
        if c.kind == NodeKind::Dir {
            return;
        }
        if c.kind != NodeKind::File || c.inode == NO_INODE || !seen.insert(c.inode) {
            return;
        }
        let group = if glob_dirs.may_match(id) {
            globs.first_group_at(&mut glob_dirs, id, || p)
        } else {
            None
        };
        let ino = &index.inodes[c.inode as usize];
        let mut cache = || rule_dirs.matching(id, p).is_some();
        match group {
            // A cache file is a finding: another suggestion's bytes.
            Some(_) if cache() => {}
            Some(g) => files.push((g, ino.layer as usize, ino.size, c.inode)),
            None if ino.size > 0 => {
                let list = others.entry(ino.layer as usize).or_default();
                // The cache test only for a file that would be kept.
                if would_keep(list, ino.size, p) && !cache() {
                    keep_largest(list, ino.size, p)
                }
            }
            None => {}
        }
    });
    Scan {
        present,
        files,
        others,
    }
}

pub(crate) fn run(cx: &Ctx, scan: Scan, out: &mut Vec<Suggestion>) {
    let tcs = &cx.texts.toolchain;
    let steps = &cx.steps;
    // Layers whose RUN builds with some toolchain (decided once found).
    let builds_with = |l: usize, tc: usize| -> bool {
        let s = steps.get(l);
        !s.base
            && s.is_run()
            && tcs[tc]
                .builds
                .iter()
                .any(|w| runs(s.body.as_deref().unwrap_or(&s.text), w))
    };
    let Scan {
        present,
        files,
        mut others,
    } = scan;
    // Of the others, the layers that build with any toolchain: their
    // files may be artifacts.
    others.retain(|&l, _| l < steps.steps.len() && (0..tcs.len()).any(|tc| builds_with(l, tc)));
    let detected: Vec<usize> = (0..tcs.len())
        .filter(|&i| present[i] && !tcs[i].markers.is_empty())
        .collect();
    if detected.is_empty() {
        return;
    }
    // Toolchains without markers (headers) count beside a present one.
    let counted = |g: usize| detected.contains(&g) || tcs[g].markers.is_empty();
    let mut per_tc: BTreeMap<usize, u64> = BTreeMap::new();
    let mut per_layer: BTreeMap<usize, u64> = BTreeMap::new();
    for &(g, l, b, _) in files.iter().filter(|f| counted(f.0)) {
        *per_tc.entry(g).or_default() += b;
        *per_layer.entry(l).or_default() += b;
    }
    let total: u64 = per_tc.values().sum();
    if total == 0 {
        return;
    }
    let names: Vec<&str> = per_tc
        .iter()
        .filter(|(_, &b)| b > 0)
        .map(|(&g, _)| tcs[g].label())
        .collect();
    let tools = match names.as_slice() {
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => return,
    };
    let build_layers: BTreeSet<usize> = (0..steps.steps.len())
        .filter(|&l| detected.iter().any(|&tc| builds_with(l, tc)))
        .collect();
    // The layers that install a toolchain (hold files of one with markers:
    // a compiler, not only headers or sources).
    let install_layers: BTreeSet<usize> = files
        .iter()
        .filter(|f| detected.contains(&f.0) && !steps.get(f.1).base)
        .map(|f| f.1)
        .collect();
    let base = steps.base_image.as_deref().unwrap_or("<base image>");
    let n = steps.steps.len();
    let user = |l: &usize| !steps.get(*l).base;
    let meta_at = |l: usize, build: bool| -> Vec<String> {
        steps
            .meta
            .iter()
            .filter(|m| m.before == l && (!build || m.for_build()))
            .map(|m| m.text.clone())
            .collect()
    };
    let plan = plan(cx, &build_layers, &install_layers, &others, base, &meta_at);
    // The saving: the visible bytes that leave the final image (the
    // toolchain's files, and the packages the install steps no longer
    // install), each once across all suggestions.
    let mut saving = 0;
    let leaves = |l: usize| {
        install_layers.contains(&l)
            || build_layers.contains(&l)
            || (install_layers.is_empty() && steps.get(l).base)
    };
    for &(g, l, b, ino) in &files {
        if counted(g) && leaves(l) && cx.claim_inode(ino) {
            saving += b;
        }
    }
    saving += leaving_bytes(cx, &install_layers);
    if saving == 0 {
        return;
    }
    let mut layers: Vec<usize> = per_layer.keys().copied().filter(user).collect();
    layers.extend(&build_layers);
    layers.sort_unstable();
    layers.dedup();
    let before_layers: Vec<usize> = install_layers
        .iter()
        .chain(&build_layers)
        .copied()
        .collect();
    let before = if before_layers.is_empty() {
        format!("# the toolchain comes with the base image\nFROM {base}")
    } else {
        steps.before(&before_layers)
    };
    let _ = n;
    let bytes = crate::units::bytes_text(total);
    let t = cx.texts.rule(SuggestionKind::MultiStage);
    let saving_text = crate::units::bytes_text(saving);
    let vars = [
        ("tools", tools.as_str()),
        ("bytes", bytes.as_str()),
        ("saving", saving_text.as_str()),
    ];
    let id_names: Vec<&str> = detected.iter().map(|&g| tcs[g].name.as_str()).collect();
    let (after, no_after) = match plan {
        Ok(a) => (a, String::new()),
        Err(e) => (String::new(), e),
    };
    let edit = (!after.is_empty()).then(|| crate::suggest::Edit {
        steps: Vec::new(),
        stage: Some(after.clone()),
    });
    out.push(Suggestion {
        id: format!("multi-stage:{}", id_names.join("+")),
        title: fill(&t.title, &vars),
        dockerfile_lines: steps.lines(&layers),
        layers,
        saves_bytes: saving,
        saves_compressed_bytes: 0,
        before,
        after,
        why: fill(&t.why, &vars),
        kind: SuggestionKind::MultiStage,
        in_base: false,
        findings: Vec::new(),
        no_after,
        edit,
    });
}

/// The packages the install steps install that leave the image when the
/// toolchain's packages are no longer asked for: the dpkg packages those
/// steps installed that the remaining requested ones do not need, with
/// dpkg's own files of them. Claims their files.
fn leaving_bytes(cx: &Ctx, install_layers: &BTreeSet<usize>) -> u64 {
    let pkgs = &cx.report.packages;
    let mut leaving: BTreeSet<&str> = BTreeSet::new();
    for &l in install_layers {
        let s = cx.steps.get(l);
        let Some((asked, _)) = s.body.as_deref().and_then(install_names) else {
            continue;
        };
        let kept: BTreeSet<String> = asked.into_iter().filter(|p| !is_build_tool(p)).collect();
        for i in not_needed(pkgs, l, &kept, |n| !is_build_tool(n)) {
            leaving.insert(pkgs[i].name.as_str());
        }
    }
    if leaving.is_empty() {
        return 0;
    }
    package_bytes(cx, &leaving)
}

/// The two-stage Dockerfile: the build stage is the steps up to the last
/// one that builds; the runtime stage keeps every step but the builds
/// (replaced by `COPY --from=build` of what they wrote) and the toolchain's
/// packages (left out of the install commands). Err: why it cannot be
/// written.
fn plan(
    cx: &Ctx,
    build_layers: &BTreeSet<usize>,
    install_layers: &BTreeSet<usize>,
    outputs: &BTreeMap<usize, Vec<(u64, Vec<u8>)>>,
    base: &str,
    meta_at: &dyn Fn(usize, bool) -> Vec<String>,
) -> Result<String, String> {
    let steps = &cx.steps;
    let n = steps.steps.len();
    if install_layers.is_empty() {
        return Err(format!(
            "the toolchain comes with the base image ({base}): choose a runtime base without it"
        ));
    }
    let Some(&last) = build_layers.iter().max() else {
        return Err(
            "no step of this Dockerfile builds with the toolchain: remove its packages, or build \
             in a first stage and copy the result"
                .into(),
        );
    };
    let mut build = vec![format!("FROM {base} AS build")];
    for l in (0..=last).filter(|l| !steps.get(*l).base) {
        build.extend(meta_at(l, true));
        build.push(steps.get(l).text.clone());
    }
    let mut run = vec![format!("FROM {base}")];
    for l in (0..n).filter(|l| !steps.get(*l).base) {
        run.extend(meta_at(l, false));
        let s = steps.get(l);
        let label = steps.label(l);
        if build_layers.contains(&l) {
            if install_layers.contains(&l) {
                return Err(format!(
                    "{label} installs the toolchain and builds with it: split it into an install \
                     RUN and a build RUN first"
                ));
            }
            let files = outputs.get(&l).map(Vec::as_slice).unwrap_or(&[]);
            if files.len() > MAX_ARTIFACTS {
                return Err(format!(
                    "{label} writes {} files: copy what runs with COPY --from=build yourself",
                    files.len()
                ));
            }
            for (_, p) in files {
                let p = String::from_utf8_lossy(p);
                run.push(format!(
                    "COPY --from=build {} {}",
                    super::steps::sh_quote(&p),
                    super::steps::sh_quote(&p)
                ));
            }
        } else if install_layers.contains(&l) {
            if s.is_copy() {
                continue;
            }
            let body = s.body.as_deref().unwrap_or("");
            let Some((asked, _)) = install_names(body) else {
                return Err(format!(
                    "{label} installs the toolchain other than with apt-get install: leave it \
                     out of the runtime stage yourself"
                ));
            };
            let tools: Vec<&String> = asked.iter().filter(|p| is_build_tool(p)).collect();
            let kept = asked.len() - tools.len();
            let mut text = s.text.clone();
            for t in &tools {
                text = drop_word(&text, t);
            }
            if kept == 0 {
                // Only the toolchain: the step goes when it only runs apt.
                let flat = body.replace("\\\n", " ");
                let only_apt = flat.split("&&").all(|c| {
                    let w: Vec<&str> = c.split_whitespace().collect();
                    matches!(w.first(), Some(&"apt-get") | Some(&"apt"))
                        || w.first() == Some(&"rm") && w.iter().any(|x| x.contains("/var/lib/apt"))
                });
                if only_apt {
                    continue;
                }
                return Err(format!(
                    "{label} installs only the toolchain but also runs other commands: move them \
                     yourself"
                ));
            }
            run.push(text);
        } else {
            run.push(s.text.clone());
        }
    }
    run.extend(meta_at(n, false));
    Ok(format!("{}\n\n{}", build.join("\n"), run.join("\n")))
}

/// `text` without the whitespace-separated word `w`.
fn drop_word(text: &str, w: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(w) {
        let before_ok = i == 0 || rest.as_bytes()[i - 1] == b' ';
        let after = &rest[i + w.len()..];
        let after_ok = after.is_empty() || after.starts_with([' ', '\n']);
        if before_ok && after_ok {
            out.push_str(rest[..i].trim_end_matches(' '));
            rest = after;
            if !out.is_empty() && !rest.starts_with('\n') && !rest.is_empty() {
                out.push(' ');
                rest = rest.trim_start_matches(' ');
            }
        } else {
            out.push_str(&rest[..i + w.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{keep_largest, runs};

    #[test]
    fn keeps_the_largest_first_path_on_ties() {
        let mut l = Vec::new();
        for (b, p) in [(5, "e"), (9, "b"), (1, "x"), (9, "a"), (7, "c"), (9, "c")]
            .into_iter()
            .chain((0..6).map(|_| (0, "z")))
        {
            keep_largest(&mut l, b, p.as_bytes());
        }
        let got: Vec<(u64, &str)> = l
            .iter()
            .map(|(b, p)| (*b, std::str::from_utf8(p).unwrap()))
            .collect();
        assert_eq!(got[..5], [(9, "a"), (9, "b"), (9, "c"), (7, "c"), (5, "e")]);
        assert_eq!(got.len(), super::MAX_ARTIFACTS + 1);
    }

    #[test]
    fn build_commands() {
        assert!(runs("gcc -O2 -o /usr/local/bin/hello hello.c", "gcc"));
        assert!(runs("cd /src && make && make install", "make"));
        assert!(runs("/usr/bin/gcc x.c", "gcc"));
        assert!(!runs("apt-get install -y gcc", "gcc"));
        assert!(runs("apt-get update && CC=cc gcc -c x.c", "gcc"));
        assert!(!runs("echo accept", "cc"));
        assert!(runs("CGO_ENABLED=0 go build -o /app .", "go build"));
    }
}
