//! Package-manager hygiene: caches and temp files a layer leaves behind
//! (visible `cache` findings, and cache files a later layer overwrote), fixed
//! with the manager's own no-cache option or clean-up in the same RUN, or a
//! BuildKit cache mount.

use std::collections::BTreeSet;

use super::steps::{sh_quote, Step};
use super::texts::Manager;
use super::{is_inside, layer_id, Claims, Ctx, Draft};
use crate::analysis::{Suggestion, WasteKind};

/// Shown when a group has more cache directories than this.
const MAX_DIRS: usize = 6;

pub(crate) fn run(cx: &Ctx, claims: &mut Claims, out: &mut Vec<Suggestion>) {
    let steps = &cx.steps;
    let groups = cx.group(claims, |f| {
        if !matches!(f.kind, WasteKind::Cache | WasteKind::Overwritten) {
            return None;
        }
        let rule = cx.rules.get(f.rule.as_deref()?)?;
        (!steps.get(f.stored_in_layer).base).then(|| (rule.manager.clone(), f.stored_in_layer))
    });
    for ((manager, a), fs) in groups {
        let Some(m) = cx.texts.manager(&manager) else {
            continue;
        };
        let dirs = cache_dirs(cx, &fs);
        let mut layers: Vec<usize> = vec![a];
        layers.extend(fs.iter().filter_map(|&i| cx.finding(i).hidden_by_layer));
        let after = after_text(steps.get(a), m, &dirs);
        let titles: BTreeSet<&str> = fs
            .iter()
            .filter_map(|&i| cx.finding(i).rule.as_deref())
            .filter_map(|r| cx.rules.get(r))
            .map(|r| r.title.as_str())
            .collect();
        let what = join_and(&titles.into_iter().collect::<Vec<_>>());
        let d = Draft {
            rule: "package",
            id: format!("{manager}:{}", layer_id(&[a])),
            vars: vec![
                ("a", a.to_string()),
                ("what", what),
                ("fix", m.fix.clone()),
                ("manager", manager),
            ],
            layers,
            findings: fs,
            after,
        };
        cx.emit(claims, out, d);
    }
}

fn join_and(items: &[&str]) -> String {
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
    for &i in fs {
        let f = cx.finding(i);
        let Some(rule) = f.rule.as_deref() else {
            continue;
        };
        let p = f.path.display();
        let mut found = None;
        for (pos, _) in p.match_indices('/').skip(1) {
            let d = &p[..pos];
            let probe = format!("{d}/x");
            if cx
                .rules
                .matching(probe.as_bytes())
                .is_some_and(|r| r.id == rule)
            {
                found = Some(d.to_string());
                break;
            }
        }
        dirs.insert(found.unwrap_or(p));
    }
    // Drop directories inside others.
    let all: Vec<String> = dirs.into_iter().collect();
    all.iter()
        .filter(|d| !all.iter().any(|o| is_inside(d, o)))
        .cloned()
        .collect()
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
    match append {
        Some(app) if !b.contains(app.as_str()) => format!("{b} && \\\n    {app}"),
        Some(_) => b,
        None if b != body.trim() => b,
        None => format!("{b} && \\\n    {}", rm_command(dirs)),
    }
}

fn after_text(sa: &Step, m: &Manager, dirs: &[String]) -> String {
    let flags = if sa.flags.is_empty() {
        String::new()
    } else {
        format!("{} ", sa.flags)
    };
    match (&sa.body, sa.is_run()) {
        (Some(body), true) => {
            let mut t = format!("RUN {flags}{}", fixed_body(body, m, dirs));
            let mounts: Vec<String> = match &m.tmpfs {
                Some(d) => vec![format!("--mount=type=tmpfs,target={d}")],
                None => m
                    .mounts
                    .iter()
                    .map(|d| format!("--mount=type=cache,target={d}"))
                    .collect(),
            };
            if !mounts.is_empty() {
                t.push_str(&format!(
                    "\n# or, with BuildKit, keep them out of the layer:\nRUN {} {flags}{}",
                    mounts.join(" "),
                    body.trim()
                ));
            }
            t
        }
        _ if sa.is_copy() => format!(
            "# The build context holds {}: list it in .dockerignore so this copy skips it.\n{}",
            dirs.join(", "),
            sa.text
        ),
        _ => format!(
            "# Remove {} in the step that creates it:\n{}",
            dirs.join(", "),
            sa.text
        ),
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
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
    }
}
