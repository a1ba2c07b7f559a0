//! The screen shown while the image is indexed: the phase, a gauge over the
//! bytes read (or layers done), and each layer's progress.

use std::sync::atomic::Ordering;

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::widgets::{Gauge, Paragraph};
use ratatui::Frame;

use super::widgets::pane;
use crate::load::{LoadProgress, ProgressSnapshot};
use crate::present::human;

/// Progress of the indexing, per layer.
pub fn draw(f: &mut Frame, source: &str, progress: &LoadProgress) {
    let area = f.area();
    let ProgressSnapshot {
        read,
        total,
        layers_done: done,
        layers: n,
        stream,
        phase,
    } = progress.snapshot();
    let w = area.width.min(90);
    let h = area.height.min(8 + n as u16).max(7.min(area.height));
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + area.height.saturating_sub(h) / 2,
        w,
        h,
    );
    let block = pane(format!(" imgscope · {} ", source), true);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let what = match phase {
        0 => "reading the image".to_string(),
        1 => format!("indexing layers: {done} of {n} done"),
        2 => "merging layers".to_string(),
        _ => "analysing waste".to_string(),
    };
    // Bytes read, or layers done when that says more (the indexer reads
    // uncompressed layers' headers first, then their contents in parallel).
    let ratio = if phase >= 2 {
        1.0
    } else {
        let bytes = if total > 0 {
            read as f64 / total as f64
        } else {
            0.0
        };
        let layers = if n > 0 { done as f64 / n as f64 } else { 0.0 };
        bytes.max(layers).min(1.0)
    };
    let label = if total > 0 {
        format!("{} / {}", human(read), human(total))
    } else {
        human(read.max(stream))
    };
    let mut y = inner.y;
    f.render_widget(Paragraph::new(what), Rect::new(inner.x, y, inner.width, 1));
    y += 1;
    if y < inner.bottom() {
        f.render_widget(
            Gauge::default()
                .gauge_style(Style::default().fg(Color::Cyan))
                .ratio(ratio)
                .label(label),
            Rect::new(inner.x, y, inner.width, 1),
        );
        y += 2;
    }
    let layers = progress.layers.lock().unwrap().clone();
    let sizes = progress.layer_sizes.lock().unwrap().clone();
    for (i, p) in layers.iter().enumerate() {
        if y >= inner.bottom() {
            break;
        }
        let r = p.read.load(Ordering::Relaxed);
        let e = p.entries.load(Ordering::Relaxed);
        let dn = p.done.load(Ordering::Relaxed) == 1;
        let s = sizes.get(i).copied().unwrap_or(0);
        let text = format!(
            "layer {i:>3}  {:>10} / {:<10} {:>9} entries  {}",
            human(r),
            human(s),
            e,
            if dn { "done" } else { "" }
        );
        f.render_widget(
            Paragraph::new(text).style(Style::default().fg(if dn {
                Color::Green
            } else {
                Color::Gray
            })),
            Rect::new(inner.x, y, inner.width, 1),
        );
        y += 1;
    }
}
