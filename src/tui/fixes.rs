//! The Fixes tab: the suggestions, largest saving first, the selected one's
//! layers, reason and before/after below the list; Enter shows its files.

use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::layout::Areas;
use super::pane::{Action, Ctx, ListSel, Pane, View};
use super::widgets::{bold, detail_block, pane};
use crate::present::human;
use crate::present::{before_after, escape, fit, one_line};

pub use super::waste::hints;

#[derive(Debug, Default)]
pub struct Fixes {
    pub list: ListSel,
}

impl Fixes {
    /// A click on list row `row` (None: above the list), or a wheel step.
    pub fn mouse(&mut self, cx: &Ctx, row: Option<usize>, delta: isize, a: &Areas) {
        let (len, h) = (cx.report.suggestions.len(), a.fix_rows());
        if delta != 0 {
            self.list.moved(delta.signum(), len, h);
        } else if let Some(r) = row {
            self.list.click(r, len, h);
        }
    }
}

impl Pane for Fixes {
    fn title(&self, v: &View) -> String {
        format!(" Fixes · {} suggestions ", v.cx.report.suggestions.len())
    }

    fn key(&mut self, k: &KeyEvent, v: &View) -> Action {
        let (cx, a) = (&v.cx, v.areas);
        let len = cx.report.suggestions.len();
        if self.list.key(k, len, a.fix_rows()) {
            Action::JumpToFix(self.list.sel)
        } else {
            Action::None
        }
    }

    fn draw(&self, f: &mut Frame, v: &View) {
        let (cx, a, focused) = (&v.cx, v.areas, v.focused);
        let sug = &cx.report.suggestions;
        let block = pane(self.title(v), focused);
        let inner = block.inner(a.right);
        f.render_widget(block, a.right);
        if sug.is_empty() {
            f.render_widget(
                Paragraph::new("  Nothing to fix.").style(Style::default().fg(Color::Green)),
                inner,
            );
            return;
        }
        let w = inner.width as usize;
        let rows = a.fix_rows();
        for (i, s) in sug.iter().enumerate().skip(self.list.top).take(rows) {
            let layers: Vec<String> = s.layers.iter().map(|l| l.to_string()).collect();
            let line = Line::from(vec![
                Span::styled(
                    format!("{:>10}  ", human(s.saves_bytes)),
                    Style::default().fg(Color::Green),
                ),
                // The base image's waste: a choice of base, dimmed and tagged.
                Span::styled(
                    fit(
                        &format!(
                            "{}{}  (layers {})",
                            if s.in_base { "[base] " } else { "" },
                            escape::line(&s.title),
                            layers.join(", ")
                        ),
                        w.saturating_sub(12),
                    ),
                    if s.in_base {
                        Style::default().add_modifier(ratatui::style::Modifier::DIM)
                    } else {
                        Style::default()
                    },
                ),
            ]);
            self.list.draw_row(f, inner, i, line, focused);
        }
        let Some(s) = sug.get(self.list.sel) else {
            return;
        };
        let dr = Rect::new(
            inner.x,
            inner.y + rows as u16,
            inner.width,
            inner.height.saturating_sub(rows as u16),
        );
        let bold = bold();
        let mut lines = vec![Line::from(vec![
            Span::styled(escape::line(&s.title).into_owned(), bold),
            Span::styled(
                format!("  saves {} ({} bytes)", human(s.saves_bytes), s.saves_bytes),
                Style::default().fg(Color::Green),
            ),
        ])];
        for &l in &s.layers {
            lines.push(Line::from(vec![
                Span::styled(format!("layer {l}: "), bold),
                Span::raw(cx.layer_cmd(l)),
            ]));
        }
        if !s.why.is_empty() {
            lines.push(Line::from(Span::styled(
                one_line(&s.why),
                Style::default().fg(Color::Gray),
            )));
        }
        for (label, text) in before_after(s) {
            let (head, body) = if label == "Before" {
                (Color::Red, Color::LightRed)
            } else {
                (Color::Green, Color::LightGreen)
            };
            lines.push(Line::from(Span::styled(format!("{label}:"), bold.fg(head))));
            for l in text.lines() {
                lines.push(Line::from(Span::styled(
                    format!("  {}", escape::line(l)),
                    Style::default().fg(body),
                )));
            }
        }
        f.render_widget(
            Paragraph::new(lines)
                .block(detail_block(" Enter: show its files in the tree "))
                .wrap(Wrap { trim: false }),
            dr,
        );
    }
}
