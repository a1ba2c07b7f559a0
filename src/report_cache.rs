//! The cache of analysed reports: an image read from a registry whose
//! manifest digest was analysed before, with the same options, by the same
//! imgscope, is not loaded or analysed again; its report is read back (a
//! few milliseconds) and rendered in whatever format is asked for.
//!
//! One file per report in the cache folder's `reports` (beside the layer
//! indexes, under the same bound and the same `--no-cache`): zstd of a
//! magic, a version, the full key, the report as JSON, and an xxh3 of all
//! that. The key is everything the report depends on: imgscope's version
//! and this very binary (its size and modification time), the manifest
//! digest and the platform chosen, the reference as typed and its tags
//! (the report names them), the rules, the ignores, the Dockerfile (path
//! and text), the base image (name and layers) and the load options that
//! show in a report. Not the output format: every format renders from the
//! same report. An entry that is corrupt, of another version or for
//! another key is ignored and replaced, never trusted.
//!
//! Beside each report, its renderings (`output-…`): the bytes a command
//! wrote for it, under the report's key plus everything the rendering
//! depends on (the format, the render options, the CI gate: see
//! [`Rendered`]). A warm run that asks for a rendering made before writes
//! those bytes back without reading or rendering the report. They are
//! stored uncompressed (an 8 MB JSON report reads back in a couple of
//! milliseconds, where decompressing and rendering it took tens) and end in
//! an xxh3 of the whole entry like the reports.
//!
//! What a cached report lacks: its links into the index (`node` fields,
//! the package owners of every path, each package's database details),
//! which only the commands that keep the index (the TUI, `fix`, `diff`,
//! `share`, `cat`, `ls`) use; they never read this cache.

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use crate::analyze::binaries::{Binary, Insight};
use crate::analyze::ignore::Ignored;
use crate::analyze::packages::{Package, PackageSummary};
use crate::analyze::sizes::SizeTree;
use crate::analyze::waste::Analysis;
use crate::load::cache::{map_plain, read_entry, touch, Cache};
use crate::load::index::Warning;
use crate::suggest::report::{Edit, Suggestion};
use crate::suggest::Report;

/// Bump when the report's shape changes in a way a key would not show.
pub const VERSION: u32 = 1;
const MAGIC: &[u8; 12] = b"IMGSCOPE-REP";
const OUTPUT_MAGIC: &[u8; 12] = b"IMGSCOPE-OUT";

/// What a report depends on besides the image's manifest, as one string.
pub fn key(parts: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} {t}", m.len())
        })
        .unwrap_or_default();
    let mut k = format!(
        "imgscope {} report {VERSION} binary {exe}\n",
        env!("CARGO_PKG_VERSION")
    );
    for (name, value) in parts {
        // Lengths first: no value can pose as another part.
        k.push_str(&format!("{name} {} {value}\n", value.len()));
    }
    k
}

/// The fields the public JSON leaves out, written beside it.
#[derive(Serialize)]
struct EntryRef<'a> {
    analysis: &'a Analysis,
    suggestions: &'a [Suggestion],
    pull_bytes: u64,
    pull_estimated_layers: usize,
    layers: Vec<(&'a str, Option<u64>)>,
    suggestion_findings: Vec<(&'a [usize], Option<&'a Edit>)>,
    warnings: &'a [Warning],
    packages: &'a [Package],
    package_summary: &'a PackageSummary,
    insights: &'a [Insight],
    binaries: &'a [Binary],
    ignored: Option<&'a Ignored>,
    sizes: Option<&'a SizeTree>,
}

#[derive(Deserialize)]
struct Entry {
    analysis: Analysis,
    suggestions: Vec<Suggestion>,
    pull_bytes: u64,
    pull_estimated_layers: usize,
    layers: Vec<(String, Option<u64>)>,
    suggestion_findings: Vec<(Vec<usize>, Option<Edit>)>,
    warnings: Vec<Warning>,
    packages: Vec<Package>,
    package_summary: PackageSummary,
    insights: Vec<Insight>,
    binaries: Vec<Binary>,
    ignored: Option<Ignored>,
    sizes: Option<SizeTree>,
}

/// The cache's folder of reports.
pub struct Reports(Cache);

impl Reports {
    pub fn new(layers: &Cache) -> Reports {
        Reports(layers.reports())
    }

    fn file(&self, key: &str) -> std::path::PathBuf {
        self.0
            .dir()
            .join(format!("report-{:032x}", xxh3_128(key.as_bytes())))
    }

    /// The report stored under `key` (with its size tree when `sizes`),
    /// if a sound entry is there.
    pub fn get(&self, key: &str, sizes: bool) -> Option<(Report, Option<SizeTree>)> {
        let path = self.file(key);
        let (report, tree) = decode(&read_entry(&path)?, key)?;
        if sizes && tree.is_none() {
            return None;
        }
        touch(&path);
        Some((report, tree.filter(|_| sizes)))
    }

    /// Store a report (failures ignored: the cache is an optimisation).
    pub fn put(&self, key: &str, report: &Report, sizes: Option<&SizeTree>) {
        if let Some(raw) = encode(report, sizes, key) {
            self.0.put_raw(&self.file(key), &raw);
        }
    }

    fn output_file(&self, key: &str) -> std::path::PathBuf {
        self.0
            .dir()
            .join(format!("output-{:032x}", xxh3_128(key.as_bytes())))
    }

    /// The rendering `variant` of the report stored under `key`, if a sound
    /// entry is there.
    pub fn get_output(&self, key: &str, variant: &str) -> Option<Rendered> {
        let key = output_key(key, variant);
        let path = self.output_file(&key);
        let out = decode_output(Raw::Mapped(map_plain(&path)?), &key)?;
        touch(&path);
        Some(out)
    }

    /// Store a rendering (failures ignored).
    pub fn put_output(&self, key: &str, variant: &str, out: &Rendered) {
        let key = output_key(key, variant);
        self.0
            .put_plain(&self.output_file(&key), &encode_output(out, &key));
    }
}

/// A report rendered for a command: the parts it writes (the report, and
/// whatever else it prints, in the command's own order) and its exit
/// status. Cached under the report's key and a *variant*: a description of
/// everything besides the report that the bytes depend on, which the
/// command makes from its options' `Debug` forms so that no option can be
/// left out of it.
#[derive(Debug)]
pub struct Rendered {
    pub status: u8,
    /// The parts' bytes one after the other (for a cached rendering, the
    /// whole entry, mapped: nothing is copied or faulted in page by page).
    raw: Raw,
    parts: Vec<std::ops::Range<usize>>,
}

#[derive(Debug)]
enum Raw {
    Made(Vec<u8>),
    /// A cache entry: mapped, where reading it into fresh memory cost more
    /// than all else of a warm run (a page fault for every 4 KiB). Entries
    /// are replaced by renaming, never rewritten in place.
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Raw {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Raw::Made(v) => v,
            Raw::Mapped(m) => m,
        }
    }
}

impl Rendered {
    pub fn new(status: u8, parts: &[&[u8]]) -> Rendered {
        let mut raw = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
        let parts = parts
            .iter()
            .map(|p| {
                raw.extend_from_slice(p);
                raw.len() - p.len()..raw.len()
            })
            .collect();
        Rendered {
            status,
            raw: Raw::Made(raw),
            parts,
        }
    }

    /// A rendering of one part, kept as it is (no copy: a report of
    /// millions of paths renders to tens of megabytes).
    pub fn whole(status: u8, bytes: Vec<u8>) -> Rendered {
        let parts = std::iter::once(0..bytes.len()).collect();
        Rendered {
            status,
            raw: Raw::Made(bytes),
            parts,
        }
    }

    /// Part `i` (empty past the last).
    pub fn part(&self, i: usize) -> &[u8] {
        self.parts.get(i).map_or(&[], |r| &self.raw[r.clone()])
    }

    pub fn parts(&self) -> usize {
        self.parts.len()
    }
}

fn output_key(key: &str, variant: &str) -> String {
    format!("{key}output {} {variant}\n", variant.len())
}

/// The stored form of a rendering: magic, version, key, status, the
/// parts' lengths, the parts, an xxh3 of all that.
fn encode_output(out: &Rendered, key: &str) -> Vec<u8> {
    let body: usize = out.parts.iter().map(|r| r.len()).sum();
    let mut raw = Vec::with_capacity(64 + key.len() + 8 * out.parts.len() + body);
    raw.extend_from_slice(OUTPUT_MAGIC);
    raw.extend_from_slice(&VERSION.to_le_bytes());
    raw.extend_from_slice(&(key.len() as u64).to_le_bytes());
    raw.extend_from_slice(key.as_bytes());
    raw.push(out.status);
    raw.extend_from_slice(&(out.parts.len() as u32).to_le_bytes());
    for r in &out.parts {
        raw.extend_from_slice(&(r.len() as u64).to_le_bytes());
    }
    for i in 0..out.parts() {
        raw.extend_from_slice(out.part(i));
    }
    let sum = xxh3_64(&raw);
    raw.extend_from_slice(&sum.to_le_bytes());
    raw
}

/// The `n` bytes of `body` at `*at`, moving past them.
fn take<'a>(body: &'a [u8], at: &mut usize, n: usize) -> Option<&'a [u8]> {
    let s = body.get(*at..at.checked_add(n)?)?;
    *at += n;
    Some(s)
}

/// Read back [`encode_output`]'s form in place; `None` for anything
/// unsound.
fn decode_output(raw: Raw, key: &str) -> Option<Rendered> {
    let end = raw.len().checked_sub(8)?;
    let (body, sum) = raw.split_at(end);
    if xxh3_64(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let at = &mut 0;
    let u64_at = |s: &[u8]| Some(u64::from_le_bytes(s.try_into().ok()?));
    if take(body, at, OUTPUT_MAGIC.len())? != OUTPUT_MAGIC
        || u32::from_le_bytes(take(body, at, 4)?.try_into().ok()?) != VERSION
    {
        return None;
    }
    let len = usize::try_from(u64_at(take(body, at, 8)?)?).ok()?;
    if take(body, at, len)? != key.as_bytes() {
        return None;
    }
    let status = take(body, at, 1)?[0];
    let count = u32::from_le_bytes(take(body, at, 4)?.try_into().ok()?) as usize;
    let mut lens = Vec::with_capacity(count.min(body.len() / 8));
    for _ in 0..count {
        lens.push(usize::try_from(u64_at(take(body, at, 8)?)?).ok()?);
    }
    let mut parts = Vec::with_capacity(lens.len());
    for n in lens {
        take(body, at, n)?;
        parts.push(*at - n..*at);
    }
    let at = *at;
    (at == end).then_some(Rendered { status, raw, parts })
}

/// The stored form; `None` when the report cannot be written back exactly
/// (a binary's interpreter or library name that is not UTF-8).
pub fn encode(report: &Report, sizes: Option<&SizeTree>, key: &str) -> Option<Vec<u8>> {
    let a = &report.analysis;
    let exact = a.binaries.iter().all(|b| {
        b.interpreter
            .iter()
            .chain(&b.needed)
            .all(|n| std::str::from_utf8(n).is_ok())
    });
    if !exact {
        return None;
    }
    let entry = EntryRef {
        analysis: a,
        suggestions: &report.suggestions,
        pull_bytes: a.summary.pull_bytes,
        pull_estimated_layers: a.summary.pull_estimated_layers,
        layers: a
            .layers
            .iter()
            .map(|l| (l.command.as_str(), l.pull_estimate))
            .collect(),
        suggestion_findings: report
            .suggestions
            .iter()
            .map(|s| (s.findings.as_slice(), s.edit.as_ref()))
            .collect(),
        warnings: &a.warnings,
        packages: &a.packages,
        package_summary: &a.package_summary,
        insights: &a.insights,
        binaries: &a.binaries,
        ignored: a.ignored.as_ref(),
        sizes,
    };
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(key.len() as u64).to_le_bytes());
    out.extend_from_slice(key.as_bytes());
    serde_json::to_writer(&mut out, &entry).ok()?;
    let sum = xxh3_64(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    Some(out)
}

/// Read back [`encode`]'s form; `None` for anything unsound.
pub fn decode(raw: &[u8], key: &str) -> Option<(Report, Option<SizeTree>)> {
    let (body, sum) = raw.split_at_checked(raw.len().checked_sub(8)?)?;
    if xxh3_64(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let rest = body.strip_prefix(MAGIC.as_slice())?;
    let (version, rest) = rest.split_at_checked(4)?;
    if u32::from_le_bytes(version.try_into().ok()?) != VERSION {
        return None;
    }
    let (len, rest) = rest.split_at_checked(8)?;
    let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
    let (stored, json) = rest.split_at_checked(len)?;
    if stored != key.as_bytes() {
        return None;
    }
    let e: Entry = serde_json::from_slice(json).ok()?;
    let mut a = e.analysis;
    if e.layers.len() != a.layers.len() || e.suggestion_findings.len() != e.suggestions.len() {
        return None;
    }
    a.summary.pull_bytes = e.pull_bytes;
    a.summary.pull_estimated_layers = e.pull_estimated_layers;
    for (l, (command, estimate)) in a.layers.iter_mut().zip(e.layers) {
        l.command = command;
        l.pull_estimate = estimate;
    }
    let mut suggestions = e.suggestions;
    for (s, (findings, edit)) in suggestions.iter_mut().zip(e.suggestion_findings) {
        s.findings = findings;
        s.edit = edit;
    }
    a.warnings = e.warnings;
    a.packages = e.packages;
    a.package_summary = e.package_summary;
    a.insights = e.insights;
    a.binaries = e.binaries;
    a.ignored = e.ignored;
    Some((
        Report {
            analysis: a,
            suggestions,
        },
        e.sizes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{self, Format};

    /// A report as it reads back: no links into the index.
    fn normalised(r: &Report) -> String {
        let mut r = r.clone();
        let a = &mut r.analysis;
        a.waste.iter_mut().for_each(|f| f.node = 0);
        a.optional.iter_mut().for_each(|f| f.node = 0);
        a.insights.iter_mut().for_each(|f| f.node = 0);
        a.binaries.iter_mut().for_each(|f| f.node = 0);
        a.packages
            .iter_mut()
            .for_each(|p| p.meta = Default::default());
        a.owners = Default::default();
        format!("{r:?}")
    }

    fn rendered(r: &Report, sizes: Option<SizeTree>) -> Vec<String> {
        let gate = crate::ci::checks::Gate::default();
        let verdict = crate::ci::checks::evaluate(r, &gate);
        let opts = render::Options {
            top: 10,
            verdict_first: true,
            color: false,
            dockerfile: Some("Dockerfile".into()),
            sizes,
        };
        Format::ALL
            .iter()
            .map(|&f| render::render(r, &verdict, f, &opts))
            .collect()
    }

    /// Every test image's report (with its size tree, with ignores), stored
    /// and read back, is the same report and renders the same in every
    /// format; a changed byte, another key or version is refused.
    #[test]
    fn every_test_image_reads_back_the_same() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/images");
        let mut images: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_str().is_some_and(|s| s.ends_with(".tar.zst")))
            .collect();
        images.sort();
        assert!(images.len() >= 20, "{images:?}");
        let key = key(&[("test", "every image")]);
        let mut rich = [0usize; 5];
        for (n, img) in images.iter().enumerate() {
            let mut opts = crate::AnalyseOptions {
                sizes: true,
                ..Default::default()
            };
            if n % 3 == 0 {
                opts.ignore = crate::Ignore::new(&["*.pyc".into(), "/var/cache".into()]).unwrap();
            }
            let mut a = crate::analyse(img.to_str().unwrap(), &opts, &Default::default()).unwrap();
            if n == 0 {
                // What no shipped test image has (their packages come from
                // the Debian images, built on request): a package, a
                // warning about a path that is not UTF-8.
                a.report.analysis.packages.push(Package {
                    manager: "dpkg",
                    name: "gcc-12".into(),
                    version: "12.2.0-14".into(),
                    layer: Some(1),
                    created_by: "RUN apt-get install gcc".into(),
                    installed: false,
                    visible_bytes: 0,
                    wasted_bytes: 1234,
                    files: 7,
                    wasted_by_kind: [("removed", 1000), ("cache", 234)].into(),
                    meta: Default::default(),
                });
                a.report.analysis.warnings.push(Warning {
                    layer: Some(1),
                    path: Some(crate::load::index::ImagePath(b"/odd\xffname".to_vec())),
                    message: "stored twice in one layer".into(),
                });
            }
            let r = &a.report;
            for (i, c) in [
                r.packages.len(),
                r.binaries.len(),
                r.insights.len(),
                r.suggestions.iter().filter(|s| s.edit.is_some()).count(),
                r.warnings.len(),
            ]
            .into_iter()
            .enumerate()
            {
                rich[i] += c;
            }
            let raw = encode(r, a.sizes.as_ref(), &key).unwrap();
            let (back, sizes) = decode(&raw, &key).unwrap();
            assert_eq!(normalised(&back), normalised(r), "{}", img.display());
            assert_eq!(sizes, a.sizes, "{}", img.display());
            assert_eq!(
                rendered(&back, sizes),
                rendered(r, a.sizes.clone()),
                "{}",
                img.display()
            );
            if n == 0 {
                assert!(decode(&raw, &key.replace("every", "any")).is_none());
                for i in (0..raw.len()).step_by(97) {
                    let mut bad = raw.clone();
                    bad[i] ^= 0x20;
                    assert!(decode(&bad, &key).is_none(), "byte {i}");
                }
                assert!(decode(&raw[..raw.len() - 1], &key).is_none());
            }
        }
        // The images exercise what the public JSON leaves out.
        assert!(rich.iter().all(|&c| c > 0), "{rich:?}");
    }

    /// A report cache in a folder of its own (removed with the guard).
    fn temp_reports() -> (tempfile::TempDir, Reports) {
        let dir = tempfile::tempdir().unwrap();
        let opts = crate::load::cache::CacheOptions {
            dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let reports = Reports::new(&Cache::open(&opts, true).unwrap());
        (dir, reports)
    }

    #[test]
    fn a_tree_is_needed_only_for_html() {
        let (_dir, reports) = temp_reports();
        let img = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/images/cleanup-later.tar.zst");
        let a = crate::analyse(
            img.to_str().unwrap(),
            &Default::default(),
            &Default::default(),
        )
        .unwrap();
        let k = key(&[("image", "cleanup-later")]);
        assert!(reports.get(&k, false).is_none());
        reports.put(&k, &a.report, None);
        assert!(reports.get(&k, false).is_some());
        assert!(reports.get(&k, true).is_none());
        // Garbage under the key is ignored.
        std::fs::write(reports.file(&k), b"garbage").unwrap();
        assert!(reports.get(&k, false).is_none());
    }

    /// A rendering reads back part for part with its status, under its
    /// own key and variant only; a changed byte anywhere, a cut entry or
    /// another key or variant is refused.
    #[test]
    fn a_rendering_reads_back_only_as_stored() {
        let (_dir, reports) = temp_reports();
        let k = key(&[("image", "x")]);
        let out = Rendered::new(1, &[b"{\"a\": 1}\n", b"", b"short\n"]);
        let parts = |r: &Rendered| {
            (0..r.parts())
                .map(|i| r.part(i).to_vec())
                .collect::<Vec<_>>()
        };
        assert!(reports.get_output(&k, "json").is_none());
        reports.put_output(&k, "json", &out);
        let back = reports.get_output(&k, "json").unwrap();
        assert_eq!((back.status, parts(&back)), (1, parts(&out)));
        assert_eq!(back.part(3), b"");
        assert!(reports.get_output(&k, "json ").is_none());
        assert!(reports
            .get_output(&key(&[("image", "y")]), "json")
            .is_none());
        // The report's own entry is another file.
        assert!(reports.get(&k, false).is_none());

        let full = output_key(&k, "json");
        let raw = encode_output(&out, &full);
        assert!(decode_output(Raw::Made(raw.clone()), &full).is_some());
        assert!(decode_output(Raw::Made(raw.clone()), &output_key(&k, "text")).is_none());
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 0x01;
            assert!(decode_output(Raw::Made(bad), &full).is_none(), "byte {i}");
            assert!(
                decode_output(Raw::Made(raw[..i].to_vec()), &full).is_none(),
                "cut at {i}"
            );
        }
        // An entry whose lengths overrun it, with a sound checksum.
        let mut body = raw[..raw.len() - 8].to_vec();
        let lens = body.len() - 3 * 8 - out.part(0).len() - 6;
        body[lens..lens + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let sum = xxh3_64(&body);
        body.extend_from_slice(&sum.to_le_bytes());
        assert!(decode_output(Raw::Made(body), &full).is_none());
        // Garbage under the file name.
        std::fs::write(reports.output_file(&full), b"garbage").unwrap();
        assert!(reports.get_output(&k, "json").is_none());
    }
}
