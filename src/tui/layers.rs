//! The Layers pane: every layer with its size, waste and command; owns the
//! selected layer.

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::layout::Areas;
use super::pane::{ctrl, down, up, Action, Ctx, ListSel};
use super::widgets::{bold, pane, sel_style};
use crate::present::fit;
use crate::present::human;
use crate::view::Mode;

pub const KEYS: &[(&str, &str)] = &[
    ("↑↓", "layer"),
    ("Tab", "pane"),
    ("^L", "layer only"),
    ("^A", "merged"),
    ("^F", "filter"),
    ("?", "help"),
    ("q", "quit"),
];

#[derive(Debug, Default)]
pub struct Layers {
    /// `list.sel` is the selected layer.
    pub list: ListSel,
}

impl Layers {
    /// Starts on the last layer: the image as it ships.
    pub fn new(count: usize) -> Layers {
        Layers {
            list: ListSel {
                sel: count.saturating_sub(1),
                top: 0,
            },
        }
    }

    pub fn layer(&self) -> usize {
        self.list.sel
    }

    /// Keys that move between layers: several queued ones rebuild the tree
    /// once, for the layer they end on.
    pub fn is_move(k: &KeyEvent) -> bool {
        !ctrl(k)
            && (up(k)
                || down(k)
                || matches!(
                    k.code,
                    KeyCode::PageUp
                        | KeyCode::PageDown
                        | KeyCode::Home
                        | KeyCode::End
                        | KeyCode::Char('g')
                        | KeyCode::Char('G')
                ))
    }

    pub fn key(&mut self, cx: &Ctx, k: &KeyEvent, a: &Areas) -> Action {
        let n = cx.report.layers.len();
        let h = a.layers_rows();
        let cur = self.layer();
        let target = match k.code {
            _ if up(k) => cur.checked_sub(1),
            _ if down(k) => Some(cur + 1),
            KeyCode::PageUp => Some(cur.saturating_sub(h)),
            KeyCode::PageDown => Some(cur + h),
            KeyCode::Home | KeyCode::Char('g') => Some(0),
            KeyCode::End | KeyCode::Char('G') => Some(n.saturating_sub(1)),
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => return Action::ShowFiles,
            _ => None,
        };
        match target.map(|t| t.min(n.saturating_sub(1))) {
            Some(t) if t != cur => {
                self.list.select(t, h);
                Action::LayerMoved
            }
            _ => Action::None,
        }
    }

    /// A click selects the layer under it; the wheel steps one layer.
    pub fn mouse(&self, cx: &Ctx, p: Position, delta: isize, a: &Areas) -> Action {
        let n = cx.report.layers.len();
        if n == 0 {
            return Action::None;
        }
        if delta == 0 {
            let row = (p.y as usize).checked_sub(a.layers_first_row() as usize);
            match row.map(|r| self.list.top + r) {
                Some(t) if t < n => Action::SetLayer(t),
                _ => Action::None,
            }
        } else {
            let t = (self.layer() as isize + delta.signum()).clamp(0, n as isize - 1) as usize;
            Action::SetLayer(t)
        }
    }

    /// Layers below the selected one are dimmed in the merged view (their
    /// files are part of what the tree shows).
    pub fn draw(&self, f: &mut Frame, cx: &Ctx, r: Rect, focused: bool, mode: Mode) {
        let block = pane(
            format!(
                " Layers ({}) · {} ",
                cx.report.layers.len(),
                match mode {
                    Mode::Merged => "merged",
                    Mode::LayerOnly => "this layer only",
                }
            ),
            focused,
        );
        let area = block.inner(r);
        f.render_widget(block, r);
        if area.height == 0 {
            return;
        }
        let w = area.width as usize;
        let head = format!("{:>3} {:>9} {:>9}  Command", "#", "Size", "Wasted");
        f.render_widget(
            Paragraph::new(fit(&head, w)).style(bold()),
            Rect::new(area.x, area.y, area.width, 1),
        );
        let rows = area.height.saturating_sub(1) as usize;
        for (i, l) in cx
            .report
            .layers
            .iter()
            .enumerate()
            .skip(self.list.top)
            .take(rows)
        {
            let waste = if l.wasted_bytes > 0 {
                human(l.wasted_bytes)
            } else {
                "-".into()
            };
            // The base image's layers: dimmed, named.
            let base = if l.in_base {
                format!("[{}] ", base_tag(cx.report.image.base.name.as_deref()))
            } else {
                String::new()
            };
            let text = format!(
                "{:>3} {:>9} {:>9}  {base}{}",
                i,
                human(l.bytes),
                waste,
                cx.layer_cmd(i)
            );
            let mut style = Style::default();
            if l.wasted_bytes > 0 {
                style = style.fg(Color::LightRed);
            }
            if i == self.layer() {
                style = sel_style(focused);
            } else if l.in_base || (i < self.layer() && mode == Mode::Merged) {
                style = style.add_modifier(Modifier::DIM);
            }
            let y = area.y + 1 + (i - self.list.top) as u16;
            f.render_widget(
                Paragraph::new(fit(&text, w)).style(style),
                Rect::new(area.x, y, area.width, 1),
            );
        }
    }
}

/// The base's name as a layer's tag: its last path component
/// (`debian:bookworm` of `docker.io/library/debian:bookworm`), at most 24
/// characters; `base` when it has none.
pub fn base_tag(name: Option<&str>) -> String {
    let Some(n) = name else {
        return "base".into();
    };
    let n = n.rsplit('/').next().unwrap_or(n);
    if n.chars().count() > 24 {
        let t: String = n.chars().take(23).collect();
        format!("{t}…")
    } else {
        n.to_string()
    }
}
