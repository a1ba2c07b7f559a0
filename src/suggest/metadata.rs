//! Metadata-only copies: layer B re-stores, with the same content, files that
//! layer A stored (chmod, chown, touch). The fix sets mode and owner where the
//! files are made: `COPY --chmod/--chown`, or in A's RUN.

use std::collections::BTreeMap;

use super::steps::{merged_run, sh_quote, Step};
use super::{Claims, Ctx, Draft};
use crate::analysis::{Suggestion, WasteKind};

const MAX_PATHS: usize = 10;

/// Mode and owner a layer gave a path.
fn meta(cx: &Ctx, i: usize, layer: usize) -> Option<(u32, u32, u32)> {
    let f = cx.finding(i);
    cx.change_at(f.node, layer)
        .map(|c| (c.mode & 0o7777, c.uid, c.gid))
}

/// `COPY src dest` → `COPY --chmod=… src dest`; the legacy history form
/// `COPY file:<sha> in /dest` becomes `COPY --chmod=… <source> /dest`.
pub fn with_flags(s: &Step, flags: &str) -> String {
    let text = s.text.trim();
    let (kw, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let rest = rest.trim_start();
    let mut w = rest.split_whitespace();
    let legacy = match (w.next(), w.next(), w.next(), w.next()) {
        (Some(src), Some("in"), Some(dest), None)
            if ["file:", "dir:", "multi:"]
                .iter()
                .any(|p| src.starts_with(p)) =>
        {
            Some(dest)
        }
        _ => None,
    };
    match legacy {
        Some(dest) => format!("{kw} {flags} <source> {dest}"),
        None => format!("{kw} {flags} {rest}"),
    }
}

fn grouped_cmd(cmd: &str, by: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    by.iter()
        .map(|(arg, paths)| {
            let mut ps: Vec<String> = paths.iter().take(MAX_PATHS).map(|p| sh_quote(p)).collect();
            if paths.len() > MAX_PATHS {
                ps.push(format!("…  # and {} more", paths.len() - MAX_PATHS));
            }
            format!("{cmd} {arg} {}", ps.join(" "))
        })
        .collect()
}

pub(crate) fn run(cx: &Ctx, claims: &mut Claims, out: &mut Vec<Suggestion>) {
    let steps = &cx.steps;
    for ((a, b), fs) in cx.pairs(claims, WasteKind::MetadataOnly) {
        let sa = steps.get(a);
        let sb = steps.get(b);
        // New mode / owner per path (only where layer B changed them).
        let mut chmod: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut chown: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for &i in &fs {
            let (Some(old), Some(new)) = (meta(cx, i, a), meta(cx, i, b)) else {
                continue;
            };
            let p = cx.finding(i).path.display();
            if old.0 != new.0 {
                chmod
                    .entry(format!("{:o}", new.0))
                    .or_default()
                    .push(p.clone());
            }
            if (old.1, old.2) != (new.1, new.2) {
                chown
                    .entry(format!("{}:{}", new.1, new.2))
                    .or_default()
                    .push(p);
            }
        }
        let no_longer = format!("# (layer {b}'s change is then no longer needed)");
        let after = if sa.is_run() && !sa.base {
            let joined = if cx.hides_only_from(b, a) && sb.is_run() {
                steps.merged(&[a, b])
            } else {
                let mut extra = grouped_cmd("chmod", &chmod);
                extra.extend(grouped_cmd("chown", &chown));
                if extra.is_empty() {
                    extra.push(format!(
                        "touch {}",
                        sh_quote(&cx.finding(fs[0]).path.display())
                    ));
                }
                merged_run(&[sa], &extra).map(|t| format!("{t}\n{no_longer}"))
            };
            joined.unwrap_or_else(|| {
                format!(
                    "# Change mode/owner at the end of the RUN that creates the files:\n{}",
                    steps.before(&[a, b])
                )
            })
        } else if sa.is_copy() {
            let mut flags = Vec::new();
            if chmod.len() == 1 {
                flags.push(format!("--chmod={}", chmod.keys().next().unwrap()));
            }
            if chown.len() == 1 {
                flags.push(format!("--chown={}", chown.keys().next().unwrap()));
            }
            if (chmod.len() > 1 || chown.len() > 1) || flags.is_empty() {
                let mut t = String::from(
                    "# Give the files their final mode and owner in the build context (or split\n\
                     # the COPY by mode and use --chmod/--chown on each):\n",
                );
                t.push_str(&sa.text);
                t.push('\n');
                t.push_str(&no_longer);
                t
            } else {
                format!("{}\n{no_longer}", with_flags(sa, &flags.join(" ")))
            }
        } else {
            format!(
                "# Set mode and owner in the step that creates the files:\n{}",
                sa.text
            )
        };
        let change = match (chmod.is_empty(), chown.is_empty()) {
            (false, true) => "mode",
            (true, false) => "owner",
            (false, false) => "mode and owner",
            (true, true) => "timestamps",
        };
        let d = Draft::pair(cx, "metadata", (a, b), fs, after).var("change", change);
        cx.emit(claims, out, d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suggest::dockerfile::Instr;

    fn copy(text: &str) -> Step {
        Step {
            layer: 1,
            instr: Instr::Copy,
            text: text.into(),
            flags: String::new(),
            body: None,
            line: None,
            base: false,
            rootfs: false,
        }
    }

    #[test]
    fn copy_flags() {
        assert_eq!(
            with_flags(&copy("COPY big.bin /opt/big.bin"), "--chmod=755"),
            "COPY --chmod=755 big.bin /opt/big.bin"
        );
        assert_eq!(
            with_flags(
                &copy("ADD file:139c3708 in /somefile.txt"),
                "--chown=1000:1000"
            ),
            "ADD --chown=1000:1000 <source> /somefile.txt"
        );
    }
}
