//! The base-image boundary: which leading layers came from the image the
//! build started `FROM`, and which ones the user's own instructions made.
//! Computed once per image by [`detect`]; every later stage (waste flags,
//! suggestions, checks, views) reads the [`Base`] it returns.
//!
//! Sources, most reliable first, and the one used is named in the output:
//! 1. `--base REF|FILE`: the base's diff_ids must be the image's first ones;
//! 2. `--dockerfile`: its final stage's `FROM`, and as many layers at the
//!    end as it has layer-making instructions after it;
//! 3. the annotations or labels `org.opencontainers.image.base.name` /
//!    `.base.digest` (they name the base; its end comes from the history);
//! 4. the history's shape: a build tool's marker (buildah's `FROM <image>`
//!    comment on a build's first entry), the base's closing empty-layer
//!    `CMD`/`ENTRYPOINT` followed by more layers, a change of the builder's
//!    comment, the root file system `ADD file:… in /`, leading entries no
//!    Dockerfile made, and (alone, only when nothing else speaks) a jump of
//!    an hour or more in the `created` times.
//!
//! When nothing is conclusive the boundary is unknown and every layer is the
//! user's.

use serde::Serialize;

use crate::analyze::index::Index;
use crate::error::{Error, Location, Result};
use crate::load::image::{display_command, HistoryEntry, ImageMeta, LayerRef};

/// The annotation (or label) that names the base image.
pub const BASE_NAME_KEY: &str = "org.opencontainers.image.base.name";
/// The annotation (or label) that gives the base image's manifest digest.
pub const BASE_DIGEST_KEY: &str = "org.opencontainers.image.base.digest";

/// Where the boundary came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaseSource {
    Flag,
    Dockerfile,
    Annotation,
    History,
    Unknown,
}

impl BaseSource {
    pub fn as_str(self) -> &'static str {
        match self {
            BaseSource::Flag => "flag",
            BaseSource::Dockerfile => "dockerfile",
            BaseSource::Annotation => "annotation",
            BaseSource::History => "history",
            BaseSource::Unknown => "unknown",
        }
    }
}

/// The base image of an analysed image: its first `layers` layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Base {
    /// The base's name (`debian:bookworm`), where a source gives one.
    pub name: Option<String>,
    /// The base's manifest digest, where an annotation gives one.
    pub digest: Option<String>,
    /// How many leading layers are the base's (0: none, or unknown).
    pub layers: usize,
    pub source: BaseSource,
    /// What the decision rests on, in words.
    pub evidence: Vec<String>,
}

impl Default for Base {
    fn default() -> Self {
        Base::unknown(Vec::new())
    }
}

impl Base {
    fn unknown(evidence: Vec<String>) -> Base {
        Base {
            name: None,
            digest: None,
            layers: 0,
            source: BaseSource::Unknown,
            evidence,
        }
    }

    /// Is layer `layer` the base image's?
    pub fn contains(&self, layer: usize) -> bool {
        layer < self.layers
    }

    /// Is the boundary known?
    pub fn known(&self) -> bool {
        self.source != BaseSource::Unknown
    }

    /// The base's name for people: its name, else "the base image".
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("the base image")
    }
}

/// A base image given with `--base`: its name and layer diff_ids.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// As given on the command line.
    pub arg: String,
    /// Its first tag, else the argument.
    pub name: String,
    pub diff_ids: Vec<String>,
}

impl BaseImage {
    pub fn new(arg: &str, meta: &ImageMeta, refs: &[LayerRef]) -> BaseImage {
        BaseImage {
            arg: arg.to_string(),
            name: meta
                .tags
                .first()
                .cloned()
                .unwrap_or_else(|| arg.to_string()),
            diff_ids: refs.iter().map(|r| r.diff_id.clone()).collect(),
        }
    }
}

/// A layer-making Dockerfile instruction, as far as the boundary cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Run,
    /// `COPY` or `ADD`.
    Copy,
    /// Makes a layer only when it creates the directory.
    Workdir,
}

/// What `--dockerfile` says about the base: the final stage's `FROM` and
/// the layer-making instructions after it.
#[derive(Debug, Clone)]
pub struct DockerfileBase {
    pub path: String,
    pub from: String,
    pub steps: Vec<StepKind>,
}

/// What the caller knows beyond the image itself.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub image: Option<BaseImage>,
    pub dockerfile: Option<DockerfileBase>,
}

/// The boundary of `index`'s image. Fails only when `--base` is not a
/// prefix of the image.
pub fn detect(index: &Index, hints: &Hints) -> Result<Base> {
    let refs: Vec<&LayerRef> = index.layers.iter().map(|l| &l.r).collect();
    detect_meta(&index.image, &refs, hints)
}

fn annotation<'a>(meta: &'a ImageMeta, key: &str) -> Option<&'a str> {
    meta.annotations
        .get(key)
        .or_else(|| meta.labels.get(key))
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
}

/// [`detect`] on an image's metadata and layer list.
pub fn detect_meta(meta: &ImageMeta, refs: &[&LayerRef], hints: &Hints) -> Result<Base> {
    let n = refs.len();
    let hist = from_history(&meta.history, n);
    let ann_name = annotation(meta, BASE_NAME_KEY);
    let ann_digest = annotation(meta, BASE_DIGEST_KEY);
    let history_note = |layers: usize| match hist.layers {
        Some(h) if h == layers => format!("the history agrees ({h} base layers)"),
        Some(h) => format!("the history alone would say {h} base layers"),
        None => "the history alone does not show the boundary".to_string(),
    };
    // The annotation's digest, when it is about the base named.
    let digest_for = |name: &str| {
        ann_digest
            .filter(|_| ann_name.is_some_and(|a| same_name(a, name)))
            .map(String::from)
    };
    if let Some(b) = &hints.image {
        let loc = Location::source(b.arg.clone());
        if b.diff_ids.len() > n {
            return Err(Error::usage(
                loc,
                format!(
                    "--base has {} layers, more than the image's {n}: it is not this image's base",
                    b.diff_ids.len()
                ),
            ));
        }
        for (i, (want, r)) in b.diff_ids.iter().zip(refs).enumerate() {
            if want.is_empty() || !want.eq_ignore_ascii_case(&r.diff_id) {
                return Err(Error::usage(
                    loc,
                    format!(
                        "--base is not this image's base: its layer {i} ({}) is not the image's layer {i} ({})",
                        short(want),
                        short(&r.diff_id)
                    ),
                ));
            }
        }
        let k = b.diff_ids.len();
        return Ok(Base {
            digest: digest_for(&b.name),
            name: Some(b.name.clone()),
            layers: k,
            source: BaseSource::Flag,
            evidence: vec![
                format!(
                    "--base {}: its {k} layers' diff_ids are the image's first {k}",
                    b.arg
                ),
                history_note(k),
            ],
        });
    }
    if let Some(df) = &hints.dockerfile {
        let (user, note) = match_dockerfile(refs, &df.steps);
        let k = n - user;
        let mut evidence = vec![format!(
            "{}: the final stage is built FROM {} and its {} layer-making instructions made the last {user} layers",
            df.path,
            df.from,
            df.steps.len()
        )];
        evidence.extend(note);
        evidence.push(history_note(k));
        let name = (df.from != "scratch").then(|| df.from.clone());
        return Ok(Base {
            digest: name.as_deref().and_then(digest_for),
            name,
            layers: if df.from == "scratch" { 0 } else { k },
            source: BaseSource::Dockerfile,
            evidence,
        });
    }
    if let Some(name) = ann_name {
        let how = format!("the image's {BASE_NAME_KEY} names {name}");
        return Ok(match hist.layers {
            Some(k) => {
                let mut evidence = vec![how];
                evidence.extend(hist.evidence);
                Base {
                    name: Some(name.to_string()),
                    digest: ann_digest.map(String::from),
                    layers: k,
                    source: BaseSource::Annotation,
                    evidence,
                }
            }
            None => {
                let mut evidence = vec![format!(
                    "{how}, but nothing in the history shows where its layers end"
                )];
                evidence.extend(hist.evidence);
                Base {
                    name: Some(name.to_string()),
                    digest: ann_digest.map(String::from),
                    ..Base::unknown(evidence)
                }
            }
        });
    }
    Ok(match hist.layers {
        Some(k) => Base {
            name: hist.name,
            digest: None,
            layers: k,
            source: BaseSource::History,
            evidence: hist.evidence,
        },
        None => {
            let mut evidence = hist.evidence;
            evidence.push(
                "nothing in the history marks a base image: every layer is counted as the user's"
                    .into(),
            );
            Base::unknown(evidence)
        }
    })
}

/// `docker.io/library/debian:latest` and `debian` name the same image.
fn same_name(a: &str, b: &str) -> bool {
    let strip = |s: &'_ str| s.split('@').next().unwrap_or(s).to_string();
    crate::load::image::tag_matches(&strip(a), &strip(b))
}

fn short(d: &str) -> String {
    if d.is_empty() {
        return "no diff_id".into();
    }
    let (alg, hex) = d.split_once(':').unwrap_or(("", d));
    let hex: String = hex.chars().take(12).collect();
    if alg.is_empty() {
        hex
    } else {
        format!("{alg}:{hex}")
    }
}

fn step_kind(created_by: &str) -> Option<Option<StepKind>> {
    let cmd = display_command(created_by);
    let word = cmd.split_whitespace().next()?;
    Some(match word.to_ascii_uppercase().as_str() {
        "RUN" => Some(StepKind::Run),
        "COPY" | "ADD" => Some(StepKind::Copy),
        "WORKDIR" => Some(StepKind::Workdir),
        _ => None,
    })
}

/// How many of the last layers the Dockerfile's steps made, walking both
/// from the end (a WORKDIR that made no layer is skipped), and a note when
/// the history disagrees with the Dockerfile.
fn match_dockerfile(refs: &[&LayerRef], steps: &[StepKind]) -> (usize, Option<String>) {
    let n = refs.len();
    let (mut i, mut j) = (n, steps.len());
    while j > 0 && i > 0 {
        let d = steps[j - 1];
        // None: no command recorded, matches anything.
        let k = step_kind(&refs[i - 1].created_by);
        if d == StepKind::Workdir && k != Some(Some(StepKind::Workdir)) {
            j -= 1;
            continue;
        }
        if let Some(k) = k {
            if k != Some(d) {
                let count = steps.iter().filter(|s| **s != StepKind::Workdir).count();
                let user = count.min(n);
                let cmd = display_command(&refs[i - 1].created_by);
                return (
                    user,
                    Some(format!(
                        "the history does not match the Dockerfile at layer {} ({}): the instructions were counted as written",
                        i - 1,
                        one_line(&cmd, 60)
                    )),
                );
            }
        }
        i -= 1;
        j -= 1;
    }
    let left = steps[..j].iter().any(|s| *s != StepKind::Workdir);
    let note = left.then(|| {
        format!("the Dockerfile has more layer-making instructions than the image has layers ({n})")
    });
    (n - i, note)
}

fn one_line(s: &str, max: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > max {
        let t: String = s.chars().take(max).collect();
        format!("{t}…")
    } else {
        s
    }
}

/// What the history alone says.
#[derive(Debug, Default)]
struct HistoryVerdict {
    layers: Option<usize>,
    name: Option<String>,
    evidence: Vec<String>,
}

/// Dockerfile keywords (anything else at the start of `created_by` was
/// written by another tool).
const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

fn is_hex_id(s: &str) -> bool {
    let s = s.strip_prefix("sha256:").unwrap_or(s);
    s.len() >= 12 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `ADD file:<hex> in /` or `ADD dir:<hex> in /`: a root file system.
pub fn is_rootfs_add(cmd: &str) -> bool {
    let mut w = cmd.split_whitespace();
    matches!(
        (w.next(), w.next(), w.next(), w.next(), w.next()),
        (Some("ADD"), Some(src), Some("in"), Some("/"), None)
            if src
                .strip_prefix("file:")
                .or_else(|| src.strip_prefix("dir:"))
                .is_some_and(|h| !h.is_empty() && !h.contains('/'))
    )
}

/// A builder's signature in a history entry's comment.
fn signature(comment: Option<&str>) -> Option<&str> {
    let c = comment?.trim();
    if c.is_empty() {
        None
    } else if c.starts_with("FROM ") {
        Some("buildah")
    } else {
        Some(c)
    }
}

/// Seconds since the epoch of an RFC 3339 time (`2024-01-02T03:04:05.6Z`,
/// `…+01:00`); None when it is not one.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |a: usize, b: usize| -> Option<i64> { s.get(a..b)?.parse().ok() };
    if s.len() < 20 || s.as_bytes()[4] != b'-' || s.as_bytes()[10] != b'T' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        r if r.len() == 6 && (r.starts_with('+') || r.starts_with('-')) => {
            let oh: i64 = r.get(1..3)?.parse().ok()?;
            let om: i64 = r.get(4..6)?.parse().ok()?;
            let o = oh * 3600 + om * 60;
            if r.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    // Days from the civil date (proleptic Gregorian).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + h * 3600 + mi * 60 + se - offset)
}

fn duration(secs: i64) -> String {
    match secs {
        s if s >= 2 * 86400 => format!("{} days", s / 86400),
        s if s >= 2 * 3600 => format!("{} hours", s / 3600),
        s if s >= 120 => format!("{} minutes", s / 60),
        s => format!("{s} s"),
    }
}

/// A created-time jump must be at least this long to speak alone.
const JUMP_ALONE_SECS: i64 = 3600;

/// How many of the image's `n` layers come before each history entry (and
/// `n` at the end): entries map to the last layers, as the report's
/// commands do.
pub fn layers_before(history: &[HistoryEntry], n: usize) -> Vec<usize> {
    let empty = |h: &HistoryEntry| h.empty_layer.unwrap_or(false);
    let m = history.iter().filter(|h| !empty(h)).count() as i64;
    let mut before = Vec::with_capacity(history.len() + 1);
    let mut count = 0i64;
    for h in history {
        before.push((count + n as i64 - m).clamp(0, n as i64) as usize);
        if !empty(h) {
            count += 1;
        }
    }
    before.push(n);
    before
}

fn from_history(history: &[HistoryEntry], n: usize) -> HistoryVerdict {
    let mut out = HistoryVerdict::default();
    if history.is_empty() || n == 0 {
        return out;
    }
    let empty = |h: &HistoryEntry| h.empty_layer.unwrap_or(false);
    let before = layers_before(history, n);
    let cmds: Vec<String> = history
        .iter()
        .map(|h| display_command(h.created_by.as_deref().unwrap_or("")))
        .collect();
    let word = |k: usize| {
        cmds[k]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase()
    };
    // (layers, evidence, base name) of each conclusive sign.
    let mut signs: Vec<(usize, String, Option<String>)> = Vec::new();
    // A build tool's marker: buildah writes `FROM <image>` on the first
    // entry of a build from a named image (`FROM <id>` on later steps).
    for (k, h) in history.iter().enumerate() {
        let Some(r) = h
            .comment
            .as_deref()
            .and_then(|c| c.trim().strip_prefix("FROM "))
        else {
            continue;
        };
        let r = r.trim();
        if r.is_empty() || r == "scratch" || is_hex_id(r) || before[k] == 0 {
            continue;
        }
        signs.push((
            before[k],
            format!("history entry {k} carries the comment \"FROM {r}\": buildah started the build there"),
            Some(r.to_string()),
        ));
    }
    // The base's closing CMD/ENTRYPOINT (no layer), followed by layers.
    for (k, h) in history.iter().enumerate() {
        if !empty(h) || !matches!(word(k).as_str(), "CMD" | "ENTRYPOINT") {
            continue;
        }
        if before[k] > 0 && before[k] < n && history[k + 1..].iter().any(|h| !empty(h)) {
            signs.push((
                before[k],
                format!(
                    "history entry {k} ({}, no layer) ends an image, and layers follow it",
                    one_line(&cmds[k], 50)
                ),
                None,
            ));
        }
    }
    // A change of builder: the entries at the end all carry one comment,
    // those before another one.
    let last = signature(history.last().and_then(|h| h.comment.as_deref()));
    if last.is_some() {
        let start = history
            .iter()
            .rposition(|h| signature(h.comment.as_deref()) != last)
            .map_or(0, |p| p + 1);
        if start > 0 && before[start] > 0 {
            let prev = signature(history[start - 1].comment.as_deref());
            // buildah's first step from scratch has no comment.
            if !(prev.is_none() && last == Some("buildah")) {
                signs.push((
                    before[start],
                    format!(
                        "the comment changes at history entry {start}, from {:?} to {:?}: another builder made the entries before",
                        prev.unwrap_or(""),
                        last.unwrap_or("")
                    ),
                    None,
                ));
            }
        }
    }
    // The root file system.
    if let Some(k) = (0..history.len())
        .rev()
        .find(|&k| !empty(&history[k]) && is_rootfs_add(&cmds[k]))
    {
        let src = cmds[k].split_whitespace().nth(1).unwrap_or("");
        let short: String = src.chars().take(17).collect();
        let ell = if short.len() < src.len() { "…" } else { "" };
        signs.push((
            before[k + 1],
            format!("history entry {k} (ADD {short}{ell} in /) puts a root file system in place"),
            None,
        ));
    }
    // Leading layers no Dockerfile instruction made (a base's build tool,
    // e.g. `# debian.sh …`).
    let foreign = (0..history.len())
        .take_while(|&k| {
            empty(&history[k]) || (!cmds[k].is_empty() && !KEYWORDS.contains(&word(k).as_str()))
        })
        .filter(|&k| !empty(&history[k]))
        .count();
    if foreign > 0 {
        let k = (0..history.len())
            .find(|&k| !empty(&history[k]))
            .unwrap_or(0);
        signs.push((
            before[k] + foreign.min(n - before[k]),
            format!(
                "history entry {k} ({}) is no Dockerfile instruction: the base's own build tool",
                one_line(&cmds[k], 40)
            ),
            None,
        ));
    }
    // Jumps of the created time.
    let times: Vec<Option<i64>> = history
        .iter()
        .map(|h| h.created.as_deref().and_then(parse_time))
        .collect();
    let gap_at = |k: usize| -> Option<i64> {
        // The gap before entry k.
        Some(times[k]? - times[k.checked_sub(1)?]?)
    };
    let chosen = signs.iter().map(|s| s.0).max();
    match chosen {
        Some(layers) => {
            signs.sort_by_key(|s| std::cmp::Reverse(s.0));
            for (l, e, _) in &signs {
                if *l == layers {
                    out.evidence.push(e.clone());
                } else {
                    out.evidence
                        .push(format!("{e} (at layer {l}: a base inside the base)"));
                }
            }
            // Corroboration: the created time jumps at the boundary.
            if let Some(k) =
                (1..history.len()).find(|&k| before[k] == layers && !empty(&history[k]))
            {
                if let Some(g) = gap_at(k).filter(|&g| g >= 60) {
                    out.evidence.push(format!(
                        "the created time jumps by {} before history entry {k}",
                        duration(g)
                    ));
                }
            }
            out.name = signs
                .iter()
                .find(|s| s.0 == layers && s.2.is_some())
                .and_then(|s| s.2.clone());
            out.layers = Some(layers);
        }
        None => {
            // Alone, only a long jump between two layers speaks.
            let best = (1..history.len())
                .filter(|&k| before[k] > 0 && before[k] < n && !empty(&history[k]))
                .filter_map(|k| Some((gap_at(k)?, k)))
                .max();
            if let Some((g, k)) = best.filter(|b| b.0 >= JUMP_ALONE_SECS) {
                out.evidence.push(format!(
                    "the created time jumps by {} before history entry {k}, the longest pause in the history",
                    duration(g)
                ));
                out.layers = Some(before[k]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(created_by: &str, comment: Option<&str>, empty: bool, t: &str) -> HistoryEntry {
        HistoryEntry {
            created_by: Some(created_by.into()),
            empty_layer: empty.then_some(true),
            created: Some(t.into()),
            comment: comment.map(String::from),
            author: None,
        }
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2000-03-01T00:00:00Z"), Some(951868800));
        assert_eq!(
            parse_time("2026-11-29T17:00:28.63623738Z"),
            parse_time("2026-11-29T18:00:28+01:00")
        );
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn rootfs_adds() {
        assert!(is_rootfs_add("ADD file:ce026b62356eec3ad1214f in /"));
        assert!(is_rootfs_add("ADD dir:ce026b62356eec3ad1214f in /"));
        assert!(!is_rootfs_add("ADD file:ce026b in /etc/"));
        assert!(!is_rootfs_add("COPY dir:ce026b in /"));
    }

    #[test]
    fn buildah_marker_and_closing_cmd_agree() {
        let t = "2026-11-29T17:00:00Z";
        let hist = vec![
            h("/bin/sh -c #(nop) ADD file:3f6d in / ", None, false, t),
            h("/bin/sh -c mkdir /x", Some("FROM 28801a044ccc"), false, t),
            h(
                "/bin/sh -c #(nop) CMD [\"sh\"]",
                Some("FROM 50cd72eedcbb"),
                true,
                t,
            ),
            h(
                "/bin/sh -c echo hi",
                Some("FROM localhost/b:latest"),
                false,
                t,
            ),
            h(
                "/bin/sh -c #(nop) CMD [\"x\"]",
                Some("FROM 3d0c714f0256"),
                true,
                t,
            ),
        ];
        let v = from_history(&hist, 3);
        assert_eq!(v.layers, Some(2));
        assert_eq!(v.name.as_deref(), Some("localhost/b:latest"));
        assert!(v.evidence.iter().any(|e| e.contains("CMD")));
        assert!(v
            .evidence
            .iter()
            .any(|e| e.contains("a base inside the base")));
    }

    #[test]
    fn buildkit_after_debuerreotype() {
        let hist = vec![
            h(
                "# debian.sh --arch 'amd64' out/ 'bookworm'",
                Some("debuerreotype 0.15"),
                false,
                "2024-01-01T00:00:00Z",
            ),
            h(
                "CMD [\"bash\"]",
                Some("debuerreotype 0.15"),
                true,
                "2024-01-01T00:00:00Z",
            ),
            h(
                "RUN /bin/sh -c apt-get update # buildkit",
                Some("buildkit.dockerfile.v0"),
                false,
                "2024-03-01T00:00:00Z",
            ),
            h(
                "COPY x /y # buildkit",
                Some("buildkit.dockerfile.v0"),
                false,
                "2024-03-01T00:00:09Z",
            ),
        ];
        let v = from_history(&hist, 3);
        assert_eq!(v.layers, Some(1));
        assert!(
            v.evidence.iter().any(|e| e.contains("jumps by 60 days")),
            "{:?}",
            v.evidence
        );
    }

    #[test]
    fn nothing_conclusive_is_unknown() {
        let t = "2026-11-29T17:00:00Z";
        let hist = vec![
            h("/bin/sh -c #(nop) COPY file:ab12 in /app ", None, false, t),
            h(
                "/bin/sh -c chmod 755 /app",
                Some("FROM 28801a044ccc"),
                false,
                t,
            ),
        ];
        assert_eq!(from_history(&hist, 2).layers, None);
        // A long pause alone speaks.
        let hist = vec![
            h("COPY a /a", None, false, "2026-01-01T00:00:00Z"),
            h("COPY b /b", None, false, "2026-01-01T00:00:05Z"),
            h("RUN x", None, false, "2026-03-01T00:00:00Z"),
        ];
        assert_eq!(from_history(&hist, 3).layers, Some(2));
    }

    #[test]
    fn dockerfile_matching() {
        let mk = |c: &str| LayerRef {
            member: String::new(),
            digest: String::new(),
            diff_id: String::new(),
            created_by: c.into(),
        };
        let ls = [
            mk("/bin/sh -c #(nop) ADD file:ab in / "),
            mk("/bin/sh -c apt-get update"),
            mk("/bin/sh -c make"),
            mk("/bin/sh -c #(nop) COPY file:cd in /app "),
        ];
        let refs: Vec<&LayerRef> = ls.iter().collect();
        use StepKind::*;
        assert_eq!(match_dockerfile(&refs, &[Run, Workdir, Copy]), (2, None));
        let (user, note) = match_dockerfile(&refs, &[Copy, Copy]);
        assert_eq!(user, 2);
        assert!(note.unwrap().contains("does not match"));
    }
}
