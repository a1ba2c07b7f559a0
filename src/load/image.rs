//! Finding the image inside a source: docker-archive (`manifest.json`) or OCI
//! image layout (`index.json` → nested indexes → manifest → config + layers).

use serde::Deserialize;

use crate::error::{Error, Location, Result};
use crate::load::source::Source;

pub(crate) use super::oci::{
    choose_platform, image_of_manifest, index_candidates, is_index_doc, own_media_type,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Format {
    #[serde(rename = "docker-archive")]
    DockerArchive,
    #[serde(rename = "oci-layout")]
    OciLayout,
    /// Read through a registry's API.
    #[serde(rename = "registry")]
    Registry,
    /// Read from a podman/buildah/CRI-O store (`containers-storage:`).
    #[serde(rename = "containers-storage")]
    ContainersStorage,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DockerArchive => "docker-archive",
            Format::OciLayout => "oci-layout",
            Format::Registry => "registry",
            Format::ContainersStorage => "containers-storage",
        }
    }
}

/// A layer as the manifest names it.
#[derive(Debug, Clone)]
pub struct LayerRef {
    /// Member name inside the source (archive path or `blobs/sha256/…`).
    pub member: String,
    /// Digest of the stored blob (`sha256:…`), when known.
    pub digest: String,
    /// Digest of the uncompressed tar, from the config's `rootfs.diff_ids`.
    pub diff_id: String,
    /// Raw `created_by` of the history entry that made this layer.
    pub created_by: String,
}

#[derive(Debug, Clone)]
pub struct ImageMeta {
    pub source: String,
    pub format: Format,
    pub tags: Vec<String>,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// All history entries, including empty ones (for Dockerfile mapping).
    pub history: Vec<HistoryEntry>,
    /// The config's labels (`config.Labels`).
    pub labels: std::collections::BTreeMap<String, String>,
    /// The manifest's annotations (OCI; none in a docker-archive).
    pub annotations: std::collections::BTreeMap<String, String>,
    /// Oddities of the manifest and config (e.g. a diff_ids count that is
    /// not the layer count).
    pub warnings: Vec<crate::load::index::Warning>,
}

/// A warning when the config's diff_ids do not pair one to one with the
/// manifest's layers.
pub(super) fn diff_id_warnings(diff_ids: usize, layers: usize) -> Vec<crate::load::index::Warning> {
    if diff_ids == layers {
        return Vec::new();
    }
    vec![crate::load::index::Warning {
        layer: None,
        path: None,
        message: format!(
            "the config lists {diff_ids} diff_ids for {layers} layers; layers without one are not verified"
        ),
    }]
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct HistoryEntry {
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub empty_layer: Option<bool>,
    /// RFC 3339 time the entry was made.
    #[serde(default)]
    pub created: Option<String>,
    /// Free text the builder left (BuildKit: `buildkit.dockerfile.v0`,
    /// buildah: `FROM <image>`).
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
}

/// The part of the config's `config` object kept: its labels.
#[derive(Debug, Deserialize, Default)]
struct RunConfig {
    #[serde(default, rename = "Labels")]
    labels: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ConfigJson {
    #[serde(default)]
    pub(super) os: Option<String>,
    #[serde(default)]
    pub(super) architecture: Option<String>,
    #[serde(default)]
    pub(super) variant: Option<String>,
    #[serde(default)]
    pub(super) history: Option<Vec<HistoryEntry>>,
    pub(super) rootfs: Option<RootFs>,
    #[serde(default)]
    config: Option<RunConfig>,
}

impl ConfigJson {
    pub(super) fn labels(&self) -> std::collections::BTreeMap<String, String> {
        self.config
            .as_ref()
            .and_then(|c| c.labels.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct RootFs {
    #[serde(default)]
    pub(super) diff_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Options for choosing among several images/platforms.
#[derive(Debug, Clone, Default)]
pub struct Select {
    pub image: Option<String>,
    /// `os/arch[/variant]`
    pub platform: Option<String>,
}

pub fn host_platform() -> (String, String) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    ("linux".to_string(), arch.to_string())
}

pub(super) fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8], loc: &Location) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::format(loc.clone(), format!("malformed JSON: {e}")))
}

pub(super) fn hex_digest_of_member(member: &str) -> Option<String> {
    let base = member.rsplit('/').next()?;
    let stem = base
        .trim_end_matches(".tar.gz")
        .trim_end_matches(".tar.zst")
        .trim_end_matches(".tar");
    let stem = stem.strip_prefix("sha256:").unwrap_or(stem);
    (stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{stem}"))
}

/// Turn config history into one `created_by` per non-empty layer.
pub(super) fn layer_commands(history: &[HistoryEntry], n_layers: usize) -> Vec<String> {
    let mut out: Vec<String> = history
        .iter()
        .filter(|h| !h.empty_layer.unwrap_or(false))
        .map(|h| h.created_by.clone().unwrap_or_default())
        .collect();
    if out.len() > n_layers {
        // Some tools record more non-empty entries than layers: keep the last.
        out.drain(..out.len() - n_layers);
    }
    while out.len() < n_layers {
        out.insert(0, String::new());
    }
    out
}

pub fn resolve(
    src: &Source,
    loc: &Location,
    select: &Select,
) -> Result<(ImageMeta, Vec<LayerRef>)> {
    if src.exists("manifest.json") {
        docker_archive(src, loc, select)
    } else if src.exists("index.json") {
        super::oci::oci_layout(src, loc, select)
    } else {
        Err(Error::format(
            loc.clone(),
            "not a container image: no manifest.json (docker-archive) or index.json (OCI layout) found",
        ))
    }
}

pub(super) fn read_config(src: &Source, loc: &Location, member: &str) -> Result<ConfigJson> {
    let bytes = src.read_small(member, loc)?;
    parse_json(&bytes, &loc.member(member.to_string()))
}

fn docker_archive(
    src: &Source,
    loc: &Location,
    select: &Select,
) -> Result<(ImageMeta, Vec<LayerRef>)> {
    let mloc = loc.member("manifest.json");
    let bytes = src.read_small("manifest.json", loc)?;
    let manifest: Vec<DockerManifestEntry> = parse_json(&bytes, &mloc)?;
    if manifest.is_empty() {
        return Err(Error::format(mloc, "manifest.json lists no image"));
    }
    let chosen = match &select.image {
        None => &manifest[0],
        Some(want) => {
            let matches: Vec<&DockerManifestEntry> = manifest
                .iter()
                .filter(|m| {
                    m.repo_tags.iter().flatten().any(|t| tag_matches(t, want))
                        || m.config.contains(want.trim_start_matches("sha256:"))
                })
                .collect();
            match matches.len() {
                1 => matches[0],
                0 => {
                    return Err(Error::usage(
                        loc.clone(),
                        format!(
                            "no image {want:?} in the archive; it holds: {}",
                            list_tags(&manifest)
                        ),
                    ))
                }
                _ => {
                    return Err(Error::usage(
                        loc.clone(),
                        format!(
                            "{want:?} is ambiguous; the archive holds: {}",
                            list_tags(&manifest)
                        ),
                    ))
                }
            }
        }
    };
    let config = read_config(src, loc, &chosen.config)?;
    let diff_ids = config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    let history = config.history.clone().unwrap_or_default();
    let cmds = layer_commands(&history, chosen.layers.len());
    let mut layers = Vec::new();
    for (i, member) in chosen.layers.iter().enumerate() {
        let diff_id = diff_ids.get(i).cloned().unwrap_or_default();
        let digest = hex_digest_of_member(member)
            .filter(|_| !member.ends_with("/layer.tar"))
            .unwrap_or_else(|| diff_id.clone());
        layers.push(LayerRef {
            member: member.clone(),
            digest,
            diff_id,
            created_by: cmds[i].clone(),
        });
    }
    let meta = ImageMeta {
        source: loc.source.clone(),
        format: Format::DockerArchive,
        tags: chosen.repo_tags.clone().unwrap_or_default(),
        os: config.os.clone().unwrap_or_default(),
        architecture: config.architecture.clone().unwrap_or_default(),
        variant: config.variant.clone(),
        history,
        labels: config.labels(),
        annotations: Default::default(),
        warnings: diff_id_warnings(diff_ids.len(), layers.len()),
    };
    Ok((meta, layers))
}

/// Do two image names name the same image (`debian` is
/// `docker.io/library/debian:latest`)?
pub(crate) fn tag_matches(tag: &str, want: &str) -> bool {
    if tag == want {
        return true;
    }
    // `name` means `name:latest`; docker prefixes `docker.io/library/`.
    let norm = |s: &str| {
        let s = s
            .strip_prefix("docker.io/library/")
            .or_else(|| s.strip_prefix("docker.io/"))
            .or_else(|| s.strip_prefix("localhost/"))
            .unwrap_or(s)
            .to_string();
        if s.rsplit('/').next().is_some_and(|last| last.contains(':')) {
            s
        } else {
            format!("{s}:latest")
        }
    };
    norm(tag) == norm(want)
}

fn list_tags(m: &[DockerManifestEntry]) -> String {
    m.iter()
        .map(|e| {
            e.repo_tags
                .as_ref()
                .filter(|t| !t.is_empty())
                .map(|t| t.join(", "))
                .unwrap_or_else(|| format!("<untagged {}>", e.config))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `created_by` without the shell noise, for display.
pub fn display_command(raw: &str) -> String {
    let mut s = raw.trim();
    if let Some(rest) = s.strip_prefix("/bin/sh -c #(nop) ") {
        s = rest.trim();
        return s.to_string();
    }
    if let Some(rest) = s.strip_prefix("/bin/sh -c ") {
        return format!("RUN {}", rest.trim());
    }
    // BuildKit: "RUN /bin/sh -c cmd # buildkit"
    if let Some(rest) = s.strip_suffix(" # buildkit") {
        s = rest.trim();
        if let Some(r) = s.strip_prefix("RUN /bin/sh -c ") {
            return format!("RUN {}", r.trim());
        }
        return s.to_string();
    }
    // buildah records build args as `|N A=B ... /bin/sh -c cmd`.
    if let Some(rest) = s.strip_prefix("RUN |").or_else(|| {
        s.strip_prefix('|')
            .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    }) {
        // BuildKit records build args as `RUN |N A=B ... /bin/sh -c cmd`
        if let Some(i) = rest.find("/bin/sh -c ") {
            return format!("RUN {}", rest[i + 11..].trim());
        }
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn strips_nop() {
        assert_eq!(
            display_command("/bin/sh -c #(nop) ADD file:abc in / "),
            "ADD file:abc in /"
        );
        assert_eq!(
            display_command("/bin/sh -c chmod 444 /x"),
            "RUN chmod 444 /x"
        );
        assert_eq!(
            display_command("|1 GREETING=hi /bin/sh -c echo \"$GREETING\" > /etc/greeting"),
            "RUN echo \"$GREETING\" > /etc/greeting"
        );
        assert_eq!(
            display_command("RUN /bin/sh -c apt-get update # buildkit"),
            "RUN apt-get update"
        );
        assert_eq!(display_command("COPY x /y # buildkit"), "COPY x /y");
    }
    #[test]
    fn tags() {
        assert!(tag_matches("docker.io/library/busybox:latest", "busybox"));
        assert!(tag_matches("localhost/demo:latest", "demo:latest"));
        assert!(!tag_matches("a:1", "a:2"));
    }
}
