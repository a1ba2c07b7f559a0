//! `imgscope diff`: layers aligned first by diff_id (identical bytes: a shared
//! base or a build-cache hit), then by instruction (the same `created_by`, or
//! one close enough in words), then by position between already aligned
//! layers when the instruction kind agrees. Alignment never crosses, and it is
//! computed in a canonical orientation, so `diff(B, A)` mirrors `diff(A, B)`.

use rustc_hash::FxHashMap as HashMap;

use crate::load::image::display_command;
use crate::suggest::Report;

/// What the alignment looks at in a layer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LayerKey {
    pub diff_id: String,
    pub command: String,
}

pub(crate) fn layer_keys(r: &Report) -> Vec<LayerKey> {
    r.layers
        .iter()
        .map(|l| LayerKey {
            diff_id: l.diff_id.clone(),
            command: display_command(&l.created_by),
        })
        .collect()
}

/// The instruction kind: `RUN`, `COPY`, `ADD`, … (the first word).
fn verb(command: &str) -> &str {
    command.split_whitespace().next().unwrap_or("")
}

/// Words of a command, `&&`, `;` and `\` separators dropped.
fn words(command: &str) -> Vec<&str> {
    let mut w: Vec<&str> = command
        .split_whitespace()
        .filter(|t| !matches!(*t, "&&" | ";" | "\\" | "||"))
        .collect();
    w.sort_unstable();
    w
}

/// Dice coefficient of the two commands' word multisets, 0..=1.
pub fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < wa.len() && j < wb.len() {
        match wa[i].cmp(wb[j]) {
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    2.0 * common as f64 / (wa.len() + wb.len()) as f64
}

/// Two commands are "the same instruction, edited" from this similarity on.
const SIMILAR: f64 = 0.5;

/// Aligned pairs (old index, new index), increasing on both sides.
pub fn align(old: &[LayerKey], new: &[LayerKey]) -> Vec<(usize, usize)> {
    // Canonical orientation: the alignment of (A, B) is the mirror of the
    // alignment of (B, A) by construction.
    if old > new {
        let mut p: Vec<(usize, usize)> = align_oriented(new, old)
            .into_iter()
            .map(|(a, b)| (b, a))
            .collect();
        p.sort_unstable();
        return p;
    }
    align_oriented(old, new)
}

fn align_oriented(old: &[LayerKey], new: &[LayerKey]) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    // Accept candidates in order unless one crosses or reuses a layer.
    let accept = |pairs: &mut Vec<(usize, usize)>, mut cands: Vec<(f64, usize, usize)>| {
        cands.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| a.1.abs_diff(a.2).cmp(&b.1.abs_diff(b.2)))
                .then_with(|| (a.1 + a.2).cmp(&(b.1 + b.2)))
                .then_with(|| (a.1, a.2).cmp(&(b.1, b.2)))
        });
        for (_, i, j) in cands {
            let ok = pairs
                .iter()
                .all(|&(a, b)| a != i && b != j && ((a < i) == (b < j)));
            if ok {
                pairs.push((i, j));
            }
        }
    };
    // 1. identical bytes
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::default();
    for (j, k) in new.iter().enumerate() {
        by_id.entry(k.diff_id.as_str()).or_default().push(j);
    }
    let mut cands = Vec::new();
    for (i, k) in old.iter().enumerate() {
        for &j in by_id.get(k.diff_id.as_str()).into_iter().flatten() {
            cands.push((1.0, i, j));
        }
    }
    accept(&mut pairs, cands);
    // 2. the same or a similar instruction
    let mut cands = Vec::new();
    for (i, a) in old.iter().enumerate() {
        for (j, b) in new.iter().enumerate() {
            if verb(&a.command) != verb(&b.command) {
                continue;
            }
            let s = similarity(&a.command, &b.command);
            if s >= SIMILAR {
                cands.push((s, i, j));
            }
        }
    }
    accept(&mut pairs, cands);
    // 3. by position between aligned layers, when the instruction kind agrees
    pairs.sort_unstable();
    let mut bounds = vec![(None, None)];
    bounds.extend(pairs.iter().map(|&(i, j)| (Some(i), Some(j))));
    let mut extra = Vec::new();
    for w in 0..bounds.len() {
        let lo = bounds[w];
        let hi = bounds.get(w + 1).copied();
        let from_o = lo.0.map_or(0, |i| i + 1);
        let from_n = lo.1.map_or(0, |j| j + 1);
        let to_o = hi.and_then(|h| h.0).unwrap_or(old.len());
        let to_n = hi.and_then(|h| h.1).unwrap_or(new.len());
        for (i, j) in (from_o..to_o).zip(from_n..to_n) {
            if verb(&old[i].command) == verb(&new[j].command) {
                extra.push((i, j));
            }
        }
    }
    pairs.extend(extra);
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(id: &str, cmd: &str) -> LayerKey {
        LayerKey {
            diff_id: id.into(),
            command: cmd.into(),
        }
    }

    #[test]
    fn chained_cleanup_aligns_with_the_install() {
        let old = [
            k("a", "ADD file:x in /"),
            k(
                "b",
                "RUN mkdir -p /data && head -c 300 /bin/busybox > /data/big.bin",
            ),
            k("c", "RUN rm -rf /data/big.bin"),
        ];
        let new = [
            k("a", "ADD file:x in /"),
            k(
                "d",
                "RUN mkdir -p /data && head -c 300 /bin/busybox > /data/big.bin && rm -rf /data/big.bin",
            ),
        ];
        assert_eq!(align(&old, &new), vec![(0, 0), (1, 1)]);
        assert_eq!(align(&new, &old), vec![(0, 0), (1, 1)]);
    }

    #[test]
    fn moved_copy_aligns_by_instruction_not_position() {
        let old = [
            k("a", "ADD file:x in /"),
            k("t", "COPY dir:tool in /usr/"),
            k("h", "COPY file:hello in /usr/local/bin/hello"),
        ];
        let new = [
            k("a", "ADD file:x in /"),
            k("h2", "COPY file:hello in /usr/local/bin/hello"),
        ];
        assert_eq!(align(&old, &new), vec![(0, 0), (2, 1)]);
    }

    #[test]
    fn similarity_is_symmetric_and_bounded() {
        let a = "RUN apt-get update && apt-get install -y curl";
        let b = "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*";
        assert_eq!(similarity(a, b), similarity(b, a));
        assert!(similarity(a, b) > SIMILAR && similarity(a, b) < 1.0);
        assert_eq!(similarity("RUN x", "RUN x"), 1.0);
    }
}
