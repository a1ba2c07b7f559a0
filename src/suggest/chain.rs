//! Chain cleanup: files stored by layer A and deleted by a later layer B.
//! The fix deletes them in A's RUN: B joined to A with `&&` (with the steps
//! in between that use the files), or A followed by `rm -rf` of what B
//! removed of it. An archive fetched in A, unpacked in a step in between and
//! deleted in B is the download–extract–delete pattern: one RUN for all of it,
//! including a later move of what was unpacked.

use super::steps::{merged_run, sh_path, Step};
use super::{Claims, Ctx, Draft};
use crate::analyze::waste::WasteKind;
use crate::suggest::Suggestion;
use crate::suggest::SuggestionKind;

const ARCHIVES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst", ".zip", ".gz",
    ".xz", ".bz2", ".zst", ".7z", ".jar", ".whl", ".deb", ".rpm", ".apk",
];

const EXTRACTORS: &[&str] = &[
    "tar ",
    "unzip ",
    "gunzip ",
    "bsdtar ",
    "7z ",
    "xz -d",
    "unxz ",
    "bunzip2 ",
    "zstd -d",
    "dpkg -x",
    "dpkg -i",
    "rpm -i",
    "rpm2cpio",
    "pip install",
    "cpio ",
];

/// Most paths listed in one `rm -rf`.
const MAX_RM: usize = 10;

fn is_archive(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    ARCHIVES.iter().any(|e| p.ends_with(e))
}

fn extracts(s: &Step) -> bool {
    s.body
        .as_deref()
        .is_some_and(|b| EXTRACTORS.iter().any(|e| b.contains(e)))
}

/// Does every `rm` of this shell command ignore missing files (`-f`)?
pub fn rm_tolerant(body: &str) -> bool {
    let flat = body.replace("\\\n", " ");
    flat.split(['&', '|', ';', '\n']).all(|cmd| {
        let toks: Vec<&str> = cmd.split_whitespace().collect();
        toks.first() != Some(&"rm")
            || toks[1..]
                .iter()
                .any(|t| t.starts_with('-') && !t.starts_with("--") && t.contains('f'))
            || toks.contains(&"--force")
    })
}

pub fn rm_line(targets: &[String]) -> String {
    let mut parts: Vec<String> = targets.iter().take(MAX_RM).map(|t| sh_path(t)).collect();
    if targets.len() > MAX_RM {
        parts.push(format!("…  # and {} more", targets.len() - MAX_RM));
    }
    format!("rm -rf {}", parts.join(" "))
}

pub(crate) fn run(cx: &Ctx, claims: &mut Claims, out: &mut Vec<Suggestion>) {
    let steps = &cx.steps;
    for ((a, b), fs) in cx.pairs(claims, WasteKind::Removed) {
        if cx.bytes(&fs) == 0 {
            continue;
        }
        let sa = steps.get(a);
        let sb = steps.get(b);
        let names = cx.names(&fs, 64);
        // RUN steps between A and B that use the files: they must run before
        // the delete, so they join the same RUN.
        let mids = cx.mids(a, b, &names);
        let download = fs
            .iter()
            .any(|&i| is_archive(&cx.finding(i).path.display()))
            && mids.iter().any(|&m| extracts(steps.get(m)));
        let mut findings = fs.clone();
        let mut layers = vec![a];
        layers.extend(&mids);
        layers.push(b);
        if download {
            // What was unpacked and then moved or replaced by a later RUN
            // belongs to the same fix.
            let absorbed = cx.group(claims, |f| {
                let d = f.hidden_by_layer?;
                (matches!(f.kind, WasteKind::Moved | WasteKind::Overwritten)
                    && mids.contains(&f.stored_in_layer)
                    && steps.get(d).is_run()
                    && !steps.get(d).base)
                    .then_some(d)
            });
            for (d, more) in absorbed {
                layers.push(d);
                findings.extend(more);
            }
            layers.sort_unstable();
            layers.dedup();
        }
        let what = if download {
            let archives: Vec<String> = fs
                .iter()
                .map(|&i| cx.finding(i).path.display())
                .filter(|p| is_archive(p))
                .collect();
            cx.what_paths(&archives)
        } else {
            cx.what(&fs)
        };
        let join_all = download || !mids.is_empty() || cx.hides_only_from(b, a);
        let targets = cx.rm_targets(&fs, a, b);
        let mut edit = None;
        let after = if sa.is_run() && !sa.base {
            let merged = if join_all && sb.is_run() {
                let m = steps.merged(&layers);
                edit = m.as_deref().and_then(|m| super::join_edit(&layers, m));
                m
            } else {
                let m = merged_run(&[sa], &[rm_line(&targets)]);
                // Layer B stays: its own delete must not fail on what is gone.
                if sb.body.as_deref().is_some_and(rm_tolerant) {
                    edit = m.as_ref().map(|m| super::Edit {
                        stage: None,
                        steps: vec![(a, Some(m.clone()))],
                    });
                }
                m
            };
            merged.unwrap_or_else(|| {
                format!(
                    "# Do these in one RUN and delete the files at its end ({}):\n{}",
                    rm_line(&targets),
                    steps.before(&layers)
                )
            })
        } else if sa.is_copy() {
            format!(
                "# Layer {b} deletes what this copies: keep {what} out of the build context\n\
                 # (.dockerignore) or out of this COPY's sources.\n{}",
                sa.text
            )
        } else {
            format!("# Delete {what} in the step that creates it:\n{}", sa.text)
        };
        let rule = if download {
            SuggestionKind::DownloadExtract
        } else {
            SuggestionKind::ChainCleanup
        };
        let ls = layers
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let mut d = Draft::pair(cx, rule, (a, b), findings, after)
            .var("what", what)
            .var("layers", ls);
        d.layers = layers;
        d.edit = edit;
        cx.emit(claims, out, d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_and_rm() {
        assert!(is_archive("/tmp/node-v20.tar.XZ"));
        assert!(!is_archive("/usr/bin/tarball"));
        assert_eq!(rm_line(&["/a".into(), "/b c".into()]), "rm -rf /a '/b c'");
        assert!(rm_tolerant("cd /x && rm -rf /a && rm -f b"));
        assert!(!rm_tolerant("rm /tmp/x.tgz"));
    }
}
