//! `imgscope share IMAGE…`: what a host or registry storing all these images
//! pays. Layers are shared by diff_id (identical uncompressed bytes); a layer
//! is stored once however many images use it.

use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

use crate::load::image::display_command;
use crate::suggest::Report;

#[derive(Debug, Clone, Serialize)]
pub struct ShareImage {
    pub source: String,
    pub total_bytes: u64,
    /// Bytes of layers no other image uses.
    pub unique_bytes: u64,
    /// Bytes of layers at least one other image uses too.
    pub shared_bytes: u64,
    /// Sum of its layers' stored (pull) sizes.
    pub pull_bytes: u64,
    pub layer_count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShareLayer {
    pub diff_id: String,
    pub bytes: u64,
    pub compressed_bytes: u64,
    /// Images (indexes into `images`) that hold this layer, ascending.
    pub used_by: Vec<usize>,
    pub created_by: String,
}

/// Two images whose layers run the same instructions but hold different
/// bytes (built separately, or a cache miss): built on one of them, the
/// other would share those layers too.
#[derive(Debug, Clone, Serialize)]
pub struct RebaseHint {
    /// The image whose layers the other would reuse.
    pub base: usize,
    pub other: usize,
    /// The base image's layers (indexes) the other would be built on.
    pub layers: Vec<usize>,
    /// Bytes the two would share on top of what they share now.
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Share {
    pub schema: u32,
    pub images: Vec<ShareImage>,
    /// Every distinct layer, the most used first, then the largest.
    pub layers: Vec<ShareLayer>,
    /// Each distinct layer once.
    pub disk_bytes: u64,
    /// Every image's layers, as if nothing were shared (squashed images).
    pub disk_bytes_without_sharing: u64,
    /// Stored (pull) sizes, each distinct layer once.
    pub pull_bytes: u64,
    pub pull_bytes_without_sharing: u64,
    /// Best first.
    pub hints: Vec<RebaseHint>,
}

/// Compare the layers of several reports.
pub fn share(reports: &[&Report]) -> Share {
    let mut layers: Vec<ShareLayer> = Vec::new();
    let mut by_id: HashMap<&str, usize> = HashMap::default();
    for (i, r) in reports.iter().enumerate() {
        for l in &r.layers {
            let k = *by_id.entry(l.diff_id.as_str()).or_insert_with(|| {
                layers.push(ShareLayer {
                    diff_id: l.diff_id.clone(),
                    bytes: l.bytes,
                    compressed_bytes: l.compressed_bytes,
                    used_by: Vec::new(),
                    created_by: l.created_by.clone(),
                });
                layers.len() - 1
            });
            if layers[k].used_by.last() != Some(&i) {
                layers[k].used_by.push(i);
            }
        }
    }
    let images = reports
        .iter()
        .map(|r| {
            let (mut unique, mut shared) = (0, 0);
            for l in &r.layers {
                if layers[by_id[l.diff_id.as_str()]].used_by.len() > 1 {
                    shared += l.bytes;
                } else {
                    unique += l.bytes;
                }
            }
            ShareImage {
                source: r.image.source.clone(),
                total_bytes: r.summary.total_bytes,
                unique_bytes: unique,
                shared_bytes: shared,
                pull_bytes: r.layers.iter().map(|l| l.compressed_bytes).sum(),
                layer_count: r.layers.len(),
            }
        })
        .collect::<Vec<_>>();
    let disk_bytes = layers.iter().map(|l| l.bytes).sum();
    let pull_bytes = layers.iter().map(|l| l.compressed_bytes).sum();
    let disk_bytes_without_sharing = images.iter().map(|i| i.total_bytes).sum();
    let pull_bytes_without_sharing = images.iter().map(|i| i.pull_bytes).sum();
    layers.sort_by(|a, b| {
        b.used_by
            .len()
            .cmp(&a.used_by.len())
            .then_with(|| b.bytes.cmp(&a.bytes))
            .then_with(|| a.used_by.cmp(&b.used_by))
            .then_with(|| a.diff_id.cmp(&b.diff_id))
    });
    Share {
        schema: 1,
        images,
        layers,
        disk_bytes,
        disk_bytes_without_sharing,
        pull_bytes,
        pull_bytes_without_sharing,
        hints: hints(reports),
    }
}

/// For each pair of images: after their common layers, the run of layers
/// with the same instruction but different bytes.
fn hints(reports: &[&Report]) -> Vec<RebaseHint> {
    let mut out = Vec::new();
    for a in 0..reports.len() {
        for b in a + 1..reports.len() {
            let (la, lb) = (&reports[a].layers, &reports[b].layers);
            let mut k = 0;
            while k < la.len() && k < lb.len() && la[k].diff_id == lb[k].diff_id {
                k += 1;
            }
            let start = k;
            let mut bytes = 0;
            while k < la.len()
                && k < lb.len()
                && la[k].diff_id != lb[k].diff_id
                && display_command(&la[k].created_by) == display_command(&lb[k].created_by)
            {
                bytes += la[k].bytes.min(lb[k].bytes);
                k += 1;
            }
            if bytes == 0 {
                continue;
            }
            // Rebuild the smaller image on the larger one's layers.
            let (base, other) = if reports[a].summary.total_bytes >= reports[b].summary.total_bytes
            {
                (a, b)
            } else {
                (b, a)
            };
            out.push(RebaseHint {
                base,
                other,
                layers: (start..k).collect(),
                bytes,
            });
        }
    }
    out.sort_by(|x, y| {
        y.bytes
            .cmp(&x.bytes)
            .then_with(|| (x.base, x.other).cmp(&(y.base, y.other)))
    });
    out
}
