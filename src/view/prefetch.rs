//! Trees built ahead of time (issue 14, target 7): a tree over 1M paths
//! takes 20-30 ms to build, more than a frame, so the trees the user is
//! likely to ask for next (the neighbouring layers of the one shown) are
//! built on a background thread while the user reads the screen, and a visit
//! finds its tree ready.
//!
//! [`Trees`] is a small store of built trees shared with one worker thread.
//! The view asks it for the tree of a key ([`Trees::take`]): a stored tree
//! is handed over at once; a tree the worker is building right now is waited
//! for (what is left of a build is shorter than a build); any other tree is
//! built on the calling thread, as without a worker. After each change of
//! key the view says which keys come next ([`Trees::want`], nearest layers
//! first) and the worker builds those missing, one at a time. The lock is
//! only held to move trees in and out, never during a build, so input is
//! never blocked by a background build.
//!
//! Memory: at most `capacity` trees besides the one shown (about 11 bytes
//! per path each, plus the children lists drawn), spares included; trees
//! that are not wanted any more lend their buffers to the next build, and
//! while the store is not full the idle worker faults in spare buffers.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::columns::Columns;
use super::filter::PathFilter;
use super::tree::{HideKinds, Key, Tree};
use crate::load::index::Index;

/// What a build reads; shared with the worker.
struct Input {
    index: Arc<Index>,
    cols: Columns,
    kinds: HideKinds,
}

#[derive(Default)]
struct State {
    /// Built trees not shown, least recently used first.
    trees: Vec<Tree>,
    /// Buffers pre-faulted by the idle worker for the next builds
    /// ([`Tree::spare`]); with `trees`, at most `capacity`.
    spare: Vec<Tree>,
    /// The worker is faulting in a spare.
    sparing: bool,
    /// Keys were wanted once: the first tree is built, spares may be made
    /// (not before: they would race the first build for memory and cores).
    asked: bool,
    /// Keys to have ready, most wanted first (at most `capacity`).
    wanted: Vec<Key>,
    /// The compiled filter of the wanted keys.
    filter: Option<PathFilter>,
    /// The key of the tree shown (never built ahead).
    shown: Option<Key>,
    /// The key the worker is building.
    building: Option<Key>,
    quit: bool,
    /// No worker runs (none started, or it stopped).
    no_worker: bool,
}

struct Shared {
    input: Input,
    state: Mutex<State>,
    /// Signalled when `wanted` changes, a build ends or the store closes.
    cv: Condvar,
    capacity: usize,
}

/// A store of built trees with a worker that builds the wanted ones ahead.
pub struct Trees {
    shared: Arc<Shared>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in a build poisons nothing that matters: the state is
        // only moved trees and keys.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn build(&self, key: Key, filter: Option<&PathFilter>, old: Option<Tree>) -> Tree {
        let i = &self.input;
        Tree::build_with(&i.index, &i.cols, &i.kinds, key, filter, old)
    }
}

impl State {
    /// A stored tree to drop or reuse: the least recently used one that is
    /// not wanted, else the least wanted one.
    fn evictable(&self) -> Option<usize> {
        if let Some(i) = self
            .trees
            .iter()
            .position(|t| !self.wanted.contains(&t.key))
        {
            return Some(i);
        }
        let rank = |t: &Tree| self.wanted.iter().position(|k| *k == t.key);
        (0..self.trees.len()).max_by_key(|&i| rank(&self.trees[i]))
    }

    /// Buffers for one more build: a spare, else the evicted tree's when
    /// the store is full (None: fresh ones).
    fn make_room(&mut self, capacity: usize) -> Option<Tree> {
        if let Some(t) = self.spare.pop() {
            return Some(t);
        }
        if self.trees.len() < capacity {
            return None;
        }
        let i = self.evictable()?;
        Some(self.trees.remove(i))
    }

    fn store(&mut self, tree: Tree, capacity: usize) {
        if let Some(i) = self.trees.iter().position(|t| t.key == tree.key) {
            self.trees.remove(i);
        }
        if self.trees.len() + self.spare.len() >= capacity {
            self.spare.pop();
        }
        if self.trees.len() >= capacity {
            if let Some(i) = self.evictable() {
                self.trees.remove(i);
            }
        }
        self.trees.push(tree);
    }

    /// Is there room for a spare (the worker makes them while idle, once
    /// the first tree is built)?
    fn spare_wanted(&self, capacity: usize) -> bool {
        self.asked && self.trees.len() + self.spare.len() < capacity
    }

    /// The next key the worker should build.
    fn next_job(&self) -> Option<Key> {
        self.wanted
            .iter()
            .find(|k| Some(*k) != self.shown.as_ref() && !self.trees.iter().any(|t| t.key == **k))
            .cloned()
    }
}

impl Trees {
    /// A store holding up to `capacity` trees besides the shown one; with
    /// `background`, a worker thread builds the wanted trees ahead.
    pub fn new(index: Arc<Index>, kinds: HideKinds, capacity: usize, background: bool) -> Trees {
        let cols = Columns::new(&index);
        let shared = Arc::new(Shared {
            input: Input { index, cols, kinds },
            state: Mutex::new(State {
                no_worker: !background,
                ..State::default()
            }),
            cv: Condvar::new(),
            capacity: capacity.max(1),
        });
        if background {
            let s = shared.clone();
            // Without a thread (none left to spawn) every tree is built on
            // demand, as it would be anyway.
            let started = std::thread::Builder::new()
                .name("imgscope-trees".into())
                .spawn(move || worker(&s))
                .is_ok();
            if !started {
                shared.lock().no_worker = true;
            }
        }
        Trees { shared }
    }

    /// The tree for `key` (with `filter` compiled from `key.filter`): ready,
    /// being built (waited for), or built now: derived from `from` (the
    /// tree shown) when only its sort, change types or filter differ
    /// ([`Tree::derive`]), else built from the columns.
    pub fn take(&self, key: &Key, filter: Option<&PathFilter>, from: Option<&Tree>) -> Tree {
        let sh = &*self.shared;
        let mut st = sh.lock();
        st.shown = Some(key.clone());
        loop {
            if let Some(i) = st.trees.iter().position(|t| t.key == *key) {
                return st.trees.remove(i);
            }
            if st.building.as_ref() != Some(key) {
                break;
            }
            st = sh.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        let old = st.make_room(sh.capacity);
        drop(st);
        match from {
            Some(f) if f.derivable(key) => f
                .derive(&sh.input.index, key.clone(), filter, old)
                .expect("derivable"),
            _ => sh.build(key.clone(), filter, old),
        }
    }

    /// Keep a tree that is not shown any more (it may be asked for again).
    pub fn put(&self, tree: Tree) {
        let sh = &*self.shared;
        let mut st = sh.lock();
        st.store(tree, sh.capacity);
    }

    /// The keys to have ready next, most wanted first (only the first
    /// `capacity` are kept); `filter` is compiled from their filter text.
    pub fn want(&self, mut keys: Vec<Key>, filter: Option<&PathFilter>) {
        let sh = &*self.shared;
        keys.truncate(sh.capacity);
        let mut st = sh.lock();
        st.wanted = keys;
        st.filter = filter.cloned();
        st.asked = true;
        drop(st);
        sh.cv.notify_all();
    }

    /// Is the tree for `key` stored (built and not shown)?
    pub fn ready(&self, key: &Key) -> bool {
        self.shared.lock().trees.iter().any(|t| t.key == *key)
    }

    /// Wait until the worker has nothing left to build (tests, benchmarks).
    pub fn wait_idle(&self) {
        let sh = &*self.shared;
        let mut st = sh.lock();
        while !st.no_worker
            && (st.building.is_some()
                || st.next_job().is_some()
                || st.sparing
                || st.spare_wanted(sh.capacity))
        {
            st = sh.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The index the trees are built from.
    pub fn index(&self) -> &Index {
        &self.shared.input.index
    }

    /// Bytes held by the stored trees, the spares and the columns.
    pub fn heap_bytes(&self) -> usize {
        let st = self.shared.lock();
        self.shared.input.cols.heap_bytes()
            + st.trees
                .iter()
                .chain(&st.spare)
                .map(Tree::heap_bytes)
                .sum::<usize>()
    }
}

impl Drop for Trees {
    fn drop(&mut self) {
        self.shared.lock().quit = true;
        self.shared.cv.notify_all();
    }
}

/// The worker: build the first wanted key that is missing, store it, repeat;
/// while nothing is missing, fault in spare buffers for the next builds
/// (up to the store's capacity: no fresh pages to clear during a build,
/// even right at start), then sleep. A build that panics stops the worker
/// (and is not waited for): the view then builds its trees itself.
fn worker(sh: &Shared) {
    lower_priority();
    let mut st = sh.lock();
    loop {
        if st.quit {
            st.no_worker = true;
            return;
        }
        let Some(key) = st.next_job() else {
            if st.spare_wanted(sh.capacity) {
                st.sparing = true;
                drop(st);
                let spare = Tree::spare(sh.input.cols.len());
                st = sh.lock();
                st.sparing = false;
                if st.spare_wanted(sh.capacity) {
                    st.spare.push(spare);
                }
                sh.cv.notify_all();
                continue;
            }
            st = sh.cv.wait(st).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        let filter = st.filter.clone();
        let old = st.make_room(sh.capacity);
        st.building = Some(key.clone());
        drop(st);
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sh.build(key, filter.as_ref(), old)
        }));
        st = sh.lock();
        st.building = None;
        sh.cv.notify_all();
        match built {
            Ok(tree) => st.store(tree, sh.capacity),
            Err(_) => {
                st.no_worker = true;
                return;
            }
        }
    }
}

/// Builds ahead must not slow down the keys: on Linux the worker thread
/// runs at nice 10, so a build on the UI thread (or its drawing) gets the
/// core first.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread; no memory is passed.
    unsafe {
        let tid = libc::gettid();
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::three_layers;
    use crate::view::tree::{hide_kinds, Mode, Sort, Types};

    fn key(layer: usize) -> Key {
        Key {
            layer,
            mode: Mode::Merged,
            sort: Sort::Name,
            types: Types::default(),
            filter: String::new(),
        }
    }

    fn store(background: bool, capacity: usize) -> (Trees, crate::Report) {
        let (index, report) = three_layers();
        let kinds = hide_kinds(&report);
        (
            Trees::new(Arc::new(index), kinds, capacity, background),
            report,
        )
    }

    /// A tree from the store, built ahead or not, is the tree built directly.
    fn same(ix: &Index, a: &Tree, b: &Tree) {
        let n = ix.node_count();
        assert_eq!(a.key, b.key);
        assert_eq!(a.shown_count, b.shown_count);
        for id in 0..n as u32 {
            assert_eq!(a.shown(id), b.shown(id));
            assert_eq!(a.mark(id), b.mark(id));
            assert_eq!(a.size(id), b.size(id));
            assert_eq!(a.children(ix, id), b.children(ix, id));
        }
    }

    #[test]
    fn the_worker_builds_the_wanted_trees_and_they_match_direct_builds() {
        let (trees, report) = store(true, 2);
        let shown = trees.take(&key(2), None, None);
        trees.want(vec![key(1), key(2), key(0)], None);
        trees.wait_idle();
        // Only `capacity` keys are wanted, and the shown one is not built.
        assert!(trees.ready(&key(1)));
        assert!(!trees.ready(&key(0)));
        assert!(!trees.ready(&key(2)));
        let ix = trees.index();
        let kinds = hide_kinds(&report);
        let one = trees.take(&key(1), None, None);
        same(ix, &one, &Tree::build(ix, &kinds, key(1), None));
        trees.put(shown);
        same(
            ix,
            &trees.take(&key(2), None, None),
            &Tree::build(ix, &kinds, key(2), None),
        );
    }

    #[test]
    fn without_a_worker_trees_are_built_on_demand_and_kept() {
        let (trees, _) = store(false, 2);
        let t0 = trees.take(&key(0), None, None);
        trees.want(vec![key(1)], None);
        trees.wait_idle();
        assert!(!trees.ready(&key(1)));
        trees.put(t0);
        assert!(trees.ready(&key(0)));
        // Room for two: the third put drops the least recently used one.
        trees.put(trees.take(&key(1), None, None));
        trees.put(trees.take(&key(2), None, None));
        assert!(!trees.ready(&key(0)));
        assert!(trees.ready(&key(1)) && trees.ready(&key(2)));
    }

    #[test]
    fn a_filtered_key_is_built_with_its_filter() {
        let (trees, report) = store(true, 4);
        let f = PathFilter::parse("big").unwrap();
        let k = Key {
            filter: "big".into(),
            ..key(1)
        };
        trees.want(vec![k.clone()], f.as_ref());
        trees.wait_idle();
        assert!(trees.ready(&k));
        let t = trees.take(&k, f.as_ref(), None);
        let ix = trees.index();
        same(
            ix,
            &t,
            &Tree::build(ix, &hide_kinds(&report), k, f.as_ref()),
        );
    }
}
