//! The store's records: `<driver>-images/images.json` (names, IDs, top
//! layer, big-data items such as the manifest and the config),
//! `<driver>-layers/layers.json` (each layer's parent, diff digest and size,
//! and the `incomplete` flag of an interrupted pull), and the big-data files
//! themselves (`<driver>-images/<id>/<key>`). All read, never written.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use base64::Engine as _;
use serde::Deserialize;

use super::store::Store;
use crate::load::image::tag_matches;

/// Largest images.json / layers.json read (a store of thousands of images
/// stays far below it).
pub const MAX_RECORDS: u64 = 256 * 1024 * 1024;
/// Largest big-data item (manifest, config) read.
pub const MAX_BIG_DATA: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Deserialize)]
pub struct ImageRec {
    pub id: String,
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub digests: Vec<String>,
    #[serde(default)]
    pub names: Vec<String>,
    /// The top layer (none for an image without layers).
    #[serde(default)]
    pub layer: Option<String>,
    #[serde(default, rename = "big-data-names")]
    pub big_data_names: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LayerRec {
    pub id: String,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default, rename = "diff-digest")]
    pub diff_digest: Option<String>,
    #[serde(default, rename = "diff-size")]
    pub diff_size: Option<i64>,
    #[serde(default)]
    pub flags: HashMap<String, serde_json::Value>,
}

impl LayerRec {
    /// Marked incomplete: a pull or commit that did not finish (the store
    /// deletes such layers the next time it is opened for writing).
    pub fn incomplete(&self) -> bool {
        self.flags.get("incomplete").and_then(|v| v.as_bool()) == Some(true)
    }
}

/// Read a file of the store read-only, without touching its access time
/// where the kernel lets this process ask for that.
pub fn open_read(path: &Path) -> std::io::Result<std::fs::File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOATIME | libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
        {
            // O_NOATIME needs the file's owner (or CAP_FOWNER).
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {}
            other => return other,
        }
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
    }
    #[cfg(not(target_os = "linux"))]
    {
        std::fs::File::open(path)
    }
}

/// A regular file of the store, whole, at most `max` bytes.
pub fn read_file(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let f = open_read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let meta = f
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    if meta.len() > max {
        return Err(format!(
            "{} is {} bytes, over the {max}-byte limit",
            path.display(),
            meta.len()
        ));
    }
    let mut v = Vec::with_capacity(meta.len() as usize);
    f.take(max + 1)
        .read_to_end(&mut v)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if v.len() as u64 > max {
        return Err(format!("{} grew past the limit while read", path.display()));
    }
    Ok(v)
}

pub fn images(store: &Store) -> Result<Vec<ImageRec>, String> {
    let p = store.meta_dir("images").join("images.json");
    let bytes = read_file(&p, MAX_RECORDS)?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: malformed JSON: {e}", p.display()))
}

pub fn layers(store: &Store) -> Result<HashMap<String, LayerRec>, String> {
    let p = store.meta_dir("layers").join("layers.json");
    let bytes = read_file(&p, MAX_RECORDS)?;
    let v: Vec<LayerRec> = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: malformed JSON: {e}", p.display()))?;
    Ok(v.into_iter().map(|l| (l.id.clone(), l)).collect())
}

/// The file name a big-data key is stored under: the key itself when it is
/// only `[.0-9a-z]`, else `=` and its standard base64.
pub fn big_data_file(key: &str) -> String {
    if !key.is_empty()
        && key
            .bytes()
            .all(|b| b == b'.' || b.is_ascii_digit() || b.is_ascii_lowercase())
    {
        key.to_string()
    } else {
        format!(
            "={}",
            base64::engine::general_purpose::STANDARD.encode(key.as_bytes())
        )
    }
}

pub fn big_data(store: &Store, image: &ImageRec, key: &str) -> Result<Vec<u8>, String> {
    let p = store
        .meta_dir("images")
        .join(&image.id)
        .join(big_data_file(key));
    if !p.exists() {
        return Err(format!(
            "the store keeps no {key:?} for image {} ({} is missing)",
            short(&image.id),
            p.display()
        ));
    }
    read_file(&p, MAX_BIG_DATA)
}

pub fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// The image `want` names: a full or abbreviated ID (`sha256:` optional),
/// a name (`app` is `localhost/app:latest` or `docker.io/library/app:latest`,
/// else the only name whose last part is `app:latest`), or `NAME@DIGEST` /
/// a manifest digest.
pub fn find<'a>(images: &'a [ImageRec], want: &str) -> Result<&'a ImageRec, String> {
    let bare = want.strip_prefix("sha256:").unwrap_or(want);
    let is_hex = bare.len() >= 3 && bare.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex {
        if let Some(i) = images.iter().find(|i| i.id == bare) {
            return Ok(i);
        }
    }
    let by_name: Vec<&ImageRec> = images
        .iter()
        .filter(|i| i.names.iter().any(|n| tag_matches(n, want)))
        .collect();
    if let [one] = by_name[..] {
        return Ok(one);
    }
    if let Some((name, digest)) = want.split_once('@') {
        let hits: Vec<&ImageRec> = images
            .iter()
            .filter(|i| {
                (i.digest.as_deref() == Some(digest) || i.digests.iter().any(|d| d == digest))
                    && i.names.iter().any(|n| same_repo(n, name))
            })
            .collect();
        if let [one] = hits[..] {
            return Ok(one);
        }
    }
    if want.starts_with("sha256:") && want.len() == 71 {
        let hits: Vec<&ImageRec> = images
            .iter()
            .filter(|i| i.digest.as_deref() == Some(want) || i.digests.iter().any(|d| d == want))
            .collect();
        if let [one] = hits[..] {
            return Ok(one);
        }
    }
    if is_hex {
        let hits: Vec<&ImageRec> = images.iter().filter(|i| i.id.starts_with(bare)).collect();
        match hits[..] {
            [one] => return Ok(one),
            [] => {}
            _ => {
                return Err(format!(
                    "{want:?} is the start of {} image IDs; give more of it",
                    hits.len()
                ))
            }
        }
    }
    if by_name.len() > 1 {
        return Err(format!(
            "{want:?} names {} images; give an ID",
            by_name.len()
        ));
    }
    // A short name: the only image whose name ends in `/NAME[:tag]`.
    if !want.contains('/') {
        let tagged = if want.contains(':') {
            want.to_string()
        } else {
            format!("{want}:latest")
        };
        let hits: Vec<&ImageRec> = images
            .iter()
            .filter(|i| {
                i.names
                    .iter()
                    .any(|n| n.rsplit('/').next() == Some(tagged.as_str()))
            })
            .collect();
        match hits[..] {
            [one] => return Ok(one),
            [] => {}
            _ => {
                let names: Vec<&str> = hits
                    .iter()
                    .flat_map(|i| i.names.iter().map(String::as_str))
                    .filter(|n| n.ends_with(&format!("/{tagged}")))
                    .collect();
                return Err(format!(
                    "{want:?} is ambiguous: {}; give the full name",
                    names.join(", ")
                ));
            }
        }
    }
    Err(not_found(images, want))
}

fn same_repo(name: &str, want: &str) -> bool {
    let repo = |s: &str| {
        let last = s.rfind('/').map_or(0, |i| i + 1);
        match s[last..].find(':') {
            Some(c) => s[..last + c].to_string(),
            None => s.to_string(),
        }
    };
    tag_matches(&format!("{}:x", repo(name)), &format!("{}:x", repo(want)))
}

/// "no image X in the store; nearest: …" with the closest names first.
fn not_found(images: &[ImageRec], want: &str) -> String {
    let mut names: Vec<&str> = images
        .iter()
        .flat_map(|i| i.names.iter().map(String::as_str))
        .collect();
    if names.is_empty() {
        return format!(
            "no image {want:?} in the store, which holds {} untagged image(s) and no names",
            images.len()
        );
    }
    let key = |n: &str| {
        // The distance to the whole name or to its last part, whichever is
        // closer (`app` is near `localhost/app:latest`).
        let tail = n.rsplit('/').next().unwrap_or(n);
        let tail_bare = tail.split(':').next().unwrap_or(tail);
        distance(n, want)
            .min(distance(tail, want))
            .min(distance(tail_bare, want))
    };
    names.sort_by_cached_key(|n| (key(n), n.to_string()));
    names.dedup();
    let shown: Vec<&str> = names.iter().take(5).copied().collect();
    format!(
        "no image {want:?} in the store; the nearest names: {}",
        shown.join(", ")
    )
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The image's layers, bottom first, from its top layer down the parents.
pub fn chain<'a>(
    layers: &'a HashMap<String, LayerRec>,
    image: &ImageRec,
    max: usize,
) -> Result<Vec<&'a LayerRec>, String> {
    let mut out = Vec::new();
    let mut next = image.layer.clone().filter(|l| !l.is_empty());
    while let Some(id) = next {
        if out.len() > max {
            return Err(format!(
                "image {}: its layer chain is longer than {max} (a loop in layers.json?)",
                short(&image.id)
            ));
        }
        let l = layers.get(&id).ok_or_else(|| {
            format!(
                "layer {id} of image {} is missing from layers.json (deleted or never written)",
                short(&image.id)
            )
        })?;
        out.push(l);
        next = l.parent.clone().filter(|p| !p.is_empty());
    }
    out.reverse();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(id: &str, names: &[&str]) -> ImageRec {
        ImageRec {
            id: id.into(),
            digest: Some(format!("sha256:{}", "d".repeat(63) + &id[..1])),
            digests: vec![],
            names: names.iter().map(|s| s.to_string()).collect(),
            layer: None,
            big_data_names: vec![],
        }
    }

    #[test]
    fn big_data_names_as_the_store_writes_them() {
        assert_eq!(big_data_file("manifest"), "manifest");
        // The file buildah wrote for a config key, seen in a real store.
        assert_eq!(
            big_data_file(
                "sha256:c124aea8b0fc6a31352883c18927d9714ae09891d20896c345d91fdf96bc3e80"
            ),
            "=c2hhMjU2OmMxMjRhZWE4YjBmYzZhMzEzNTI4ODNjMTg5MjdkOTcxNGFlMDk4OTFkMjA4OTZjMzQ1ZDkxZmRmOTZiYzNlODA="
        );
    }

    #[test]
    fn finds_by_id_name_and_short_name_and_lists_the_nearest() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let c = "c".repeat(64);
        let imgs = vec![
            img(&a, &["localhost/app:latest"]),
            img(&b, &["quay.io/x/tool:1.2"]),
            img(&c, &["docker.io/library/busybox:latest"]),
        ];
        assert_eq!(find(&imgs, &a).unwrap().id, a);
        assert_eq!(find(&imgs, "aaaa").unwrap().id, a);
        assert_eq!(find(&imgs, &format!("sha256:{b}")).unwrap().id, b);
        assert_eq!(find(&imgs, "app").unwrap().id, a);
        assert_eq!(find(&imgs, "busybox").unwrap().id, c);
        assert_eq!(find(&imgs, "tool:1.2").unwrap().id, b);
        let e = find(&imgs, "ap").unwrap_err();
        assert!(
            e.starts_with("no image \"ap\" in the store; the nearest names: localhost/app:latest"),
            "{e}"
        );
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
