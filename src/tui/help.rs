//! The help overlay: every key, the marks' colours, what "wasted" means.
//! While it is open it takes every key; `?`, Esc, q or Enter close it.

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::widgets::{mark_style, pane};
use crate::view::Mark;

/// Does this key close the overlay?
pub fn closes(k: &KeyEvent) -> bool {
    matches!(
        k.code,
        KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
    )
}

const HELP: &[(&str, &str)] = &[
    (
        "Tab / Shift+Tab",
        "next / previous pane (Layers, Files, Waste, Fixes)",
    ),
    ("1 2 3 4 5", "go to Layers, Files, Waste, Fixes, Packages"),
    ("↑ ↓ / k j", "move the selection"),
    ("PgUp PgDn Home End", "page, first, last"),
    (
        "Ctrl+L",
        "tree: only this layer's changes / merged (toggle)",
    ),
    ("Ctrl+A (Layers)", "tree: merged filesystem as of the layer"),
    ("Space / Enter", "collapse or expand the directory"),
    ("← → / h l", "collapse / go to parent; expand"),
    ("Ctrl+Space, - , +", "collapse or expand every directory"),
    ("Ctrl+F or /", "filter paths: text, glob (*?[ ]) or /regex/"),
    ("Esc", "clear the filters"),
    (
        "Ctrl+A Ctrl+R Ctrl+M Ctrl+U",
        "show/hide added, removed, modified, unchanged",
    ),
    ("Ctrl+B", "show/hide attributes (mode, uid:gid)"),
    ("Ctrl+O", "sort by name / by size"),
    (
        "Enter (Waste, Fixes)",
        "jump to the layer and select the file",
    ),
    ("mouse", "wheel scrolls, click selects, click a tab"),
    ("?", "this help"),
    ("q, Ctrl+C", "quit"),
];

/// The overlay, centred on `area`.
pub fn draw(f: &mut Frame, area: Rect) {
    let w = area.width.min(96);
    let h = area.height.min(HELP.len() as u16 + 6);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, r);
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(
                    format!(" {k:<28}"),
                    Style::default()
                        .fg(Color::LightCyan)
                        .add_modifier(Modifier::BOLD),
                ),
                Span::raw(*v),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
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
    ]));
    lines.push(Line::raw(
        " Wasted = bytes shipped but hidden by a later layer + caches left in the image.",
    ));
    lines.push(Line::raw(" Press ? or Esc to close."));
    f.render_widget(Paragraph::new(lines).block(pane(" Keys ".into(), true)), r);
}
