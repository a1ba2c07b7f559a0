//! Pull bytes: what a finding or a fix costs in download bytes. A layer's
//! blob is compressed as a whole, so a file's own share of it is unknown;
//! each file is charged its layer's ratio `compressed_bytes / bytes`
//! (capped at 1: an uncompressed layer's tar headers are not the file's).
//! The figures are estimates and are named so wherever they are shown.

use super::waste::Report;

/// `bytes` of `layer` in download bytes.
pub fn estimate(report: &Report, layer: usize, bytes: u64) -> u64 {
    let Some(l) = report.layers.get(layer) else {
        return 0;
    };
    if l.bytes == 0 || l.compressed_bytes >= l.bytes {
        return bytes;
    }
    (bytes as u128 * l.compressed_bytes as u128 / l.bytes as u128) as u64
}

/// Fill every pull-bytes figure of a finished report: the summary's,
/// each finding's and each suggestion's (the sum of the findings it covers,
/// or its bytes at its layers' ratio when it covers visible files). Run it
/// again after findings are removed (ignores).
pub fn fill(report: &mut Report) {
    for i in 0..report.waste.len() {
        let f = &report.waste[i];
        let c = estimate(report, f.stored_in_layer, f.bytes);
        report.waste[i].compressed_bytes = c;
    }
    let s = &mut report.summary;
    s.compressed_bytes = report.layers.iter().map(|l| l.compressed_bytes).sum();
    s.wasted_compressed_bytes = report.waste.iter().map(|f| f.compressed_bytes).sum();
    for i in 0..report.suggestions.len() {
        let sg = &report.suggestions[i];
        let c = if sg.findings.is_empty() {
            let (bytes, compressed) = sg.layers.iter().fold((0u64, 0u64), |(b, c), &l| {
                let layer = report.layers.get(l);
                (
                    b + layer.map_or(0, |l| l.bytes),
                    c + layer.map_or(0, |l| l.compressed_bytes.min(l.bytes)),
                )
            });
            if bytes == 0 {
                sg.saves_bytes
            } else {
                (sg.saves_bytes as u128 * compressed as u128 / bytes as u128) as u64
            }
        } else {
            sg.findings
                .iter()
                .filter_map(|&j| report.waste.get(j))
                .map(|f| f.compressed_bytes)
                .sum()
        };
        report.suggestions[i].saves_compressed_bytes = c;
    }
}
