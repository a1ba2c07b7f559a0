//! Loading: the outer archive (`source`, or an engine's `save` stream in
//! `engine`), manifest resolution (`image`), one layer's tar (`layer`), and
//! the parallel index-then-ordered-merge that builds an [`Index`].

pub mod cache;
pub mod capture;
pub mod counted;
pub mod cstorage;
pub mod elf;
pub mod engine;
pub mod guard;
pub mod image;
pub mod index;
pub mod layer;
mod oci;
mod pipe;
pub mod plain;
pub mod registry;
pub mod source;
mod stream;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Location, Result};
use crate::Index;

/// Progress of a load, shared with whoever draws it. Only counters: the
/// indexers never send a message per file.
#[derive(Debug, Default)]
pub struct LoadProgress {
    /// Set once the layers are known.
    pub layers: Mutex<Vec<Arc<layer::Progress>>>,
    /// Stored size of each layer blob, same order (0 when unknown).
    pub layer_sizes: Mutex<Vec<u64>>,
    /// Bytes of a compressed outer archive or stdin consumed so far.
    pub stream: Arc<layer::Progress>,
    /// Phase: 0 reading, 1 indexing, 2 merging, 3 done.
    pub phase: AtomicU64,
    /// Nanoseconds spent merging layer indexes (overlapped with indexing).
    pub merge_nanos: AtomicU64,
    /// Nanoseconds the load took, once it is over (`IMGSCOPE_TIMINGS`).
    pub load_nanos: AtomicU64,
    /// The report was read from the report cache: nothing was loaded.
    pub report_cached: AtomicBool,
    /// Its rendering too: nothing was rendered
    /// ([`crate::report_rendered`]).
    pub output_cached: AtomicBool,
}

/// A load's progress at one moment, for whoever draws it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Layer blob bytes read so far.
    pub read: u64,
    /// Stored size of all layer blobs (0 until the layers are known).
    pub total: u64,
    pub layers_done: usize,
    pub layers: usize,
    /// Bytes of a compressed outer archive or stdin consumed so far.
    pub stream: u64,
    /// 0 reading, 1 indexing, 2 merging, 3 done.
    pub phase: u64,
}

impl LoadProgress {
    /// Content bytes hashed, over every layer blob (once each).
    pub fn hashed(&self) -> u64 {
        let layers = self.layers.lock().unwrap();
        let mut seen = std::collections::HashSet::new();
        layers
            .iter()
            .filter(|p| seen.insert(Arc::as_ptr(p)))
            .map(|p| p.hashed.load(Ordering::Relaxed))
            .sum()
    }

    pub fn snapshot(&self) -> ProgressSnapshot {
        let layers = self.layers.lock().unwrap();
        let sizes = self.layer_sizes.lock().unwrap();
        ProgressSnapshot {
            read: layers.iter().map(|p| p.read.load(Ordering::Relaxed)).sum(),
            total: sizes.iter().sum(),
            layers_done: layers
                .iter()
                .filter(|p| p.done.load(Ordering::Relaxed) == 1)
                .count(),
            layers: layers.len(),
            stream: self.stream.read.load(Ordering::Relaxed),
            phase: self.phase.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub select: image::Select,
    /// The layer-index cache (on for registry layers by default).
    pub cache: cache::CacheOptions,
    /// How to reach a registry (references only).
    pub registry: registry::Options,
    /// Check each layer against its blob digest and diff_id: `--verify`,
    /// `--no-verify`; by default on for standard input, off for files (the
    /// cost measured on files is far above 15% of the analysis time).
    pub verify: Option<bool>,
    /// Estimate the gzip download of layers stored uncompressed (gzip over
    /// samples of each layer: tens of milliseconds a layer), for the
    /// outputs that show it: the text report and the TUI.
    pub pull_estimate: bool,
    /// Hash every regular file's content, also those whose size no other
    /// file of the image has (which a report never compares): for
    /// comparing files across images (`fix --build`).
    pub hash_all: bool,
}

impl LoadOptions {
    /// Are the digests checked? (`verify` once [`load`] has settled the
    /// default for its source.)
    pub fn verifying(&self) -> bool {
        self.verify.unwrap_or(false)
    }
}

/// The demo image (assets/demo/demo.tar.zst, 1.4 MB), built in so that
/// `--demo` works wherever the binary is (copied, `cargo install`ed).
pub const DEMO: &[u8] = include_bytes!("../../assets/demo/demo.tar.zst");

/// The name [`load`] reads [`DEMO`] under (a path of that name wins).
pub const DEMO_SOURCE: &str = "demo.tar.zst (built in)";

/// Read an image (path, directory, `-`, `docker://NAME` / `podman://NAME`
/// streamed from the engine's `save`, `containers-storage:NAME` read from
/// a podman/buildah store, or a registry reference read through the
/// registry's API) and build its merged index. A path that exists wins
/// over a reference. `podman://NAME` reads the local podman store directly
/// when it is readable and holds NAME.
pub fn load(arg: &str, opts: &LoadOptions, progress: &LoadProgress) -> Result<Index> {
    let opts = &LoadOptions {
        verify: Some(opts.verify.unwrap_or(arg == "-")),
        ..opts.clone()
    };
    if arg == DEMO_SOURCE && std::fs::symlink_metadata(arg).is_err() {
        return load_reader(Box::new(std::io::Cursor::new(DEMO)), arg, opts, progress);
    }
    if let Some(found) = cstorage_of(arg, opts)? {
        return found.load(arg, opts, progress);
    }
    if let Some((engine, name)) = engine::parse(arg) {
        let (save, reader) = engine::open(engine, name, arg)?;
        return save.finish(load_reader(reader, arg, opts, progress));
    }
    if let Some(r) = registry_reference(arg)? {
        return registry::load(&r, arg, opts, progress);
    }
    let src = source::Source::open(arg, Some(progress.stream.clone()), opts.verifying())?;
    load_source(src, arg, opts, progress)
}

/// The registry reference `arg` is, when [`load`] reads it through a
/// registry's API (no path, stream, engine or store of that name).
pub fn registry_reference(arg: &str) -> Result<Option<registry::Reference>> {
    if arg == "-"
        || arg == DEMO_SOURCE
        || cstorage::parse(arg).is_some()
        || engine::parse(arg).is_some()
        || std::fs::symlink_metadata(arg).is_ok()
    {
        return Ok(None);
    }
    registry::reference::parse(arg).map_err(|msg| Error::usage(Location::source(arg), msg))
}

/// An image's metadata and layer list without reading its layers where the
/// source allows it (a file or directory: the manifest and config only);
/// a reference or an engine's stream is loaded whole. For `--base`.
pub fn load_meta(
    arg: &str,
    opts: &LoadOptions,
) -> Result<(image::ImageMeta, Vec<image::LayerRef>)> {
    let select = image::Select {
        image: None,
        platform: opts.select.platform.clone(),
    };
    if let Some(found) = cstorage_of(arg, opts)? {
        return Ok(found.meta());
    }
    let is_path =
        arg != "-" && engine::parse(arg).is_none() && std::fs::symlink_metadata(arg).is_ok();
    if is_path {
        let src = source::Source::open(arg, None, false)?;
        return image::resolve(&src, &Location::source(arg), &select);
    }
    let opts = LoadOptions {
        select,
        ..opts.clone()
    };
    let index = load(arg, &opts, &LoadProgress::default())?;
    let refs = index.layers.iter().map(|l| l.r.clone()).collect();
    Ok((index.image, refs))
}

/// The image `arg` names in a containers-storage store: a
/// `containers-storage:` reference (an error when it is not there), or
/// `podman://NAME` when the local store holds NAME (None otherwise: then
/// `podman save` is asked).
fn cstorage_of(arg: &str, opts: &LoadOptions) -> Result<Option<cstorage::Found>> {
    if let Some(r) = cstorage::parse(arg) {
        let r = r.map_err(|m| Error::usage(Location::source(arg), m))?;
        return cstorage::find(&r, arg, opts).map(Some);
    }
    match engine::parse(arg) {
        Some((engine::Engine::Podman, name)) => cstorage::podman(name, arg, opts),
        _ => Ok(None),
    }
}

/// Read an image from a stream (e.g. `docker save` piped in), named
/// `display` in the report and in errors.
pub fn load_reader(
    reader: Box<dyn std::io::Read + Send>,
    display: &str,
    opts: &LoadOptions,
    progress: &LoadProgress,
) -> Result<Index> {
    let opts = &LoadOptions {
        verify: Some(opts.verify.unwrap_or(true)),
        ..opts.clone()
    };
    let src = source::Source::from_reader(
        reader,
        display,
        Some(progress.stream.clone()),
        opts.verifying(),
    )?;
    load_source(src, display, opts, progress)
}

fn load_source(
    src: source::Source,
    arg: &str,
    opts: &LoadOptions,
    progress: &LoadProgress,
) -> Result<Index> {
    let loc = Location::source(arg);
    let (meta, refs) = image::resolve(&src, &loc, &opts.select)?;
    let sizes: Vec<u64> = refs
        .iter()
        .map(|r| src.blob_size(&r.member).unwrap_or(0))
        .collect();
    let cache = cache::Cache::open(&opts.cache, false);
    // Files and directories: hash only the files whose content can matter
    // (a size shared with another file). Not when every byte is read
    // anyway (`--verify`), nor when layer indexes are cached (a cached
    // index may meet other layers later), nor when asked for every hash.
    let census = (!opts.verifying() && cache.is_none() && !opts.hash_all)
        .then(|| {
            let mut names: Vec<&str> = refs.iter().map(|r| r.member.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            src.size_census(&names)
        })
        .flatten();
    let index = index_layers(
        meta,
        &refs,
        &sizes,
        &loc,
        progress,
        None,
        |_, r, lloc, p| {
            let size = src.blob_size(&r.member).unwrap_or(0);
            cached_by_diff_id(cache.as_ref(), r, size, &p, || {
                let ix = src.index_layer(
                    &r.member,
                    &lloc.member(r.member.clone()),
                    p.clone(),
                    opts.verifying(),
                    census.as_ref(),
                )?;
                check_digests(r, &ix, lloc)?;
                Ok(ix)
            })
        },
    )?;
    let mut index = index;
    // Layers stored uncompressed (docker save): what they would weigh
    // gzip-compressed, as a registry serves them.
    if opts.pull_estimate {
        use rayon::prelude::*;
        index
            .layers
            .par_iter_mut()
            .filter(|l| l.compression == layer::Compression::None)
            .for_each(|l| l.gzip_estimate = src.gzip_estimate(&l.r.member));
    }
    Ok(index)
}

/// A layer's index from the cache by its diff_id (its progress then
/// counts `size` bytes read), else `index()`'s, put in the cache.
pub(crate) fn cached_by_diff_id(
    cache: Option<&cache::Cache>,
    r: &image::LayerRef,
    size: u64,
    p: &layer::Progress,
    index: impl FnOnce() -> Result<layer::LayerIndex>,
) -> Result<layer::LayerIndex> {
    if let Some(ix) = cache.and_then(|c| c.get(cache::KeyKind::DiffId, &r.diff_id)) {
        p.read.store(size, Ordering::Relaxed);
        p.done.store(1, Ordering::Relaxed);
        return Ok(ix);
    }
    let ix = index()?;
    if let Some(c) = cache {
        c.put(cache::KeyKind::DiffId, &r.diff_id, &ix);
    }
    Ok(ix)
}

/// Several layers indexed at once, by `pool` or rayon's global pool. With a
/// `cancel` flag (sources whose layers can be abandoned), the first failure
/// raises it and is the error returned; without, the failing layer with the
/// lowest index is (deterministic for files).
pub struct Jobs<'a> {
    pub pool: Option<&'a rayon::ThreadPool>,
    pub cancel: &'a AtomicBool,
}

/// Run `op` on this thread with a FIFO scope whose tasks go to `pool` (or
/// rayon's global pool).
fn in_place_fifo<'scope, R>(
    pool: Option<&rayon::ThreadPool>,
    op: impl FnOnce(&rayon::ScopeFifo<'scope>) -> R,
) -> R {
    match pool {
        Some(p) => p.in_place_scope_fifo(op),
        None => rayon::in_place_scope_fifo(op),
    }
}

/// How far the merge has got, for the indexing side to wait on.
#[derive(Default)]
struct Window {
    merged: std::sync::Mutex<usize>,
    moved: std::sync::Condvar,
}

impl Window {
    /// Wait until the layer at `started` is at most `ahead` places past the
    /// merge. False when the merge has ended (then nothing more is needed).
    fn wait_for(&self, started: usize, ahead: usize) -> bool {
        let mut merged = self.merged.lock().unwrap_or_else(|e| e.into_inner());
        while started >= *merged + ahead {
            merged = self.moved.wait(merged).unwrap_or_else(|e| e.into_inner());
        }
        *merged < usize::MAX / 2
    }

    fn merged(&self, n: usize) {
        let mut merged = self.merged.lock().unwrap_or_else(|e| e.into_inner());
        *merged = (*merged).max(n);
        self.moved.notify_all();
    }
}

/// Index every layer in parallel with `index_one(i, layer, location,
/// progress)` and merge them in order on this thread as they complete: each
/// layer's entries are dropped once applied, and merging overlaps indexing.
pub(crate) fn index_layers<F>(
    meta: image::ImageMeta,
    refs: &[image::LayerRef],
    sizes: &[u64],
    loc: &Location,
    progress: &LoadProgress,
    jobs: Option<Jobs<'_>>,
    index_one: F,
) -> Result<Index>
where
    F: Fn(usize, &image::LayerRef, &Location, Arc<layer::Progress>) -> Result<layer::LayerIndex>
        + Sync,
{
    if refs.len() > MAX_LAYERS {
        return Err(Error::format(
            loc.clone(),
            format!(
                "{} layers is more than the {MAX_LAYERS}-layer limit",
                refs.len()
            ),
        ));
    }
    // A blob listed several times is indexed once and applied at each place
    // (its progress counter shared by those places).
    let mut first_of: std::collections::HashMap<String, usize> = Default::default();
    let mut uniq: Vec<usize> = Vec::new();
    let uid: Vec<usize> = refs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            *first_of
                .entry(source::clean_member(&r.member))
                .or_insert_with(|| {
                    uniq.push(i);
                    uniq.len() - 1
                })
        })
        .collect();
    let mut last_use = vec![0usize; uniq.len()];
    for (i, &u) in uid.iter().enumerate() {
        last_use[u] = i;
    }
    let per_blob: Vec<Arc<layer::Progress>> = uniq
        .iter()
        .map(|_| Arc::new(layer::Progress::default()))
        .collect();
    // A compressed layer is decoded on a second thread (load::pipe) only
    // when it is more than its core's share of the image: then the other
    // layers cannot keep the other cores busy meanwhile. The others are
    // decoded, walked and hashed on their one thread.
    let pool = jobs.as_ref().and_then(|j| j.pool);
    let threads = pool
        .map_or_else(rayon::current_num_threads, |p| p.current_num_threads())
        .max(1);
    let total: u64 = uniq
        .iter()
        .map(|&i| sizes.get(i).copied().unwrap_or(0))
        .sum();
    for (p, &i) in per_blob.iter().zip(&uniq) {
        let size = sizes.get(i).copied().unwrap_or(0);
        let dominant = total == 0 || size.saturating_mul(threads as u64) > total;
        p.inline.store(!dominant, Ordering::Relaxed);
    }
    let per_layer: Vec<Arc<layer::Progress>> = uid.iter().map(|&u| per_blob[u].clone()).collect();
    *progress.layers.lock().unwrap() = per_layer.clone();
    *progress.layer_sizes.lock().unwrap() = sizes.to_vec();
    progress.phase.store(1, Ordering::Relaxed);
    let n = refs.len();
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<layer::LayerIndex>)>();
    let mut builder = index::IndexBuilder::default();
    let mut first_err: Option<(usize, Error)> = None;
    let cancel = jobs.as_ref().map(|j| j.cancel);
    let window = &Window::default();
    // At most `ahead` layers past the merge are started: their indexes wait
    // in memory until merged, so more would only raise peak memory (and
    // take CPU from the merge when it is the slower side).
    let ahead = threads + 1;
    let merge_time = std::thread::scope(|scope| {
        let per_blob = &per_blob;
        let uniq = &uniq;
        let index_one = &index_one;
        scope.spawn(move || {
            // Layers are started in manifest order, one task a layer, each
            // taking the next unclaimed one, so the merge, which needs them
            // in that order, trails right behind the indexing.
            let claimed = std::sync::atomic::AtomicUsize::new(0);
            let claimed = &claimed;

            // The loop runs on this thread (it waits for the merge); the
            // tasks run in the pool.
            in_place_fifo(pool, |s| {
                for started in 0..uniq.len() {
                    if !window.wait_for(started, ahead) {
                        break;
                    }
                    let tx = tx.clone();
                    s.spawn_fifo(move |_| {
                        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                            return;
                        }
                        let u = claimed.fetch_add(1, Ordering::Relaxed);
                        let (i, p) = (uniq[u], &per_blob[u]);
                        let r = &refs[i];
                        let lloc = loc.layer(i, short_digest(&r.digest, &r.member));
                        // A panic must still report, or the merge would
                        // wait for this layer (and the start loop for the
                        // merge) forever.
                        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            index_one(i, r, &lloc, p.clone())
                        }))
                        .unwrap_or_else(|_| {
                            Err(Error::format(
                                lloc.clone(),
                                "internal error while indexing this layer",
                            ))
                        });
                        let _ = tx.send((u, res));
                    });
                }
                drop(tx);
            });
        });
        let mut pending: Vec<Option<layer::LayerIndex>> = (0..uniq.len()).map(|_| None).collect();
        let mut next = 0;
        let mut merge_time = std::time::Duration::ZERO;
        // Entries applied again by blobs listed more than once: bounded, so
        // that work stays linear in the bytes present.
        let mut repeated = 0usize;
        let i_first = |u: usize| uniq[u];
        for (u, res) in rx.iter() {
            let i = uniq[u];
            match res {
                Ok(ix) => pending[u] = Some(ix),
                Err(e) => match cancel {
                    // The first failure wins; the others were cancelled by it.
                    Some(c) => {
                        if !c.swap(true, Ordering::Relaxed) {
                            first_err = Some((i, e));
                        }
                    }
                    None => {
                        if first_err.as_ref().is_none_or(|(j, _)| i < *j) {
                            first_err = Some((i, e));
                        }
                    }
                },
            }
            if first_err.is_some() {
                // Nothing more is merged: start no more layers (those
                // started finish, or stop early when the source is
                // cancelled), so that the indexing side ends.
                window.merged(usize::MAX / 2);
                continue;
            }
            while next < n {
                let u = uid[next];
                if pending[u].is_none() {
                    break;
                }
                // The last place a blob is listed takes its index; earlier
                // places get a copy (applying a layer consumes its index).
                let ix = if last_use[u] == next {
                    pending[u].take()
                } else {
                    pending[u].clone()
                };
                let Some(ix) = ix else { break };
                if next != i_first(u) {
                    repeated += ix.entries.len();
                    if repeated > MAX_REPEATED_ENTRIES {
                        first_err = Some((
                            next,
                            Error::format(
                                loc.clone(),
                                format!(
                                    "layer {next} lists {} again: blobs listed more than once \
                                     would apply over {MAX_REPEATED_ENTRIES} entries again (the \
                                     repeated-entries limit)",
                                    refs[next].member
                                ),
                            ),
                        ));
                        if let Some(c) = cancel {
                            c.store(true, Ordering::Relaxed);
                        }
                        break;
                    }
                }
                let t = std::time::Instant::now();
                // Its buffers go to a layer yet to start, if any (those
                // up to `ahead` past it may have started already).
                let recycle = next + ahead < n;
                let pushed = builder.push(refs[next].clone(), sizes[next], ix, recycle);
                merge_time += t.elapsed();
                if let Err(msg) = pushed {
                    first_err = Some((next, Error::format(loc.clone(), msg)));
                    if let Some(c) = cancel {
                        c.store(true, Ordering::Relaxed);
                    }
                    break;
                }
                next += 1;
                window.merged(next);
            }
            if first_err.is_some() {
                // (The merge failed: as above.)
                window.merged(usize::MAX / 2);
            }
        }
        window.merged(usize::MAX / 2);
        merge_time
    });
    layer::LayerIndex::drop_spare();
    if let Some((_, e)) = first_err {
        return Err(e);
    }
    progress.phase.store(2, Ordering::Relaxed);
    let index = builder.finish(meta);
    progress
        .merge_nanos
        .store(merge_time.as_nanos() as u64, Ordering::Relaxed);
    progress.phase.store(3, Ordering::Relaxed);
    Ok(index)
}

/// Compare the digests computed while reading a layer with those its
/// manifest (blob) and config (`diff_ids`) give; a mismatch names both.
fn check_digests(r: &image::LayerRef, ix: &layer::LayerIndex, loc: &Location) -> Result<()> {
    let Some(d) = &ix.digests else {
        return Ok(());
    };
    let sha = |s: &str| s.starts_with("sha256:") && s.len() == 71;
    if sha(&r.diff_id) && !r.diff_id.eq_ignore_ascii_case(&d.diff) {
        return Err(Error::format(
            loc.clone(),
            format!(
                "the layer's content does not match its diff_id: the config says {}, the bytes hash to {}",
                r.diff_id, d.diff
            ),
        ));
    }
    if sha(&r.digest) && r.digest != r.diff_id && !r.digest.eq_ignore_ascii_case(&d.blob) {
        return Err(Error::format(
            loc.clone(),
            format!(
                "the layer blob does not match its digest: the manifest says {}, the bytes hash to {}",
                r.digest, d.blob
            ),
        ));
    }
    Ok(())
}

/// Most layers in one image (Docker stops at 127, containerd at about 500).
pub const MAX_LAYERS: usize = 1000;

/// Most entries applied again by blobs listed more than once in one image
/// (beyond each blob's first place): one 5,000-file blob listed 200 times
/// would otherwise make a million findings out of a few kilobytes.
pub const MAX_REPEATED_ENTRIES: usize = 100_000;

fn short_digest(digest: &str, member: &str) -> String {
    if digest.is_empty() {
        member.to_string()
    } else {
        let hex = digest.split_once(':').map(|(_, h)| h).unwrap_or(digest);
        format!("sha256:{}", &hex[..hex.len().min(12)])
    }
}

#[cfg(test)]
mod tests {
    use super::Window;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The start loop waits while `ahead` layers are past the merge, goes on
    /// as the merge advances, and stops (false) once the merge has ended.
    #[test]
    fn the_start_window_follows_the_merge_and_lets_go_when_it_ends() {
        let w = Window::default();
        assert!(w.wait_for(0, 2));
        assert!(w.wait_for(1, 2));
        let started = AtomicUsize::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 2..6 {
                    if !w.wait_for(i, 2) {
                        return;
                    }
                    started.store(i + 1, Ordering::SeqCst);
                }
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            // Nothing merged yet: layer 2 may not start.
            assert_eq!(started.load(Ordering::SeqCst), 2);
            w.merged(1);
            while started.load(Ordering::SeqCst) < 3 {
                std::thread::yield_now();
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert_eq!(
                started.load(Ordering::SeqCst),
                3,
                "only one more after one merge"
            );
            // The merge fails: the loop must not wait for it any more.
            w.merged(usize::MAX / 2);
        });
        assert_eq!(started.load(Ordering::SeqCst), 3);
        assert!(!w.wait_for(7, 2));
    }
}
