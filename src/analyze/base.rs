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

mod dockerfile;
mod history;

use serde::Serialize;

pub use history::{is_rootfs_add, layers_before, parse_time};

use crate::error::{Error, Location, Result};
use crate::load::image::{ImageMeta, LayerRef};
use crate::load::index::Index;

/// The annotation (or label) that names the base image.
pub const BASE_NAME_KEY: &str = "org.opencontainers.image.base.name";
/// The annotation (or label) that gives the base image's manifest digest.
pub const BASE_DIGEST_KEY: &str = "org.opencontainers.image.base.digest";

/// Where the boundary came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    let hist = history::from_history(&meta.history, n);
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
        let (user, note) = dockerfile::match_dockerfile(refs, &df.steps);
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

fn one_line(s: &str, max: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > max {
        let t: String = s.chars().take(max).collect();
        format!("{t}…")
    } else {
        s
    }
}
