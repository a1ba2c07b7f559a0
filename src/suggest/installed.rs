//! Suggestions from what is installed (the report's `packages` and
//! `binaries`): packages apt pulled in only as recommendations, `-dev`
//! packages and compilers in the final image, the documentation of many
//! packages, and unstripped binaries. None claims a finding: their savings
//! are visible bytes, apart from the waste (like the multi-stage rule).

use crate::suggest::SuggestionKind;
use std::collections::{BTreeMap, BTreeSet};

use super::Ctx;
use crate::analyze::packages::{Package, DPKG_INFO};
use crate::load::index::InodeId;
use crate::suggest::Suggestion;
use crate::units::human;

/// The package names an `apt-get install` / `apt install` command asks for.
fn requested(body: &str) -> Option<BTreeSet<String>> {
    let (names, no_recommends) = install_names(body)?;
    (!no_recommends).then_some(names)
}

/// The package names `apt-get install` commands of `body` ask for, and
/// whether they leave recommendations out (None: no apt install).
pub(crate) fn install_names(body: &str) -> Option<(BTreeSet<String>, bool)> {
    let body = body.replace("\\\n", " ");
    let mut no_recommends = false;
    let mut out = BTreeSet::new();
    let mut any = false;
    for cmd in body.split(['&', '|', ';', '\n']) {
        let toks: Vec<&str> = cmd.split_whitespace().collect();
        let Some(i) = toks
            .windows(2)
            .position(|w| matches!(w[0], "apt-get" | "apt") && w[1] == "install")
            .or_else(|| {
                // `apt-get -y install`
                let a = toks.iter().position(|t| matches!(*t, "apt-get" | "apt"))?;
                let k = toks[a..].iter().position(|t| *t == "install")?;
                Some(a + k - 1)
            })
        else {
            continue;
        };
        if toks
            .iter()
            .any(|t| t.starts_with("--no-install-recommends") || t.contains("Install-Recommends="))
        {
            no_recommends = true;
        }
        any = true;
        for t in &toks[i + 2..] {
            if !t.starts_with('-') {
                let name = t.split(['=', ':']).next().unwrap_or(t);
                out.insert(name.to_string());
            }
        }
    }
    any.then_some((out, no_recommends))
}

/// Is dpkg package `n` a compiler, a build tool or headers (`-dev`)?
pub(crate) fn is_build_tool(n: &str) -> bool {
    const TOOLS: &[&str] = &[
        "gcc",
        "g++",
        "cpp",
        "clang",
        "llvm",
        "binutils",
        "golang",
        "golang-go",
        "rustc",
        "cargo",
        "build-essential",
        "make",
        "openjdk",
        "linux-libc-dev",
        "libc6-dev",
    ];
    // Runtime libraries, and `gcc-12-base` (the copyright files every
    // libgcc-s1/libstdc++6 system has), are not build tools.
    let runtime = n.starts_with("libgcc-s")
        || n.starts_with("libstdc++6")
        || n.starts_with("libllvm")
        || n.ends_with("-base");
    !runtime
        && (n.ends_with("-dev")
            || n.ends_with("-jdk")
            || n.ends_with("-jdk-headless")
            || TOOLS.iter().any(|t| {
                n == *t
                    || n.strip_prefix(t).is_some_and(|r| {
                        r.starts_with('-') && r[1..].starts_with(|c: char| c.is_ascii_digit())
                            || r.starts_with("-x86-64")
                            || r.starts_with("-aarch64")
                    })
            }))
}

/// The visible bytes of the dpkg packages `names` (their files and dpkg's
/// own files of them) that no earlier suggestion counts; counts them.
pub(crate) fn package_bytes(cx: &Ctx, names: &BTreeSet<&str>) -> u64 {
    if names.is_empty() {
        return 0;
    }
    let owners = &cx.report.owners;
    // Which owners are one of `names`, decided once per owner.
    let ours: Vec<bool> = (0..owners.count() as u32)
        .map(|o| {
            owners
                .name(o)
                .strip_prefix("dpkg:")
                .is_some_and(|o| names.contains(o.split(':').next().unwrap_or(o)))
        })
        .collect();
    // dpkg's own files of a package: `info/NAME[:ARCH].EXT`.
    let info = |p: &[u8]| {
        p.strip_prefix(DPKG_INFO)
            .and_then(|f| std::str::from_utf8(f).ok())
            .and_then(|f| f.rsplit_once('.'))
            .map(|(stem, _)| stem.split(':').next().unwrap_or(stem))
            .is_some_and(|n| names.contains(n))
    };
    let mut bytes = 0;
    let mut count = |ino: InodeId| {
        if cx.claim_inode(ino) {
            bytes += cx.index.inodes[ino as usize].size;
        }
    };
    // Each file counts once, whichever way it is met: the sum is that of a
    // walk over the final filesystem, which the package databases' reader
    // made already (see `VisibleFiles`).
    match owners.visible_files() {
        Some(v) => {
            for &(o, ino) in &v.owned {
                if ours[o as usize] {
                    count(ino);
                }
            }
            for &(id, ino) in &v.dpkg_info {
                if info(&cx.index.path(id)) {
                    count(ino);
                }
            }
        }
        None => crate::analyze::waste::walk_visible_files(cx.index, &mut |id, p, ino| {
            let owned = owners
                .number_of(cx.index, id)
                .is_some_and(|o| ours[o as usize]);
            if owned || info(p) {
                count(ino);
            }
        }),
    }
    bytes
}

/// `1 package`, `2 packages`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Insert `--no-install-recommends` after each `install` of apt.
fn with_no_recommends(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(" install") {
        let (a, b) = rest.split_at(i + " install".len());
        out.push_str(a);
        let before = a.trim_end_matches(" install");
        if before.ends_with("apt-get") || before.ends_with("apt") || before.ends_with("-y") {
            out.push_str(" --no-install-recommends");
        }
        rest = b;
    }
    out.push_str(rest);
    out
}

/// Packages an install in `layer` pulled in only as recommendations: those
/// it installed that the requested ones do not need through `Depends` /
/// `Pre-Depends` (an alternative or a virtual name satisfied by whatever is
/// installed, first alternative first).
pub fn recommended(pkgs: &[Package], layer: usize, asked: &BTreeSet<String>) -> Vec<usize> {
    not_needed(pkgs, layer, asked, |_| true)
}

/// The packages `layer` installed that neither `asked` nor the packages
/// apt marked manual (those `manual` keeps) need, through their
/// dependency closure (see [`recommended`]).
pub fn not_needed(
    pkgs: &[Package],
    layer: usize,
    asked: &BTreeSet<String>,
    manual: impl Fn(&str) -> bool,
) -> Vec<usize> {
    let dpkg: Vec<(usize, &Package)> = pkgs
        .iter()
        .enumerate()
        .filter(|(_, p)| p.manager == "dpkg" && p.installed)
        .collect();
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &(i, p) in &dpkg {
        by_name.entry(p.name.as_str()).or_default().push(i);
        for v in &p.meta.provides {
            by_name.entry(v.as_str()).or_default().push(i);
        }
    }
    let here: Vec<usize> = dpkg
        .iter()
        .filter(|(_, p)| p.layer == Some(layer))
        .map(|&(i, _)| i)
        .collect();
    // Needed: what was there before, the requested packages (by name, or
    // marked manual in apt's records), and their dependency closure.
    let mut needed: BTreeSet<usize> = dpkg
        .iter()
        .filter(|(_, p)| p.layer.is_some_and(|l| l < layer) || p.meta.essential)
        .map(|&(i, _)| i)
        .collect();
    let mut todo: Vec<usize> = here
        .iter()
        .copied()
        .filter(|&i| {
            asked.contains(&pkgs[i].name)
                || (pkgs[i].meta.auto == Some(false) && manual(&pkgs[i].name))
        })
        .collect();
    while let Some(i) = todo.pop() {
        needed.insert(i);
        for alts in &pkgs[i].meta.depends {
            let cands: Vec<usize> = alts
                .iter()
                .flat_map(|a| by_name.get(a.as_str()).cloned().unwrap_or_default())
                .collect();
            if cands.iter().any(|c| needed.contains(c)) || cands.is_empty() {
                continue;
            }
            let c = cands[0];
            needed.insert(c);
            todo.push(c);
        }
    }
    here.into_iter().filter(|i| !needed.contains(i)).collect()
}

#[allow(clippy::too_many_arguments)]
fn draft(
    cx: &Ctx,
    id: String,
    title: String,
    layers: Vec<usize>,
    saves: u64,
    why: String,
    kind: SuggestionKind,
    after: String,
) -> Suggestion {
    Suggestion {
        id,
        title,
        before: cx.steps.before(&layers),
        dockerfile_lines: cx.steps.lines(&layers),
        layers,
        saves_bytes: saves,
        after,
        why,
        kind,
        saves_compressed_bytes: 0,
        in_base: false,
        findings: Vec::new(),
        no_after: String::new(),
        edit: None,
    }
}

pub(crate) fn run(cx: &Ctx, out: &mut Vec<Suggestion>) {
    let r = cx.report;
    let pkgs = &r.packages;
    // Recommends, per RUN that installs with apt without turning them off.
    for s in &cx.steps.steps {
        if !s.is_run() || s.base {
            continue;
        }
        let body = s.body.as_deref().unwrap_or(&s.text);
        let Some(asked) = requested(body) else {
            continue;
        };
        let extra = recommended(pkgs, s.layer, &asked);
        if extra.is_empty() {
            continue;
        }
        let names: BTreeSet<&str> = extra.iter().map(|&i| pkgs[i].name.as_str()).collect();
        let bytes = package_bytes(cx, &names);
        if bytes == 0 {
            continue;
        }
        let mut names: Vec<&str> = extra.iter().map(|&i| pkgs[i].name.as_str()).collect();
        names.sort_unstable();
        let shown: Vec<&str> = names.iter().take(8).copied().collect();
        let mut sg = draft(
            cx,
            format!("apt-recommends-{}", s.layer),
            format!(
                "Recommends pulled in {} packages: {} (--no-install-recommends)",
                extra.len(),
                human(bytes)
            ),
            vec![s.layer],
            bytes,
            format!(
                "apt installs the packages a package recommends unless told not to. \
                 Nothing the requested packages depend on needs {}{}; \
                 `--no-install-recommends` leaves them out (add back any you use).",
                shown.join(", "),
                if names.len() > shown.len() {
                    format!(" and {} more", names.len() - shown.len())
                } else {
                    String::new()
                }
            ),
            SuggestionKind::Recommends,
            with_no_recommends(&s.text),
        );
        sg.edit = Some(crate::suggest::Edit {
            stage: None,
            steps: vec![(s.layer, Some(sg.after.clone()))],
        });
        out.push(sg);
    }
    // -dev packages and compilers.
    let tool = is_build_tool;
    let devs: Vec<&Package> = pkgs
        .iter()
        .filter(|p| p.manager == "dpkg" && p.installed && tool(&p.name) && p.visible_bytes > 0)
        .collect();
    let dev_names: BTreeSet<&str> = devs.iter().map(|p| p.name.as_str()).collect();
    let merged = out.iter().any(|sg| {
        sg.kind == SuggestionKind::MultiStage
            && sg
                .layers
                .iter()
                .any(|l| devs.iter().any(|p| p.layer == Some(*l)))
    });
    let bytes = if merged {
        devs.iter().map(|p| p.visible_bytes).sum()
    } else {
        package_bytes(cx, &dev_names)
    };
    if !devs.is_empty() && bytes > 0 {
        let layers: BTreeSet<usize> = devs.iter().filter_map(|p| p.layer).collect();
        let mut names: Vec<&str> = devs.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        let shown = names
            .iter()
            .take(10)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        // A multi-stage suggestion from the toolchain's paths that already
        // moves a layer installing them covers the same bytes: it names the
        // packages instead of a second suggestion counting them again.
        if let Some(ms) = out.iter_mut().find(|sg| {
            sg.kind == SuggestionKind::MultiStage && sg.layers.iter().any(|l| layers.contains(l))
        }) {
            ms.why.push_str(&format!(
                " dpkg: {} ({}): {shown}.",
                counted(
                    devs.len(),
                    "-dev or compiler package",
                    "-dev and compiler packages"
                ),
                human(bytes),
            ));
        } else {
            out.push(draft(
                cx,
                "dev-packages".into(),
                format!(
                    "-dev packages and compilers in the final image: {} in {} (multi-stage)",
                    human(bytes),
                    counted(devs.len(), "package", "packages")
                ),
                layers.into_iter().collect(),
                bytes,
                format!(
                    "Headers and compilers are needed to build, not to run: {shown}. Build in a \
                     first stage and copy only the result into a runtime stage without them."
                ),
                SuggestionKind::MultiStage,
                "FROM <base> AS build\nRUN apt-get install -y <build deps> && <build>\n\nFROM <base>\nRUN apt-get install -y --no-install-recommends <runtime libraries only>\nCOPY --from=build <artifact> <destination>".into(),
            ));
        }
    }
    strip(cx, out);
}

/// Unstripped executables and libraries, per layer that stored them.
fn strip(cx: &Ctx, out: &mut Vec<Suggestion>) {
    let mut by_layer: BTreeMap<usize, (u64, Vec<String>)> = BTreeMap::new();
    for i in cx.report.insights.iter().filter(|i| i.id == "unstripped") {
        // A file another suggestion removes whole is not stripped too.
        if !cx.claim_node(i.node) {
            continue;
        }
        let e = by_layer.entry(i.layer).or_default();
        e.0 += i.bytes;
        e.1.push(i.path.display());
    }
    for (layer, (bytes, paths)) in by_layer {
        if bytes == 0 {
            continue;
        }
        let s = cx.steps.get(layer);
        let shown: Vec<&str> = paths.iter().take(5).map(String::as_str).collect();
        // `strip` comes with binutils: only where that stage has it.
        let has_strip = ["usr/bin/strip", "bin/strip"].iter().any(|p| {
            cx.index
                .find(p.as_bytes())
                .is_some_and(|n| cx.index.state_at(n, layer).is_some())
        });
        let (after, no_after) = if !has_strip {
            (
                String::new(),
                "the image has no `strip` at this step (binutils is not installed): strip \
                 these files in the build stage that makes them, or install binutils, strip \
                 and remove it in the RUN that writes them"
                    .to_string(),
            )
        } else if s.is_run() && !s.base && paths.len() <= shown.len() {
            (
                format!(
                    "RUN {} \\\n    && strip --strip-unneeded {}",
                    s.body.as_deref().unwrap_or(&s.text).trim(),
                    shown.join(" ")
                ),
                String::new(),
            )
        } else {
            (
                String::new(),
                format!(
                    "strip runs in the RUN that writes the files; layer {layer} is not such a RUN \
                     of this Dockerfile, or writes more files than one line lists"
                ),
            )
        };
        let mut sg = draft(
            cx,
            format!("strip-{layer}"),
            format!(
                "Strip {}: {} of symbols and debug sections",
                counted(paths.len(), "binary", "binaries"),
                human(bytes)
            ),
            vec![layer],
            bytes,
            "Symbol tables and debug sections are for debuggers, not for running: `strip` \
             removes them (keep a copy with debug info outside the image if you need it)."
                .into(),
            SuggestionKind::Strip,
            after,
        );
        sg.no_after = no_after;
        if !sg.after.is_empty() {
            sg.edit = Some(crate::suggest::Edit {
                stage: None,
                steps: vec![(layer, Some(sg.after.clone()))],
            });
        }
        out.push(sg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::packages::Meta;

    fn p(name: &str, layer: usize, deps: &[&[&str]], provides: &[&str]) -> Package {
        Package {
            manager: "dpkg",
            name: name.into(),
            version: "1".into(),
            layer: Some(layer),
            created_by: String::new(),
            installed: true,
            visible_bytes: 10,
            wasted_bytes: 0,
            files: 1,
            wasted_by_kind: BTreeMap::new(),
            meta: Meta {
                depends: deps
                    .iter()
                    .map(|a| a.iter().map(|s| s.to_string()).collect())
                    .collect(),
                provides: provides.iter().map(|s| s.to_string()).collect(),
                ..Meta::default()
            },
        }
    }

    #[test]
    fn recommends_are_what_the_closure_does_not_reach() {
        let pkgs = vec![
            p("libc6", 0, &[], &[]),
            p("curl", 1, &[&["libcurl4"], &["libc6"]], &[]),
            p(
                "libcurl4",
                1,
                &[&["libssl3"], &["mail-transport-agent", "exim4"]],
                &[],
            ),
            p("libssl3", 1, &[], &[]),
            p("postfix", 1, &[], &["mail-transport-agent"]),
            p("exim4", 1, &[], &[]),
            p("ca-certificates", 1, &[&["openssl"]], &[]),
            p("openssl", 1, &[&["libssl3"]], &[]),
        ];
        let asked: BTreeSet<String> = ["curl".to_string()].into();
        let extra: Vec<&str> = recommended(&pkgs, 1, &asked)
            .into_iter()
            .map(|i| pkgs[i].name.as_str())
            .collect();
        // The virtual name is satisfied by postfix (first alternative), so
        // exim4 was not needed either.
        assert_eq!(extra, vec!["exim4", "ca-certificates", "openssl"]);
    }

    #[test]
    fn apt_install_requests() {
        let r =
            requested("apt-get update && apt-get install -y curl procps=2:4 && rm -rf x").unwrap();
        assert_eq!(r.into_iter().collect::<Vec<_>>(), vec!["curl", "procps"]);
        assert!(requested("apt-get install -y --no-install-recommends curl").is_none());
        assert!(requested("echo hi").is_none());
        assert_eq!(
            with_no_recommends("apt-get update && apt-get install -y curl"),
            "apt-get update && apt-get install --no-install-recommends -y curl"
        );
    }
}
