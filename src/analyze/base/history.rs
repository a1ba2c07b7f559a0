//! The boundary from the history's shape alone (see the parent module):
//! each sign found, the latest one chosen, the others listed as evidence.

use super::one_line;
use crate::load::image::{display_command, HistoryEntry};

/// What the history alone says.
#[derive(Debug, Default)]
pub(super) struct HistoryVerdict {
    pub layers: Option<usize>,
    pub name: Option<String>,
    pub evidence: Vec<String>,
}

/// Dockerfile keywords (anything else at the start of `created_by` was
/// written by another tool).
const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

fn is_hex_id(s: &str) -> bool {
    let s = s.strip_prefix("sha256:").unwrap_or(s);
    s.len() >= 12 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `ADD file:<hex> in /` or `ADD dir:<hex> in /`: a root file system.
pub fn is_rootfs_add(cmd: &str) -> bool {
    let mut w = cmd.split_whitespace();
    matches!(
        (w.next(), w.next(), w.next(), w.next(), w.next()),
        (Some("ADD"), Some(src), Some("in"), Some("/"), None)
            if src
                .strip_prefix("file:")
                .or_else(|| src.strip_prefix("dir:"))
                .is_some_and(|h| !h.is_empty() && !h.contains('/'))
    )
}

/// A builder's signature in a history entry's comment.
fn signature(comment: Option<&str>) -> Option<&str> {
    let c = comment?.trim();
    if c.is_empty() {
        None
    } else if c.starts_with("FROM ") {
        Some("buildah")
    } else {
        Some(c)
    }
}

/// Seconds since the epoch of an RFC 3339 time (`2024-01-02T03:04:05.6Z`,
/// `…+01:00`); None when it is not one.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |a: usize, b: usize| -> Option<i64> { s.get(a..b)?.parse().ok() };
    if s.len() < 20 || s.as_bytes()[4] != b'-' || s.as_bytes()[10] != b'T' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        r if r.len() == 6 && (r.starts_with('+') || r.starts_with('-')) => {
            let oh: i64 = r.get(1..3)?.parse().ok()?;
            let om: i64 = r.get(4..6)?.parse().ok()?;
            let o = oh * 3600 + om * 60;
            if r.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    // Days from the civil date (proleptic Gregorian).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + h * 3600 + mi * 60 + se - offset)
}

fn duration(secs: i64) -> String {
    match secs {
        s if s >= 2 * 86400 => format!("{} days", s / 86400),
        s if s >= 2 * 3600 => format!("{} hours", s / 3600),
        s if s >= 120 => format!("{} minutes", s / 60),
        s => format!("{s} s"),
    }
}

/// A created-time jump must be at least this long to speak alone.
const JUMP_ALONE_SECS: i64 = 3600;

/// How many of the image's `n` layers come before each history entry (and
/// `n` at the end): entries map to the last layers, as the report's
/// commands do.
pub fn layers_before(history: &[HistoryEntry], n: usize) -> Vec<usize> {
    let empty = |h: &HistoryEntry| h.empty_layer.unwrap_or(false);
    let m = history.iter().filter(|h| !empty(h)).count() as i64;
    let mut before = Vec::with_capacity(history.len() + 1);
    let mut count = 0i64;
    for h in history {
        before.push((count + n as i64 - m).clamp(0, n as i64) as usize);
        if !empty(h) {
            count += 1;
        }
    }
    before.push(n);
    before
}

pub(super) fn from_history(history: &[HistoryEntry], n: usize) -> HistoryVerdict {
    let mut out = HistoryVerdict::default();
    if history.is_empty() || n == 0 {
        return out;
    }
    let empty = |h: &HistoryEntry| h.empty_layer.unwrap_or(false);
    let before = layers_before(history, n);
    let cmds: Vec<String> = history
        .iter()
        .map(|h| display_command(h.created_by.as_deref().unwrap_or("")))
        .collect();
    let word = |k: usize| {
        cmds[k]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase()
    };
    // (layers, evidence, base name) of each conclusive sign.
    let mut signs: Vec<(usize, String, Option<String>)> = Vec::new();
    // A build tool's marker: buildah writes `FROM <image>` on the first
    // entry of a build from a named image (`FROM <id>` on later steps).
    for (k, h) in history.iter().enumerate() {
        let Some(r) = h
            .comment
            .as_deref()
            .and_then(|c| c.trim().strip_prefix("FROM "))
        else {
            continue;
        };
        let r = r.trim();
        if r.is_empty() || r == "scratch" || is_hex_id(r) || before[k] == 0 {
            continue;
        }
        signs.push((
            before[k],
            format!("history entry {k} carries the comment \"FROM {r}\": buildah started the build there"),
            Some(r.to_string()),
        ));
    }
    // The base's closing CMD/ENTRYPOINT (no layer), followed by layers.
    for (k, h) in history.iter().enumerate() {
        if !empty(h) || !matches!(word(k).as_str(), "CMD" | "ENTRYPOINT") {
            continue;
        }
        if before[k] > 0 && before[k] < n && history[k + 1..].iter().any(|h| !empty(h)) {
            signs.push((
                before[k],
                format!(
                    "history entry {k} ({}, no layer) ends an image, and layers follow it",
                    one_line(&cmds[k], 50)
                ),
                None,
            ));
        }
    }
    // A change of builder: the entries at the end all carry one comment,
    // those before another one.
    let last = signature(history.last().and_then(|h| h.comment.as_deref()));
    if last.is_some() {
        let start = history
            .iter()
            .rposition(|h| signature(h.comment.as_deref()) != last)
            .map_or(0, |p| p + 1);
        if start > 0 && before[start] > 0 {
            let prev = signature(history[start - 1].comment.as_deref());
            // buildah's first step from scratch has no comment.
            if !(prev.is_none() && last == Some("buildah")) {
                signs.push((
                    before[start],
                    format!(
                        "the comment changes at history entry {start}, from {:?} to {:?}: another builder made the entries before",
                        prev.unwrap_or(""),
                        last.unwrap_or("")
                    ),
                    None,
                ));
            }
        }
    }
    // The root file system.
    if let Some(k) = (0..history.len())
        .rev()
        .find(|&k| !empty(&history[k]) && is_rootfs_add(&cmds[k]))
    {
        let src = cmds[k].split_whitespace().nth(1).unwrap_or("");
        let short: String = src.chars().take(17).collect();
        let ell = if short.len() < src.len() { "…" } else { "" };
        signs.push((
            before[k + 1],
            format!("history entry {k} (ADD {short}{ell} in /) puts a root file system in place"),
            None,
        ));
    }
    // Leading layers no Dockerfile instruction made (a base's build tool,
    // e.g. `# debian.sh …`).
    let foreign = (0..history.len())
        .take_while(|&k| {
            empty(&history[k]) || (!cmds[k].is_empty() && !KEYWORDS.contains(&word(k).as_str()))
        })
        .filter(|&k| !empty(&history[k]))
        .count();
    if foreign > 0 {
        let k = (0..history.len())
            .find(|&k| !empty(&history[k]))
            .unwrap_or(0);
        signs.push((
            before[k] + foreign.min(n - before[k]),
            format!(
                "history entry {k} ({}) is no Dockerfile instruction: the base's own build tool",
                one_line(&cmds[k], 40)
            ),
            None,
        ));
    }
    // Jumps of the created time.
    let times: Vec<Option<i64>> = history
        .iter()
        .map(|h| h.created.as_deref().and_then(parse_time))
        .collect();
    let gap_at = |k: usize| -> Option<i64> {
        // The gap before entry k.
        Some(times[k]? - times[k.checked_sub(1)?]?)
    };
    let chosen = signs.iter().map(|s| s.0).max();
    match chosen {
        Some(layers) => {
            signs.sort_by_key(|s| std::cmp::Reverse(s.0));
            for (l, e, _) in &signs {
                if *l == layers {
                    out.evidence.push(e.clone());
                } else {
                    out.evidence
                        .push(format!("{e} (at layer {l}: a base inside the base)"));
                }
            }
            // Corroboration: the created time jumps at the boundary.
            if let Some(k) =
                (1..history.len()).find(|&k| before[k] == layers && !empty(&history[k]))
            {
                if let Some(g) = gap_at(k).filter(|&g| g >= 60) {
                    out.evidence.push(format!(
                        "the created time jumps by {} before history entry {k}",
                        duration(g)
                    ));
                }
            }
            out.name = signs
                .iter()
                .find(|s| s.0 == layers && s.2.is_some())
                .and_then(|s| s.2.clone());
            out.layers = Some(layers);
        }
        None => {
            // Alone, only a long jump between two layers speaks.
            let best = (1..history.len())
                .filter(|&k| before[k] > 0 && before[k] < n && !empty(&history[k]))
                .filter_map(|k| Some((gap_at(k)?, k)))
                .max();
            if let Some((g, k)) = best.filter(|b| b.0 >= JUMP_ALONE_SECS) {
                out.evidence.push(format!(
                    "the created time jumps by {} before history entry {k}, the longest pause in the history",
                    duration(g)
                ));
                out.layers = Some(before[k]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(created_by: &str, comment: Option<&str>, empty: bool, t: &str) -> HistoryEntry {
        HistoryEntry {
            created_by: Some(created_by.into()),
            empty_layer: empty.then_some(true),
            created: Some(t.into()),
            comment: comment.map(String::from),
            author: None,
        }
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2000-03-01T00:00:00Z"), Some(951868800));
        assert_eq!(
            parse_time("2026-11-29T17:00:28.63623738Z"),
            parse_time("2026-11-29T18:00:28+01:00")
        );
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn rootfs_adds() {
        assert!(is_rootfs_add("ADD file:ce026b62356eec3ad1214f in /"));
        assert!(is_rootfs_add("ADD dir:ce026b62356eec3ad1214f in /"));
        assert!(!is_rootfs_add("ADD file:ce026b in /etc/"));
        assert!(!is_rootfs_add("COPY dir:ce026b in /"));
    }

    #[test]
    fn buildah_marker_and_closing_cmd_agree() {
        let t = "2026-11-29T17:00:00Z";
        let hist = vec![
            h("/bin/sh -c #(nop) ADD file:3f6d in / ", None, false, t),
            h("/bin/sh -c mkdir /x", Some("FROM 28801a044ccc"), false, t),
            h(
                "/bin/sh -c #(nop) CMD [\"sh\"]",
                Some("FROM 50cd72eedcbb"),
                true,
                t,
            ),
            h(
                "/bin/sh -c echo hi",
                Some("FROM localhost/b:latest"),
                false,
                t,
            ),
            h(
                "/bin/sh -c #(nop) CMD [\"x\"]",
                Some("FROM 3d0c714f0256"),
                true,
                t,
            ),
        ];
        let v = from_history(&hist, 3);
        assert_eq!(v.layers, Some(2));
        assert_eq!(v.name.as_deref(), Some("localhost/b:latest"));
        assert!(v.evidence.iter().any(|e| e.contains("CMD")));
        assert!(v
            .evidence
            .iter()
            .any(|e| e.contains("a base inside the base")));
    }

    #[test]
    fn buildkit_after_debuerreotype() {
        let hist = vec![
            h(
                "# debian.sh --arch 'amd64' out/ 'bookworm'",
                Some("debuerreotype 0.15"),
                false,
                "2024-01-01T00:00:00Z",
            ),
            h(
                "CMD [\"bash\"]",
                Some("debuerreotype 0.15"),
                true,
                "2024-01-01T00:00:00Z",
            ),
            h(
                "RUN /bin/sh -c apt-get update # buildkit",
                Some("buildkit.dockerfile.v0"),
                false,
                "2024-03-01T00:00:00Z",
            ),
            h(
                "COPY x /y # buildkit",
                Some("buildkit.dockerfile.v0"),
                false,
                "2024-03-01T00:00:09Z",
            ),
        ];
        let v = from_history(&hist, 3);
        assert_eq!(v.layers, Some(1));
        assert!(
            v.evidence.iter().any(|e| e.contains("jumps by 60 days")),
            "{:?}",
            v.evidence
        );
    }

    #[test]
    fn nothing_conclusive_is_unknown() {
        let t = "2026-11-29T17:00:00Z";
        let hist = vec![
            h("/bin/sh -c #(nop) COPY file:ab12 in /app ", None, false, t),
            h(
                "/bin/sh -c chmod 755 /app",
                Some("FROM 28801a044ccc"),
                false,
                t,
            ),
        ];
        assert_eq!(from_history(&hist, 2).layers, None);
        // A long pause alone speaks.
        let hist = vec![
            h("COPY a /a", None, false, "2026-01-01T00:00:00Z"),
            h("COPY b /b", None, false, "2026-01-01T00:00:05Z"),
            h("RUN x", None, false, "2026-03-01T00:00:00Z"),
        ];
        assert_eq!(from_history(&hist, 3).layers, Some(2));
    }
}
