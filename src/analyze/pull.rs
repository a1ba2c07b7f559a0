//! Pull bytes: what a finding or a fix costs in download bytes. A layer's
//! blob is compressed as a whole, so a file's own share of it is unknown;
//! each file is charged its layer's ratio `compressed_bytes / bytes`
//! (capped at 1: an uncompressed layer's tar headers are not the file's).
//! The figures are estimates and are named so wherever they are shown.

use super::waste::{Finding, LayerReport};

/// `bytes` of `layer` in download bytes.
pub fn estimate(layers: &[LayerReport], layer: usize, bytes: u64) -> u64 {
    let Some(l) = layers.get(layer) else {
        return 0;
    };
    if l.bytes == 0 || l.compressed_bytes >= l.bytes {
        return bytes;
    }
    (bytes as u128 * l.compressed_bytes as u128 / l.bytes as u128) as u64
}

/// What a fix saves in download bytes: the sum over the findings it covers,
/// or, when it covers visible files (no finding), its bytes at its layers'
/// ratio.
pub fn saving(
    layers: &[LayerReport],
    waste: &[Finding],
    findings: &[usize],
    fix_layers: &[usize],
    saves_bytes: u64,
) -> u64 {
    if !findings.is_empty() {
        return findings
            .iter()
            .filter_map(|&j| waste.get(j))
            .map(|f| f.compressed_bytes)
            .sum();
    }
    let (bytes, compressed) = fix_layers.iter().fold((0u64, 0u64), |(b, c), &l| {
        let layer = layers.get(l);
        (
            b + layer.map_or(0, |l| l.bytes),
            c + layer.map_or(0, |l| l.compressed_bytes.min(l.bytes)),
        )
    });
    if bytes == 0 {
        saves_bytes
    } else {
        (saves_bytes as u128 * compressed as u128 / bytes as u128) as u64
    }
}
