//! `imgscope REF`: an image read straight from a registry's API, no daemon.
//! The manifest (through an index, by platform), then the config, then every
//! layer blob streamed from its HTTP response into the same parallel indexer
//! as archives use, several at once, its digest checked as it streams.
//! Layers whose index is in the cache are not downloaded at all.

pub mod auth;
pub mod client;
pub mod reference;

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};
use sha2::{Digest as _, Sha256};

use super::cache::{Cache, KeyKind};
use super::image::{self, Format};
use super::{index_layers, layer, Jobs, LoadOptions, LoadProgress};
use crate::error::{Error, Location, Result};
use crate::Index;

pub use client::Options;
use client::{Client, MAX_DOCUMENT};
pub use reference::Reference;

/// Blobs downloaded at once.
const PARALLEL_DOWNLOADS: usize = 6;

const ACCEPT_MANIFEST: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.1";

/// Analyse the image `r` names (`display` is what the user typed).
pub fn load(
    r: &Reference,
    display: &str,
    opts: &LoadOptions,
    progress: &LoadProgress,
) -> Result<Index> {
    resolve(r, display, opts)?.load(opts, progress)
}

/// An image's manifest, fetched (through an index, by platform) and
/// checked, before any blob is.
pub struct Resolved {
    client: Client,
    reference: Reference,
    display: String,
    manifest: ImageManifest,
    /// The digest of the image manifest (the platform's, through an index).
    pub digest: String,
    /// The platform the index gave it, if it came through one.
    pub platform: Option<String>,
}

/// Fetch the manifest of the image `r` names.
pub fn resolve(r: &Reference, display: &str, opts: &LoadOptions) -> Result<Resolved> {
    let loc = Location::source(display);
    let implicit = !display.starts_with("registry://");
    let client = Client::new(r, &opts.registry);
    let fail = |m: String| Error::format(loc.clone(), m);
    // The first request says whether the name was meant as a reference.
    let (mut bytes, mut media_type) = manifest(&client, r.manifest_ref(), r.digest.as_deref())
        .map_err(|m| {
            if implicit {
                fail(format!(
                    "no such file, and as an image reference ({r}): {m}"
                ))
            } else {
                fail(m)
            }
        })?;
    let mut platform = None;
    if image::is_index_doc(&media_type, &bytes) {
        let index: ImageIndex = parse(&bytes, "image index").map_err(fail)?;
        let cands = image::index_candidates(&index, |_| true);
        if cands.is_empty() {
            return Err(fail("the image index lists no image manifest".into()));
        }
        let chosen = image::choose_platform(&cands, &opts.select, &loc)?;
        let digest = chosen.manifest.digest().to_string();
        (bytes, media_type) = manifest(&client, &digest, Some(&digest)).map_err(fail)?;
        if image::is_index_doc(&media_type, &bytes) {
            return Err(fail(format!(
                "{digest}: an index inside an index is not supported"
            )));
        }
        platform = chosen.platform.clone();
    }
    let manifest: ImageManifest = parse(&bytes, "image manifest").map_err(fail)?;
    Ok(Resolved {
        client,
        reference: r.clone(),
        display: display.to_string(),
        manifest,
        digest: format!("sha256:{}", hex(&Sha256::digest(&bytes))),
        platform,
    })
}

impl Resolved {
    /// The image's tags as the report names them.
    pub fn tags(&self) -> Vec<String> {
        let r = &self.reference;
        r.tag
            .iter()
            .map(|t| format!("{}/{}:{t}", r.registry, r.repository))
            .collect()
    }

    /// Its config and layers (each from the layer-index cache, or
    /// downloaded and indexed as it streams).
    pub fn load(self, opts: &LoadOptions, progress: &LoadProgress) -> Result<Index> {
        load_manifest(
            &self.client,
            &self.manifest,
            self.tags(),
            self.platform.as_deref(),
            &self.display,
            opts,
            progress,
        )
    }
}

fn load_manifest(
    client: &Client,
    manifest: &ImageManifest,
    tags: Vec<String>,
    platform: Option<&str>,
    display: &str,
    opts: &LoadOptions,
    progress: &LoadProgress,
) -> Result<Index> {
    let loc = Location::source(display);
    let fail = |m: String| Error::format(loc.clone(), m);
    let cdesc = manifest.config();
    let config = fetch_small(client, cdesc).map_err(|m| fail(format!("config: {m}")))?;
    let (meta, refs) = image::image_of_manifest(
        manifest,
        &config,
        &loc.member("config"),
        Format::Registry,
        tags,
        platform,
        display,
        |d| d.digest().to_string(),
    )?;
    let sizes: Vec<u64> = manifest.layers().iter().map(Descriptor::size).collect();
    let cache = Cache::open(&opts.cache, true);
    let cancel = AtomicBool::new(false);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(PARALLEL_DOWNLOADS.min(refs.len()).max(1))
        .thread_name(|i| format!("imgscope-download-{i}"))
        .build()
        .map_err(|e| fail(format!("cannot start download threads: {e}")))?;
    let jobs = Jobs {
        pool: Some(&pool),
        cancel: &cancel,
    };
    index_layers(
        meta,
        &refs,
        &sizes,
        &loc,
        progress,
        Some(jobs),
        |i, lr, lloc, p| {
            if let Some(ix) = cache
                .as_ref()
                .and_then(|c| c.get(KeyKind::Blob, &lr.digest))
            {
                p.read.store(sizes[i], Ordering::Relaxed);
                p.done.store(1, Ordering::Relaxed);
                return Ok(ix);
            }
            let ix = layer_blob(
                client,
                &lr.digest,
                sizes[i],
                lloc,
                p,
                &cancel,
                opts.verifying(),
            )?;
            if let Some(c) = &cache {
                c.put(KeyKind::Blob, &lr.digest, &ix);
            }
            Ok(ix)
        },
    )
}

/// One blob of the image `r` names, its body streamed as the registry
/// sends it (for reading one file of one layer: only that blob is
/// fetched). Stops wherever its reader stops; the digest is not checked.
pub fn open_blob(
    r: &Reference,
    digest: &str,
    loc: &Location,
    opts: &Options,
) -> Result<Box<dyn Read + Send>> {
    let client = Client::new(r, opts);
    let fail = |m: String| Error::format(loc.clone(), m);
    let resp = client.get(&format!("blobs/{digest}"), None).map_err(fail)?;
    let status = resp.status().as_u16();
    if status != 200 {
        let body = read_document(&client, resp).unwrap_or_default();
        return Err(fail(http_error(&format!("blob {digest}"), status, &body)));
    }
    Ok(Box::new(resp.into_body().into_reader()))
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("malformed {what}: {e}"))
}

/// GET a manifest (by tag or digest): its bytes and media type, the
/// digest checked when it is known.
fn manifest(
    client: &Client,
    reference: &str,
    digest: Option<&str>,
) -> Result<(Vec<u8>, String), String> {
    let resp = client.get(&format!("manifests/{reference}"), Some(ACCEPT_MANIFEST))?;
    let status = resp.status().as_u16();
    let header_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = read_document(client, resp)?;
    if status == 404 {
        return Err(format!(
            "manifest unknown: no {reference} in {} (HTTP 404{})",
            client.repository(),
            client::error_message(&body)
                .map(|m| format!(", {m}"))
                .unwrap_or_default()
        ));
    }
    if status != 200 {
        return Err(http_error("manifest", status, &body));
    }
    if let Some(d) = digest {
        check_digest(&body, d)?;
    }
    let body_type = image::own_media_type(&body);
    let media_type = if body_type.is_empty() {
        header_type
    } else {
        body_type
    };
    let schema1 = media_type.contains("distribution.manifest.v1")
        || serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("schemaVersion").and_then(|s| s.as_u64()))
            == Some(1);
    if schema1 {
        return Err(
            "Docker schema 1 manifests (deprecated since 2017) are not supported; \
                    push the image again with a current docker, buildah or skopeo"
                .into(),
        );
    }
    Ok((body, media_type))
}

fn read_document(client: &Client, mut resp: client::Response) -> Result<Vec<u8>, String> {
    resp.body_mut()
        .with_config()
        .limit(MAX_DOCUMENT)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                format!("the registry sent a document over {MAX_DOCUMENT} bytes")
            }
            e => client.describe(e),
        })
}

fn http_error(what: &str, status: u16, body: &[u8]) -> String {
    format!(
        "{what}: the registry answered HTTP {status}{}",
        client::error_message(body)
            .map(|m| format!(" ({m})"))
            .unwrap_or_default()
    )
}

fn check_digest(bytes: &[u8], digest: &str) -> Result<(), String> {
    let want = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("digest {digest:?}: only sha256 digests are supported"))?;
    let got = hex(&Sha256::digest(bytes));
    if got != want {
        return Err(format!(
            "digest mismatch: expected {digest}, the registry sent sha256:{got}"
        ));
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A small blob (the config), its digest and size checked.
fn fetch_small(client: &Client, d: &Descriptor) -> Result<Vec<u8>, String> {
    if d.size() > MAX_DOCUMENT {
        return Err(format!("{} bytes is too large for a config", d.size()));
    }
    let digest = d.digest().to_string();
    let resp = client.get(&format!("blobs/{digest}"), None)?;
    let status = resp.status().as_u16();
    let body = read_document(client, resp)?;
    if status != 200 {
        return Err(http_error(&format!("blob {digest}"), status, &body));
    }
    check_digest(&body, &digest)?;
    Ok(body)
}

/// A blob's body, hashed and counted as it streams: more bytes than the
/// manifest says, a connection closed early, a stall or a cancelled load
/// end the read, and the reason is kept for the error message.
struct Verified<'a, R> {
    inner: R,
    hasher: Sha256,
    got: u64,
    size: u64,
    cancel: &'a AtomicBool,
    failure: Arc<Mutex<Option<String>>>,
    host: String,
    timeout: std::time::Duration,
}

impl<R: Read> Verified<'_, R> {
    fn fail(&self, msg: String, kind: std::io::ErrorKind) -> std::io::Error {
        let mut f = self.failure.lock().unwrap();
        if f.is_none() {
            *f = Some(msg.clone());
        }
        std::io::Error::new(kind, msg)
    }
}

impl<R: Read> Read for Verified<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            // Not `Interrupted`: readers retry those.
            return Err(self.fail("cancelled".into(), std::io::ErrorKind::Other));
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                let mut msg = client::describe_io(&self.host, &e, self.timeout);
                if e.kind() == std::io::ErrorKind::UnexpectedEof
                    || msg.ends_with("closed the connection")
                {
                    msg = format!(
                        "{} after {} of {} bytes of the blob",
                        msg, self.got, self.size
                    );
                }
                return Err(self.fail(msg, e.kind()));
            }
        };
        if n == 0 && self.got < self.size {
            let msg = format!(
                "{} closed the connection after {} of {} bytes of the blob",
                self.host, self.got, self.size
            );
            return Err(self.fail(msg, std::io::ErrorKind::UnexpectedEof));
        }
        self.got += n as u64;
        if self.got > self.size {
            let msg = format!(
                "the registry sent more than the {} bytes the manifest gives the blob",
                self.size
            );
            return Err(self.fail(msg, std::io::ErrorKind::InvalidData));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Download one layer blob and index it as it streams; its digest is
/// checked once its last byte has arrived.
fn layer_blob(
    client: &Client,
    digest: &str,
    size: u64,
    lloc: &Location,
    progress: Arc<layer::Progress>,
    cancel: &AtomicBool,
    verify: bool,
) -> Result<layer::LayerIndex> {
    let fail = |m: String| Error::format(lloc.clone(), m);
    let want = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| {
            fail(format!(
                "digest {digest:?}: only sha256 digests are supported"
            ))
        })?
        .to_string();
    let resp = client.get(&format!("blobs/{digest}"), None).map_err(fail)?;
    let status = resp.status().as_u16();
    if status != 200 {
        let body = read_document(client, resp).unwrap_or_default();
        return Err(fail(http_error("blob", status, &body)));
    }
    let failure = Arc::new(Mutex::new(None));
    let mut reader = Verified {
        inner: resp.into_body().into_reader(),
        hasher: Sha256::new(),
        got: 0,
        size,
        cancel,
        failure: failure.clone(),
        host: client.host().to_string(),
        timeout: client.timeout(),
    };
    let indexed = layer::index_layer(
        &mut reader,
        &lloc.member(digest.to_string()),
        progress,
        verify,
    );
    let network = || failure.lock().unwrap().clone();
    let ix = match indexed {
        Ok(ix) => ix,
        Err(e) => {
            if let Some(m) = network() {
                return Err(fail(m));
            }
            // Corrupt data: a blob that is not what its digest says is the
            // better explanation, when it is one.
            if std::io::copy(&mut reader, &mut std::io::sink()).is_ok()
                && reader.got == size
                && hex(&reader.hasher.clone().finalize()) != want
            {
                return Err(fail(format!(
                    "digest mismatch: the blob the registry sent is not {digest}"
                )));
            }
            return Err(e);
        }
    };
    // The indexer stops at the tar's end: the rest (padding) still counts.
    std::io::copy(&mut reader, &mut std::io::sink())
        .map_err(|_| fail(network().unwrap_or_else(|| "read error".into())))?;
    let got = hex(&reader.hasher.finalize());
    if got != want {
        return Err(fail(format!(
            "digest mismatch: expected {digest}, the registry sent sha256:{got}"
        )));
    }
    Ok(ix)
}
