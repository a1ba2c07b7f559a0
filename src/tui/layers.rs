//! The Layers pane: every layer with its size, waste and command; owns the
//! selected layer.

use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::keys::{pair, KEYS};
use super::layout::Areas;
use super::pane::{ctrl, Action, Ctx, ListSel, Pane, View};
use super::widgets::{bold, pane, sel_style};
use crate::present::fit;
use crate::present::human;
use crate::view::Mode;

/// The footer while the pane is focused.
pub fn hints() -> Vec<(String, &'static str)> {
    let k = &KEYS;
    vec![
        (pair(&k.up, &k.down), "layer"),
        (k.next_pane.short(), "pane"),
        (k.layer_only.short(), "layer only"),
        (k.merged.short(), "merged"),
        (k.filter.short(), "filter"),
        (k.help.short(), "help"),
        (k.quit.short(), "quit"),
    ]
}

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
        let keys = &KEYS;
        !ctrl(k)
            && [
                keys.up,
                keys.down,
                keys.page_up,
                keys.page_down,
                keys.home,
                keys.end,
            ]
            .iter()
            .any(|b| b.is(k))
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

impl Pane for Layers {
    fn title(&self, v: &View) -> String {
        format!(
            " Layers ({}) · {} ",
            v.cx.report.layers.len(),
            match v.mode {
                Mode::Merged => "merged",
                Mode::LayerOnly => "this layer only",
            }
        )
    }

    fn key(&mut self, k: &KeyEvent, v: &View) -> Action {
        let (cx, a) = (&v.cx, v.areas);
        let n = cx.report.layers.len();
        let h = a.layers_rows();
        let cur = self.layer();
        let keys = &KEYS;
        let target = match () {
            _ if keys.up.is(k) => cur.checked_sub(1),
            _ if keys.down.is(k) => Some(cur + 1),
            _ if keys.page_up.is(k) => Some(cur.saturating_sub(h)),
            _ if keys.page_down.is(k) => Some(cur + h),
            _ if keys.home.is(k) => Some(0),
            _ if keys.end.is(k) => Some(n.saturating_sub(1)),
            _ if keys.show_files.is(k) => return Action::ShowFiles,
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

    /// Layers below the selected one are dimmed in the merged view (their
    /// files are part of what the tree shows).
    fn draw(&self, f: &mut Frame, v: &View) {
        let (cx, r, focused, mode) = (&v.cx, v.areas.layers, v.focused, v.mode);
        let block = pane(self.title(v), focused);
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
