//! The Layer details pane: the selected layer's sizes, file changes, digest
//! and whole command. Stateless.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::pane::Ctx;
use super::widgets::{bold, pane};
use crate::present::human;
use crate::present::{escape, fit, one_line};

pub fn draw(f: &mut Frame, cx: &Ctx, r: Rect) {
    let Some(l) = cx.report.layers.get(cx.layer) else {
        return;
    };
    let st = &cx.index.layers[cx.layer].stats;
    let block = pane(format!(" Layer {} ", l.index), false);
    let bold = bold();
    let digest = if l.digest.is_empty() {
        &l.diff_id
    } else {
        &l.digest
    };
    let w = r.width.saturating_sub(2) as usize;
    let lines = vec![
        Line::from(vec![
            Span::styled("Size ", bold),
            Span::raw(format!(
                "{} ({} stored) · wasted {}",
                human(l.bytes),
                human(l.compressed_bytes),
                human(l.wasted_bytes)
            )),
        ]),
        Line::from(vec![
            Span::styled("Files ", bold),
            Span::styled(
                format!("+{} {}  ", st.added, human(st.added_bytes)),
                Style::default().fg(Color::Green),
            ),
            Span::styled(
                format!("~{} {}  ", st.modified, human(st.modified_bytes)),
                Style::default().fg(Color::Yellow),
            ),
            Span::styled(
                format!("-{} {}", st.removed, human(st.removed_bytes)),
                Style::default().fg(Color::Red),
            ),
        ]),
        Line::from(vec![
            Span::styled("Digest ", bold),
            Span::raw(fit(digest, w.saturating_sub(7))),
        ]),
        Line::from(vec![
            Span::styled("Command ", bold),
            Span::raw(escape::line(&one_line(&l.command)).into_owned()),
        ]),
    ];
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        r,
    );
}
