//! `imgscope share` as readable text: per image its unique and shared bytes,
//! the layers used by more than one image, disk bytes with and without
//! sharing, the best rebase hint, and the trade-off behind squashing.

use std::fmt::Write;

use crate::compare::share::Share;
use crate::load::image::display_command;
use crate::present::{human, truncate};

fn name(i: usize) -> String {
    // A, B, …, Z, then 27, 28, …
    if i < 26 {
        ((b'A' + i as u8) as char).to_string()
    } else {
        (i + 1).to_string()
    }
}

/// Rendered, with every control character that came from the image escaped
/// (see [`super::escape`]).
pub fn render(s: &Share) -> String {
    super::escape::block(&render_unescaped(s)).into_owned()
}

fn render_unescaped(s: &Share) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "  {:<3} {:>12} {:>12} {:>12} {:>12}  image",
        "", "total", "unique", "shared", "pull"
    );
    for (i, im) in s.images.iter().enumerate() {
        let _ = writeln!(
            o,
            "  {:<3} {:>12} {:>12} {:>12} {:>12}  {}",
            name(i),
            human(im.total_bytes),
            human(im.unique_bytes),
            human(im.shared_bytes),
            human(im.pull_bytes),
            im.source
        );
    }
    let _ = writeln!(o);
    let saved = s.disk_bytes_without_sharing.saturating_sub(s.disk_bytes);
    let _ = writeln!(
        o,
        "Disk       {} stored, {} without sharing: sharing saves {}",
        human(s.disk_bytes),
        human(s.disk_bytes_without_sharing),
        human(saved)
    );
    let _ = writeln!(
        o,
        "Pull       {} for all of them, {} one by one",
        human(s.pull_bytes),
        human(s.pull_bytes_without_sharing)
    );
    let shared: Vec<_> = s.layers.iter().filter(|l| l.used_by.len() > 1).collect();
    let _ = writeln!(o);
    if shared.is_empty() {
        let _ = writeln!(
            o,
            "No layer is shared: every image stores all of its bytes."
        );
    } else {
        let _ = writeln!(o, "Shared layers ({})", shared.len());
        for l in shared {
            let users: Vec<String> = l.used_by.iter().map(|&i| name(i)).collect();
            let _ = writeln!(
                o,
                "  {:>12}  {:<10} {}  {}",
                human(l.bytes),
                users.join(","),
                &l.diff_id[..l.diff_id.len().min(19)],
                truncate(&display_command(&l.created_by), 60)
            );
        }
    }
    if let Some(h) = s.hints.first() {
        let layers = match (h.layers.first(), h.layers.last()) {
            (Some(a), Some(b)) if a != b => format!("layers {a}-{b}"),
            (Some(a), _) => format!("layer {a}"),
            _ => String::new(),
        };
        let _ = writeln!(o);
        let text = format!(
            "{} and {} would share another {} if {} were built on {}'s {layers}: the same \
             instructions made different bytes (built apart, or a cache miss).",
            name(h.base),
            name(h.other),
            human(h.bytes),
            name(h.other),
            name(h.base)
        );
        super::text::wrap_into(&mut o, "Hint       ", &text, 100);
    }
    let _ = writeln!(o);
    super::text::wrap_into(
        &mut o,
        "Trade-off  ",
        "A layer shared by several images is stored and pulled once. Squashing an image (or \
         building it FROM scratch) drops its hidden bytes but shares nothing: every image then \
         carries its own copy of the base. A common base image, with the changes in small \
         layers on top, is stored once for all of them.",
        100,
    );
    o
}
