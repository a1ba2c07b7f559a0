//! Metadata-only copies: layer B re-stores, with the same content, files that
//! layer A stored (chmod, chown, touch). The fix sets mode and owner where the
//! files are made: `COPY --chmod/--chown`, or in A's RUN.

use crate::suggest::SuggestionKind;
use std::collections::BTreeMap;

use super::steps::{merged_run, sh_quote, Step};
use rustc_hash::FxHashMap as HashMap;

use super::{layer_id, Claims, Ctx, Draft};
use crate::analyze::waste::WasteKind;
use crate::load::index::NodeId;
use crate::suggest::Suggestion;

const MAX_PATHS: usize = 10;

/// A file mode, written in octal.
#[derive(PartialEq, Eq, Hash)]
struct Mode(u32);

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:o}", self.0)
    }
}

/// An owner, written `uid:gid`.
#[derive(PartialEq, Eq, Hash)]
struct Owner(u32, u32);

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.0, self.1)
    }
}

/// Mode and owner a layer gave a path.
fn meta(cx: &Ctx, i: usize, layer: usize) -> Option<(u32, u32, u32)> {
    let f = cx.finding(i);
    cx.change_at(f.node, layer)
        .map(|c| (c.mode & 0o7777, c.uid, c.gid))
}

/// `COPY src dest` → `COPY --chmod=… src dest`; the legacy history form
/// `COPY file:<sha> in /dest` becomes `COPY --chmod=… <source> /dest`.
pub fn with_flags(s: &Step, flags: &str) -> String {
    let text = s.text.trim();
    let (kw, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let rest = rest.trim_start();
    let mut w = rest.split_whitespace();
    let legacy = match (w.next(), w.next(), w.next(), w.next()) {
        (Some(src), Some("in"), Some(dest), None)
            if ["file:", "dir:", "multi:"]
                .iter()
                .any(|p| src.starts_with(p)) =>
        {
            Some(dest)
        }
        _ => None,
    };
    match legacy {
        Some(dest) => format!("{kw} {flags} <source> {dest}"),
        None => format!("{kw} {flags} {rest}"),
    }
}

/// The paths given one mode (owner): how many, and the first
/// [`MAX_PATHS`] of them (all a command lists).
#[derive(Default)]
struct Paths {
    count: usize,
    first: Vec<String>,
}

impl Paths {
    fn push(&mut self, path: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.len() < MAX_PATHS {
            self.first.push(path());
        }
    }
}

/// Paths grouped by a key (a mode, an owner), in the order of the key's
/// text.
fn by_text<K: std::fmt::Display>(m: HashMap<K, Paths>) -> BTreeMap<String, Paths> {
    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn grouped_cmd(cmd: &str, by: &BTreeMap<String, Paths>) -> Vec<String> {
    by.iter()
        .map(|(arg, paths)| {
            let mut ps: Vec<String> = paths.first.iter().map(|p| sh_quote(p)).collect();
            if paths.count > MAX_PATHS {
                ps.push(format!("…  # and {} more", paths.count - MAX_PATHS));
            }
            format!("{cmd} {arg} {}", ps.join(" "))
        })
        .collect()
}

/// A single chmod/chown/chgrp/touch command kept to the path arguments that
/// hold one of `paths` (None when the command is anything else; `paths` is
/// only asked for when it is one of those).
fn restrict<'p, P: AsRef<str> + 'p>(body: &str, paths: impl FnOnce() -> &'p [P]) -> Option<String> {
    let body = body.trim();
    if body.contains(['&', ';', '|', '\n', '$', '`', '>', '<']) {
        return None;
    }
    let toks: Vec<&str> = body.split_whitespace().collect();
    if !["chmod", "chown", "chgrp", "touch"].contains(toks.first()?) {
        return None;
    }
    let paths = paths();
    let covers = |t: &str| {
        let t = t.trim_end_matches('/');
        paths.iter().any(|p| {
            let p = p.as_ref();
            p == t || super::is_inside(p, t)
        })
    };
    let kept: Vec<&str> = toks
        .iter()
        .copied()
        .filter(|t| !t.starts_with('/') || covers(t))
        .collect();
    kept.iter()
        .any(|t| t.starts_with('/'))
        .then(|| kept.join(" "))
}

/// "layer 4" or "layers 4 and 9".
fn layer_list(ls: &[usize]) -> String {
    match ls {
        [one] => format!("layer {one}"),
        [init @ .., last] => format!(
            "layers {} and {last}",
            init.iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        [] => String::new(),
    }
}

/// A few (layer → value) pairs of one path, found by a scan; a path
/// re-stored by many layers gets a hash map.
#[derive(Default)]
struct LayerMap {
    small: Vec<(usize, usize)>,
    big: Option<HashMap<usize, usize>>,
}

impl LayerMap {
    /// Empty, for a path with `n` findings.
    fn reset(&mut self, n: usize) {
        self.small.clear();
        self.big = (n > 8).then(HashMap::default);
    }

    fn insert(&mut self, k: usize, v: usize) {
        match &mut self.big {
            Some(m) => {
                m.insert(k, v);
            }
            None => match self.small.iter_mut().find(|e| e.0 == k) {
                Some(e) => e.1 = v,
                None => self.small.push((k, v)),
            },
        }
    }

    fn get(&self, k: usize) -> Option<usize> {
        match &self.big {
            Some(m) => m.get(&k).copied(),
            None => self.small.iter().find(|e| e.0 == k).map(|e| e.1),
        }
    }
}

/// Follow `step` from `start` to its end, remembering the end of every
/// layer passed on the way.
fn walk(memo: &mut LayerMap, start: usize, step: impl Fn(usize) -> Option<usize>) -> usize {
    let mut path = Vec::new();
    let mut l = start;
    let found = loop {
        if let Some(e) = memo.get(l) {
            break e;
        }
        path.push(l);
        match step(l) {
            Some(n) => l = n,
            None => break l,
        }
    };
    for p in path {
        memo.insert(p, found);
    }
    found
}

pub(crate) fn run(cx: &Ctx, claims: &mut Claims, out: &mut Vec<Suggestion>) {
    let steps = &cx.steps;
    let pairs = cx.pairs(claims, WasteKind::MetadataOnly);
    // A path changed again and again (chmod in one RUN, chown in the next)
    // is one chain: created in layer `o`, last re-stored by `last`. A chain
    // is one path's, so the findings are taken path by path: the maps its
    // walks read hold that path's findings alone (a `chmod -R` re-stores
    // tens of thousands of paths, each once or twice).
    let order: Vec<(usize, usize, usize)> = pairs
        .iter()
        .flat_map(|(&(a, b), fs)| fs.iter().map(move |&i| (a, b, i)))
        .collect();
    let mut by_node: Vec<(NodeId, usize)> = order
        .iter()
        .enumerate()
        .map(|(p, &(_, _, i))| (cx.finding(i).node, p))
        .collect();
    by_node.sort_unstable();
    let mut ends = vec![(0usize, 0usize); order.len()];
    let [mut by_stored, mut by_hider, mut origin, mut end]: [LayerMap; 4] = Default::default();
    // Each step goes to a strictly earlier (later) layer, so the walks end
    // even on findings a layer hid itself; each (path, layer) is walked
    // once (memo), so a path re-stored by every one of n layers costs O(n).
    for group in by_node.chunk_by(|x, y| x.0 == y.0) {
        for m in [&mut by_stored, &mut by_hider, &mut origin, &mut end] {
            m.reset(group.len());
        }
        // In the order of `pairs`: the last finding of a (path, layer) wins.
        for &(_, p) in group {
            let (a, b, i) = order[p];
            by_stored.insert(a, i);
            by_hider.insert(b, i);
        }
        for &(_, p) in group {
            let (a, b, _) = order[p];
            let o = walk(&mut origin, a, |l| {
                let j = by_hider.get(l)?;
                let s = cx.finding(j).stored_in_layer;
                (s < l).then_some(s)
            });
            let last = walk(&mut end, b, |l| {
                let j = by_stored.get(l)?;
                cx.finding(j).hidden_by_layer.filter(|&h| h > l)
            });
            ends[p] = (o, last);
        }
    }
    let mut chains: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (&(_, _, i), &e) in order.iter().zip(&ends) {
        chains.entry(e).or_default().push(i);
    }
    for ((o, last), fs) in chains {
        let mut layers: Vec<usize> = fs
            .iter()
            .flat_map(|&i| {
                [cx.finding(i).stored_in_layer]
                    .into_iter()
                    .chain(cx.finding(i).hidden_by_layer)
            })
            .collect();
        layers.sort_unstable();
        layers.dedup();
        let so = steps.get(o);
        // Final mode / owner per path, where they differ from layer o's.
        let mut chmod: HashMap<Mode, Paths> = HashMap::default();
        let mut chown: HashMap<Owner, Paths> = HashMap::default();
        let mut seen = rustc_hash::FxHashSet::default();
        for &i in &fs {
            if !seen.insert(cx.finding(i).node) {
                continue;
            }
            let (Some(old), Some(new)) = (meta(cx, i, o), meta(cx, i, last)) else {
                continue;
            };
            let p = || cx.finding(i).path.display();
            if old.0 != new.0 {
                chmod.entry(Mode(new.0)).or_default().push(p);
            }
            if (old.1, old.2) != (new.1, new.2) {
                chown.entry(Owner(new.1, new.2)).or_default().push(p);
            }
        }
        let (chmod, chown) = (by_text(chmod), by_text(chown));
        let later = layer_list(&layers[1..]);
        let no_longer = format!("# (the change in {later} is then no longer needed)");
        // The later steps go when each only changes these paths (borrowed
        // where UTF-8, as `what` does: a `chmod -R` re-stores tens of
        // thousands).
        let fs_paths = std::cell::OnceCell::new();
        let fs_paths = || {
            fs_paths
                .get_or_init(|| {
                    fs.iter()
                        .map(|&i| super::utf8_lossy(&cx.finding(i).path.0))
                        .collect::<Vec<_>>()
                })
                .as_slice()
        };
        let later_only_ours = layers[1..].iter().all(|&l| {
            let s = steps.get(l);
            s.is_run()
                && !s.base
                && s.body.as_deref().is_some_and(|b| {
                    let flat = b.split_whitespace().collect::<Vec<_>>().join(" ");
                    restrict(b, fs_paths).as_deref() == Some(flat.as_str())
                })
        });
        let replace_first = |text: &str| -> Option<super::Edit> {
            later_only_ours.then(|| {
                let mut steps = vec![(o, Some(text.to_string()))];
                steps.extend(layers[1..].iter().map(|&l| (l, None)));
                super::Edit { steps, stage: None }
            })
        };
        let mut edit = None;
        let after = if so.is_run() && !so.base {
            let whole = cx.joinable(&layers);
            // The later steps' own commands, kept to the paths of this group.
            let restricted: Option<Vec<String>> = layers[1..]
                .iter()
                .map(|&l| {
                    steps
                        .get(l)
                        .body
                        .as_deref()
                        .and_then(|b| restrict(b, fs_paths))
                })
                .collect();
            let joined = if whole {
                let m = steps.merged(&layers);
                edit = m.as_deref().and_then(|m| super::join_edit(&layers, m));
                m
            } else if let Some(extra) = restricted.filter(|e| !e.is_empty()) {
                let m = merged_run(&[so], &extra);
                edit = m.as_deref().and_then(replace_first);
                m.map(|t| format!("{t}\n{no_longer}"))
            } else {
                let mut extra = grouped_cmd("chmod", &chmod);
                extra.extend(grouped_cmd("chown", &chown));
                if extra.is_empty() {
                    extra.push(format!(
                        "touch {}",
                        sh_quote(&cx.finding(fs[0]).path.display())
                    ));
                }
                merged_run(&[so], &extra).map(|t| format!("{t}\n{no_longer}"))
            };
            joined.unwrap_or_else(|| {
                format!(
                    "# Change mode/owner at the end of the RUN that creates the files:\n{}",
                    steps.before(&layers)
                )
            })
        } else if so.is_copy() {
            let mut flags = Vec::new();
            if chmod.len() == 1 {
                flags.push(format!("--chmod={}", chmod.keys().next().unwrap()));
            }
            if chown.len() == 1 {
                flags.push(format!("--chown={}", chown.keys().next().unwrap()));
            }
            if (chmod.len() > 1 || chown.len() > 1) || flags.is_empty() {
                format!(
                    "# Give the files their final mode and owner in the build context (or split\n\
                     # the COPY by mode and use --chmod/--chown on each):\n{}\n{no_longer}",
                    so.text
                )
            } else {
                let t = with_flags(so, &flags.join(" "));
                edit = replace_first(&t);
                format!("{t}\n{no_longer}")
            }
        } else {
            format!(
                "# Set mode and owner in the step that creates the files:\n{}",
                so.text
            )
        };
        let change = match (chmod.is_empty(), chown.is_empty()) {
            (false, true) => "mode",
            (true, false) => "owner",
            (false, false) => "mode and owner",
            (true, true)
                if layers[1..]
                    .iter()
                    .any(|&l| steps.get(l).text.contains("touch ")) =>
            {
                "timestamps"
            }
            (true, true) => "mode or owner",
        };
        let d = Draft {
            rule: SuggestionKind::Metadata,
            id: format!("metadata:{}", layer_id(&layers)),
            vars: vec![
                ("a", o.to_string()),
                ("later", later),
                ("what", cx.what(&fs)),
                ("change", change.to_string()),
            ],
            layers,
            findings: fs,
            after,
            edit,
        };
        cx.emit(claims, out, d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suggest::dockerfile::Instr;

    fn copy(text: &str) -> Step {
        Step {
            layer: 1,
            instr: Instr::Copy,
            text: text.into(),
            flags: String::new(),
            body: None,
            line: None,
            base: false,
            rootfs: false,
        }
    }

    #[test]
    fn restricting_a_later_command() {
        let paths = ["/usr/lib/jvm/x/lib/modules".to_string()];
        assert_eq!(
            restrict("chmod -R go-w,a+rX /usr/lib/jvm /usr/include/boost", || {
                &paths
            })
            .as_deref(),
            Some("chmod -R go-w,a+rX /usr/lib/jvm")
        );
        assert_eq!(restrict("chmod 755 /opt/a && rm /x", || &paths), None);
        assert_eq!(restrict("chmod 755 /opt/a", || &paths), None);
    }

    #[test]
    fn layer_lists() {
        assert_eq!(layer_list(&[4]), "layer 4");
        assert_eq!(layer_list(&[4, 5, 9]), "layers 4, 5 and 9");
    }

    #[test]
    fn copy_flags() {
        assert_eq!(
            with_flags(&copy("COPY big.bin /opt/big.bin"), "--chmod=755"),
            "COPY --chmod=755 big.bin /opt/big.bin"
        );
        assert_eq!(
            with_flags(
                &copy("ADD file:139c3708 in /somefile.txt"),
                "--chown=1000:1000"
            ),
            "ADD --chown=1000:1000 <source> /somefile.txt"
        );
    }
}
