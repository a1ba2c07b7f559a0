//! `containers-storage:[driver@root+runroot]IMAGE`: an image read where
//! podman, buildah, skopeo and CRI-O keep it, with no `save` in between.
//! The store is found ([`store`]), the name resolved through its records
//! ([`meta`]), the manifest and config it keeps read, and each layer's tar
//! rebuilt from its tar-split file and its directory ([`tarsplit`]) into the
//! same parallel indexer every other source uses. The store is only read:
//! no lock is taken, no file is opened for writing, access times are left
//! alone where the kernel allows it (`O_NOATIME`).
//!
//! `podman://IMAGE` comes here too when the local podman store is readable
//! and holds the image ([`podman`]); otherwise it streams `podman save`.

pub mod meta;
pub mod store;
pub mod tarsplit;

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use oci_spec::image::{ImageIndex, ImageManifest};

use super::cache;
use super::image::{self, Format, ImageMeta, LayerRef};
use super::{
    cached_by_diff_id, check_digests, index_layers, layer, LoadOptions, LoadProgress, MAX_LAYERS,
};
use crate::error::{Error, Location, Result};
use crate::Index;
use store::{Spec, Store};

/// The transport prefix, as skopeo spells it.
pub const PREFIX: &str = "containers-storage:";

/// A parsed `containers-storage:` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub spec: Spec,
    pub name: String,
}

/// `containers-storage:[driver@root+runroot:options]NAME` (the bracket part
/// optional, any of its parts optional; options are ignored: they concern
/// writing). None when `arg` is not such a reference.
pub fn parse(arg: &str) -> Option<Result<Reference, String>> {
    let rest = arg.strip_prefix(PREFIX)?;
    Some(parse_rest(rest))
}

fn parse_rest(rest: &str) -> Result<Reference, String> {
    let mut spec = Spec::default();
    let mut name = rest;
    if let Some(inner) = rest.strip_prefix('[') {
        let close = inner
            .find(']')
            .ok_or("the store part `[driver@root+runroot]` has no closing `]`")?;
        let s = &inner[..close];
        name = &inner[close + 1..];
        let s = match s.find('@') {
            Some(at) if !s[..at].contains('/') => {
                spec.driver = Some(s[..at].to_string()).filter(|d| !d.is_empty());
                &s[at + 1..]
            }
            _ => s,
        };
        let s = s.split_once(':').map_or(s, |(p, _options)| p);
        let (root, run) = match s.split_once('+') {
            Some((r, run)) => (r, Some(run)),
            None => (s, None),
        };
        if !root.is_empty() {
            if !root.starts_with('/') {
                return Err(format!("the store root {root:?} must be an absolute path"));
            }
            spec.root = Some(PathBuf::from(root));
        }
        spec.runroot = run.filter(|r| !r.is_empty()).map(PathBuf::from);
    }
    if name.is_empty() || name.starts_with('-') {
        return Err(format!(
            "give an image name or ID after {PREFIX}, e.g. {PREFIX}localhost/app:latest"
        ));
    }
    Ok(Reference {
        spec,
        name: name.to_string(),
    })
}

/// One layer as the store keeps it.
#[derive(Debug, Clone)]
struct StoredLayer {
    id: String,
    /// Size of the layer tar (layers.json's diff-size), 0 when unknown.
    size: u64,
}

/// An image found in a store, its layers checked present.
pub struct Found {
    store: Store,
    meta: ImageMeta,
    refs: Vec<LayerRef>,
    layers: Vec<StoredLayer>,
}

/// Find `r`'s store and image and read its metadata; `display` names it.
pub fn find(r: &Reference, display: &str, opts: &LoadOptions) -> Result<Found> {
    let loc = Location::source(display);
    let store = store::locate(&r.spec, &store::Env::current())
        .map_err(|m| Error::format(loc.clone(), m))?;
    let images = meta::images(&store).map_err(|m| Error::format(loc.clone(), m))?;
    let img = meta::find(&images, &r.name).map_err(|m| {
        Error::usage(
            loc.clone(),
            format!("{m} (store {}, from {})", store.describe(), store.how),
        )
    })?;
    resolve(store, img, display, opts)
}

fn resolve(store: Store, img: &meta::ImageRec, display: &str, opts: &LoadOptions) -> Result<Found> {
    let loc = Location::source(display);
    let fail = |m: String| Error::format(loc.clone(), m);
    let layers = meta::layers(&store).map_err(fail)?;
    let chain = meta::chain(&layers, img, MAX_LAYERS).map_err(fail)?;
    let mut mbytes = meta::big_data(&store, img, "manifest").map_err(fail)?;
    let mloc = loc.member(format!("image {} manifest", meta::short(&img.id)));
    let media_type = image::own_media_type(&mbytes);
    let mut platform = None;
    if image::is_index_doc(&media_type, &mbytes) {
        // A list pulled whole: the instance kept under `manifest-DIGEST`.
        let index: ImageIndex = serde_json::from_slice(&mbytes)
            .map_err(|e| Error::format(mloc.clone(), format!("malformed JSON: {e}")))?;
        let cands = image::index_candidates(&index, |d| {
            img.big_data_names
                .iter()
                .any(|k| k == &format!("manifest-{}", d.digest()))
        });
        if cands.is_empty() {
            return Err(Error::format(
                mloc,
                "the image's manifest is a list and the store keeps none of its instances",
            ));
        }
        let chosen = image::choose_platform(&cands, &opts.select, &loc)?;
        mbytes = meta::big_data(
            &store,
            img,
            &format!("manifest-{}", chosen.manifest.digest()),
        )
        .map_err(fail)?;
        platform = chosen.platform.clone();
    }
    let v: serde_json::Value = serde_json::from_slice(&mbytes)
        .map_err(|e| Error::format(mloc.clone(), format!("malformed JSON: {e}")))?;
    if v.get("schemaVersion").and_then(|s| s.as_u64()) == Some(1) {
        return Err(Error::format(
            mloc,
            "a Docker schema 1 manifest (deprecated since 2017): pull the image again",
        ));
    }
    let manifest: ImageManifest = serde_json::from_value(v)
        .map_err(|e| Error::format(mloc.clone(), format!("malformed manifest: {e}")))?;
    let ckey = manifest.config().digest().to_string();
    let config = meta::big_data(&store, img, &ckey).map_err(fail)?;
    let (meta, mut refs) = image::image_of_manifest(
        &manifest,
        &config,
        &loc.member(format!("image {} config", meta::short(&img.id))),
        Format::ContainersStorage,
        img.names.clone(),
        platform.as_deref(),
        display,
        |d| d.digest().to_string(),
    )?;
    if chain.len() != refs.len() {
        return Err(fail(format!(
            "image {}: the manifest lists {} layers, the store's layer chain has {}",
            meta::short(&img.id),
            refs.len(),
            chain.len()
        )));
    }
    let mut stored = Vec::with_capacity(chain.len());
    for (i, (l, r)) in chain.iter().zip(refs.iter_mut()).enumerate() {
        let lloc = loc.layer(i, format!("store layer {}", meta::short(&l.id)));
        let bad = |m: String| Error::format(lloc.clone(), m);
        if l.incomplete() {
            return Err(bad(format!(
                "layer {} is marked incomplete in layers.json (an interrupted pull or commit)",
                l.id
            )));
        }
        if !store.tar_split(&l.id).is_file() {
            return Err(bad(format!(
                "layer {}: its tar-split file {} is missing",
                l.id,
                store.tar_split(&l.id).display()
            )));
        }
        if !store.layer_dir(&l.id).is_dir() {
            return Err(bad(format!(
                "layer {}: its directory {} is missing",
                l.id,
                store.layer_dir(&l.id).display()
            )));
        }
        // The report describes the layer tar the store rebuilds (as `podman
        // save` and skopeo's docker-archive write it): its digest is the
        // uncompressed one, whatever the registry's blob was.
        let diff = l.diff_digest.clone().unwrap_or_default();
        if !diff.is_empty() && !r.diff_id.is_empty() && diff != r.diff_id {
            return Err(bad(format!(
                "layer {} holds {diff}, the config's diff_id for it is {}",
                l.id, r.diff_id
            )));
        }
        r.digest = if diff.is_empty() {
            r.diff_id.clone()
        } else {
            diff
        };
        r.member = l.id.clone();
        stored.push(StoredLayer {
            id: l.id.clone(),
            size: l.diff_size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
        });
    }
    Ok(Found {
        store,
        meta,
        refs,
        layers: stored,
    })
}

impl Found {
    pub fn meta(&self) -> (ImageMeta, Vec<LayerRef>) {
        (self.meta.clone(), self.refs.clone())
    }

    /// Index every layer (in parallel) and merge them.
    pub fn load(self, display: &str, opts: &LoadOptions, progress: &LoadProgress) -> Result<Index> {
        let loc = Location::source(display);
        let Found {
            store,
            meta,
            refs,
            layers,
        } = self;
        let sizes: Vec<u64> = layers.iter().map(|l| l.size).collect();
        let cache = cache::Cache::open(&opts.cache, false);
        index_layers(
            meta,
            &refs,
            &sizes,
            &loc,
            progress,
            None,
            |i, r, lloc, p| {
                cached_by_diff_id(cache.as_ref(), r, sizes[i], &p, || {
                    index_one(&store, &layers[i], r, lloc, p.clone(), opts.verifying())
                })
            },
        )
    }
}

fn index_one(
    store: &Store,
    l: &StoredLayer,
    r: &LayerRef,
    lloc: &Location,
    p: std::sync::Arc<layer::Progress>,
    verify: bool,
) -> Result<layer::LayerIndex> {
    let lloc = lloc.member(format!("store layer {}", l.id));
    let fail = |m: String| Error::format(lloc.clone(), format!("layer {}: {m}", l.id));
    let ts = store.tar_split(&l.id);
    let reader = tarsplit::TarSplit::open(&ts, store.layer_dir(&l.id))
        .map_err(|e| fail(format!("cannot read {}: {e}", ts.display())))?;
    let failure = reader.failure.clone();
    let read = p.clone();
    let res = layer::index_layer(reader, &lloc, p, verify);
    let why = || failure.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let ix = match res {
        Ok(ix) => ix,
        Err(e) => return Err(why().map(fail).unwrap_or(e)),
    };
    if let Some(m) = why() {
        return Err(fail(m));
    }
    // The bytes rebuilt are the layer tar's size, as the store recorded it.
    let got = read.read.load(Ordering::Relaxed);
    if l.size > 0 && verify && got != l.size {
        return Err(fail(format!(
            "rebuilt {got} bytes, layers.json records {}",
            l.size
        )));
    }
    check_digests(r, &ix, &lloc)?;
    Ok(ix)
}

/// `podman://NAME` read from the local podman store: Some when the store
/// is readable and holds NAME, None when `podman save` must do (a remote
/// podman, another user's store, a name only podman can resolve).
pub fn podman(name: &str, display: &str, opts: &LoadOptions) -> Result<Option<Found>> {
    let remote = ["CONTAINER_HOST", "CONTAINER_CONNECTION"]
        .iter()
        .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()));
    if remote || name.is_empty() || name.starts_with('-') {
        return Ok(None);
    }
    let Ok(store) = store::locate(&Spec::default(), &store::Env::current()) else {
        return Ok(None);
    };
    let Ok(images) = meta::images(&store) else {
        return Ok(None);
    };
    let Ok(img) = meta::find(&images, name) else {
        return Ok(None);
    };
    resolve(store, img, display, opts).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        assert!(parse("app:1").is_none());
        let r = parse("containers-storage:[vfs@/s/root+/s/run]localhost/app:latest")
            .unwrap()
            .unwrap();
        assert_eq!(r.spec.driver.as_deref(), Some("vfs"));
        assert_eq!(
            r.spec.root.as_deref(),
            Some(std::path::Path::new("/s/root"))
        );
        assert_eq!(
            r.spec.runroot.as_deref(),
            Some(std::path::Path::new("/s/run"))
        );
        assert_eq!(r.name, "localhost/app:latest");
        let r = parse("containers-storage:[/s/root:opt=1]app")
            .unwrap()
            .unwrap();
        assert_eq!(r.spec.driver, None);
        assert_eq!(
            r.spec.root.as_deref(),
            Some(std::path::Path::new("/s/root"))
        );
        assert_eq!(r.name, "app");
        let r = parse("containers-storage:app@sha256:00").unwrap().unwrap();
        assert_eq!(r.spec, Spec::default());
        assert!(parse("containers-storage:").unwrap().is_err());
        assert!(parse("containers-storage:[vfs@/x").unwrap().is_err());
        assert!(parse("containers-storage:[vfs@rel]x").unwrap().is_err());
    }
}
