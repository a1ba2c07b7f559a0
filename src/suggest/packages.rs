//! Package-manager hygiene: caches and temp files a layer leaves behind
//! (visible `cache` findings, and cache files a later layer overwrote), fixed
//! with the manager's own no-cache option or clean-up in the same RUN, or a
//! BuildKit cache mount.

use crate::suggest::SuggestionKind;
use std::collections::{BTreeMap, BTreeSet};

use super::steps::{merged_parts, sh_quote, Step};
use super::texts::Manager;
use rustc_hash::FxHashMap as HashMap;

use super::{drop_nested, layer_id, Claims, Ctx, Draft};
use crate::analyze::waste::WasteKind;
use crate::suggest::Suggestion;

/// Shown when a group has more cache directories than this.
const MAX_DIRS: usize = 6;

pub(crate) fn run(cx: &Ctx, claims: &mut Claims, out: &mut Vec<Suggestion>) {
    let steps = &cx.steps;
    // The RUN layers that run each package manager.
    let users: BTreeMap<&str, Vec<usize>> = cx
        .texts
        .manager
        .iter()
        .map(|m| {
            let ls: Vec<usize> = steps
                .steps
                .iter()
                .filter(|s| s.is_run() && !s.base)
                .filter(|s| {
                    let b = s.body.as_deref().unwrap_or(&s.text);
                    m.commands.iter().any(|c| b.contains(c.as_str()))
                })
                .map(|s| s.layer)
                .collect();
            (m.name.as_str(), ls)
        })
        .filter(|(_, ls)| !ls.is_empty())
        .collect();
    let groups = cx.group(claims, |f| {
        let a = f.stored_in_layer;
        if steps.get(a).base {
            return None;
        }
        // Bookkeeping one run of a manager writes and the next rewrites.
        let hider = f.hidden_by_layer;
        for (m, us) in &users {
            if us.len() > 1 && us.contains(&a) && hider.is_some_and(|b| us.contains(&b)) {
                return Some((m.to_string(), us[0]));
            }
        }
        let rule = cx.rules.get(f.rule.as_deref()?)?;
        let us = users.get(rule.manager.as_str()).filter(|u| u.contains(&a));
        match f.kind {
            WasteKind::Cache | WasteKind::Overwritten => {}
            // Deleted by a later layer: this manager's own clean-up fixes it.
            WasteKind::Removed if us.is_some() => {}
            _ => return None,
        }
        Some((rule.manager.clone(), us.map_or(a, |u| u[0])))
    });
    for ((manager, a), fs) in groups {
        let Some(m) = cx.texts.manager(&manager) else {
            continue;
        };
        let dirs = cache_dirs(cx, &fs);
        // The RUNs to join: every run of the manager from `a` on (they need
        // its lists and caches until the last one), and the later RUNs that
        // only deleted what these stored.
        let mut join: Vec<usize> = users
            .get(manager.as_str())
            .filter(|u| u.contains(&a))
            .cloned()
            .unwrap_or_else(|| vec![a]);
        let hiders: BTreeSet<usize> = fs
            .iter()
            .filter_map(|&i| cx.finding(i).hidden_by_layer)
            .collect();
        for &h in &hiders {
            let only_ours = cx
                .hid_from
                .get(&h)
                .is_some_and(|from| from.iter().all(|l| join.contains(l)));
            let s = steps.get(h);
            if only_ours && s.is_run() && !s.base && !join.contains(&h) {
                join.push(h);
            }
        }
        join.sort_unstable();
        let mut layers = join.clone();
        layers.extend(&hiders);
        layers.extend(fs.iter().map(|&i| cx.finding(i).stored_in_layer));
        layers.sort_unstable();
        layers.dedup();
        let after = after_text(&steps.of(&join), m, &dirs);
        let edit = merged_parts(&steps.of(&join), &[]).and_then(|(flags, body)| {
            super::join_edit(
                &join,
                &format!("RUN {flags}{}", fixed_body(&body, m, &dirs)),
            )
        });
        let titles: BTreeSet<&str> = fs
            .iter()
            .filter_map(|&i| cx.finding(i).rule.as_deref())
            .filter_map(|r| cx.rules.get(r))
            .map(|r| r.title.as_str())
            .collect();
        let what = join_and(&titles.into_iter().collect::<Vec<_>>());
        let list = join
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let d = Draft {
            rule: if join.len() > 1 {
                SuggestionKind::PackageMerge
            } else {
                SuggestionKind::Package
            },
            id: format!("{manager}:{}", layer_id(&[a])),
            vars: vec![
                ("a", a.to_string()),
                ("what", what),
                ("fix", m.fix.clone()),
                ("manager", manager),
                ("layers", list),
            ],
            layers,
            findings: fs,
            after,
            edit,
        };
        cx.emit(claims, out, d);
    }
}

pub(super) fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The directories the findings' cache rules name: for each path, its
/// shortest ancestor inside which everything matches the same rule.
fn cache_dirs(cx: &Ctx, fs: &[usize]) -> Vec<String> {
    let mut dirs = BTreeSet::new();
    // The answer depends on the parent directory and the rule only.
    let mut memo: HashMap<(String, &str), Option<String>> = HashMap::default();
    for &i in fs {
        let f = cx.finding(i);
        let Some(rule) = f.rule.as_deref() else {
            continue;
        };
        let p = f.path.display();
        let parent = p.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        let found = memo
            .entry((parent, rule))
            .or_insert_with_key(|(parent, rule)| cx.rules.owning_dir(parent, rule))
            .clone();
        dirs.insert(found.unwrap_or(p));
    }
    drop_nested(dirs)
}

fn rm_command(dirs: &[String]) -> String {
    let mut parts: Vec<String> = dirs
        .iter()
        .take(MAX_DIRS)
        .map(|d| {
            if d == "/tmp" || d == "/var/tmp" {
                format!("{d}/*")
            } else {
                sh_quote(d)
            }
        })
        .collect();
    if dirs.len() > MAX_DIRS {
        parts.push(format!("…  # and {} more", dirs.len() - MAX_DIRS));
    }
    format!("rm -rf {}", parts.join(" "))
}

/// The RUN body with the manager's fix applied.
fn fixed_body(body: &str, m: &Manager, dirs: &[String]) -> String {
    let uses = m.commands.iter().any(|c| body.contains(c.as_str()));
    let mut b = body.trim().to_string();
    if uses {
        for d in &m.drop {
            b = b.replace(d.as_str(), "");
        }
        if let Some(flag) = &m.flag {
            if !b.contains(flag.as_str()) {
                for c in &m.commands {
                    b = b.replace(c.as_str(), &format!("{c} {flag}"));
                }
            }
        }
    }
    let append = match &m.append {
        Some(app) if uses || m.commands.is_empty() => Some(app.clone()),
        _ => None,
    };
    // All of it when a part is missing: its order matters (`apt-get clean`
    // after `rm -rf /var/lib/apt/lists/*` would make the lists directory
    // again), and repeating a part that is there already is harmless.
    let append = append.map(|app| {
        if app.split(" && ").all(|part| b.contains(part)) {
            String::new()
        } else {
            app
        }
    });
    // The cache directories the append leaves (npm's logs), by name.
    let left: Vec<String> = dirs
        .iter()
        .filter(|d| {
            m.leaves
                .iter()
                .any(|l| d.ends_with(&format!("/{l}")) || d.contains(&format!("/{l}/")))
        })
        .cloned()
        .collect();
    let rm_left = (!left.is_empty())
        .then(|| rm_command(&left))
        .filter(|rm| !b.contains(rm.as_str()));
    match append {
        Some(app) => {
            let parts: Vec<String> = [(!app.is_empty()).then_some(app), rm_left]
                .into_iter()
                .flatten()
                .collect();
            if parts.is_empty() {
                b
            } else {
                format!("{b} && \\\n    {}", parts.join(" && "))
            }
        }
        None if b != body.trim() => b,
        None => format!("{b} && \\\n    {}", rm_command(dirs)),
    }
}

/// `body` without the commands that clean what the manager's cache mounts
/// hold (its `append` commands, `rm` of a mounted directory or inside one).
fn without_cleanup(body: &str, m: &Manager) -> String {
    let targets: Vec<&str> = m
        .mounts
        .iter()
        .map(|d| d.split(',').next().unwrap_or(d))
        .collect();
    let cleans: Vec<&str> = m
        .append
        .as_deref()
        .map(|a| a.split(" && ").collect())
        .unwrap_or_default();
    let flat = body.replace("\\\n", " ");
    let parts = flat.split("&&").count();
    let kept: Vec<&str> = flat
        .split("&&")
        .map(str::trim)
        .filter(|part| {
            let toks: Vec<&str> = part.split_whitespace().collect();
            let is_rm = toks.first() == Some(&"rm")
                && toks[1..].iter().filter(|t| !t.starts_with('-')).all(|t| {
                    let t = t.trim_end_matches("/*");
                    targets.iter().any(|d| t == *d || super::is_inside(t, d))
                })
                && toks.len() > 1;
            !is_rm && !cleans.contains(part)
        })
        .collect();
    if kept.len() == parts {
        return body.to_string();
    }
    kept.join(" && ")
}

fn after_text(join: &[&Step], m: &Manager, dirs: &[String]) -> String {
    let first = join[0];
    if let Some((flags, body)) = merged_parts(join, &[]) {
        let mut t = format!("RUN {flags}{}", fixed_body(&body, m, dirs));
        let mounts: Vec<String> = match &m.tmpfs {
            Some(d) => vec![format!("--mount=type=tmpfs,target={d}")],
            None => m
                .mounts
                .iter()
                .map(|d| format!("--mount=type=cache,target={d}"))
                .collect(),
        };
        if !mounts.is_empty() {
            // The mounted caches are not in the layer: cleaning them would
            // only throw away what the mount keeps for the next build.
            t.push_str(&format!(
                "\n# or, with BuildKit, keep them out of the layer:\nRUN {} {flags}{}",
                mounts.join(" "),
                without_cleanup(&body, m)
            ));
        }
        t
    } else if first.is_copy() {
        format!(
            "# This step copies {} into the image: drop it, or list the directory in\n\
             # .dockerignore. Where the packages are installed: {}\n{}",
            dirs.join(", "),
            m.fix,
            first.text
        )
    } else {
        let texts: Vec<&str> = join.iter().map(|s| s.text.as_str()).collect();
        format!(
            "# Do this in one RUN and remove {} at its end:\n{}",
            dirs.join(", "),
            texts.join("\n")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suggest::texts::texts;

    fn m(name: &str) -> &'static Manager {
        texts().manager(name).unwrap()
    }

    #[test]
    fn manager_fixes() {
        assert_eq!(
            fixed_body("pip install flask", m("pip"), &[]),
            "pip install --no-cache-dir flask"
        );
        assert_eq!(
            fixed_body("apk update && apk add curl", m("apk"), &[]),
            "apk add --no-cache curl"
        );
        assert_eq!(
            fixed_body("apt-get update && apt-get install -y curl", m("apt"), &[]),
            "apt-get update && apt-get install -y curl && \\\n    apt-get clean && rm -rf /var/lib/apt/lists/*"
        );
        assert_eq!(
            fixed_body("cp a /tmp/b", m("temp"), &["/tmp".into()]),
            "cp a /tmp/b && \\\n    rm -rf /tmp/*"
        );
        // Already has the flag, yet a cache: remove the directory.
        assert_eq!(
            fixed_body(
                "pip install --no-cache-dir x && pip wheel y",
                m("pip"),
                &["/root/.cache/pip".into()]
            ),
            "pip install --no-cache-dir x && pip wheel y && \\\n    rm -rf /root/.cache/pip"
        );
        // npm's clean-up leaves its logs (and writes one): removed by name.
        assert_eq!(
            fixed_body(
                "npm install x",
                m("npm"),
                &["/root/.npm/_cacache".into(), "/root/.npm/_logs".into()]
            ),
            "npm install x && \\\n    npm cache clean --force && rm -rf /root/.npm/_logs"
        );
        assert_eq!(
            fixed_body("npm ci", m("npm"), &["/root/.npm/_cacache".into()]),
            "npm ci && \\\n    npm cache clean --force"
        );
        assert_eq!(
            without_cleanup(
                "npm ci && npm cache clean --force && rm -rf /root/.npm/_logs",
                m("npm")
            ),
            "npm ci"
        );
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
        assert_eq!(
            without_cleanup(
                "apt-get update && apt-get install -y curl && \\\n    apt-get clean && rm -rf /var/lib/apt/lists/*",
                m("apt")
            ),
            "apt-get update && apt-get install -y curl"
        );
    }
}
