//! Multi-stage builds: a build toolchain (gcc, clang, go, rustc, the JDK,
//! node-gyp) visible in the final image. Its saving is the visible bytes the
//! toolchain and its headers occupy, which are not findings: this rule claims
//! no finding and is kept apart from the others' "no byte claimed twice".
//! Never suggested when no toolchain marker is present.

use crate::suggest::SuggestionKind;
use std::collections::{BTreeMap, BTreeSet};

use super::texts::{fill, GroupedGlobs};
use super::Ctx;
use crate::analyze::globfilter::DirFilter;
use crate::analyze::waste::{walk_visible, InodeSet};
use crate::load::index::{NodeKind, NO_INODE, ROOT};
use crate::suggest::Suggestion;

/// How many artifacts the after-snippet copies at most.
const MAX_ARTIFACTS: usize = 3;

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

/// Keep (`bytes`, `path`) in `list` if it is among the [`MAX_ARTIFACTS`]
/// largest (ties: the first path), largest first.
fn keep_largest(list: &mut Vec<(u64, Vec<u8>)>, bytes: u64, path: &[u8]) {
    let at = list.partition_point(|(b, p)| *b > bytes || (*b == bytes && &p[..] < path));
    if at < MAX_ARTIFACTS {
        list.insert(at, (bytes, path.to_vec()));
        list.truncate(MAX_ARTIFACTS);
    }
}

pub(crate) fn run(cx: &Ctx, out: &mut Vec<Suggestion>) {
    let tcs = &cx.texts.toolchain;
    let n = tcs.len();
    let markers = GroupedGlobs::new(tcs.iter().map(|t| t.markers.as_slice()));
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
    // Layers that build with any toolchain: their files may be artifacts.
    let may_build: Vec<bool> = (0..steps.steps.len())
        .map(|l| (0..n).any(|tc| builds_with(l, tc)))
        .collect();
    // First, cheaply: is any toolchain there? Only names the markers'
    // pre-test lets through (decided per directory) get a full glob match.
    let mut present = vec![false; tcs.len()];
    let mut marker_dirs = DirFilter::new(&markers.filter, cx.index);
    for id in cx.index.node_ids() {
        if (id != ROOT && !marker_dirs.may_match(id)) || !cx.index.visible(id) {
            continue;
        }
        let kind = cx.index.last_change(id).map(|c| c.kind);
        if kind == Some(NodeKind::Dir) {
            continue;
        }
        for g in markers.groups(&cx.index.path(id)) {
            present[g] = true;
        }
    }
    if !(0..n).any(|g| present[g] && !tcs[g].markers.is_empty()) {
        return;
    }
    let globs = GroupedGlobs::new(tcs.iter().map(|t| t.globs.as_slice()));
    let mut glob_dirs = DirFilter::new(&globs.filter, cx.index);
    let mut rule_dirs = DirFilter::new(cx.rules.filter(), cx.index);
    // (toolchain, layer, bytes) of each visible file in a footprint.
    let mut files: Vec<(usize, usize, u64)> = Vec::new();
    // Of the visible files outside the footprints that a building layer
    // stored, the largest few of each layer: (bytes, path), largest first.
    let mut others: BTreeMap<usize, Vec<(u64, Vec<u8>)>> = BTreeMap::new();
    let mut seen = InodeSet::new(cx.index);
    let mut path = Vec::new();
    walk_visible(cx.index, ROOT, &mut path, &mut |id, p| {
        let Some(c) = cx.index.changes(id).last() else {
            return;
        };
        if c.kind == NodeKind::Dir {
            return;
        }
        if c.kind != NodeKind::File || c.inode == NO_INODE || !seen.insert(c.inode) {
            return;
        }
        let groups = if glob_dirs.may_match(id) {
            globs.groups(p)
        } else {
            Vec::new()
        };
        let ino = &cx.index.inodes[c.inode as usize];
        match groups.first() {
            // A cache file is a finding: another suggestion's bytes.
            Some(_) if rule_dirs.may_match(id) && cx.rules.matching(p).is_some() => {}
            Some(&g) => files.push((g, ino.layer as usize, ino.size)),
            None if may_build[ino.layer as usize] && ino.size > 0 => {
                keep_largest(others.entry(ino.layer as usize).or_default(), ino.size, p)
            }
            None => {}
        }
    });
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
    for &(g, l, b) in files.iter().filter(|f| counted(f.0)) {
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
    let install_layers: BTreeSet<usize> = per_layer
        .keys()
        .copied()
        .filter(|&l| !steps.get(l).base)
        .collect();
    // The build's outputs: the largest files the build layers stored.
    let mut artifacts: Vec<(usize, u64, &[u8])> = others
        .iter()
        .filter(|(l, _)| build_layers.contains(l))
        .flat_map(|(&l, v)| v.iter().map(move |(b, p)| (l, *b, &p[..])))
        .collect();
    artifacts.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.2.cmp(y.2)));
    artifacts.truncate(MAX_ARTIFACTS);

    let base = steps.base_image.as_deref().unwrap_or("<base image>");
    let n = steps.steps.len();
    let last_build = build_layers.iter().chain(&install_layers).max().copied();
    // What came before the toolchain (configuration, a rootfs of one's own)
    // is needed at run time too.
    let first = install_layers.iter().chain(&build_layers).min().copied();
    let user = |l: &usize| !steps.get(*l).base;
    // The instructions that make no layer, placed before layer `l`.
    let meta_at = |l: usize, build: bool| -> Vec<&str> {
        steps
            .meta
            .iter()
            .filter(|m| m.before == l && (!build || m.for_build()))
            .map(|m| m.text.as_str())
            .collect()
    };
    let mut after = format!("FROM {base} AS build\n");
    match last_build {
        Some(end) => {
            for l in (0..=end).filter(user) {
                for m in meta_at(l, true) {
                    after.push_str(m);
                    after.push('\n');
                }
                after.push_str(&steps.get(l).text);
                after.push('\n');
            }
        }
        None => after.push_str("# … the steps that build the program\n"),
    }
    let runtime = if install_layers.is_empty() {
        format!("<a runtime image without {tools}>")
    } else {
        base.to_string()
    };
    after.push_str(&format!("\nFROM {runtime}\n"));
    let mut lines: Vec<String> = Vec::new();
    if let Some(first) = first {
        for l in (0..first).filter(user) {
            lines.extend(meta_at(l, false).into_iter().map(String::from));
            lines.push(steps.get(l).text.clone());
        }
    }
    if artifacts.is_empty() {
        lines.push("# COPY --from=build <what the build produced> <where it runs from>".into());
    }
    for &(_, _, p) in &artifacts {
        let p = String::from_utf8_lossy(p);
        lines.push(format!("COPY --from=build {p} {p}"));
    }
    // The steps after the toolchain's set up the runtime: they stay here,
    // with what the moved steps set up for the running container (ENV, CMD…).
    let mut rest: Vec<String> = Vec::new();
    if let (Some(first), Some(end)) = (first, last_build) {
        for l in first + 1..=end {
            rest.extend(meta_at(l, false).into_iter().map(String::from));
        }
        for l in (end + 1..n).filter(user) {
            rest.extend(meta_at(l, false).into_iter().map(String::from));
            rest.push(steps.get(l).text.clone());
        }
        rest.extend(meta_at(n, false).into_iter().map(String::from));
    }
    if rest.is_empty() {
        rest.push("# … then the steps that set up the runtime (no compilers)".into());
    }
    lines.extend(rest);
    after.push_str(&lines.join("\n"));
    // The saving: every byte the steps that move to the build stage stored
    // (the toolchain and all that came with it), less the artifacts copied
    // back; when the toolchain comes with the base, its footprint.
    let moved: Vec<usize> = match (first, last_build) {
        (Some(f), Some(e)) if !install_layers.is_empty() => (f..=e).filter(user).collect(),
        _ => Vec::new(),
    };
    let saving = if moved.is_empty() {
        total
    } else {
        let stored: u64 = moved.iter().map(|&l| cx.report.layers[l].bytes).sum();
        let copied: u64 = artifacts.iter().map(|a| a.1).sum();
        stored.saturating_sub(copied)
    };

    let mut layers: Vec<usize> = per_layer.keys().copied().filter(user).collect();
    layers.extend(&build_layers);
    layers.extend(&moved);
    layers.sort_unstable();
    layers.dedup();
    let before_layers: Vec<usize> = install_layers
        .iter()
        .chain(&build_layers)
        .copied()
        .collect();
    let before = if before_layers.is_empty() {
        format!("FROM {base}  # the toolchain comes with the base image")
    } else {
        steps.before(&before_layers)
    };
    let bytes = crate::units::bytes_text(total);
    let t = cx.texts.rule(SuggestionKind::MultiStage);
    let saving_text = crate::units::bytes_text(saving);
    let vars = [
        ("tools", tools.as_str()),
        ("bytes", bytes.as_str()),
        ("saving", saving_text.as_str()),
    ];
    let id_names: Vec<&str> = detected.iter().map(|&g| tcs[g].name.as_str()).collect();
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
    });
}

#[cfg(test)]
mod tests {
    use super::{keep_largest, runs};

    #[test]
    fn keeps_the_largest_three_first_path_on_ties() {
        let mut l = Vec::new();
        for (b, p) in [(5, "e"), (9, "b"), (1, "x"), (9, "a"), (7, "c"), (9, "c")] {
            keep_largest(&mut l, b, p.as_bytes());
        }
        let got: Vec<(u64, &str)> = l
            .iter()
            .map(|(b, p)| (*b, std::str::from_utf8(p).unwrap()))
            .collect();
        assert_eq!(got, [(9, "a"), (9, "b"), (9, "c")]);
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
