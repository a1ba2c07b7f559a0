//! Property test: random layer stacks (files, dirs, symlinks, hard links,
//! whiteouts, opaque dirs, identical and changed rewrites) are written as
//! real layer tars, loaded through the whole pipeline, and compared with a
//! naive reference model of overlay semantics: a flat map of paths with
//! prefix scans, applied entry by entry.
//!
//! The generator makes what real (and hand-made) tars hold: a path stored
//! twice in one layer (`tar --append`), hard links before and after their
//! target, to earlier layers' files and to nothing, whiteouts and files of
//! the same name in one layer, directories replaced by files and back (in
//! the next layer, or in the same one after a file under them). The
//! last entry in a layer wins; each earlier copy is hidden by that layer and
//! warned about. The whole report (suggestions too) must finish quickly.

use crate::common;
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
    /// Hard link at path to any path (an earlier layer's, a later entry's, or nothing).
    LinkPath(String, String),
    /// The previous entry of the layer again, as `tar --append` leaves it.
    Dup,
    Whiteout(String),
    Opaque(String),
    /// A file under the directory, then a file (or a symlink) at the
    /// directory's path, in the same layer.
    DirReplaced(String, u8, bool),
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
        1 => (path_strategy(), path_strategy()).prop_map(|(p, t)| Op::LinkPath(p, t)),
        2 => Just(Op::Dup),
        3 => path_strategy().prop_map(Op::Whiteout),
        1 => path_strategy().prop_map(Op::Opaque),
        1 => (path_strategy(), 1u8..8, any::<bool>())
            .prop_map(|(p, c, link)| Op::DirReplaced(p, c, link)),
    ]
}

fn stack_strategy() -> impl Strategy<Value = Vec<Vec<Op>>> {
    prop::collection::vec(prop::collection::vec(op_strategy(), 0..10), 1..6)
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
            Op::LinkPath(p, t) => out.push(E::HardLink(leak(p), leak(t))),
            Op::Dup => {
                if let Some(last) = out.last().cloned() {
                    if let E::File(p, _) = &last {
                        files.push(p.to_string());
                    }
                    out.push(last);
                }
            }
            Op::Whiteout(p) => out.push(E::Whiteout(leak(p))),
            Op::Opaque(p) => out.push(E::Opaque(leak(p))),
            Op::DirReplaced(p, c, link) => {
                let f = leak(&format!("{p}/f"));
                files.push(f.to_string());
                out.push(E::File(f, content(*c)));
                out.push(if *link {
                    E::Symlink(leak(p), "target")
                } else {
                    E::File(leak(p), content(c.wrapping_add(1)))
                });
            }
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
    /// Names removed by the layer being applied: (path, inode).
    removed_now: HashSet<(String, usize)>,
    /// What the layer being applied put at each path (kind, by an entry).
    placed: HashMap<String, (K, bool)>,
    /// Expected warnings: (layer, path, what).
    warnings: std::collections::BTreeSet<(usize, String, &'static str)>,
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
            st != path
                && self.removed_now.contains(&(st.clone(), ino))
                && !self.state.contains_key(st)
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

    /// The layer puts `kind` at `p`: a path it already put something at is
    /// stored twice (a directory meeting a directory only when both are entries).
    fn place(&mut self, layer: usize, p: &str, kind: K, explicit: bool) {
        if let Some(&(old, old_explicit)) = self.placed.get(p) {
            if old != K::Dir || kind != K::Dir || (old_explicit && explicit) {
                self.warnings.insert((layer, format!("/{p}"), "twice"));
            }
        }
        let was_dir = matches!(self.state.get(p), Some((K::Dir, _)));
        if explicit || !was_dir {
            self.placed.insert(p.to_string(), (kind, explicit));
        }
    }

    fn remove(&mut self, p: &str, layer: usize, hidden_here: &mut HashMap<String, usize>) {
        self.placed.remove(p);
        if let Some((_, Some(ino))) = self.state.remove(p) {
            self.removed_now.insert((p.to_string(), ino));
            self.drop_name(ino, layer, p, Cause::Gone, hidden_here);
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

    fn ensure_dir(
        &mut self,
        p: &str,
        layer: usize,
        explicit: bool,
        hidden_here: &mut HashMap<String, usize>,
    ) {
        self.place(layer, p, K::Dir, explicit);
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
        self.placed.clear();
        for e in es {
            if let E::Whiteout(p) = e {
                if !self.state.contains_key(*p) {
                    self.warnings.insert((layer, format!("/{p}"), "whiteout"));
                }
            }
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
                self.ensure_dir(&a, layer, false, &mut hidden_here);
            }
            if kind == K::Dir {
                self.ensure_dir(p, layer, matches!(e, E::Dir(_)), &mut hidden_here);
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
                    _ => {
                        self.warnings.insert((layer, format!("/{p}"), "link"));
                        None
                    }
                }
            } else {
                None
            };
            self.place(layer, p, kind, true);
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
        // `moved`: the layer that hid a copy stores the same bytes at a
        // path it leaves in place (not a copy it hid itself: a file under a
        // directory the same layer replaced matched its own bytes once).
        let stored: HashSet<(usize, u64)> = self
            .inodes
            .iter()
            .filter(|i| i.size > 0 && i.hidden.as_ref().is_none_or(|h| h.0 != i.layer))
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

/// A layer that stores `d/f` and then a file or a symlink `d` (a directory
/// replaced by a non-directory in one layer), in an OCI layout: `/d/f` is
/// hidden because its parent stopped being a directory, so it is `removed`
/// (it once matched itself, stored by that layer, and came out `moved`).
#[test]
fn a_directory_replaced_by_a_file_in_its_own_layer_removes_its_files() {
    for replacement in [E::File("d", b"xyz".to_vec()), E::Symlink("d", "elsewhere")] {
        let l = layer(&[
            E::Dir("d"),
            E::File("d/f", b"abc".to_vec()),
            replacement.clone(),
        ]);
        let a = analyse_oci(&[l]);
        assert_eq!(
            findings(&a),
            vec![("/d/f".to_string(), "removed", 3, 0, Some(0))],
            "{replacement:?}"
        );
        // The same replacement in the next layer.
        let l0 = layer(&[E::Dir("d"), E::File("d/f", b"abc".to_vec())]);
        let a = analyse_oci(&[l0, layer(std::slice::from_ref(&replacement))]);
        assert_eq!(
            findings(&a),
            vec![("/d/f".to_string(), "removed", 3, 0, Some(1))],
            "{replacement:?}"
        );
    }
    // A real move in one layer stays `moved`: the same bytes survive at /e.
    let l0 = layer(&[E::Dir("d"), E::File("d/f", b"abc".to_vec())]);
    let l1 = layer(&[E::File("e", b"abc".to_vec()), E::File("d", b"xyz".to_vec())]);
    assert_eq!(
        findings(&analyse_oci(&[l0, l1])),
        vec![("/d/f".to_string(), "moved", 3, 0, Some(1))]
    );
}

/// Several names of one inode gone in one layer are reported under the
/// name the bytes were stored under only while that path is still one of
/// the inode's names: a path the stored name lost to a directory in the
/// meantime is not the file's name (proptest case 4ea052bb, shrunk).
#[test]
fn a_stored_name_lost_to_a_directory_does_not_name_the_removal() {
    // /b is stored, /a/c/c and /b/a link to it, and /b/a makes /b a
    // directory in the same layer: the bytes live on at /a/c/c and /b/a.
    let l0 = layer(&[
        E::File("b", b"abc".to_vec()),
        E::HardLink("a/c/c", "b"),
        E::HardLink("b/a", "a/c/c"),
    ]);
    let l1 = layer(&[E::Whiteout("a")]);
    let l2 = layer(&[E::Whiteout("b")]);
    assert_eq!(
        findings(&analyse_oci(&[l0, l1, l2])),
        vec![("/b/a".to_string(), "removed", 3, 0, Some(2))]
    );
    // /x is stored, /y links to it, /x becomes a directory; one layer
    // then removes both: the bytes' last name was /y.
    let l0 = layer(&[
        E::File("x", b"abc".to_vec()),
        E::HardLink("y", "x"),
        E::Dir("x"),
    ]);
    let l1 = layer(&[E::Whiteout("x"), E::Whiteout("y")]);
    assert_eq!(
        findings(&analyse_oci(&[l0.clone(), l1])),
        vec![("/y".to_string(), "removed", 3, 0, Some(1))]
    );
    // The stored name goes first, the path is used again and goes again
    // in the same layer, then the last name goes: the stored name was one
    // of the names this layer removed (proptest case c45fd469, shrunk).
    let l0 = layer(&[
        E::Dir("d"),
        E::File("d/x", b"abc".to_vec()),
        E::HardLink("z/y", "d/x"),
    ]);
    let l1 = layer(&[
        E::Whiteout("d/x"),
        E::File("d/x", b"defg".to_vec()),
        E::File("d", b"hi".to_vec()),
        E::File("z", b"jk".to_vec()),
    ]);
    let mut got = findings(&analyse_oci(&[l0, l1]));
    got.sort();
    assert_eq!(
        got,
        vec![
            ("/d/x".to_string(), "removed", 3, 0, Some(1)),
            ("/d/x".to_string(), "removed", 4, 1, Some(1)),
        ]
    );
    // While /x is still a name of the bytes, removing both names in one
    // layer reports /x, where they were stored.
    let l0 = layer(&[E::File("x", b"abc".to_vec()), E::HardLink("y", "x")]);
    let l1 = layer(&[E::Whiteout("y"), E::Whiteout("x")]);
    assert_eq!(
        findings(&analyse_oci(&[l0, l1])),
        vec![("/x".to_string(), "removed", 3, 0, Some(1))]
    );
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
        let report = imgscope::analyze(&index, &imgscope::Rules::empty(), &imgscope::Ignore::none());
        // The whole report, suggestions included, ends (a loop there once
        // hung on paths stored twice in one layer).
        let (tx, rx) = std::sync::mpsc::channel();
        let ix = index.clone();
        std::thread::spawn(move || {
            let r = imgscope::analyse_index(ix, &Default::default());
            let _ = tx.send(r.map(|a| a.report.suggestions.iter().map(|s| s.saves_bytes).sum::<u64>()));
        });
        let saved = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the report with suggestions finishes within 10 s")
            .unwrap();
        prop_assert!(saved <= report.summary.wasted_bytes + report.summary.visible_bytes);
        let got_warnings: std::collections::BTreeSet<(usize, String, &'static str)> = report
            .warnings
            .iter()
            .map(|w| {
                let what = if w.message.contains("more than once") {
                    "twice"
                } else if w.message.contains("whiteout") {
                    "whiteout"
                } else if w.message.contains("hard link") {
                    "link"
                } else {
                    "other"
                };
                (w.layer.unwrap_or(usize::MAX), w.path.as_ref().map(|p| p.display()).unwrap_or_default(), what)
            })
            .collect();
        prop_assert_eq!(&got_warnings, &model.warnings);

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
        imgscope::analyze::waste::walk_visible(&index, imgscope::load::index::ROOT, &mut buf, &mut |id, p| {
            if index.changes(id).last().unwrap().kind != imgscope::load::index::NodeKind::Dir {
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
