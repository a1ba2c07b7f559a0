//! `imgscope diff` as readable text: totals old → new, the aligned layers,
//! fixed / introduced / changed findings, the old image's suggestions and how
//! much of each was realised, the largest file changes, the fixes that remain.

use std::fmt::Write;

use crate::compare::diff::{Diff, LayerStatus};
use crate::present::{
    change_pct, empty_note, human, kind_label, nonempty, signed, truncate, truncate_words,
};

/// One totals line: `old → new  delta (pct)`.
pub fn totals_row(old: u64, new: u64, d: i64) -> (String, String, String) {
    let pct = change_pct(old, d);
    let delta = if pct.is_empty() {
        signed(d)
    } else {
        format!("{} ({pct})", signed(d))
    };
    (human(old), human(new), delta)
}

/// The one-line headline: `-460 kB wasted (-100.0%), image -460 kB (-18.8%)`.
pub fn headline(d: &Diff) -> String {
    let wp = change_pct(d.old.summary.wasted_bytes, d.wasted_delta);
    let tp = change_pct(d.old.summary.total_bytes, d.total_delta);
    let paren = |p: String| if p.is_empty() { p } else { format!(" ({p})") };
    format!(
        "{} wasted{}, image {}{}",
        signed(d.wasted_delta),
        paren(wp),
        signed(d.total_delta),
        paren(tp)
    )
}

pub struct DiffTextOptions {
    /// How many findings and files each list shows.
    pub top: usize,
}

/// Rendered, with every control character that came from the image escaped
/// (see [`super::escape`]).
pub fn render(d: &Diff, opts: &DiffTextOptions) -> String {
    super::escape::block(&render_unescaped(d, opts)).into_owned()
}

fn render_unescaped(d: &Diff, opts: &DiffTextOptions) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Old        {}", d.old.source);
    let _ = writeln!(o, "New        {}", d.new.source);
    let _ = writeln!(o, "Change     {}", headline(d));
    let _ = writeln!(o);
    let (os, ns) = (&d.old.summary, &d.new.summary);
    let rows = [
        ("Total", os.total_bytes, ns.total_bytes, d.total_delta),
        (
            "Visible",
            os.visible_bytes,
            ns.visible_bytes,
            d.visible_delta,
        ),
        ("Wasted", os.wasted_bytes, ns.wasted_bytes, d.wasted_delta),
        ("  hidden", os.hidden_bytes, ns.hidden_bytes, d.hidden_delta),
        ("  cache", os.cache_bytes, ns.cache_bytes, d.cache_delta),
        ("Pull", d.old.pull_bytes, d.new.pull_bytes, d.pull_delta),
    ];
    let _ = writeln!(o, "{:<10} {:>12}    {:>12}  delta", "", "old", "new");
    for (name, a, b, delta) in rows {
        let (a, b, dl) = totals_row(a, b, delta);
        let _ = writeln!(o, "{name:<10} {a:>12} -> {b:>12}  {dl}");
    }
    let _ = writeln!(o);

    let _ = writeln!(o, "Layers (old -> new)");
    let _ = writeln!(
        o,
        "  {:>3} {:>3}  {:<8} {:>11} {:>11}  instruction",
        "old", "new", "status", "bytes", "waste"
    );
    let idx = |i: Option<usize>| i.map_or("-".to_string(), |i| i.to_string());
    for l in &d.layers {
        let cmd = match (&l.created_by_old, &l.created_by_new, l.status) {
            (Some(a), Some(b), LayerStatus::Changed) if a != b => format!(
                "{} (was: {})",
                truncate(&crate::load::image::display_command(b), 50),
                truncate(&crate::load::image::display_command(a), 30)
            ),
            _ => l.command(),
        };
        let _ = writeln!(
            o,
            "  {:>3} {:>3}  {:<8} {:>11} {:>11}  {}",
            idx(l.old),
            idx(l.new),
            l.status.as_str(),
            signed(l.bytes_delta),
            signed(l.wasted_delta),
            truncate(&cmd, 90)
        );
    }
    let _ = writeln!(o);

    let sum = |v: &mut dyn Iterator<Item = u64>| v.sum::<u64>();
    let lists = [("Fixed", &d.fixed), ("Introduced", &d.introduced)];
    for (name, list) in lists {
        let total = sum(&mut list.iter().map(|f| f.bytes));
        let _ = writeln!(o, "{name} findings: {} ({})", list.len(), human(total));
        let (shown, empty) = nonempty(list, |f| f.bytes);
        for f in shown.iter().take(opts.top) {
            let by = f
                .hidden_by_layer
                .map(|h| format!(", hidden by {h}"))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "  {:>10}  {:<13} {}  (stored in {}{by})",
                human(f.bytes),
                kind_label(f.kind),
                super::escape::line(&f.path.display()),
                f.stored_in_layer
            );
        }
        if shown.len() > opts.top {
            let _ = writeln!(o, "  … and {} more", shown.len() - opts.top);
        }
        if empty > 0 {
            let _ = writeln!(o, "  ({})", empty_note(empty));
        }
    }
    if !d.changed.is_empty() {
        let _ = writeln!(o, "Changed findings: {}", d.changed.len());
        for c in d.changed.iter().take(opts.top) {
            let _ = writeln!(
                o,
                "  {:>10}  {:<13} {}  ({} -> {})",
                signed(c.bytes_delta),
                kind_label(c.old.kind),
                super::escape::line(&c.old.path.display()),
                human(c.old.bytes),
                human(c.new.bytes)
            );
        }
        if d.changed.len() > opts.top {
            let _ = writeln!(o, "  … and {} more", d.changed.len() - opts.top);
        }
    }
    let _ = writeln!(o);

    if !d.realised.is_empty() {
        let _ = writeln!(o, "Old image's suggestions, realised by the new one");
        for r in &d.realised {
            let how = if r.realised_bytes == r.saves_bytes {
                "all of it".to_string()
            } else {
                format!("{} of {}", human(r.realised_bytes), human(r.saves_bytes))
            };
            let _ = writeln!(
                o,
                "  {:>10}  {} [{}]: {how}",
                human(r.saves_bytes),
                truncate_words(&r.title, 70),
                r.id
            );
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(
        o,
        "Files of the final filesystems: {} changed",
        d.files.len()
    );
    for f in d.files.iter().take(opts.top) {
        let dir = if f.dir {
            format!("/  ({} files)", f.files)
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "  {:>10}  {:<7} {}{dir}",
            signed(f.bytes_delta),
            f.status.as_str(),
            super::escape::line(&f.path.display())
        );
    }
    if d.files.len() > opts.top {
        let _ = writeln!(o, "  … and {} more", d.files.len() - opts.top);
    }

    if !d.remaining.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "Fixes that remain in the new image");
        for s in &d.remaining {
            let _ = writeln!(
                o,
                "  {:>10}  {}",
                human(s.saves_bytes),
                truncate_words(&s.title, 90)
            );
        }
    }
    super::text::checks_list(&mut o, &d.checks);
    o
}
