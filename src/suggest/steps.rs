//! Layer ↔ Dockerfile mapping: the step that made each layer, from the image
//! history (`created_by`) or, with `--dockerfile`, from the Dockerfile's final
//! stage (so suggestions cite line numbers and the real text), and the
//! snippets built from steps (one RUN joined with `&&`).

use super::dockerfile::{Dockerfile, Instr};
use crate::analyze::base::Base;
use crate::analyze::waste::LayerReport;
use crate::load::image::{display_command, HistoryEntry};

#[derive(Debug, Clone)]
pub struct Step {
    pub layer: usize,
    pub instr: Instr,
    /// The instruction as the Dockerfile has it (or as the history records it).
    pub text: String,
    /// RUN: options such as `--mount=…`.
    pub flags: String,
    /// RUN: the shell command, when it can be joined with `&&`.
    pub body: Option<String>,
    /// 1-based Dockerfile line, with `--dockerfile`.
    pub line: Option<usize>,
    /// The layer comes from the base image (not from this Dockerfile).
    pub base: bool,
    /// `ADD file:<sha> in /`: the base image's root file system.
    pub rootfs: bool,
}

impl Step {
    pub fn is_run(&self) -> bool {
        self.instr == Instr::Run
    }
    pub fn is_copy(&self) -> bool {
        matches!(self.instr, Instr::Copy | Instr::Add) && !self.rootfs
    }
    /// Text for "which command": one line, with the base rootfs named.
    pub fn describe(&self) -> String {
        let one: String = self.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if self.rootfs {
            super::layer_command(&one)
        } else if one.is_empty() {
            "(no command recorded)".to_string()
        } else {
            one
        }
    }
}

/// `ADD file:<hex> in /`: how the legacy builder records a base rootfs.
pub fn is_rootfs(cmd: &str) -> bool {
    let mut w = cmd.split_whitespace();
    matches!(
        (w.next(), w.next(), w.next(), w.next(), w.next()),
        (Some("ADD"), Some(src), Some("in"), Some("/"), None)
            if src.strip_prefix("file:").is_some_and(|h| !h.is_empty() && !h.contains('/'))
    )
}

/// Split a RUN command from the history into flags and shell body.
fn run_parts(cmd: &str) -> (String, Option<String>) {
    let mut rest = cmd.trim_start_matches("RUN").trim_start();
    let mut flags = Vec::new();
    while rest.starts_with("--") {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        flags.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    for sh in ["/bin/sh -c ", "/bin/bash -c ", "sh -c "] {
        if let Some(r) = rest.strip_prefix(sh) {
            rest = r;
            break;
        }
    }
    let body = (!rest.is_empty() && !rest.starts_with('[') && !rest.contains("<<"))
        .then(|| rest.to_string());
    (flags.join(" "), body)
}

fn from_history(l: &LayerReport) -> Step {
    let cmd = l.command.trim();
    let word = cmd.split_whitespace().next().unwrap_or("");
    let instr = if cmd.is_empty() {
        Instr::Other
    } else {
        Instr::of_word(word)
    };
    let (flags, body) = if instr == Instr::Run {
        run_parts(cmd)
    } else {
        (String::new(), None)
    };
    Step {
        layer: l.index,
        instr,
        text: cmd.to_string(),
        flags,
        body,
        line: None,
        base: false,
        rootfs: is_rootfs(cmd),
    }
}

/// An instruction that makes no layer but sets up the image (`ENV`, `CMD`,
/// `USER`, …), placed before layer `before` (the layer count at the end).
#[derive(Debug, Clone)]
pub struct Meta {
    pub before: usize,
    pub text: String,
}

impl Meta {
    /// Does it matter while building (not only to the container that runs)?
    pub fn for_build(&self) -> bool {
        let w = self.text.split_whitespace().next().unwrap_or("");
        ["ENV", "ARG", "USER", "SHELL", "WORKDIR"].contains(&w.to_ascii_uppercase().as_str())
    }
}

/// The history's instructions that made no layer after the base image's
/// last layer (the user's `ENV`, `CMD`, …). Before the user's first layer,
/// what only the running container reads (`CMD`, `LABEL`, …) is the base's.
fn history_meta(history: &[HistoryEntry], n: usize, base: &Base) -> Vec<Meta> {
    let before = crate::analyze::base::layers_before(history, n);
    let last_base_entry = history
        .iter()
        .enumerate()
        .filter(|(k, h)| !h.empty_layer.unwrap_or(false) && before[*k] < base.layers)
        .map(|(k, _)| k)
        .next_back();
    history
        .iter()
        .enumerate()
        .filter(|(k, h)| h.empty_layer.unwrap_or(false) && last_base_entry.is_none_or(|b| *k > b))
        .filter_map(|(k, h)| {
            let text = display_command(h.created_by.as_deref().unwrap_or(""));
            let m = Meta {
                before: before[k],
                text,
            };
            let word = m.text.split_whitespace().next()?.to_ascii_uppercase();
            let known = [
                "ENV",
                "ARG",
                "USER",
                "SHELL",
                "WORKDIR",
                "CMD",
                "ENTRYPOINT",
                "EXPOSE",
                "LABEL",
                "STOPSIGNAL",
                "HEALTHCHECK",
                "VOLUME",
            ];
            (known.contains(&word.as_str()) && (before[k] > base.layers || m.for_build()))
                .then_some(m)
        })
        .collect()
}

pub struct Steps {
    pub steps: Vec<Step>,
    /// The instructions between the steps that make no layer, in order.
    pub meta: Vec<Meta>,
    /// The final stage's base image, from the Dockerfile.
    pub base_image: Option<String>,
    /// How many layers the Dockerfile was matched to (from the end).
    pub mapped: usize,
}

impl Steps {
    /// The steps of `layers`, mapped onto the Dockerfile's final stage when
    /// one is given; the first `base.layers` are the base image's.
    pub fn new(
        layers: &[LayerReport],
        df: Option<&Dockerfile>,
        base: &Base,
        history: &[HistoryEntry],
    ) -> Steps {
        let mut steps: Vec<Step> = layers.iter().map(from_history).collect();
        let mut mapped = 0;
        // The layer each Dockerfile instruction made (None: none, or unmatched).
        let mut df_layer: Vec<Option<usize>> =
            df.map(|d| vec![None; d.instrs.len()]).unwrap_or_default();
        if let Some(df) = df {
            // Walk both lists from the end, down to the base's layers.
            let mut j = df.instrs.len();
            let mut i = steps.len();
            while i > base.layers && j > 0 {
                let s = &steps[i - 1];
                let d = &df.instrs[j - 1];
                if d.instr == Instr::Workdir && s.instr != Instr::Workdir {
                    // WORKDIR makes a layer only when it creates the directory.
                    j -= 1;
                    continue;
                }
                let same = s.instr == d.instr
                    || s.instr == Instr::Other && s.text.is_empty()
                    // The legacy builder records `ADD`/`COPY` of a local file
                    // under the other keyword at times; both copy files.
                    || (s.is_copy() && matches!(d.instr, Instr::Copy | Instr::Add));
                if !same {
                    break;
                }
                let s = &mut steps[i - 1];
                s.instr = d.instr;
                s.text = d.text.clone();
                s.flags = d.flags.clone();
                s.body = d.body.clone();
                s.line = Some(d.line);
                s.rootfs = false;
                df_layer[j - 1] = Some(i - 1);
                mapped += 1;
                i -= 1;
                j -= 1;
            }
        }
        for s in steps.iter_mut().filter(|s| base.contains(s.layer)) {
            s.base = true;
        }
        let from_df = df.map(|d| d.base_image.clone()).filter(|b| b != "scratch");
        let n = steps.len();
        let meta = match df {
            // Before the layer of the next instruction that made one.
            Some(d) if mapped > 0 => d
                .meta
                .iter()
                .map(|(p, text)| Meta {
                    before: df_layer[*p..].iter().flatten().next().copied().unwrap_or(n),
                    text: text.clone(),
                })
                .collect(),
            _ => history_meta(history, n, base),
        };
        Steps {
            steps,
            meta,
            base_image: from_df.or_else(|| base.name.clone()),
            mapped,
        }
    }

    pub fn get(&self, layer: usize) -> &Step {
        &self.steps[layer]
    }

    /// "layer 4 (line 7)".
    pub fn label(&self, layer: usize) -> String {
        match self.steps.get(layer).and_then(|s| s.line) {
            Some(l) => format!("layer {layer} (Dockerfile line {l})"),
            None => format!("layer {layer}"),
        }
    }

    /// Dockerfile lines of the given layers (those that have one).
    pub fn lines(&self, layers: &[usize]) -> Vec<usize> {
        let mut v: Vec<usize> = layers
            .iter()
            .filter_map(|&l| self.steps.get(l).and_then(|s| s.line))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The steps of `layers` joined into one RUN (see [`merged_run`]).
    pub fn merged(&self, layers: &[usize]) -> Option<String> {
        merged_run(&self.of(layers), &[])
    }

    pub fn of(&self, layers: &[usize]) -> Vec<&Step> {
        layers.iter().map(|&l| &self.steps[l]).collect()
    }

    fn base_from_line(&self) -> String {
        format!(
            "FROM {}",
            self.base_image.as_deref().unwrap_or("<base image>")
        )
    }

    /// The "before" snippet: each step's text, in layer order.
    pub fn before(&self, layers: &[usize]) -> String {
        let mut ls = layers.to_vec();
        ls.sort_unstable();
        ls.dedup();
        // The base image's layers: a comment line each (a comment may not
        // follow an instruction), then one FROM.
        let mut out: Vec<String> = Vec::new();
        let mut in_base = false;
        for &l in &ls {
            let s = &self.steps[l];
            if s.base {
                out.push(format!("# layer {l} (base image): {}", s.describe()));
                in_base = true;
                continue;
            }
            if in_base {
                out.push(self.base_from_line());
                in_base = false;
            }
            out.push(s.text.clone());
        }
        if in_base {
            out.push(self.base_from_line());
        }
        out.join("\n")
    }
}

/// Join RUN steps into one RUN with `&&`, in the order given. None when one
/// of them is not a RUN whose shell command can be joined.
pub fn merged_run(steps: &[&Step], extra: &[String]) -> Option<String> {
    let (flags, body) = merged_parts(steps, extra)?;
    Some(format!("RUN {flags}{body}"))
}

/// The options (with a trailing space, or empty) and the joined shell
/// command of [`merged_run`].
pub fn merged_parts(steps: &[&Step], extra: &[String]) -> Option<(String, String)> {
    let mut flags: Vec<&str> = Vec::new();
    let mut bodies: Vec<String> = Vec::new();
    for s in steps {
        if !s.is_run() || s.base {
            return None;
        }
        let b = s.body.as_deref()?;
        if b.contains(" #") || b.starts_with('#') {
            // A trailing shell comment would swallow what follows.
            return None;
        }
        for f in s.flags.split_whitespace() {
            if !flags.contains(&f) {
                flags.push(f);
            }
        }
        bodies.push(b.trim().to_string());
    }
    bodies.extend(extra.iter().cloned());
    if bodies.is_empty() {
        return None;
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!("{} ", flags.join(" "))
    };
    Some((flags, bodies.join(" && \\\n    ")))
}

/// Quote a path for the shell; a trailing `/*` stays a glob.
pub fn sh_path(p: &str) -> String {
    match p.strip_suffix("/*") {
        Some(dir) => format!("{}/*", sh_quote(dir)),
        None => sh_quote(p),
    }
}

/// Quote a path for the shell when it needs it.
pub fn sh_quote(p: &str) -> String {
    if !p.is_empty()
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:,@%=".contains(&b))
    {
        p.to_string()
    } else {
        format!("'{}'", p.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_commands() {
        assert!(is_rootfs("ADD file:ce026b62356eec3ad1214f in /"));
        assert!(!is_rootfs(
            "ADD file:ce026b62356eec3ad1214f in /somefile.txt"
        ));
        assert!(!is_rootfs("ADD rootfs.tar /"));
        assert!(!is_rootfs("ADD file:a/b in /"));
        assert_eq!(
            run_parts("RUN chmod 444 /x"),
            (String::new(), Some("chmod 444 /x".into()))
        );
        assert_eq!(
            run_parts("RUN --mount=type=cache,target=/c /bin/sh -c pip install x"),
            (
                "--mount=type=cache,target=/c".into(),
                Some("pip install x".into())
            )
        );
        assert_eq!(run_parts("RUN [\"a\", \"b\"]").1, None);
    }

    #[test]
    fn merging_runs() {
        let mk = |l: usize, body: &str| Step {
            layer: l,
            instr: Instr::Run,
            text: format!("RUN {body}"),
            flags: String::new(),
            body: Some(body.into()),
            line: None,
            base: false,
            rootfs: false,
        };
        let a = mk(1, "wget x.tgz");
        let b = mk(2, "rm x.tgz");
        assert_eq!(
            merged_run(&[&a, &b], &[]).unwrap(),
            "RUN wget x.tgz && \\\n    rm x.tgz"
        );
        assert_eq!(
            merged_run(&[&a], &["rm -f x.tgz".into()]).unwrap(),
            "RUN wget x.tgz && \\\n    rm -f x.tgz"
        );
        let c = mk(3, "echo hi # comment");
        assert!(merged_run(&[&a, &c], &[]).is_none());
        assert_eq!(sh_quote("/a b"), "'/a b'");
        assert_eq!(sh_quote("/usr/bin/x"), "/usr/bin/x");
    }
}
