//! apk: `/lib/apk/db/installed`, one record per package (`P:` name, `V:`
//! version, `F:` a directory, `R:` a file in the last `F:`), every layer's
//! version of it for the layer that installed each package.

use std::collections::{BTreeMap, BTreeSet};

use super::{data, since, versions, Found, Meta};
use crate::load::index::Index;

struct Rec {
    version: String,
    paths: Vec<Vec<u8>>,
}

fn parse(d: &[u8]) -> BTreeMap<String, Rec> {
    let mut out = BTreeMap::new();
    let mut name = String::new();
    let mut rec = Rec {
        version: String::new(),
        paths: Vec::new(),
    };
    let mut dir: &[u8] = b"";
    let mut flush = |name: &mut String, rec: &mut Rec| {
        if !name.is_empty() {
            out.insert(
                std::mem::take(name),
                std::mem::replace(
                    rec,
                    Rec {
                        version: String::new(),
                        paths: Vec::new(),
                    },
                ),
            );
        }
    };
    for line in d.split(|&b| b == b'\n') {
        if line.is_empty() {
            flush(&mut name, &mut rec);
            continue;
        }
        match line.split_at_checked(2) {
            Some((b"P:", v)) => name = String::from_utf8_lossy(v).into_owned(),
            Some((b"V:", v)) => rec.version = String::from_utf8_lossy(v).into_owned(),
            Some((b"F:", v)) => dir = v,
            Some((b"R:", v)) => rec.paths.push([b"/", dir, b"/", v].concat()),
            _ => {}
        }
    }
    flush(&mut name, &mut rec);
    out
}

pub fn read(index: &Index) -> Vec<Found> {
    let Some(db) = index.find(b"lib/apk/db/installed") else {
        return Vec::new();
    };
    let vs = versions(index, db);
    let last = vs.len().saturating_sub(1);
    let mut recs: BTreeMap<String, (Rec, bool)> = BTreeMap::new();
    let mut runs: BTreeMap<String, Vec<(usize, bool)>> = BTreeMap::new();
    for (vi, (layer, ino, c)) in vs.iter().enumerate() {
        let Some(d) = data(c) else { continue };
        let final_version = vi == last && index.hidden(*ino).is_none();
        let here: BTreeSet<String> = parse(d)
            .into_iter()
            .map(|(name, mut r)| {
                if let Some((old, _)) = recs.get_mut(&name) {
                    // Files of earlier versions stay this package's.
                    r.paths.append(&mut old.paths);
                }
                recs.insert(name.clone(), (r, final_version));
                name
            })
            .collect();
        for (name, (_, installed)) in recs.iter_mut() {
            let present = here.contains(name);
            *installed = present && final_version;
            runs.entry(name.clone())
                .or_default()
                .push((*layer, present));
        }
    }
    recs.into_iter()
        .map(|(name, (r, installed))| {
            let layer = since(&runs[&name]);
            Found::files(
                "apk",
                name,
                r.version,
                layer,
                installed,
                Meta::default(),
                r.paths,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records() {
        let db = b"C:Q1x\nP:musl\nV:1.2.4-r2\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n\nP:zlib\nV:1.3\nF:usr/lib\nR:libz.so.1\n";
        let r = parse(db);
        assert_eq!(r.len(), 2);
        assert_eq!(r["musl"].version, "1.2.4-r2");
        assert_eq!(r["musl"].paths[1], b"/lib/libc.musl-x86_64.so.1");
        assert_eq!(r["zlib"].paths, vec![b"/usr/lib/libz.so.1".to_vec()]);
    }
}
