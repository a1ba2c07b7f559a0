//! Optional bytes (bytecode, docs, man/info pages, locales): one suggestion
//! per layer that says how to leave them out and what that costs. Like
//! multi-stage, it claims no finding: its saving is visible bytes a team may
//! choose to drop, so it is counted apart from the waste.

use crate::suggest::SuggestionKind;
use std::collections::{BTreeMap, BTreeSet};

use super::steps::merged_parts;
use super::texts::fill;
use super::Ctx;
use crate::analyze::rules::OptionalRule;
use crate::suggest::Suggestion;
use crate::units::human;

/// Bytes, files and the dpkg packages (`dpkg:NAME`) owning them.
type Group<'a> = (u64, usize, BTreeSet<&'a str>);

pub(crate) fn run(cx: &Ctx, out: &mut Vec<Suggestion>) {
    // Per layer, per rule (in the rules' file order): bytes, files and the
    // dpkg packages owning them.
    let mut layers: BTreeMap<usize, BTreeMap<usize, Group>> = BTreeMap::new();
    let owners = &cx.report.owners;
    // Each rule's position, by id (the first of a repeated id, as a search
    // from the start finds): found once, not by comparing the ids of the
    // rules before it for each of tens of thousands of files.
    let mut position: rustc_hash::FxHashMap<&str, usize> = rustc_hash::FxHashMap::default();
    for (i, r) in cx.rules.optional.iter().enumerate().rev() {
        position.insert(&r.id, i);
    }
    for o in &cx.report.optional {
        let Some(&r) = position.get(o.rule.as_str()) else {
            continue;
        };
        // The base image's files (left out below), and files another
        // suggestion already counts, are not counted here.
        if cx.steps.get(o.layer).base || !cx.claim_node(o.node) {
            continue;
        }
        let g = layers.entry(o.layer).or_default().entry(r).or_default();
        g.0 += o.bytes;
        g.1 += 1;
        if let Some(p) = owners
            .of(cx.index, o.node)
            .filter(|p| p.starts_with("dpkg:"))
        {
            g.2.insert(p);
        }
    }
    let t = cx.texts.rule(SuggestionKind::Optional);
    for (a, by_rule) in layers {
        let step = cx.steps.get(a);
        let bytes: u64 = by_rule.values().map(|g| g.0).sum();
        if step.base || bytes == 0 {
            // The base image's files: a user's Dockerfile cannot leave them out.
            continue;
        }
        let rules: Vec<&OptionalRule> = by_rule.keys().map(|&i| &cx.rules.optional[i]).collect();
        let count: usize = by_rule.values().map(|g| g.1).sum();
        let after = if step.is_run() {
            let before: Vec<&str> = rules
                .iter()
                .filter_map(|r| r.run_before.as_deref())
                .collect();
            let after: Vec<String> = rules.iter().filter_map(|r| r.run_after.clone()).collect();
            merged_parts(&[step], &after).map(|(flags, body)| {
                let pre: String = before.iter().map(|b| format!("{b} && \\\n    ")).collect();
                format!("RUN {flags}{pre}{body}")
            })
        } else if step.is_copy() {
            let lines: Vec<&str> = rules
                .iter()
                .filter_map(|r| r.dockerignore.as_deref())
                .collect();
            (!lines.is_empty())
                .then(|| format!("{}\n# .dockerignore:\n{}", step.text, lines.join("\n")))
        } else {
            None
        };
        // "documentation of 213 packages" where dpkg owns the files.
        let titles: Vec<String> = by_rule
            .iter()
            .map(|(&i, g)| {
                let t = &cx.rules.optional[i].title;
                match g.2.len() {
                    0 => t.clone(),
                    1 => format!("{t} of 1 package"),
                    n => format!("{t} of {n} packages"),
                }
            })
            .collect();
        let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
        let what = super::packages::join_and(&titles);
        // dpkg's path-exclude is the fix when dpkg installed them in a RUN.
        let how = if step.is_run()
            && by_rule.values().any(|g| !g.2.is_empty())
            && rules.iter().all(|r| {
                r.run_before
                    .as_deref()
                    .is_some_and(|b| b.contains("path-exclude"))
            }) {
            "; dpkg path-exclude in the same RUN"
        } else {
            ""
        };
        let costs: Vec<String> = rules
            .iter()
            .map(|r| format!("{}: {} {}", r.title, r.tradeoff, r.fix))
            .collect();
        let a_text = a.to_string();
        let size = human(bytes);
        let bytes_text = format!("{size} ({bytes} bytes)");
        let files = match count {
            1 => "1 file".to_string(),
            n => format!("{n} files"),
        };
        let costs = costs.join(" ");
        let vars: [(&str, &str); 7] = [
            ("how", how),
            ("what", &what),
            ("a", &a_text),
            ("size", &size),
            ("bytes", &bytes_text),
            ("files", &files),
            ("costs", &costs),
        ];
        out.push(Suggestion {
            id: format!("optional:L{a}"),
            title: fill(&t.title, &vars),
            dockerfile_lines: cx.steps.lines(&[a]),
            layers: vec![a],
            saves_bytes: bytes,
            saves_compressed_bytes: 0,
            before: cx.steps.before(&[a]),
            edit: after
                .as_ref()
                .filter(|_| step.is_run())
                .map(|t| crate::suggest::Edit {
                    stage: None,
                    steps: vec![(a, Some(t.clone()))],
                }),
            after: after.unwrap_or_default(),
            why: fill(&t.why, &vars),
            kind: SuggestionKind::Optional,
            in_base: false,
            findings: Vec::new(),
            no_after: String::new(),
        });
    }
}
