//! `imgscope fix`: the user's Dockerfile with the suggestions applied.
//!
//! Each suggestion that can be applied carries an [`Edit`] of the
//! Dockerfile's layer-creating steps (a step replaced, or removed because it
//! moved into an earlier RUN). This module checks that the Dockerfile is the
//! one that built the image (same steps, same commands), picks the
//! suggestions of the asked level, checks what makes a step move safe, and
//! writes the patched text: everything it does not touch (comments, blank
//! lines, ARGs, continuations, other stages) stays as written.
//!
//! The safe level changes nothing a process can see in the final image but
//! the bytes the fixes remove; `--level all` adds the fixes that change
//! content (recommends, multi-stage, strip, optional files).
//! [`verify`] rebuilds the patched file and compares the results.

pub mod verify;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::{Error, Location};
use crate::load::index::Index;
use crate::suggest::dockerfile::{self, Dockerfile, Instr};
use crate::suggest::steps::Steps;
use crate::suggest::{Edit, Report, SuggestionKind};

/// The kinds of fix that change what the image contains (`--include`).
pub const CONTENT_KINDS: [(&str, SuggestionKind); 4] = [
    ("recommends", SuggestionKind::Recommends),
    ("multistage", SuggestionKind::MultiStage),
    ("strip", SuggestionKind::Strip),
    ("optional", SuggestionKind::Optional),
];

/// Is a fix of this kind safe: the final filesystem stays identical except
/// for the bytes it removes (caches, temp files, hidden copies)?
pub fn is_safe(kind: SuggestionKind) -> bool {
    matches!(
        kind,
        SuggestionKind::ChainCleanup
            | SuggestionKind::DownloadExtract
            | SuggestionKind::Metadata
            | SuggestionKind::Move
            | SuggestionKind::Overwrite
            | SuggestionKind::Package
            | SuggestionKind::PackageMerge
    )
}

/// Which fixes to apply: the safe ones always, and these content kinds.
#[derive(Debug, Clone, Default)]
pub struct FixOptions {
    pub include: BTreeSet<SuggestionKind>,
}

impl FixOptions {
    /// `--level all`.
    pub fn all() -> FixOptions {
        FixOptions {
            include: CONTENT_KINDS.iter().map(|k| k.1).collect(),
        }
    }

    /// `--include a,b`: names from [`CONTENT_KINDS`].
    pub fn including(names: &str) -> Result<FixOptions, String> {
        let mut include = BTreeSet::new();
        for n in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let k = CONTENT_KINDS
                .iter()
                .find(|k| k.0 == n)
                .ok_or_else(|| {
                    format!(
                        "--include: unknown kind {n:?} (one of recommends, multistage, strip, optional)"
                    )
                })?
                .1;
            include.insert(k);
        }
        Ok(FixOptions { include })
    }

    fn wants(&self, kind: SuggestionKind) -> bool {
        is_safe(kind) || self.include.contains(&kind)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub id: String,
    pub title: String,
    /// Dockerfile lines it changed (1-based, in the original file).
    pub lines: Vec<usize>,
    pub saves_bytes: u64,
    /// Whether it keeps the final filesystem (see [`is_safe`]).
    #[serde(skip)]
    pub safe: bool,
    /// For fixes of waste, the bytes per waste kind (`cache`, `removed`, …).
    #[serde(skip)]
    pub by_kind: BTreeMap<String, u64>,
    /// Paths visible in the image that the fix removes (cache files).
    #[serde(skip)]
    pub removes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Predicted {
    /// The image's total bytes after the fixes.
    pub total_bytes: u64,
    /// Its wasted bytes after the fixes.
    pub wasted_bytes: u64,
    /// What the applied fixes save together (no byte counted twice).
    pub saves_bytes: u64,
}

/// The patched Dockerfile and what went into it (SPEC's `fix --format json`).
#[derive(Debug, Clone, Serialize)]
pub struct Fixed {
    pub dockerfile: String,
    pub applied: Vec<Applied>,
    pub skipped: Vec<Skipped>,
    pub predicted: Predicted,
    /// Paths (and directories) the applied fixes remove from the final
    /// filesystem: anything at or under them may be gone after a rebuild.
    #[serde(skip)]
    pub removal_roots: Vec<String>,
}

fn bad(path: &str, msg: String) -> Error {
    Error::usage(Location::source(path.to_string()), msg)
}

/// A RUN's shell command as the history records it, for comparison: no
/// `/bin/sh -c`, no build-arg prefix (`|1 A=b`), continuations joined,
/// whitespace collapsed.
fn normal_run(cmd: &str) -> String {
    let mut s = cmd.trim();
    s = s.strip_prefix("RUN").unwrap_or(s).trim_start();
    if let Some(rest) = s.strip_prefix('|') {
        if let Some(i) = rest.find("/bin/sh -c ") {
            s = &rest[i..];
        }
    }
    while s.starts_with("--") {
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        s = s[end..].trim_start();
    }
    for sh in ["/bin/sh -c ", "/bin/bash -c "] {
        if let Some(r) = s.strip_prefix(sh) {
            s = r;
        }
    }
    let s = s.strip_suffix(" # buildkit").unwrap_or(s);
    s.replace("\\\n", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Check that `df` built the image of `report`: one layer-creating step per
/// layer after the base image, each of the same kind and, for RUN, the same
/// command. Err names the Dockerfile line and the layer that disagree.
pub fn check_match(report: &Report, df: &Dockerfile, path: &str) -> crate::Result<()> {
    let layers = &report.layers;
    let base = report.image.base.layers;
    let user = layers.len().saturating_sub(base);
    // WORKDIR makes a layer only when it creates the directory: compare
    // from the end, skipping WORKDIRs the image has no layer for.
    let mut j = df.instrs.len();
    let mut i = layers.len();
    while i > base && j > 0 {
        let d = &df.instrs[j - 1];
        let cmd = crate::load::image::display_command(&layers[i - 1].command);
        let word = Instr::of_word(cmd.split_whitespace().next().unwrap_or(""));
        if d.instr == Instr::Workdir && word != Instr::Workdir {
            j -= 1;
            continue;
        }
        let same_kind = word == d.instr
            || cmd.is_empty()
            || (matches!(word, Instr::Copy | Instr::Add)
                && matches!(d.instr, Instr::Copy | Instr::Add));
        if !same_kind {
            return Err(bad(
                path,
                format!(
                    "line {} ({}) does not match layer {} ({}): not the Dockerfile that built this image",
                    d.line,
                    first_line(&d.text),
                    i - 1,
                    first_line(&cmd)
                ),
            ));
        }
        if d.instr == Instr::Run {
            if let Some(body) = &d.body {
                if !cmd.is_empty() && normal_run(&cmd) != normal_run(body) {
                    return Err(bad(
                        path,
                        format!(
                            "line {} runs `{}` but layer {} ran `{}`: not the Dockerfile that built this image",
                            d.line,
                            short(&normal_run(body)),
                            i - 1,
                            short(&normal_run(&cmd))
                        ),
                    ));
                }
            }
        }
        i -= 1;
        j -= 1;
    }
    let left_df = df.instrs[..j]
        .iter()
        .filter(|d| d.instr != Instr::Workdir)
        .count();
    if i > base || left_df > 0 {
        let df_steps = df
            .instrs
            .iter()
            .filter(|d| d.instr != Instr::Workdir)
            .count();
        let at = match (i > base, df.instrs[..j].last()) {
            (_, Some(d)) if left_df > 0 => format!("line {} has no layer in the image", d.line),
            _ => format!("layer {} has no step in the Dockerfile", i - 1),
        };
        return Err(bad(
            path,
            format!(
                "{at}: the Dockerfile's final stage has {df_steps} layer-creating steps, the image {user} \
                 after its base ({base} base layers): not the Dockerfile that built this image"
            ),
        ));
    }
    Ok(())
}

fn first_line(s: &str) -> String {
    short(s.lines().next().unwrap_or(""))
}

fn short(s: &str) -> String {
    let t: String = s.chars().take(60).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}

/// Layers that changed each path (by node), for the move checks.
fn writers(index: &Index) -> Vec<BTreeSet<u16>> {
    (0..index.node_count())
        .map(|n| {
            index
                .changes(n as crate::load::index::NodeId)
                .iter()
                .map(|c| c.layer)
                .collect()
        })
        .collect()
}

/// Why moving the removed steps of `edit` up to its first step could change
/// the result (None: it cannot): a step left in between writes a path that
/// a moved step writes or deletes.
fn move_conflict(
    edit: &Edit,
    writers: &[BTreeSet<u16>],
    index: &Index,
    steps: &Steps,
) -> Option<String> {
    let first = edit.steps.first()?.0;
    let moved: BTreeSet<usize> = edit
        .steps
        .iter()
        .filter(|s| s.1.is_none())
        .map(|s| s.0)
        .collect();
    let last = *moved.iter().max()?;
    let joined: BTreeSet<usize> = edit.steps.iter().map(|s| s.0).collect();
    let between: BTreeSet<u16> = (first + 1..last)
        .filter(|l| !joined.contains(l))
        .map(|l| l as u16)
        .collect();
    if between.is_empty() {
        return None;
    }
    for (n, ws) in writers.iter().enumerate() {
        let m = ws.iter().find(|l| moved.contains(&(**l as usize)));
        let b = ws.iter().find(|l| between.contains(l));
        if let (Some(&m), Some(&b)) = (m, b) {
            // Only a between step before the moved one is reordered.
            if b < m {
                let path = String::from_utf8_lossy(&index.path(n as crate::load::index::NodeId))
                    .into_owned();
                return Some(format!(
                    "{} writes {path}, which {} also writes or deletes: it cannot move before it",
                    steps.label(b as usize),
                    steps.label(m as usize)
                ));
            }
        }
    }
    None
}

/// Apply the report's fixes to the Dockerfile that built the image (as
/// [`crate::analyse`] read it for this report), after [`check_match`].
pub fn fix(
    index: &Index,
    report: &Report,
    dockerfile: &crate::DockerfileRead,
    opts: &FixOptions,
) -> crate::Result<Fixed> {
    let (text, df, path) = (&dockerfile.text, &dockerfile.parsed, &dockerfile.path);
    check_match(report, df, path)?;
    let steps = Steps::new(
        &report.layers,
        Some(df),
        &report.image.base,
        &index.image.history,
    );
    let writers = writers(index);
    let mut applied = Vec::new();
    let mut skipped = Vec::new();
    // layer → its new text (None: removed).
    let mut plan: BTreeMap<usize, Option<String>> = BTreeMap::new();
    // A rewrite of the whole final stage (multi-stage), when applied.
    let mut stage_text: Option<String> = None;
    for sg in &report.suggestions {
        if sg.in_base {
            skipped.push(Skipped {
                id: sg.id.clone(),
                reason: "about the base image: a choice of base, not a change of this Dockerfile"
                    .into(),
            });
            continue;
        }
        if !opts.wants(sg.kind) {
            skipped.push(Skipped {
                id: sg.id.clone(),
                reason: format!(
                    "changes what the image contains: apply with --level all or --include {}",
                    CONTENT_KINDS
                        .iter()
                        .find(|k| k.1 == sg.kind)
                        .map_or("…", |k| k.0)
                ),
            });
            continue;
        }
        let Some(edit) = &sg.edit else {
            let reason = if !sg.no_after.is_empty() {
                sg.no_after.clone()
            } else {
                "its After is advice, not an exact change of these lines: apply it by hand".into()
            };
            skipped.push(Skipped {
                id: sg.id.clone(),
                reason,
            });
            continue;
        };
        if let Some(stage) = &edit.stage {
            let why = if df.final_from.is_none() {
                Some("the final stage is built from another stage: write the multi-stage build by hand".to_string())
            } else if stage_text.is_some() || !plan.is_empty() {
                Some("it rewrites the final stage, which a fix applied before it changes: run imgscope fix again on the rebuilt image".to_string())
            } else {
                None
            };
            if let Some(reason) = why {
                skipped.push(Skipped {
                    id: sg.id.clone(),
                    reason,
                });
                continue;
            }
            stage_text = Some(stage.clone());
            let lines = steps.lines(&sg.layers);
            applied.push(Applied {
                id: sg.id.clone(),
                title: sg.title.clone(),
                lines,
                saves_bytes: sg.saves_bytes,
                safe: false,
                by_kind: BTreeMap::new(),
                removes: Vec::new(),
            });
            continue;
        }
        if stage_text.is_some() {
            skipped.push(Skipped {
                id: sg.id.clone(),
                reason: "the multi-stage rewrite applied before it replaces these lines: run imgscope fix again on the rebuilt image".into(),
            });
            continue;
        }
        if let Some((l, _)) = edit.steps.iter().find(|(l, _)| plan.contains_key(l)) {
            skipped.push(Skipped {
                id: sg.id.clone(),
                reason: format!(
                    "{} is changed by a fix applied before it (a larger saving): run imgscope fix again on the rebuilt image",
                    steps.label(*l)
                ),
            });
            continue;
        }
        if let Some((l, _)) = edit
            .steps
            .iter()
            .find(|(l, _)| steps.get(*l).line.is_none())
        {
            skipped.push(Skipped {
                id: sg.id.clone(),
                reason: format!("{} has no line in this Dockerfile", steps.label(*l)),
            });
            continue;
        }
        if let Some(why) = move_conflict(edit, &writers, index, &steps) {
            skipped.push(Skipped {
                id: sg.id.clone(),
                reason: why,
            });
            continue;
        }
        for (l, t) in &edit.steps {
            plan.insert(*l, t.clone());
        }
        let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
        let mut removes = Vec::new();
        for &i in &sg.findings {
            let f = &report.waste[i];
            *by_kind.entry(f.kind.as_str().to_string()).or_default() += f.bytes;
            if f.hidden_by_layer.is_none() {
                removes.push(f.path.display());
            }
        }
        let mut lines: Vec<usize> = edit
            .steps
            .iter()
            .filter_map(|(l, _)| steps.get(*l).line)
            .collect();
        lines.sort_unstable();
        applied.push(Applied {
            id: sg.id.clone(),
            title: sg.title.clone(),
            lines,
            saves_bytes: sg.saves_bytes,
            safe: is_safe(sg.kind),
            by_kind,
            removes,
        });
    }
    // Patch from the end so earlier spans stay valid.
    let by_line: BTreeMap<usize, &dockerfile::DfInstr> =
        df.instrs.iter().map(|d| (d.line, d)).collect();
    let mut out = text.to_string();
    if let (Some(stage), Some(from)) = (&stage_text, df.final_from) {
        out.replace_range(from.., stage);
        out.push('\n');
    }
    for (l, new) in plan.iter().rev() {
        let Some(d) = steps.get(*l).line.and_then(|ln| by_line.get(&ln)) else {
            continue;
        };
        let (s, mut e) = d.span;
        match new {
            Some(t) => out.replace_range(s..e, t),
            None => {
                // The whole lines, with their line end.
                if out[e..].starts_with('\n') {
                    e += 1;
                }
                out.replace_range(s..e, "");
            }
        }
    }
    let rules = crate::analyze::rules::Rules::builtin();
    let mut roots: BTreeSet<String> = BTreeSet::new();
    for a in &applied {
        for p in &a.removes {
            roots.insert(removal_root(&rules, p));
        }
    }
    let saves: u64 = applied.iter().map(|a| a.saves_bytes).sum();
    let waste_saves: u64 = applied
        .iter()
        .map(|a| a.by_kind.values().sum::<u64>())
        .sum();
    Ok(Fixed {
        dockerfile: out,
        predicted: Predicted {
            total_bytes: report.summary.total_bytes.saturating_sub(saves),
            wasted_bytes: report.summary.wasted_bytes.saturating_sub(waste_saves),
            saves_bytes: saves,
        },
        applied,
        skipped,
        removal_roots: crate::suggest::drop_nested(roots),
    })
}

/// The directory a cache rule owns around `path` (its shortest ancestor
/// whose contents all match the same rule), else `path`.
fn removal_root(rules: &crate::analyze::rules::Rules, path: &str) -> String {
    rules
        .matching(path.as_bytes())
        .and_then(|r| rules.owning_dir(path, &r.id))
        .unwrap_or_else(|| path.to_string())
}

/// What `fix` says on stderr: each applied fix, each skipped one, the total.
pub fn summary_text(f: &Fixed) -> String {
    use crate::units::human;
    let mut o = String::new();
    for a in &f.applied {
        let lines: Vec<String> = a.lines.iter().map(|l| l.to_string()).collect();
        o.push_str(&format!(
            "applied  {}  saves {} ({} bytes)  line {}: {}\n",
            a.id,
            human(a.saves_bytes),
            a.saves_bytes,
            lines.join(", "),
            a.title
        ));
    }
    for s in &f.skipped {
        o.push_str(&format!("skipped  {}: {}\n", s.id, s.reason));
    }
    o.push_str(&format!(
        "predicted saving {} ({} bytes) from {} fix{}: image {} → {}, waste → {}\n",
        human(f.predicted.saves_bytes),
        f.predicted.saves_bytes,
        f.applied.len(),
        if f.applied.len() == 1 { "" } else { "es" },
        human(f.predicted.total_bytes + f.predicted.saves_bytes),
        human(f.predicted.total_bytes),
        human(f.predicted.wasted_bytes)
    ));
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_commands_compare_as_the_history_has_them() {
        assert_eq!(
            normal_run("RUN |1 V=2 /bin/sh -c apt-get update &&     apt-get install -y x"),
            "apt-get update && apt-get install -y x"
        );
        assert_eq!(
            normal_run("apt-get update \\\n    && apt-get install -y x"),
            "apt-get update && apt-get install -y x"
        );
        assert_eq!(normal_run("RUN /bin/sh -c ls # buildkit"), "ls");
    }

    #[test]
    fn include_names() {
        let o = FixOptions::including("strip,recommends").unwrap();
        assert!(o.wants(SuggestionKind::Strip));
        assert!(o.wants(SuggestionKind::ChainCleanup));
        assert!(!o.wants(SuggestionKind::MultiStage));
        assert!(FixOptions::including("bogus").is_err());
    }
}
