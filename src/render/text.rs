//! The readable summary: image, totals, layers with commands, largest findings.

use std::fmt::Write;

use crate::analyze::waste::WasteKind;
use crate::present::{before_after_text, human, kind_label, pct, truncate, why};
use crate::suggest::Report;

pub struct TextOptions {
    /// How many findings to list.
    pub top: usize,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions { top: 20 }
    }
}

/// Write `text` word-wrapped to `width` columns, the first line after `head`
/// and the others indented as far.
pub fn wrap_into(o: &mut String, head: &str, text: &str, width: usize) {
    let indent = head.chars().count();
    let mut line = head.to_string();
    let mut len = indent;
    let mut first = true;
    for w in text.split_whitespace() {
        let wl = w.chars().count();
        if !first && len + 1 + wl > width {
            let _ = writeln!(o, "{}", line.trim_end());
            line = " ".repeat(indent);
            len = indent;
            first = true;
        }
        if !first {
            line.push(' ');
            len += 1;
        }
        line.push_str(w);
        len += wl;
        first = false;
    }
    let _ = writeln!(o, "{}", line.trim_end());
}

/// Rendered, with every control character that came from the image escaped
/// (see [`super::escape`]).
pub fn render(r: &Report, opts: &TextOptions) -> String {
    super::escape::block(&render_unescaped(r, opts)).into_owned()
}

fn render_unescaped(r: &Report, opts: &TextOptions) -> String {
    let mut o = String::new();
    let s = &r.summary;
    let tags = if r.image.tags.is_empty() {
        "<untagged>".to_string()
    } else {
        super::escape::line(&r.image.tags.join(", ")).into_owned()
    };
    let _ = writeln!(
        o,
        "Image      {} ({}, {}/{})",
        r.image.source, r.image.format, r.image.os, r.image.architecture
    );
    let _ = writeln!(o, "Tags       {tags}");
    let _ = writeln!(o, "Layers     {}    Files {}", s.layer_count, s.file_count);
    let _ = writeln!(o, "Base       {}", base_line(r));
    if !r.warnings.is_empty() {
        let _ = writeln!(
            o,
            "Warnings   {}    (oddities in the archive, listed at the end)",
            r.warnings.len()
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "Total      {:>12}  ({} bytes)",
        human(s.total_bytes),
        s.total_bytes
    );
    if s.pull_estimated_layers == 0 {
        let _ = writeln!(
            o,
            "Pull       {:>12}  ({} bytes of compressed layer blobs: the download)",
            human(s.compressed_bytes),
            s.compressed_bytes
        );
    } else {
        let _ = writeln!(
            o,
            "Pull       {:>12}  (~{} bytes: an estimate of the gzip download; {} of {} layers are \
             stored uncompressed here ({} of blobs), so each was gzip-compressed (level 6) in 64 kB \
             samples spread over it, up to 4 MiB a layer, and its ratio applied)",
            format!("~{}", human(s.pull_bytes)),
            s.pull_bytes,
            s.pull_estimated_layers,
            s.layer_count,
            human(s.compressed_bytes)
        );
    }
    let _ = writeln!(
        o,
        "Visible    {:>12}  ({} bytes)",
        human(s.visible_bytes),
        s.visible_bytes
    );
    let _ = writeln!(
        o,
        "Wasted     {:>12}  ({} bytes, {} of total; ~{} to pull)",
        human(s.wasted_bytes),
        s.wasted_bytes,
        pct(s.wasted_bytes, s.total_bytes),
        human(s.wasted_compressed_bytes)
    );
    if r.image.base.layers > 0 {
        let _ = writeln!(
            o,
            "  yours    {:>12}  ({} bytes, {} of your layers' {}; the rest is in the base image)",
            human(s.user_wasted_bytes),
            s.user_wasted_bytes,
            pct(s.user_wasted_bytes, s.user_bytes),
            human(s.user_bytes)
        );
    }
    let _ = writeln!(
        o,
        "  hidden   {:>12}  (stored in a layer, removed or replaced later)",
        human(s.hidden_bytes)
    );
    for k in [
        WasteKind::Removed,
        WasteKind::Overwritten,
        WasteKind::MetadataOnly,
        WasteKind::Moved,
    ] {
        let b = r.bytes_of(k);
        if b > 0 {
            let _ = writeln!(o, "    {:<13}{:>10}", kind_label(k), human(b));
        }
    }
    let _ = writeln!(
        o,
        "  cache    {:>12}  (package-manager caches and temp files still visible)",
        human(s.cache_bytes)
    );
    let _ = writeln!(o, "Efficiency {:>11.1}%", s.efficiency * 100.0);
    if s.optional_bytes > 0 {
        // A trade-off, not waste: its own line, outside the waste figures.
        let _ = writeln!(
            o,
            "Optional   {:>12}  ({} bytes, {} of total: bytecode, docs, man pages or locales;",
            human(s.optional_bytes),
            s.optional_bytes,
            pct(s.optional_bytes, s.total_bytes),
        );
        let _ = writeln!(
            o,
            "                          not waste: removing them saves bytes at a cost, see the optional fixes)"
        );
        let mut by_rule: std::collections::BTreeMap<&str, (u64, usize)> = Default::default();
        for f in &r.optional {
            let e = by_rule.entry(f.rule.as_str()).or_default();
            e.0 += f.bytes;
            e.1 += 1;
        }
        let mut rules: Vec<_> = by_rule.into_iter().collect();
        rules.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        for (rule, (bytes, n)) in rules {
            let _ = writeln!(
                o,
                "  {:<16}{:>9}  ({n} file{})",
                rule,
                human(bytes),
                if n == 1 { "" } else { "s" }
            );
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "Layers");
    let _ = writeln!(
        o,
        "  {:>3}  {:>10}  {:>10}  {:>10}  {:>6}  Command",
        "#", "Size", "Pull", "Wasted", "Files"
    );
    let base = &r.image.base;
    for l in &r.layers {
        if base.layers > 0 && l.index == 0 {
            let _ = writeln!(
                o,
                "  -- base image: {} --",
                super::escape::line(base.label())
            );
        }
        if base.layers > 0 && l.index == base.layers {
            let _ = writeln!(o, "  -- your layers --");
        }
        let _ = writeln!(
            o,
            "  {:>3}  {:>10}  {:>10}  {:>10}  {:>6}  {}",
            l.index,
            human(l.bytes),
            human(l.compressed_bytes),
            if l.wasted_bytes == 0 {
                "-".to_string()
            } else {
                human(l.wasted_bytes)
            },
            l.files,
            truncate(&crate::suggest::layer_command(&l.command), 90)
        );
    }
    let _ = writeln!(o);
    if r.waste.is_empty() {
        let _ = writeln!(o, "No wasted bytes found.");
    } else {
        let shown = r.waste.len().min(opts.top);
        let _ = writeln!(o, "Largest findings ({shown} of {})", r.waste.len());
        let _ = writeln!(
            o,
            "  {:>10}  {:>10}  {:<13}  {:>6}  {:>6}  Path",
            "Bytes", "~Pull", "Kind", "Stored", "Hidden"
        );
        for f in r.waste.iter().take(opts.top) {
            let rule = f
                .rule
                .as_deref()
                .map(|r| format!("  [{r}]"))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "  {:>10}  {:>10}  {:<13}  {:>6}  {:>6}  {}{}{}",
                human(f.bytes),
                human(f.compressed_bytes),
                kind_label(f.kind),
                f.stored_in_layer,
                f.hidden_by_layer
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "-".into()),
                super::escape::line(&f.path.display()),
                rule,
                if f.in_base { "  (base image)" } else { "" }
            );
        }
    }
    if !r.waste.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "Why these are waste");
        for k in WasteKind::ALL {
            if r.waste.iter().any(|f| f.kind == k) {
                let head = format!("  {:<14}", kind_label(k));
                wrap_into(&mut o, &head, why(k), 96);
            }
        }
    }
    if s.squash_saves_bytes > 0 {
        let _ = writeln!(o);
        wrap_into(
            &mut o,
            "Squashing  ",
            &crate::suggest::squash_note(s.squash_saves_bytes),
            96,
        );
    }
    super::packages::write_sections(&mut o, r);
    if !r.suggestions.is_empty() {
        let _ = writeln!(o);
        // The user's own fixes first; the base image's waste apart, after
        // them: it is a choice of base, not a line of the Dockerfile.
        let (mine, base): (Vec<_>, Vec<_>) = r.suggestions.iter().partition(|s| !s.in_base);
        let base_bytes: u64 = base.iter().map(|s| s.saves_bytes).sum();
        if mine.is_empty() {
            let _ = writeln!(o, "What to fix: nothing in your own layers");
        } else {
            let _ = writeln!(
                o,
                "What to fix in your layers (largest saving first; no byte counted twice)"
            );
        }
        for (i, sg) in mine.iter().chain(&base).enumerate() {
            if i == mine.len() {
                let _ = writeln!(o);
                let _ = writeln!(
                    o,
                    "In the base image ({}), largest saving first: {} ({base_bytes} bytes) your Dockerfile cannot remove",
                    super::escape::line(r.image.base.name.as_deref().unwrap_or("unnamed")),
                    human(base_bytes)
                );
            }
            let _ = writeln!(o);
            let _ = writeln!(o, "  {}. {}", i + 1, super::escape::line(&sg.title));
            let _ = writeln!(
                o,
                "     Saves   {} ({} bytes; ~{} to pull){}",
                human(sg.saves_bytes),
                sg.saves_bytes,
                human(sg.saves_compressed_bytes),
                if sg.findings.is_empty() {
                    "  — visible bytes, not in the waste above"
                } else {
                    ""
                }
            );
            for (j, l) in sg.layers.iter().enumerate() {
                let cmd = r
                    .layers
                    .get(*l)
                    .map(|l| crate::suggest::layer_command(&l.command))
                    .unwrap_or_default();
                let _ = writeln!(
                    o,
                    "     {:<8}{:>3}  {}",
                    if j == 0 { "Layers" } else { "" },
                    l,
                    truncate(&cmd, 84)
                );
            }
            if !sg.dockerfile_lines.is_empty() {
                let lines: Vec<String> =
                    sg.dockerfile_lines.iter().map(|l| l.to_string()).collect();
                let _ = writeln!(o, "     Lines   Dockerfile line {}", lines.join(", "));
            }
            if !sg.why.is_empty() {
                wrap_into(&mut o, "     Why     ", &sg.why, 96);
            }
            o.push_str(&before_after_text(sg, "     "));
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "Warnings ({})", r.warnings.len());
        for w in r.warnings.iter().take(opts.top) {
            let layer = w.layer.map(|l| format!("layer {l}: ")).unwrap_or_default();
            let path = w
                .path
                .as_ref()
                .map(|p| format!("{}: ", super::escape::line(&p.display())))
                .unwrap_or_default();
            let _ = writeln!(o, "  {layer}{path}{}", super::escape::line(&w.message));
        }
        if r.warnings.len() > opts.top {
            let _ = writeln!(
                o,
                "  … and {} more (all in --format json)",
                r.warnings.len() - opts.top
            );
        }
    }
    o
}

/// The base image in one line: name, layers, bytes and the source of the
/// boundary (or why it is unknown).
pub fn base_line(r: &Report) -> String {
    let b = &r.image.base;
    if !b.known() {
        let named = b
            .name
            .as_deref()
            .map(|n| format!("{n}, but "))
            .unwrap_or_default();
        return format!("{named}boundary unknown: every layer counted as yours");
    }
    if b.layers == 0 {
        return format!("none (from {}): every layer is yours", b.source.as_str());
    }
    let bytes: u64 = r.layers.iter().filter(|l| l.in_base).map(|l| l.bytes).sum();
    let layers = if b.layers == 1 {
        "layer 0".to_string()
    } else {
        format!("layers 0-{}", b.layers - 1)
    };
    format!(
        "{}: {layers}, {} (found from the {})",
        super::escape::line(b.name.as_deref().unwrap_or("unnamed base image")),
        human(bytes),
        match b.source {
            crate::analyze::base::BaseSource::Flag => "--base image",
            crate::analyze::base::BaseSource::Dockerfile => "Dockerfile",
            crate::analyze::base::BaseSource::Annotation => "annotation and history",
            _ => "history",
        }
    )
}

/// The checks, one line each, after a blank line (nothing when there are
/// none); also used by `diff`.
pub fn checks_list(o: &mut String, checks: &[crate::ci::checks::Check]) {
    if checks.is_empty() {
        return;
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "Checks");
    for c in checks {
        let _ = writeln!(
            o,
            "  {}  {}: {} (limit {})",
            if c.passed { "PASS" } else { "FAIL" },
            c.name,
            c.actual,
            c.limit
        );
    }
}
