//! The help overlay: every key (read from [`KEYS`]), the marks' colours,
//! what "wasted" means; the comparison view's keys too. While it is open it
//! takes every key; `close_help`'s keys close it.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::keys::{pair_long, KEYS};
use super::widgets::{mark_style, pane};
use crate::view::Mark;

/// The image view's keys: how the help writes them, what they do.
fn keys() -> Vec<(String, &'static str)> {
    let k = &KEYS;
    vec![
        (
            pair_long(&k.next_pane, &k.prev_pane),
            "next / previous pane (Layers, Files, Waste, Fixes)",
        ),
        (
            k.panes.all(" "),
            "go to Layers, Files, Waste, Fixes, Packages",
        ),
        (pair_long(&k.up, &k.down), "move the selection"),
        (
            [k.page_up, k.page_down, k.home, k.end]
                .map(|b| b.long())
                .join(" "),
            "page, first, last",
        ),
        (
            k.layer_only.long(),
            "tree: only this layer's changes / merged (toggle)",
        ),
        (
            format!("{} (Layers)", k.merged.long()),
            "tree: merged filesystem as of the layer",
        ),
        (k.toggle_dir.all(" / "), "collapse or expand the directory"),
        (
            pair_long(&k.collapse, &k.expand),
            "collapse / go to parent; expand",
        ),
        (
            format!(
                "{}, {} , {}",
                k.toggle_all.long(),
                k.collapse_all.long(),
                k.expand_all.long()
            ),
            "collapse or expand every directory",
        ),
        (
            k.filter.all(" or "),
            "filter paths: text, glob (*?[ ]) or /regex/",
        ),
        (k.clear.long(), "clear the filters"),
        (
            k.types.all(" "),
            "show/hide added, removed, modified, unchanged",
        ),
        (k.attrs.long(), "show/hide attributes (mode, uid:gid)"),
        (k.sort.long(), "sort by name / by size"),
        (
            format!("{} (Waste, Fixes)", k.enter.long()),
            "jump to the layer and select the file",
        ),
        (
            format!("{} / {} (Files)", k.view.long(), k.enter.long()),
            "view the file as of the layer (text or hex)",
        ),
        (
            format!("{} (Files, viewer)", k.history.long()),
            "history: every version of the path",
        ),
        (
            format!(
                "{} {} {}, {}, {}",
                k.search.long(),
                k.next_match.long(),
                k.prev_match.long(),
                k.more.long(),
                k.hex.long()
            ),
            "viewer: search, next/prev match; read more; hex",
        ),
        (
            format!("{} / {} (history)", k.enter.long(), k.diff.long()),
            "view a version / mark one, d on another: diff",
        ),
        (k.back.all(" / "), "viewer, history, diff: back"),
        ("mouse".into(), "wheel scrolls, click selects, click a tab"),
        (k.help.long(), "this help"),
        (format!("{}, {}", k.quit.long(), k.interrupt.long()), "quit"),
    ]
}

/// The comparison view's keys (`imgscope diff` in a terminal).
pub fn compare_keys() -> Vec<(String, &'static str)> {
    let k = &KEYS;
    vec![
        (
            format!(
                "{}, {}",
                pair_long(&k.next_pane, &k.prev_pane),
                k.panes.0[..3]
                    .iter()
                    .map(|p| p.long())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            "panes: Layers, Files, Findings",
        ),
        (pair_long(&k.up, &k.down), "move the selection"),
        (
            [k.page_up, k.page_down, k.home, k.end]
                .map(|b| b.long())
                .join(" "),
            "page, first, last",
        ),
        (k.changes_only.long(), "files: only changed paths / all"),
        (k.clear.long(), "show all paths"),
        (k.help.long(), "this help"),
        (format!("{}, {}", k.quit.long(), k.interrupt.long()), "quit"),
    ]
}

/// The image view's overlay, centred on `area`.
pub fn draw(f: &mut Frame, area: Rect) {
    let keys = keys();
    let tail = vec![
        Line::raw(""),
        Line::from(vec![
            Span::raw(" Marks: "),
            Span::styled("+ added  ", mark_style(Mark::Added)),
            Span::styled("~ modified  ", mark_style(Mark::Modified)),
            Span::styled("= metadata only", mark_style(Mark::MetaOnly)),
            Span::raw("  "),
            Span::styled("> moved away", mark_style(Mark::Moved)),
            Span::raw("  "),
            Span::styled("< moved here", mark_style(Mark::MovedHere)),
            Span::raw("  "),
            Span::styled("- removed", mark_style(Mark::Removed)),
        ]),
        Line::raw(
            " Wasted = bytes shipped but hidden by a later layer + caches left in the image.",
        ),
        Line::raw(" Press ? or Esc to close."),
    ];
    overlay(f, area, &keys, tail);
}

/// The comparison view's overlay.
pub fn draw_compare(f: &mut Frame, area: Rect) {
    let tail = vec![
        Line::raw(""),
        Line::raw(" Layers: same (same diff_id), changed, added, removed"),
        Line::raw(" Files: + added  - removed  > grown  < shrunk  * below"),
        Line::raw(""),
        Line::raw(" Press ? or Esc to close."),
    ];
    overlay(f, area, &compare_keys(), tail);
}

/// A framed box of `keys` (key, what it does) then `tail`, centred on
/// `area`.
fn overlay(f: &mut Frame, area: Rect, keys: &[(String, &str)], tail: Vec<Line<'static>>) {
    let w = area.width.min(96);
    let h = area.height.min((keys.len() + tail.len()) as u16 + 2);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, r);
    let mut lines: Vec<Line> = keys
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(
                    format!(" {k:<28}"),
                    Style::default()
                        .fg(Color::LightCyan)
                        .add_modifier(Modifier::BOLD),
                ),
                Span::raw(v.to_string()),
            ])
        })
        .collect();
    lines.extend(tail);
    f.render_widget(Paragraph::new(lines).block(pane(" Keys ".into(), true)), r);
}
