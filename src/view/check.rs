//! The tree build checked against a straightforward one (issue 14, target
//! 7): the build sums runs of siblings in registers and sorts packed integer
//! keys; `reference` is the build before those optimisations, one child at a
//! time with a comparison sort. Both must agree on random layer stacks in
//! every layer, mode, sort, change-type toggle and filter, and so must a
//! build split over two threads at any node.

use rustc_hash::FxHashSet;

use super::columns::Columns;
use super::filter::PathFilter;
use super::tree::*;
use crate::analyze::waste::WasteKind;
use crate::load::index::{Index, NodeId, NodeKind, Op, NO_INODE, ROOT};
use crate::testing::{image, E};

const SHOWN: u8 = 1;
const DIR: u8 = 2;
const PRESENT: u8 = 4;
const CANDIDATE: u8 = 8;
const COUNTED: u8 = 16;

struct Ref {
    flags: Vec<u8>,
    mark: Vec<Mark>,
    size: Vec<u64>,
    start: Vec<u32>,
    list: Vec<NodeId>,
    pos: Vec<u32>,
    shown_count: usize,
}

fn reference(index: &Index, kinds: &HideKinds, key: Key, filter: Option<&PathFilter>) -> Ref {
    let cols = &Columns::new(index);
    let n = cols.len();
    let layer = key.layer;
    let mut flags = vec![0u8; n];
    let mut mark = vec![Mark::Unchanged; n];
    let mut size = vec![0u64; n];
    let (mut start, mut list, mut pos): (Vec<u32>, Vec<NodeId>, Vec<u32>) = Default::default();
    // Hard links: a directory counts each stored file once.
    let mut seen = vec![false; cols.inode_size.len()];
    flags[ROOT as usize] = DIR | PRESENT;
    // Content this layer moved away (for marking where it went).
    let moved: FxHashSet<u128> = kinds
        .iter()
        .filter(|((_, l), k)| *l as usize == layer && **k == WasteKind::Moved)
        .filter_map(|((node, _), _)| {
            let (_, c) = index.change_at(*node, layer)?;
            (c.inode != NO_INODE).then(|| index.inodes[c.inode as usize].hash())
        })
        .collect();
    for id in 1..n {
        let chs = cols.changes(id as NodeId);
        let Some(ci) = chs.iter().rposition(|c| (c.layer as usize) <= layer) else {
            continue;
        };
        let c = chs[ci];
        let here = c.layer as usize == layer;
        let present = c.op != Op::Remove;
        let mut f = 0;
        if c.kind == NodeKind::Dir {
            f |= DIR;
        }
        if present {
            f |= PRESENT;
        }
        if match key.mode {
            Mode::Merged => present || here,
            Mode::LayerOnly => here,
        } {
            f |= CANDIDATE;
        }
        if c.inode != NO_INODE {
            let sz = cols.inode_size[c.inode as usize];
            size[id] = sz;
            if present
                && (key.mode == Mode::Merged || here)
                && !std::mem::replace(&mut seen[c.inode as usize], true)
            {
                f |= COUNTED;
            }
        }
        flags[id] = f;
        if here {
            let moved_here = c.kind == NodeKind::File
                && c.inode != NO_INODE
                && !moved.is_empty()
                && cols.inode_size[c.inode as usize] > 0
                && moved.contains(&index.inodes[c.inode as usize].hash());
            mark[id] = match c.op {
                _ if moved_here && c.op != Op::Remove => Mark::MovedHere,
                Op::Add => Mark::Added,
                Op::Remove => match kinds.get(&(id as NodeId, layer as u16)) {
                    Some(WasteKind::Moved) => Mark::Moved,
                    _ => Mark::Removed,
                },
                Op::Modify => {
                    // The analysis decided whether the copy this layer
                    // replaced had the same content.
                    let same =
                        kinds.get(&(id as NodeId, layer as u16)) == Some(&WasteKind::MetadataOnly);
                    let dir_meta = c.kind == NodeKind::Dir
                        && ci
                            .checked_sub(1)
                            .is_some_and(|p| chs[p].kind == NodeKind::Dir);
                    if same || dir_meta {
                        Mark::MetaOnly
                    } else {
                        Mark::Modified
                    }
                }
            };
        }
    }
    // Path filter: one depth-first pass with a path buffer.
    let matched: Option<Vec<bool>> = filter.map(|f| {
        let mut m = vec![false; n];
        let mut path = Vec::with_capacity(256);
        crate::analyze::waste::walk(
            index,
            ROOT,
            &mut path,
            |ch| flags[ch as usize] & (CANDIDATE | DIR) != 0,
            &mut |ch, p| m[ch as usize] = f.is_match(p),
        );
        m
    });
    let all_types = key.types.all();
    // Directories changed below (for their mark) and self-shown nodes.
    for id in 1..n {
        if flags[id] & CANDIDATE == 0 {
            continue;
        }
        let path_ok = matched.as_ref().is_none_or(|m| m[id]);
        let ok = if flags[id] & DIR != 0 {
            path_ok && all_types
        } else {
            path_ok && key.types.0[mark[id].class()]
        };
        if ok {
            flags[id] |= SHOWN;
        }
    }
    // Children have larger ids than their parents: one reverse pass
    // aggregates sizes and shows the ancestors of shown nodes.
    for id in (1..n).rev() {
        let p = index.parent(id as NodeId) as usize;
        if flags[id] & COUNTED != 0 {
            size[p] += size[id];
            flags[p] |= COUNTED;
        }
        if flags[id] & SHOWN != 0 {
            flags[p] |= SHOWN;
            if p != ROOT as usize && mark[p] == Mark::Unchanged && mark[id] != Mark::Unchanged {
                mark[p] = Mark::Modified;
            }
        }
    }
    flags[ROOT as usize] |= SHOWN;
    start.resize(n + 1, 0);
    pos.resize(n, 0);
    list.clear();
    list.reserve(n);
    // Size order: (size, name rank) pairs sorted unstably give the stable
    // order without chasing `size` in every comparison.
    let mut by_size: Vec<(u64, u32, NodeId)> = Vec::new();
    let mut shown_count = 0;
    for id in 0..n {
        start[id] = list.len() as u32;
        if flags[id] & SHOWN == 0 {
            continue;
        }
        if id != 0 {
            shown_count += 1;
        }
        let from = list.len();
        for &c in index.children(id as NodeId) {
            if flags[c as usize] & SHOWN != 0 {
                list.push(c);
            }
        }
        if key.sort == Sort::Size && list.len() - from > 1 {
            by_size.clear();
            by_size.extend(
                list[from..]
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| (size[c as usize], i as u32, c)),
            );
            by_size.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            for (slot, &(_, _, c)) in list[from..].iter_mut().zip(&by_size) {
                *slot = c;
            }
        }
        for (i, &c) in list[from..].iter().enumerate() {
            pos[c as usize] = i as u32;
        }
    }
    start[n] = list.len() as u32;
    let _ = key;
    Ref {
        flags,
        mark,
        size,
        start,
        list,
        pos,
        shown_count,
    }
}

/// A random layer stack from `seed`: files of random sizes (some equal, so
/// moves and chmods happen) in a few directories, whiteouts, directories
/// replaced by files; with an odd seed, hard links.
fn random_image(seed: u64) -> (Index, crate::Report) {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    const DATA: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz";
    let dirs = ["a", "a/b", "a/b/c", "d", "d/e", "f"];
    let mut layers: Vec<Vec<E>> = Vec::new();
    for l in 0..(2 + rnd(4)) {
        let mut es = Vec::new();
        if l == 0 {
            es.extend(dirs.iter().map(|d| E::Dir(d)));
        }
        for _ in 0..(3 + rnd(12)) {
            let d = dirs[rnd(dirs.len() as u64) as usize];
            let name = leak(format!("{d}/n{}", rnd(8)));
            match rnd(10) {
                0 | 1 if l > 0 => es.push(E::Whiteout(name)),
                2 if l > 0 => es.push(E::Whiteout(dirs[rnd(dirs.len() as u64) as usize])),
                3 => es.push(E::FileMode(name, DATA[..rnd(40) as usize].to_vec(), 0o600)),
                4 => es.push(E::File(
                    dirs[1 + rnd(2) as usize],
                    b"was a directory".to_vec(),
                )),
                _ => {
                    es.push(E::File(name, DATA[..rnd(40) as usize].to_vec()));
                    // Some seeds' stored files get a second path.
                    if seed % 2 == 1 && rnd(3) == 0 {
                        es.push(E::HardLink(leak(format!("{d}/h{}", rnd(3))), name));
                    }
                }
            }
        }
        layers.push(es);
    }
    let refs: Vec<&[E]> = layers.iter().map(|l| l.as_slice()).collect();
    image(&refs)
}

#[test]
fn the_build_agrees_with_the_straightforward_build_on_random_images() {
    let filters = ["", "n1", "a/b", "b/n", "/d/e/", "N", "/a/*", "re:b/n[0-3]$"];
    let (mut trees, mut derived, mut linked, mut split) = (0, 0, 0, 0);
    for seed in 0..40 {
        let (ix, report) = random_image(seed);
        let kinds = hide_kinds(&report);
        let cols = Columns::new(&ix);
        linked += usize::from(!cols.linked.is_empty());
        let (mut old, mut prev) = (None, None::<Tree>);
        for layer in 0..ix.layers.len() {
            for mode in [Mode::Merged, Mode::LayerOnly] {
                for types in [
                    [true; 4],
                    [true, false, true, false],
                    [false, true, true, true],
                ] {
                    for text in filters {
                        // Innermost, so the trees derived from the one
                        // before differ only in their sort every other time.
                        for sort in [Sort::Name, Sort::Size] {
                            let f = PathFilter::parse(text).unwrap();
                            let key = Key {
                                layer,
                                mode,
                                sort,
                                types: Types(types),
                                filter: text.into(),
                            };
                            let what = format!("seed {seed} {key:?}");
                            let r = reference(&ix, &kinds, key.clone(), f.as_ref());
                            let t = Tree::build_with(
                                &ix,
                                &cols,
                                &kinds,
                                key.clone(),
                                f.as_ref(),
                                old.take(),
                            );
                            agree(&ix, &t, &r, &what);
                            // Split over two threads (large trees are):
                            // at the first node, in the middle, and at a
                            // point that moves from tree to tree.
                            if f.is_none() {
                                let n = ix.node_count();
                                for m in [1, n / 2, 1 + trees % n.max(1)] {
                                    let s = Tree::build_split(
                                        &ix,
                                        &cols,
                                        &kinds,
                                        key.clone(),
                                        None,
                                        None,
                                        Some(m),
                                    );
                                    agree(&ix, &s, &r, &format!("{what} split at {m}"));
                                    split += 1;
                                }
                            }
                            // Derived from the tree before (same layer and
                            // mode but the first of each), as a view does.
                            if let Some(p) = prev.as_ref().filter(|p| p.derivable(&key)) {
                                let d = p.derive(&ix, key, f.as_ref(), None).unwrap();
                                agree(&ix, &d, &r, &format!("{what} derived from {:?}", p.key));
                                derived += 1;
                            }
                            old = prev.replace(t);
                            trees += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(trees > 1000, "{trees} trees compared");
    assert!(derived > 1000, "{derived} derived trees compared");
    assert!(split > 1000, "{split} split builds compared");
    // Builds that count each stored file once, and builds that need not.
    assert!(
        (5..35).contains(&linked),
        "{linked} of 40 images with hard links"
    );
}

/// The tree `t` is the reference `r`, node by node.
fn agree(ix: &Index, t: &Tree, r: &Ref, what: &str) {
    assert_eq!(t.shown_count, r.shown_count, "{what}");
    for id in 0..ix.node_count() as NodeId {
        let i = id as usize;
        assert_eq!(t.shown(id), r.flags[i] & SHOWN != 0, "{what} {id}");
        assert_eq!(t.is_dir(id), r.flags[i] & DIR != 0, "{what} {id}");
        assert_eq!(t.present(id), r.flags[i] & PRESENT != 0, "{what} {id}");
        assert_eq!(t.mark(id), r.mark[i], "{what} {id}");
        assert_eq!(t.size(id), r.size[i], "{what} {id}");
        let kids = &r.list[r.start[i] as usize..r.start[i + 1] as usize];
        assert_eq!(&*t.children(ix, id), kids, "{what} {id}");
        if t.shown(id) && id != ROOT {
            assert_eq!(t.position(ix, id), r.pos[i] as usize, "{what} {id}");
        }
    }
}
