//! dpkg: `/var/lib/dpkg/status` (every layer's version of it), the file
//! lists `/var/lib/dpkg/info/NAME[:ARCH].list`, apt's `extended_states`
//! (which packages were installed automatically), and distroless images'
//! `/var/lib/dpkg/status.d/NAME` records with `NAME.md5sums` file lists.

use std::collections::BTreeMap;

use super::{data, since, versions, Found, Meta, Resolver};
use crate::load::index::{Index, NodeId};

/// One record of a deb822 file: field name → value (continuation lines
/// joined with newlines).
pub type Stanza<'a> = BTreeMap<&'a str, String>;

/// Split a deb822 file (dpkg status, apt extended_states, apk uses another
/// format) into records.
pub fn stanzas(text: &str) -> Vec<Stanza<'_>> {
    stanzas_keeping(text, |_| true)
}

/// [`stanzas`] with only the fields `keep` takes (a record left with none
/// is left out): the others' values are never copied.
fn stanzas_keeping(text: &str, keep: impl Fn(&str) -> bool) -> Vec<Stanza<'_>> {
    let mut out = Vec::new();
    let mut cur: Stanza = BTreeMap::new();
    let mut last: Option<&str> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            last = None;
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(k) = last {
                if let Some(v) = cur.get_mut(k) {
                    v.push('\n');
                    v.push_str(line.trim());
                }
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            if keep(k) {
                cur.insert(k, v.trim().to_string());
            }
            last = Some(k);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `a (>= 1), b | c:any` → `[[a], [b, c]]`, names only.
pub fn relations(v: &str) -> Vec<Vec<String>> {
    v.split(',')
        .map(|alt| {
            alt.split('|')
                .filter_map(|p| {
                    let name = p.split_whitespace().next()?;
                    let name = name.split(':').next().unwrap_or(name);
                    (!name.is_empty()).then(|| name.to_string())
                })
                .collect::<Vec<_>>()
        })
        .filter(|a| !a.is_empty())
        .collect()
}

fn installed(s: &Stanza) -> bool {
    s.get("Status")
        .and_then(|st| st.split_whitespace().nth(2))
        .is_some_and(|state| {
            matches!(
                state,
                "installed"
                    | "half-configured"
                    | "unpacked"
                    | "triggers-awaited"
                    | "triggers-pending"
            )
        })
}

fn meta(s: &Stanza) -> Meta {
    let mut depends = Vec::new();
    for f in ["Pre-Depends", "Depends"] {
        if let Some(v) = s.get(f) {
            depends.extend(relations(v));
        }
    }
    Meta {
        section: s.get("Section").cloned().unwrap_or_default(),
        priority: s.get("Priority").cloned().unwrap_or_default(),
        essential: s.get("Essential").is_some_and(|v| v == "yes"),
        depends,
        provides: s
            .get("Provides")
            .map(|v| relations(v).into_iter().flatten().collect())
            .unwrap_or_default(),
        auto: None,
    }
}

/// The record's key: `name` or, beside a list file named so, `name:arch`.
struct Rec {
    name: String,
    version: String,
    meta: Meta,
    /// Continuously present since this layer, in the last record run.
    layer: Option<usize>,
    installed: bool,
}

fn node(index: &Index, path: &[u8]) -> Option<NodeId> {
    index.find(path)
}

/// The status fields [`status_records`] reads.
fn status_field(k: &str) -> bool {
    matches!(
        k,
        "Package"
            | "Status"
            | "Architecture"
            | "Version"
            | "Section"
            | "Priority"
            | "Essential"
            | "Pre-Depends"
            | "Depends"
            | "Provides"
    )
}

/// What the status files of all layers say, by package name and arch.
fn status_records(index: &Index) -> BTreeMap<(String, String), Rec> {
    let mut recs: BTreeMap<(String, String), Rec> = BTreeMap::new();
    let Some(status) = node(index, b"var/lib/dpkg/status") else {
        return recs;
    };
    let vs = versions(index, status);
    let last = vs.len().saturating_sub(1);
    // Every version's text, then its records (only the fields read).
    let texts: Vec<(usize, usize, bool, std::borrow::Cow<str>)> = vs
        .iter()
        .enumerate()
        .filter_map(|(vi, (layer, ino, c))| {
            let d = data(c)?;
            let final_version = vi == last && index.hidden(*ino).is_none();
            Some((vi, *layer, final_version, String::from_utf8_lossy(d)))
        })
        .collect();
    let parsed: Vec<Vec<Stanza>> = texts
        .iter()
        .map(|(_, _, _, t)| stanzas_keeping(t, status_field))
        .collect();
    // Each record (by name and arch, in order of first appearance): its
    // (layer, present) over the status versions in order, whether the
    // final version has it, and its last stanza (version and details are
    // the last version's, so they are read from that stanza alone).
    struct Seen<'t> {
        key: (&'t str, &'t str),
        runs: Vec<(usize, bool)>,
        installed: bool,
        last: (usize, usize),
    }
    let mut seen: Vec<Seen> = Vec::new();
    let mut by_key: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut here: Vec<bool> = Vec::new();
    for (pi, ((_, layer, final_version, _), stanzas)) in texts.iter().zip(&parsed).enumerate() {
        here.clear();
        here.resize(seen.len(), false);
        for (si, s) in stanzas.iter().enumerate() {
            let Some(name) = s.get("Package") else {
                continue;
            };
            if !installed(s) {
                continue;
            }
            let key = (
                name.as_str(),
                s.get("Architecture")
                    .map(String::as_str)
                    .unwrap_or_default(),
            );
            let r = *by_key.entry(key).or_insert_with(|| {
                seen.push(Seen {
                    key,
                    runs: Vec::new(),
                    installed: false,
                    last: (0, 0),
                });
                here.push(false);
                seen.len() - 1
            });
            here[r] = true;
            seen[r].last = (pi, si);
            seen[r].installed = *final_version;
        }
        for (r, present) in seen.iter_mut().zip(&here) {
            r.runs.push((*layer, *present));
        }
    }
    for r in seen {
        let s = &parsed[r.last.0][r.last.1];
        recs.insert(
            (r.key.0.to_string(), r.key.1.to_string()),
            Rec {
                name: r.key.0.to_string(),
                version: s.get("Version").cloned().unwrap_or_default(),
                meta: meta(s),
                layer: since(&r.runs),
                installed: r.installed,
            },
        );
    }
    recs
}

/// Lines of a file list (`/usr/bin/x`), skipping `/.` and directories
/// are harmless (they own no bytes).
fn list_paths(d: &[u8]) -> impl Iterator<Item = &[u8]> {
    // Split at each newline (found by `memchr`, not byte by byte), the
    // last line being what follows the last newline.
    let mut start = 0;
    memchr::memchr_iter(b'\n', d)
        .chain(std::iter::once(d.len()))
        .map(move |end| {
            let line = &d[start..end];
            start = end + 1;
            line
        })
        .filter(|l| l.len() > 1 && l.starts_with(b"/") && *l != b"/.")
}

/// apt's `extended_states`: packages marked automatically installed.
fn auto_installed(index: &Index) -> Option<std::collections::BTreeSet<String>> {
    let n = node(index, b"var/lib/apt/extended_states")?;
    if !index.visible(n) {
        return None;
    }
    let (_, _, c) = versions(index, n).pop()?;
    let text = String::from_utf8_lossy(data(c)?).into_owned();
    Some(
        // By name: apt records `Architecture: all` packages under the
        // native architecture.
        stanzas(&text)
            .into_iter()
            .filter(|s| s.get("Auto-Installed").is_some_and(|v| v == "1"))
            .filter_map(|s| s.get("Package").cloned())
            .collect(),
    )
}

pub fn read(index: &Index) -> Vec<Found> {
    let mut out = Vec::new();
    let recs = status_records(index);
    if !recs.is_empty() {
        let auto = auto_installed(index);
        // File lists by list name (`name` or `name:arch`), every version,
        // borrowed from the captures: a list's paths are resolved here, in
        // its order, and the package owns the nodes (as owning the paths).
        let mut lists: BTreeMap<&[u8], Vec<&[u8]>> = BTreeMap::new();
        if let Some(info) = node(index, b"var/lib/dpkg/info") {
            for &ch in index.children(info) {
                let Some(stem) = index.name(ch).strip_suffix(b".list") else {
                    continue;
                };
                let entry = lists.entry(stem).or_default();
                for (_, _, c) in versions(index, ch).into_iter().rev() {
                    if let Some(d) = data(c) {
                        entry.extend(list_paths(d));
                    }
                }
            }
        }
        let mut resolver = Resolver::new(index);
        for ((name, arch), r) in recs {
            let qualified = format!("{name}:{arch}").into_bytes();
            let paths = lists
                .remove(&qualified[..])
                .or_else(|| lists.remove(name.as_bytes()))
                .unwrap_or_default();
            let mut meta = r.meta;
            meta.auto = auto.as_ref().map(|a| a.contains(&name));
            let mut f = Found::files(
                "dpkg",
                r.name,
                r.version,
                r.layer,
                r.installed,
                meta,
                Vec::new(),
            );
            f.nodes = paths.iter().filter_map(|p| resolver.resolve(p)).collect();
            out.push(f);
        }
    }
    out.extend(status_d(index));
    out
}

/// Distroless: one record per file in `status.d/`, its files in `NAME.md5sums`.
fn status_d(index: &Index) -> Vec<Found> {
    let mut out = Vec::new();
    let Some(dir) = node(index, b"var/lib/dpkg/status.d") else {
        return out;
    };
    let children = index.children(dir);
    let by_name: BTreeMap<&[u8], NodeId> = children.iter().map(|&c| (index.name(c), c)).collect();
    for (&name, &ch) in &by_name {
        if name.ends_with(b".md5sums") {
            continue;
        }
        let vs = versions(index, ch);
        let Some((layer, ino, c)) = vs.last() else {
            continue;
        };
        let Some(d) = data(c) else { continue };
        let text = String::from_utf8_lossy(d);
        let Some(s) = stanzas(&text).into_iter().next() else {
            continue;
        };
        let Some(pkg) = s.get("Package") else {
            continue;
        };
        let md5 = [name, b".md5sums"].concat();
        let mut paths = Vec::new();
        if let Some(&m) = by_name.get(&md5[..]) {
            for (_, _, c) in versions(index, m).into_iter().rev() {
                if let Some(d) = data(c) {
                    for line in d.split(|&b| b == b'\n') {
                        // `<md5>  <path relative to />`
                        if let Some(p) = line.get(34..).filter(|p| !p.is_empty()) {
                            paths.push([b"/", p].concat());
                        }
                    }
                }
            }
        }
        let installed = index.visible(ch) && index.hidden(*ino).is_none();
        out.push(Found::files(
            "dpkg",
            pkg.clone(),
            s.get("Version").cloned().unwrap_or_default(),
            Some(*layer),
            installed,
            meta(&s),
            paths,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_lines_as_split_gives_them() {
        for d in [&b""[..], b"\n", b"/a\n/b", b"/a\n\n/.\n/b/c\n", b"x\n/y\n/"] {
            let want: Vec<&[u8]> = d
                .split(|&b| b == b'\n')
                .filter(|l| l.len() > 1 && l.starts_with(b"/") && *l != b"/.")
                .collect();
            assert_eq!(list_paths(d).collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn parses_status_records() {
        let t = "Package: a\nStatus: install ok installed\nDepends: b (>= 1), c | d:any\nDescription: x\n more\n\nPackage: e\nStatus: deinstall ok config-files\n";
        let s = stanzas(t);
        assert_eq!(s.len(), 2);
        assert!(installed(&s[0]));
        assert!(!installed(&s[1]));
        assert_eq!(s[0]["Description"], "x\nmore");
        assert_eq!(
            relations(&s[0]["Depends"]),
            vec![vec!["b".to_string()], vec!["c".into(), "d".into()]]
        );
    }
}
