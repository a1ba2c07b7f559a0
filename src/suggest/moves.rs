//! Moves and overwrites across layers: layer B moves (`mv`) or rewrites files
//! that layer A stored. The fix writes the final path once: the move or the
//! rewrite inside A's RUN, a COPY straight to the final path, or A deleting
//! what a later COPY replaces anyway.

use crate::suggest::SuggestionKind;
use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use super::chain::rm_line;
use super::steps::{merged_run, sh_quote, Step};
use super::{Claims, Ctx, Draft};
use crate::analyze::waste::WasteKind;
use crate::load::index::{InodeId, NodeId};
use crate::suggest::Suggestion;

pub(crate) fn run(cx: &Ctx, claims: &mut Claims, out: &mut Vec<Suggestion>) {
    moved(cx, claims, out);
    overwritten(cx, claims, out);
}

/// `mv` commands for (old → new) moves: those keeping their name and going
/// to one directory share one `mv A B … DIR/`.
fn mv_commands(moves: &BTreeMap<String, String>) -> Vec<String> {
    let mut by_dir: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut out = Vec::new();
    for (o, n) in moves {
        let same_name = o.rsplit('/').next() == n.rsplit('/').next();
        match n.rsplit_once('/') {
            Some((dir, _)) if same_name && !dir.is_empty() => {
                by_dir.entry(dir).or_default().push(o)
            }
            _ => out.push(format!("mv {} {}", sh_quote(o), sh_quote(n))),
        }
    }
    for (dir, srcs) in by_dir {
        if srcs.len() == 1 {
            let n = format!("{dir}/{}", srcs[0].rsplit('/').next().unwrap_or(""));
            out.push(format!("mv {} {}", sh_quote(srcs[0]), sh_quote(&n)));
            continue;
        }
        let mut ps: Vec<String> = srcs.iter().take(MAX_MV).map(|p| sh_quote(p)).collect();
        if srcs.len() > MAX_MV {
            ps.push(format!("…  # and {} more", srcs.len() - MAX_MV));
            ps.push(format!("{}/", sh_quote(dir)));
            out.push(format!("mv {}", ps.join(" ")));
        } else {
            out.push(format!("mv {} {}/", ps.join(" "), sh_quote(dir)));
        }
    }
    out
}

/// Most sources listed in one `mv`.
const MAX_MV: usize = 10;

/// Replace the destination (last word) of a COPY/ADD.
fn with_dest(s: &Step, from: &str, to: &str) -> Option<String> {
    let text = s.text.trim_end();
    let last = text.rsplit(char::is_whitespace).next()?;
    let last_trim = last.trim_end_matches('/');
    if last_trim != from.trim_end_matches('/') {
        return None;
    }
    Some(format!("{}{to}", &text[..text.len() - last.len()]))
}

fn moved(cx: &Ctx, claims: &mut Claims, out: &mut Vec<Suggestion>) {
    let steps = &cx.steps;
    let groups = cx.pairs(claims, WasteKind::Moved);
    if groups.is_empty() {
        return;
    }
    // Files stored by the moving layers, by content: where each file went.
    let movers: std::collections::BTreeSet<usize> = groups.keys().map(|k| k.1).collect();
    // (layer, hash) → a file with that content; (layer, hash, name) → the
    // one that kept its name, which is where a moved file usually went.
    // Only the contents a moved file had are looked up: the moving
    // layers' other files (a layer that copies a whole tree) are left out.
    let wanted: rustc_hash::FxHashSet<(usize, u128)> = groups
        .iter()
        .flat_map(|(&(_, b), fs)| {
            fs.iter()
                .filter_map(move |&i| Some((b, cx.stored_hash(cx.finding(i))?)))
        })
        .collect();
    let mut by_hash: HashMap<(usize, u128), InodeId> = HashMap::default();
    let mut by_name: HashMap<(usize, u128, &[u8]), InodeId> = HashMap::default();
    for (id, ino) in cx.index.inodes.iter().enumerate() {
        if movers.contains(&(ino.layer as usize))
            && ino.size > 0
            && wanted.contains(&(ino.layer as usize, ino.hash()))
        {
            let key = (ino.layer as usize, ino.hash());
            by_hash.entry(key).or_insert(id as InodeId);
            let name = cx.index.name(ino.node);
            by_name.entry((key.0, key.1, name)).or_insert(id as InodeId);
        }
    }
    // A moved file that earlier layers only re-stored (chmod, touch) since
    // it was made: the whole history, from the layer that made it, is one fix
    // when those RUNs can be joined.
    let mut by_hider: HashMap<(NodeId, usize), usize> = HashMap::default();
    for ((_, h), ms) in cx.pairs(claims, WasteKind::MetadataOnly) {
        for i in ms {
            by_hider.insert((cx.finding(i).node, h), i);
        }
    }
    let history = |i: usize| -> Vec<usize> {
        let f = cx.finding(i);
        let mut chain = Vec::new();
        let mut at = f.stored_in_layer;
        while let Some(&j) = by_hider.get(&(f.node, at)) {
            // Strictly earlier layers only: the walk ends.
            let s = cx.finding(j).stored_in_layer;
            if s >= at {
                break;
            }
            chain.push(j);
            at = s;
        }
        chain
    };
    let mut pairs: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    let mut origins: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for ((a, b), fs) in groups {
        for i in fs {
            let o = history(i)
                .last()
                .map_or(a, |&j| cx.finding(j).stored_in_layer);
            origins.entry((o, b)).or_default().push(i);
        }
    }
    for ((o, b), fs) in origins {
        let chain: Vec<usize> = fs.iter().flat_map(|&i| history(i)).collect();
        let mut layers: Vec<usize> = fs
            .iter()
            .chain(&chain)
            .map(|&i| cx.finding(i).stored_in_layer)
            .collect();
        layers.push(b);
        layers.sort_unstable();
        layers.dedup();
        if chain.is_empty() || !cx.joinable(&layers) {
            for &i in &fs {
                let f = cx.finding(i);
                pairs.entry((f.stored_in_layer, b)).or_default().push(i);
            }
            continue;
        }
        let after = steps.merged(&layers).unwrap_or_default();
        let mut findings = fs;
        findings.extend(chain);
        let mut d = Draft::pair(cx, SuggestionKind::Move, (o, b), findings, after);
        d.edit = super::join_edit(&layers, &d.after);
        d.layers = layers;
        cx.emit(claims, out, d);
    }
    for ((a, b), fs) in pairs {
        let sa = steps.get(a);
        let sb = steps.get(b);
        // (moved path or directory) → its new place.
        let mut memo = HashMap::default();
        let mut moves: BTreeMap<String, String> = BTreeMap::new();
        for &i in &fs {
            let f = cx.finding(i);
            let old = f.path.display();
            let Some(h) = cx.stored_hash(f) else { continue };
            let base = old.rsplit('/').next().unwrap_or("");
            let Some(&to) = by_name
                .get(&(b, h, base.as_bytes()))
                .or_else(|| by_hash.get(&(b, h)))
            else {
                continue;
            };
            let new = cx.path_of(cx.index.inodes[to as usize].node);
            let t = cx.path_of(cx.rm_target(i, a, b, &mut memo));
            let rel = &old[t.len()..];
            match new.strip_suffix(rel) {
                Some(dest) => moves.insert(t, dest.to_string()),
                None => moves.insert(old, new),
            };
        }
        let moves_text = moves
            .iter()
            .map(|(o, n)| format!("{} → {}", o, n))
            .collect::<Vec<_>>()
            .join(", ");
        let mut edit = None;
        let after = if sa.is_run() && !sa.base {
            let joined = if cx.hides_only_from(b, a) && sb.is_run() {
                let m = steps.merged(&[a, b]);
                edit = m.as_deref().and_then(|m| super::join_edit(&[a, b], m));
                m
            } else {
                let parents: BTreeSet<String> = moves
                    .values()
                    .filter_map(|n| n.rsplit_once('/').map(|(p, _)| p.to_string()))
                    .filter(|p| !p.is_empty())
                    // Only directories that do not exist yet after layer A.
                    .filter(|p| {
                        cx.index
                            .find(p.as_bytes())
                            .and_then(|n| cx.index.state_at(n, a))
                            .is_none()
                    })
                    .collect();
                let mut cmds: Vec<String> = Vec::new();
                if !parents.is_empty() {
                    let ps: Vec<String> = parents.iter().map(|p| sh_quote(p)).collect();
                    cmds.push(format!("mkdir -p {}", ps.join(" ")));
                }
                cmds.extend(mv_commands(&moves));
                merged_run(&[sa], &cmds)
                    .map(|t| format!("{t}\n# (and leave these paths out of layer {b}'s move)"))
            };
            joined.unwrap_or_else(|| {
                format!(
                    "# Create the files at their final path in one RUN ({moves_text}):\n{}",
                    steps.before(&[a, b])
                )
            })
        } else if sa.is_copy() {
            let single = (moves.len() == 1)
                .then(|| moves.iter().next())
                .flatten()
                .and_then(|(o, n)| with_dest(sa, o, n));
            match single {
                Some(t) => format!("{t}\n# (layer {b}'s move is then no longer needed)"),
                None => format!(
                    "# Copy straight to the final paths ({moves_text}):\n{}",
                    sa.text
                ),
            }
        } else {
            format!("# Create the files at their final path ({moves_text}).")
        };
        let mut d = Draft::pair(cx, SuggestionKind::Move, (a, b), fs, after);
        d.edit = edit;
        cx.emit(claims, out, d);
    }
}

fn overwritten(cx: &Ctx, claims: &mut Claims, out: &mut Vec<Suggestion>) {
    let steps = &cx.steps;
    for ((a, b), fs) in cx.pairs(claims, WasteKind::Overwritten) {
        let sa = steps.get(a);
        let sb = steps.get(b);
        let names = cx.names(&fs, 64);
        let mut layers = vec![a];
        layers.extend(cx.mids(a, b, &names));
        layers.push(b);
        // Only two of the fixes name them: not computed for a pair of RUNs.
        let targets = || cx.rm_targets(&fs, a, b);
        let mut edit = None;
        let after = if sa.is_run() && !sa.base {
            let joined = if sb.is_run() {
                // B may read what it rewrites (sed -i, >>): run it in A's RUN.
                let m = steps.merged(&layers);
                edit = m.as_deref().and_then(|m| super::join_edit(&layers, m));
                m
            } else {
                // B copies new content over it: A need not leave it behind.
                let m = merged_run(&[sa], &[rm_line(&targets())]);
                edit = m.as_ref().map(|m| super::Edit {
                    stage: None,
                    steps: vec![(a, Some(m.clone()))],
                });
                m
            };
            joined.unwrap_or_else(|| {
                format!(
                    "# Write the final version in one step:\n{}",
                    steps.before(&layers)
                )
            })
        } else if sa.is_copy() {
            format!(
                "# Layer {b} replaces these: leave them out of this COPY (or its build context).\n{}",
                sa.text
            )
        } else {
            format!(
                "# Write the final version of {} once.",
                targets().join(", ")
            )
        };
        let mut d = Draft::pair(cx, SuggestionKind::Overwrite, (a, b), fs, after);
        d.layers = layers;
        d.edit = edit;
        cx.emit(claims, out, d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_to_one_directory_share_a_mv() {
        let mut m = BTreeMap::new();
        m.insert("/a/x".to_string(), "/b/x".to_string());
        m.insert("/a/y".to_string(), "/b/y".to_string());
        m.insert("/c".to_string(), "/d".to_string());
        assert_eq!(mv_commands(&m), ["mv /c /d", "mv /a/x /a/y /b/"]);
    }
}
