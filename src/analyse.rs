//! The one way in: [`analyse`] takes an image argument and the options of a
//! run and does the whole sequence every command needs, in this order:
//!
//! 1. the inputs beside the image, read once and before it (so that a bad
//!    one fails fast): `--dockerfile` (read and parsed once; its final
//!    `FROM` and steps hint the base boundary, its lines are cited by the
//!    suggestions, and [`Analysed::dockerfile`] hands its text and parse
//!    on, which `fix` patches) and `--base` (its manifest and config only);
//! 2. [`load`](crate::load::load): the image with `LoadOptions` (image and
//!    platform choice, `--verify`, the cache, registry access), reporting
//!    to the progress counters the caller draws;
//! 3. [`analyze`](crate::analyze::waste::analyze_with): the base boundary,
//!    every finding less the ignored ones (`--ignore`, `.imgscope.toml`);
//! 4. [`suggest`](crate::suggest::suggest): the fixes;
//! 5. on request, the size tree of the HTML report.
//!
//! [`index_only`] is step 2 alone, for `cat` and `ls`, which need no report.
//!
//! The text, JSON and HTML reports, the TUI, `diff` and `share` all call
//! [`analyse`] and nothing below it, so they cannot disagree about what an
//! image holds. [`analyse_index`] is steps 3–5 for an index already built
//! (an archive read from memory, tests).

use std::path::PathBuf;

use crate::analyze::base::{BaseImage, DockerfileBase, Hints, StepKind};
use crate::analyze::ignore::Ignore;
use crate::analyze::rules::Rules;
use crate::analyze::sizes::{size_tree, SizeTree};
use crate::error::{Error, Location, Result};
use crate::load::index::Index;
use crate::load::{LoadOptions, LoadProgress};
use crate::report_cache::Rendered;
use crate::suggest::dockerfile::{self, Dockerfile, Instr};
use crate::suggest::Report;

/// Everything a run decides besides the image argument.
#[derive(Debug, Clone)]
pub struct AnalyseOptions {
    /// How to read the image (and `--base`).
    pub load: LoadOptions,
    pub rules: Rules,
    /// Findings under these paths are left out of every figure.
    pub ignore: Ignore,
    /// `--dockerfile`: suggestions cite its lines, its final `FROM` marks
    /// the base image's layers.
    pub dockerfile: Option<PathBuf>,
    /// `--base REF|FILE`: the base image, whose layers must be the image's
    /// first ones.
    pub base: Option<String>,
    /// Also compute the size tree (the HTML report's treemap).
    pub sizes: bool,
}

impl Default for AnalyseOptions {
    fn default() -> Self {
        AnalyseOptions {
            load: LoadOptions::default(),
            rules: Rules::builtin(),
            ignore: Ignore::none(),
            dockerfile: None,
            base: None,
            sizes: false,
        }
    }
}

/// An image analysed: its merged index and its report.
#[derive(Debug)]
pub struct Analysed {
    pub index: Index,
    pub report: Report,
    /// With [`AnalyseOptions::sizes`].
    pub sizes: Option<SizeTree>,
    /// The `--dockerfile` as read for this report (`fix` patches this text,
    /// so the file is read once).
    pub dockerfile: Option<DockerfileRead>,
}

/// A Dockerfile as [`analyse`] read it: where from, its text, its parse.
#[derive(Debug, Clone)]
pub struct DockerfileRead {
    pub path: String,
    pub text: String,
    pub parsed: Dockerfile,
}

/// Load IMAGE and make its report (see the module's documentation).
pub fn analyse(image: &str, opts: &AnalyseOptions, progress: &LoadProgress) -> Result<Analysed> {
    let inputs = Inputs::read(opts)?;
    let t = std::time::Instant::now();
    let index = crate::load::load(image, &opts.load, progress)?;
    let nanos = t.elapsed().as_nanos().min(u64::MAX as u128) as u64;
    progress
        .load_nanos
        .store(nanos, std::sync::atomic::Ordering::Relaxed);
    inputs.finish(index, opts)
}

/// A report and, with [`AnalyseOptions::sizes`], its size tree: what the
/// report formats render.
#[derive(Debug)]
pub struct Reported {
    pub report: Report,
    pub sizes: Option<SizeTree>,
}

/// [`analyse`] for the commands that render a report and need nothing else
/// of the image: an image read from a registry whose manifest was analysed
/// before with the same options is read back from the report cache
/// (`crate::report_cache`) instead of loaded; otherwise its report is put
/// there (only with the layer-index cache on: `--no-cache` reads and writes
/// neither).
pub fn report(image: &str, opts: &AnalyseOptions, progress: &LoadProgress) -> Result<Reported> {
    match cached(image, opts, progress, None)? {
        (Ok(reported), _) => Ok(reported),
        (Err(_), _) => unreachable!("no rendering was asked for"),
    }
}

/// [`report`] rendered by `render`: a rendering of the same `variant`
/// (everything besides the report that its bytes depend on, see
/// [`Rendered`]) made before for the same report key is written back from
/// the report cache without reading the report; otherwise the rendering is
/// stored beside the report.
pub fn report_rendered(
    image: &str,
    opts: &AnalyseOptions,
    progress: &LoadProgress,
    variant: &str,
    render: impl FnOnce(Reported) -> Rendered,
) -> Result<Rendered> {
    let (reported, slot) = match cached(image, opts, progress, Some(variant))? {
        (Ok(reported), slot) => (reported, slot),
        (Err(out), _) => return Ok(out),
    };
    let out = render(reported);
    if let Some((reports, key)) = slot {
        reports.put_output(&key, variant, &out);
    }
    Ok(out)
}

/// The report of [`report`] (or, when `variant` is given and stored, that
/// rendering of it), and where a rendering of it is to be cached.
#[allow(clippy::type_complexity)]
fn cached(
    image: &str,
    opts: &AnalyseOptions,
    progress: &LoadProgress,
    variant: Option<&str>,
) -> Result<(
    std::result::Result<Reported, Rendered>,
    Option<(crate::report_cache::Reports, String)>,
)> {
    let reference = crate::load::registry_reference(image)?;
    let cache = crate::load::cache::Cache::open(&opts.load.cache, true);
    let (Some(r), Some(cache)) = (reference, cache) else {
        let a = analyse(image, opts, progress)?;
        // Freed before the report is rendered: rendering while another
        // thread frees it aside (~10 ms on 1M paths) raised the peak.
        drop(a.index);
        let reported = Reported {
            report: a.report,
            sizes: a.sizes,
        };
        return Ok((Ok(reported), None));
    };
    let inputs = Inputs::read(opts)?;
    let t = std::time::Instant::now();
    let resolved = crate::load::registry::resolve(&r, image, &opts.load)?;
    let key = inputs.key(&resolved, image, opts);
    let reports = crate::report_cache::Reports::new(&cache);
    let loaded = || {
        let nanos = t.elapsed().as_nanos().min(u64::MAX as u128) as u64;
        progress
            .load_nanos
            .store(nanos, std::sync::atomic::Ordering::Relaxed);
    };
    let set = |flag: &std::sync::atomic::AtomicBool| {
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    if let Some(out) = variant.and_then(|v| reports.get_output(&key, v)) {
        loaded();
        set(&progress.report_cached);
        set(&progress.output_cached);
        return Ok((Err(out), None));
    }
    if let Some((report, sizes)) = reports.get(&key, opts.sizes) {
        loaded();
        set(&progress.report_cached);
        return Ok((Ok(Reported { report, sizes }), Some((reports, key))));
    }
    let index = resolved.load(&opts.load, progress)?;
    loaded();
    let a = inputs.finish(index, opts)?;
    drop(a.index);
    reports.put(&key, &a.report, a.sizes.as_ref());
    let reported = Reported {
        report: a.report,
        sizes: a.sizes,
    };
    Ok((Ok(reported), Some((reports, key))))
}

/// Step 2 alone: the image's merged index, for the commands that read an
/// image but need no report (`cat`, `ls`): skipping the analysis keeps
/// their memory to the index's.
pub fn index_only(image: &str, load: &LoadOptions, progress: &LoadProgress) -> Result<Index> {
    crate::load::load(image, load, progress)
}

/// [`analyse`] on an index already loaded.
pub fn analyse_index(index: Index, opts: &AnalyseOptions) -> Result<Analysed> {
    Inputs::read(opts)?.finish(index, opts)
}

/// The inputs of a run beside the image, each read once.
struct Inputs {
    dockerfile: Option<DockerfileRead>,
    base: Option<BaseImage>,
}

impl Inputs {
    fn read(opts: &AnalyseOptions) -> Result<Inputs> {
        let dockerfile = match &opts.dockerfile {
            Some(p) => Some(read_dockerfile(p)?),
            None => None,
        };
        // `--base`: its manifest and config only, where the source allows it.
        let base = match &opts.base {
            Some(arg) => {
                let (meta, refs) = crate::load::load_meta(arg, &opts.load)?;
                Some(BaseImage::new(arg, &meta, &refs))
            }
            None => None,
        };
        Ok(Inputs { dockerfile, base })
    }

    /// The report cache's key: everything besides the image's layers that
    /// its report depends on.
    fn key(
        &self,
        image: &crate::load::registry::Resolved,
        display: &str,
        opts: &AnalyseOptions,
    ) -> String {
        let rules = &opts.rules;
        let l = &opts.load;
        crate::report_cache::key(&[
            ("manifest", &image.digest),
            ("platform", image.platform.as_deref().unwrap_or("")),
            ("reference", display),
            ("tags", &image.tags().join("\n")),
            (
                "rules",
                &format!(
                    "{:?} {:?} {}",
                    rules.rules, rules.optional, rules.optional_is_waste
                ),
            ),
            ("ignore", &format!("{:?}", opts.ignore.globs)),
            (
                "dockerfile",
                &self
                    .dockerfile
                    .as_ref()
                    .map(|d| format!("{:?} {:?}", d.path, d.text))
                    .unwrap_or_default(),
            ),
            ("base", &format!("{:?}", self.base)),
            // Not `pull_estimate` (the text report's): it estimates layers
            // stored uncompressed in a file; a registry gives every blob's
            // size.
            ("load", &format!("{:?} verify {}", l.select, l.verifying())),
        ])
    }

    fn finish(self, index: Index, opts: &AnalyseOptions) -> Result<Analysed> {
        let hints = Hints {
            image: self.base,
            dockerfile: self
                .dockerfile
                .as_ref()
                .map(|d| dockerfile_base(&d.path, &d.parsed)),
        };
        // One way: ignored findings never enter the analysis, so every figure
        // and suggestion (title, before/after, saving) is about what is left.
        let base = crate::analyze::base::detect(&index, &hints)?;
        let df = self.dockerfile.as_ref().map(|d| &d.parsed);
        // What needs only the index is read on a second thread meanwhile:
        // the package databases (sent as soon as read), then the
        // suggestions' scan of the final filesystem. This thread computes
        // the findings (their allocations stay in its own arena) and the
        // suggestions, waiting for each part only where it is needed. The
        // binaries' walk of the final filesystem is taken by whichever
        // thread is free first: this one after the findings, or the other
        // after the package databases (on an image without any, at once).
        let (index_ref, rules) = (&index, &opts.rules);
        let claimed = std::sync::atomic::AtomicBool::new(false);
        let claim = || !claimed.swap(true, std::sync::atomic::Ordering::Relaxed);
        let report = std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            let (btx, brx) = std::sync::mpsc::channel();
            let side = s.spawn(move || {
                let _ = tx.send(crate::analyze::packages::prepare(index_ref));
                if claim() {
                    let _ = btx.send(crate::analyze::binaries::scan(index_ref));
                }
                crate::suggest::prescan(index_ref, rules)
            });
            // The thread panicked before sending: pass its panic on.
            let failed = |side: std::thread::ScopedJoinHandle<_>| -> ! {
                std::panic::resume_unwind(side.join().expect_err("nothing sent"))
            };
            let findings = crate::analyze::waste::findings(index_ref, rules, &opts.ignore, base);
            let binaries = match claim() {
                true => crate::analyze::binaries::scan(index_ref),
                false => match brx.recv() {
                    Ok(b) => b,
                    Err(_) => failed(side),
                },
            };
            let packages = match rx.recv() {
                Ok(p) => p,
                Err(_) => failed(side),
            };
            let analysis = crate::analyze::waste::complete(index_ref, findings, packages, binaries);
            crate::suggest::suggest_scanned(index_ref, analysis, rules, df, || {
                side.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
            })
        });
        let sizes = opts.sizes.then(|| size_tree(&index, &report));
        Ok(Analysed {
            index,
            report,
            sizes,
            dockerfile: self.dockerfile,
        })
    }
}

/// Read and parse a Dockerfile (one-line errors naming the file).
fn read_dockerfile(p: &std::path::Path) -> Result<DockerfileRead> {
    let path = p.display().to_string();
    let loc = Location::source(path.clone());
    let text = std::fs::read_to_string(p)
        .map_err(|e| Error::usage(loc.clone(), format!("cannot read Dockerfile: {e}")))?;
    let parsed = dockerfile::parse(&text)
        .map_err(|e| Error::usage(loc, format!("cannot parse Dockerfile: {e}")))?;
    Ok(DockerfileRead { path, text, parsed })
}

/// What the base boundary needs of a Dockerfile: its final `FROM` and the
/// layer-making steps after it.
fn dockerfile_base(path: &str, df: &Dockerfile) -> DockerfileBase {
    DockerfileBase {
        path: path.to_string(),
        from: df.base_image.clone(),
        steps: df
            .instrs
            .iter()
            .filter_map(|i| match i.instr {
                Instr::Run => Some(StepKind::Run),
                Instr::Copy | Instr::Add => Some(StepKind::Copy),
                Instr::Workdir => Some(StepKind::Workdir),
                Instr::Other => None,
            })
            .collect(),
    }
}
