//! The OCI image layout: `index.json` → nested indexes → the manifest of
//! the chosen image and platform → its config and layers.

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use super::image::*;
use crate::error::{Error, Location, Result};
use crate::load::source::Source;

fn blob_member(d: &Descriptor) -> String {
    let digest = d.digest();
    format!("blobs/{}/{}", digest.algorithm(), digest.digest())
}

/// A platform as `os/arch[/variant]`.
pub(crate) fn platform_of(d: &Descriptor) -> Option<String> {
    d.platform().as_ref().map(|p| match p.variant() {
        Some(v) if !v.is_empty() => format!("{}/{}/{}", p.os(), p.architecture(), v),
        _ => format!("{}/{}", p.os(), p.architecture()),
    })
}

pub(crate) struct Candidate {
    pub manifest: Descriptor,
    pub platform: Option<String>,
    pub names: Vec<String>,
}

pub(crate) fn is_attestation(d: &Descriptor) -> bool {
    platform_of(d).is_some_and(|p| p.starts_with("unknown/unknown"))
        || d.annotations().as_ref().is_some_and(|a| {
            a.get("vnd.docker.reference.type").map(String::as_str) == Some("attestation-manifest")
        })
}

fn names_of(d: &Descriptor) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(a) = d.annotations() {
        for k in [
            "io.containerd.image.name",
            "org.opencontainers.image.ref.name",
        ] {
            if let Some(n) = a.get(k) {
                v.push(n.clone());
            }
        }
    }
    v
}

/// Parse an index or manifest document (`what`) with oci-spec, naming the
/// member on error: JSON that does not parse is malformed; JSON that does
/// but is not such a document (`{}`) is said to be so.
fn parse_oci<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    loc: &Location,
    what: &str,
) -> Result<T> {
    let v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::format(loc.clone(), format!("malformed JSON: {e}")))?;
    serde_json::from_value(v).map_err(|e| {
        Error::format(
            loc.clone(),
            format!("valid JSON but not a valid OCI {what}: {e}"),
        )
    })
}

/// Config media types of container images.
const IMAGE_CONFIGS: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// When a manifest describes an OCI artifact rather than an image (a Helm
/// chart, an SBOM, a signature: its config is not an image config and it
/// has an `artifactType` or a config without `rootfs`), what it is, in words.
fn artifact(manifest: &ImageManifest, config: &[u8]) -> Option<String> {
    let ctype = manifest.config().media_type().to_string();
    if IMAGE_CONFIGS.contains(&ctype.as_str()) {
        return None;
    }
    let atype = manifest.artifact_type().as_ref().map(|t| t.to_string());
    let rootfs = serde_json::from_slice::<serde_json::Value>(config)
        .is_ok_and(|v| v.get("rootfs").is_some());
    if atype.is_none() && rootfs {
        return None;
    }
    let types = format!("{ctype} {}", atype.as_deref().unwrap_or("")).to_ascii_lowercase();
    let layer_types: Vec<String> = manifest
        .layers()
        .iter()
        .map(|l| l.media_type().to_string().to_ascii_lowercase())
        .collect();
    let any = |w: &str| types.contains(w) || layer_types.iter().any(|t| t.contains(w));
    let kind = if any("helm") {
        "a Helm chart"
    } else if any("spdx") || any("cyclonedx") || any("sbom") || any("syft") {
        "an SBOM"
    } else if any("signature") || any("cosign") || any("notary") || any("sigstore") {
        "a signature"
    } else if any("in-toto") || any("attestation") || any("provenance") {
        "an attestation"
    } else {
        "an OCI artifact"
    };
    let mut why = format!("config media type {ctype}");
    if let Some(a) = atype {
        why.push_str(&format!(", artifact type {a}"));
    }
    Some(format!(
        "{kind} ({why}), not a container image: there are no image layers to analyse"
    ))
}

pub(crate) fn is_index_doc(media_type: &str, bytes: &[u8]) -> bool {
    if media_type.contains("image.index") || media_type.contains("manifest.list") {
        return true;
    }
    if media_type.contains("image.manifest") || media_type.contains("distribution.manifest.v2") {
        return false;
    }
    // Unknown media type: decide by shape.
    serde_json::from_slice::<serde_json::Value>(bytes)
        .map(|v| v.get("manifests").is_some() && v.get("layers").is_none())
        .unwrap_or(false)
}

/// Deepest nesting of image indexes.
pub const MAX_INDEX_DEPTH: usize = 8;
/// Most index documents read while looking for manifests (fan-out bound).
pub const MAX_INDEX_DOCS: usize = 256;
/// Most manifests the indexes may list in all.
pub const MAX_MANIFESTS: usize = 4096;

fn collect(
    src: &Source,
    loc: &Location,
    descs: &[Descriptor],
    inherited_names: &[String],
    depth: usize,
    docs: &mut usize,
    out: &mut Vec<Candidate>,
) -> Result<()> {
    if depth > MAX_INDEX_DEPTH {
        return Err(Error::format(
            loc.clone(),
            format!("image indexes nested more than {MAX_INDEX_DEPTH} deep"),
        ));
    }
    for d in descs {
        if out.len() >= MAX_MANIFESTS {
            return Err(Error::format(
                loc.clone(),
                format!("image indexes list more than {MAX_MANIFESTS} manifests"),
            ));
        }
        if is_attestation(d) {
            continue;
        }
        let mut names = names_of(d);
        if names.is_empty() {
            names = inherited_names.to_vec();
        }
        let media_type = d.media_type().to_string();
        if media_type.contains("image.index")
            || media_type.contains("manifest.list")
            || !media_type.contains("manifest")
        {
            let member = blob_member(d);
            *docs += 1;
            if *docs > MAX_INDEX_DOCS {
                return Err(Error::format(
                    loc.clone(),
                    format!("image indexes refer to more than {MAX_INDEX_DOCS} index documents"),
                ));
            }
            let bytes = src.read_small(&member, loc)?;
            if is_index_doc(&media_type, &bytes) {
                let nested: ImageIndex =
                    parse_oci(&bytes, &loc.member(member.clone()), "image index")?;
                collect(src, loc, nested.manifests(), &names, depth + 1, docs, out)?;
                continue;
            }
        }
        out.push(Candidate {
            manifest: d.clone(),
            platform: platform_of(d),
            names,
        });
    }
    Ok(())
}

pub(super) fn oci_layout(
    src: &Source,
    loc: &Location,
    select: &Select,
) -> Result<(ImageMeta, Vec<LayerRef>)> {
    let iloc = loc.member("index.json");
    let bytes = src.read_small("index.json", loc)?;
    let index: ImageIndex = parse_oci(&bytes, &iloc, "image index")?;
    let mut cands = Vec::new();
    collect(src, loc, index.manifests(), &[], 0, &mut 0, &mut cands)?;
    if cands.is_empty() {
        return Err(Error::format(iloc, "the index lists no image manifest"));
    }
    if let Some(want) = &select.image {
        let all: Vec<String> = cands.iter().flat_map(|c| c.names.clone()).collect();
        cands.retain(|c| c.names.iter().any(|n| tag_matches(n, want) || n == want));
        if cands.is_empty() {
            return Err(Error::usage(
                loc.clone(),
                format!(
                    "no image {want:?} in the layout; it holds: {}",
                    if all.is_empty() {
                        "<untagged>".into()
                    } else {
                        all.join(", ")
                    }
                ),
            ));
        }
    }
    let chosen = choose_platform(&cands, select, loc)?;
    let mmember = blob_member(&chosen.manifest);
    let mloc = loc.member(mmember.clone());
    let mbytes = src.read_small(&mmember, loc)?;
    let manifest: ImageManifest = parse_oci(&mbytes, &mloc, "image manifest")?;
    let cmember = blob_member(manifest.config());
    let config = src.read_small(&cmember, loc)?;
    image_of_manifest(
        &manifest,
        &config,
        &loc.member(cmember.clone()),
        Format::OciLayout,
        chosen.names.clone(),
        chosen.platform.as_deref(),
        &loc.source,
        blob_member,
    )
}

/// The image a manifest describes, given its config blob: metadata and one
/// [`LayerRef`] per layer (`member` names each layer's blob in the source).
#[allow(clippy::too_many_arguments)]
pub(crate) fn image_of_manifest(
    manifest: &ImageManifest,
    config_bytes: &[u8],
    cloc: &Location,
    format: Format,
    tags: Vec<String>,
    platform: Option<&str>,
    source: &str,
    member: impl Fn(&Descriptor) -> String,
) -> Result<(ImageMeta, Vec<LayerRef>)> {
    if let Some(what) = artifact(manifest, config_bytes) {
        return Err(Error::format(Location::source(source), what));
    }
    let config: ConfigJson = parse_json(config_bytes, cloc)?;
    let diff_ids = config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    let history = config.history.clone().unwrap_or_default();
    let cmds = layer_commands(&history, manifest.layers().len());
    let layers: Vec<LayerRef> = manifest
        .layers()
        .iter()
        .enumerate()
        .map(|(i, d)| LayerRef {
            member: member(d),
            digest: d.digest().to_string(),
            diff_id: diff_ids.get(i).cloned().unwrap_or_default(),
            created_by: cmds[i].clone(),
        })
        .collect();
    let mut plat_parts = platform.unwrap_or_default().split('/');
    let meta = ImageMeta {
        source: source.to_string(),
        format,
        tags,
        os: config
            .os
            .clone()
            .or(plat_parts.next().map(String::from))
            .unwrap_or_default(),
        architecture: config
            .architecture
            .clone()
            .or(plat_parts.next().map(String::from))
            .unwrap_or_default(),
        variant: config.variant.clone(),
        history,
        labels: config.labels(),
        annotations: manifest
            .annotations()
            .as_ref()
            .map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        warnings: diff_id_warnings(diff_ids.len(), layers.len()),
    };
    Ok((meta, layers))
}

/// The manifest to analyse among an index's: `--platform`'s, else the only
/// one, else the host's.
pub(crate) fn choose_platform<'a>(
    cands: &'a [Candidate],
    select: &Select,
    loc: &Location,
) -> Result<&'a Candidate> {
    let list = |c: &[Candidate]| {
        c.iter()
            .map(|c| {
                c.platform
                    .clone()
                    .unwrap_or_else(|| "unknown platform".into())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(if let Some(want) = &select.platform {
        match cands
            .iter()
            .find(|c| platform_matches(c.platform.as_deref(), want))
        {
            Some(c) => c,
            None => {
                return Err(Error::usage(
                    loc.clone(),
                    format!(
                        "no manifest for platform {want}; available: {}",
                        list(cands)
                    ),
                ))
            }
        }
    } else if cands.len() == 1 {
        &cands[0]
    } else {
        let (os, arch) = host_platform();
        let host = format!("{os}/{arch}");
        match cands
            .iter()
            .find(|c| platform_matches(c.platform.as_deref(), &host))
        {
            Some(c) => c,
            // Several tags without platforms (a plain layout): the first.
            None if cands.iter().all(|c| c.platform.is_none()) => &cands[0],
            None => {
                return Err(Error::usage(
                    loc.clone(),
                    format!(
                        "no manifest for the host platform {host}; choose one with --platform: {}",
                        list(cands)
                    ),
                ))
            }
        }
    })
}

fn platform_matches(p: Option<&str>, want: &str) -> bool {
    let Some(p) = p else { return false };
    let have: Vec<&str> = p.split('/').collect();
    let want: Vec<&str> = want.split('/').collect();
    have.len() >= 2
        && want.len() >= 2
        && have[..2] == want[..2]
        && (want.len() < 3 || have.get(2) == want.get(2))
}
