//! Property test: random layer stacks (files, dirs, symlinks, hard links,
//! whiteouts, opaque dirs, identical and changed rewrites) are written as
//! real layer tars, loaded through the whole pipeline, and compared with a
//! naive reference model of overlay semantics: a flat map of paths with
//! prefix scans, applied entry by entry.

mod common;
use common::*;

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    File(String, u8),
    Dir(String),
    Symlink(String),
    /// Hard link at path to the n-th earlier File op of the same layer.
    Link(String, usize),
    Whiteout(String),
    Opaque(String),
}

const SIZES: [usize; 5] = [0, 7, 100, 1000, 4096];

fn content(id: u8) -> Vec<u8> {
    let size = SIZES[(id as usize) % SIZES.len()];
    (0..size)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(id))
        .collect()
}

fn path_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..=3)
        .prop_map(|v| v.join("/"))
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (path_strategy(), 0u8..8).prop_map(|(p, c)| Op::File(p, c)),
        2 => path_strategy().prop_map(Op::Dir),
        1 => path_strategy().prop_map(Op::Symlink),
        2 => (path_strategy(), 0usize..4).prop_map(|(p, n)| Op::Link(p, n)),
        3 => path_strategy().prop_map(Op::Whiteout),
        1 => path_strategy().prop_map(Op::Opaque),
    ]
}

fn stack_strategy() -> impl Strategy<Value = Vec<Vec<Op>>> {
    prop::collection::vec(prop::collection::vec(op_strategy(), 0..8), 1..6)
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// The layer's entries as written to its tar (hard links resolved to paths).
fn entries(ops: &[Op]) -> Vec<E> {
    let mut files: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for op in ops {
        match op {
            Op::File(p, c) => {
                files.push(p.clone());
                out.push(E::File(leak(p), content(*c)));
            }
            Op::Dir(p) => out.push(E::Dir(leak(p))),
            Op::Symlink(p) => out.push(E::Symlink(leak(p), "target")),
            Op::Link(p, n) => {
                if !files.is_empty() {
                    let t = &files[n % files.len()];
                    out.push(E::HardLink(leak(p), leak(t)));
                }
            }
            Op::Whiteout(p) => out.push(E::Whiteout(leak(p))),
            Op::Opaque(p) => out.push(E::Opaque(leak(p))),
        }
    }
    out
}

// ------------------------------------------------------------ the model

#[derive(Clone, Copy, PartialEq, Debug)]
enum K {
    File,
    Dir,
    Other,
}

#[derive(Clone, Copy, Debug)]
enum Cause {
    Replaced(Option<u64>), // content hash of the new file, if a file
    Gone,                  // whiteout, opaque, or parent replaced
}

struct Ino {
    /// The path the bytes were stored under.
    stored: String,
    layer: usize,
    size: u64,
    hash: u64,
    names: u32,
    hidden: Option<(usize, String, Cause)>,
}

#[derive(Default)]
struct Model {
    state: BTreeMap<String, (K, Option<usize>)>,
    inodes: Vec<Ino>,
    /// Paths removed by the layer being applied.
    removed_now: HashSet<String>,
}

fn h(data: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(data)
}

impl Model {
    fn below(&self, p: &str) -> Vec<String> {
        let prefix = format!("{p}/");
        self.state
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect()
    }

    fn drop_name(
        &mut self,
        ino: usize,
        layer: usize,
        path: &str,
        cause: Cause,
        hidden_here: &mut HashMap<String, usize>,
    ) {
        let stored_gone = {
            let st = &self.inodes[ino].stored;
            st != path && self.removed_now.contains(st) && !self.state.contains_key(st)
        };
        let i = &mut self.inodes[ino];
        i.names -= 1;
        if i.names == 0 {
            if matches!(cause, Cause::Gone) {
                // Several names gone in one layer: the stored name is reported.
                let at = if stored_gone {
                    i.stored.clone()
                } else {
                    path.to_string()
                };
                i.hidden = Some((layer, at.clone(), cause));
                hidden_here.insert(path.to_string(), ino);
                hidden_here.insert(at, ino);
            } else {
                i.hidden = Some((layer, path.to_string(), cause));
            }
        }
    }

    fn remove(&mut self, p: &str, layer: usize, hidden_here: &mut HashMap<String, usize>) {
        if let Some((_, ino)) = self.state.remove(p) {
            self.removed_now.insert(p.to_string());
            if let Some(ino) = ino {
                self.drop_name(ino, layer, p, Cause::Gone, hidden_here);
            }
        }
    }

    fn flip(
        &mut self,
        p: &str,
        layer: usize,
        cause: Cause,
        hidden_here: &mut HashMap<String, usize>,
    ) {
        if let Some(ino) = hidden_here.remove(p) {
            if let Some(hd) = &mut self.inodes[ino].hidden {
                if hd.0 == layer {
                    hd.2 = cause;
                    hd.1 = p.to_string();
                }
            }
        }
    }

    fn ensure_dir(&mut self, p: &str, layer: usize, hidden_here: &mut HashMap<String, usize>) {
        match self.state.get(p).copied() {
            Some((K::Dir, _)) => return,
            Some((_, Some(ino))) => {
                self.drop_name(ino, layer, p, Cause::Replaced(None), hidden_here)
            }
            Some(_) => {}
            None => self.flip(p, layer, Cause::Replaced(None), hidden_here),
        }
        self.state.insert(p.to_string(), (K::Dir, None));
    }

    fn apply(&mut self, layer: usize, es: &[E]) {
        let mut hidden_here = HashMap::new();
        self.removed_now.clear();
        for e in es {
            match e {
                E::Whiteout(p) if self.state.contains_key(*p) => {
                    for k in self.below(p) {
                        self.remove(&k, layer, &mut hidden_here);
                    }
                    self.remove(p, layer, &mut hidden_here);
                }
                E::Opaque(d) if matches!(self.state.get(*d), Some((K::Dir, _))) => {
                    for k in self.below(d) {
                        self.remove(&k, layer, &mut hidden_here);
                    }
                }
                _ => {}
            }
        }
        for e in es {
            let (p, kind, data, link): (&str, K, Option<&Vec<u8>>, Option<&str>) = match e {
                E::Whiteout(_) => continue,
                E::File(p, d) => (p, K::File, Some(d), None),
                E::Dir(p) | E::Opaque(p) => (p, K::Dir, None, None),
                E::Symlink(p, _) => (p, K::Other, None, None),
                E::HardLink(p, t) => (p, K::File, None, Some(t)),
                _ => unreachable!(),
            };
            let comps: Vec<&str> = p.split('/').collect();
            for i in 1..comps.len() {
                let a = comps[..i].join("/");
                self.ensure_dir(&a, layer, &mut hidden_here);
            }
            if kind == K::Dir {
                self.ensure_dir(p, layer, &mut hidden_here);
                continue;
            }
            let new_ino = if let Some(d) = data {
                self.inodes.push(Ino {
                    stored: p.to_string(),
                    layer,
                    size: d.len() as u64,
                    hash: h(d),
                    names: 0,
                    hidden: None,
                });
                Some(self.inodes.len() - 1)
            } else if let Some(t) = link {
                match self.state.get(t) {
                    Some((K::File, Some(i))) => Some(*i),
                    _ => None,
                }
            } else {
                None
            };
            let cause = Cause::Replaced(new_ino.map(|i| self.inodes[i].hash));
            match self.state.get(p).copied() {
                Some((K::Dir, _)) => {
                    for k in self.below(p) {
                        self.remove(&k, layer, &mut hidden_here);
                    }
                }
                Some((_, Some(old))) if Some(old) != new_ino => {
                    self.drop_name(old, layer, p, cause, &mut hidden_here)
                }
                Some((_, Some(_))) => self.inodes[new_ino.unwrap()].names -= 1,
                Some(_) => {}
                None => self.flip(p, layer, cause, &mut hidden_here),
            }
            if let Some(i) = new_ino {
                self.inodes[i].names += 1;
            }
            self.state.insert(p.to_string(), (kind, new_ino));
        }
    }

    /// Findings (path, kind, bytes, stored, hidden_by), sorted.
    fn findings(&self) -> Vec<(String, &'static str, u64, usize, Option<usize>)> {
        let stored: HashSet<(usize, u64)> = self
            .inodes
            .iter()
            .filter(|i| i.size > 0)
            .map(|i| (i.layer, i.hash))
            .collect();
        let mut v: Vec<_> = self
            .inodes
            .iter()
            .filter_map(|i| {
                let (l, p, c) = i.hidden.as_ref()?;
                let kind = match c {
                    Cause::Replaced(Some(nh)) if *nh == i.hash => "metadata_only",
                    Cause::Replaced(_) => "overwritten",
                    Cause::Gone if i.size > 0 && stored.contains(&(*l, i.hash)) => "moved",
                    Cause::Gone => "removed",
                };
                Some((format!("/{p}"), kind, i.size, i.layer, Some(*l)))
            })
            .collect();
        v.sort();
        v
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn analysis_agrees_with_reference_overlay_model(stack in stack_strategy()) {
        let layers: Vec<Vec<E>> = stack.iter().map(|ops| entries(ops)).collect();
        let mut model = Model::default();
        for (i, es) in layers.iter().enumerate() {
            model.apply(i, es);
        }
        let tars: Vec<Vec<u8>> = layers.iter().map(|es| layer(es)).collect();
        let f = temp_file(&docker_archive(&tars, &[]));
        let index = imgscope::load(f.path().to_str().unwrap(), &Default::default(), &Default::default()).unwrap();
        let report = imgscope::analyze(&index, &imgscope::Rules::empty());

        let total: u64 = model.inodes.iter().map(|i| i.size).sum();
        let visible: u64 = model.inodes.iter().filter(|i| i.hidden.is_none()).map(|i| i.size).sum();
        prop_assert_eq!(report.summary.total_bytes, total);
        prop_assert_eq!(report.summary.visible_bytes, visible);
        prop_assert_eq!(report.summary.hidden_bytes, total - visible);
        let mut got = findings(&report);
        got.sort();
        let want = model.findings();
        for kind in ["removed", "overwritten", "metadata_only", "moved"] {
            let a: u64 = got.iter().filter(|f| f.1 == kind).map(|f| f.2).sum();
            let b: u64 = want.iter().filter(|f| f.1 == kind).map(|f| f.2).sum();
            prop_assert_eq!(a, b, "bytes of kind {}", kind);
        }
        prop_assert_eq!(got, want);
        // The final filesystem: the same non-directory paths are visible.
        let mut visible_paths = Vec::new();
        let mut buf = Vec::new();
        imgscope::analyze::waste::walk_visible(&index, imgscope::analyze::index::ROOT, &mut buf, &mut |id, p| {
            if index.nodes[id as usize].changes.last().unwrap().kind != imgscope::analyze::index::NodeKind::Dir {
                visible_paths.push(String::from_utf8_lossy(p).into_owned());
            }
        });
        let model_paths: Vec<String> = model
            .state
            .iter()
            .filter(|(_, (k, _))| *k != K::Dir)
            .map(|(p, _)| format!("/{p}"))
            .collect();
        visible_paths.sort();
        prop_assert_eq!(visible_paths, model_paths);
        prop_assert_eq!(report.summary.file_count as usize, model.state.values().filter(|(k, _)| *k != K::Dir).count());
    }
}
