//! What the panes share: the [`Pane`] trait every pane of the image view
//! implements (its title, its keys, its drawing, each given one [`View`]),
//! the read-only [`Ctx`] they see, the [`Action`] a pane hands back when
//! something outside it must change, and [`ListSel`], the scrolled selection
//! of the list panes.

use ratatui::crossterm::event::{KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::keys::KEYS;
use super::layout::Areas;
use super::widgets::sel_style;

use crate::load::index::Index;
use crate::suggest::Report;
use crate::view::Mode;

/// A pane of the image view: it owns its state, its keys and its drawing.
/// The app routes a key to the focused pane and carries out the [`Action`]
/// it returns; the screen draws the panes where [`Areas`] puts them.
pub trait Pane {
    /// The title on its frame.
    fn title(&self, v: &View) -> String;
    /// A key, while the pane has the focus.
    fn key(&mut self, k: &KeyEvent, v: &View) -> Action;
    /// Draw it in its area of `v.areas`.
    fn draw(&self, f: &mut Frame, v: &View);
}

/// What a pane is given: the analysis and the selected layer, where the
/// panes are, whether it has the focus, and the file tree's mode.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub cx: Ctx<'a>,
    pub areas: &'a Areas,
    pub focused: bool,
    pub mode: Mode,
}

/// The analysed image and the selected layer, as every pane sees them.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub index: &'a Index,
    pub report: &'a Report,
    /// The selected layer (the Layers pane owns it).
    pub layer: usize,
}

impl Ctx<'_> {
    /// A layer's command on one line, as the layer list shows it.
    pub fn layer_cmd(&self, l: usize) -> String {
        self.report
            .layers
            .get(l)
            .map(|l| {
                // ratatui drops control characters but draws bidi marks:
                // what came from the image is shown escaped.
                let cmd = crate::present::one_line(&crate::suggest::layer_command(&l.command));
                crate::present::escape::line(&cmd).into_owned()
            })
            .unwrap_or_default()
    }
}

/// What a pane asks of the app after a key or a click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    None,
    /// The selected layer moved (keys: the tree is rebuilt once the queued
    /// keys are handled).
    LayerMoved,
    /// Select this layer now (a click, a wheel step).
    SetLayer(usize),
    /// Show the Files tab, focused.
    ShowFiles,
    /// Show the finding's file in the layer that stored it.
    JumpToFinding(usize),
    /// Show the optional file (`report.optional[i]`) in its layer.
    JumpToOptional(usize),
    /// Show the suggestion's first finding (or first layer).
    JumpToFix(usize),
    /// Show a package's file (node) in the layer that installed it.
    JumpToPackage(crate::load::index::NodeId, usize),
    /// Open the viewer on a path as of the selected layer.
    View(crate::load::index::NodeId),
    /// Open the viewer on one version (a stored file) of a path.
    ViewVersion(crate::load::index::InodeId),
    /// Show every version of a path.
    History(crate::load::index::NodeId),
    /// Diff two versions (stored files), the older first.
    Diff(crate::load::index::InodeId, crate::load::index::InodeId),
    /// The viewer asks for the next part of its file.
    ReadMore,
    /// Close the viewer, history or diff on top.
    Back,
}

pub fn ctrl(k: &KeyEvent) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL)
}

/// A scrolled list selection.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListSel {
    pub sel: usize,
    pub top: usize,
}

impl ListSel {
    pub fn moved(&mut self, delta: isize, len: usize, height: usize) {
        if len == 0 {
            return;
        }
        let s = (self.sel as isize + delta).clamp(0, len as isize - 1) as usize;
        self.select(s, height);
    }

    /// Select `s`, scrolling so it is one of the `height` rows shown.
    pub fn select(&mut self, s: usize, height: usize) {
        self.sel = s;
        let h = height.max(1);
        if self.sel < self.top {
            self.top = self.sel;
        } else if self.sel >= self.top + h {
            self.top = self.sel + 1 - h;
        }
    }

    /// Arrows, vi keys, pages, Home/End over `len` rows, `h` on screen;
    /// true on Enter (with something to enter).
    pub fn key(&mut self, k: &KeyEvent, len: usize, h: usize) -> bool {
        let keys = &KEYS;
        match () {
            _ if keys.up.is(k) => self.moved(-1, len, h),
            _ if keys.down.is(k) => self.moved(1, len, h),
            _ if keys.page_up.is(k) => self.moved(-(h as isize), len, h),
            _ if keys.page_down.is(k) => self.moved(h as isize, len, h),
            _ if keys.home.is(k) => self.select(0, h),
            _ if keys.end.is(k) => self.select(len.saturating_sub(1), h),
            _ if keys.enter.is(k) => return len > 0,
            _ => {}
        }
        false
    }

    /// A click on screen row `r` of the list.
    pub fn click(&mut self, r: usize, len: usize, h: usize) {
        if r < h && self.top + r < len {
            self.select(self.top + r, h);
        }
    }

    /// Row `i` of the list (one of those shown) in `area`, highlighted
    /// when selected.
    pub fn draw_row(&self, f: &mut Frame, area: Rect, i: usize, line: Line, focused: bool) {
        let mut p = Paragraph::new(line);
        if i == self.sel {
            p = p.style(sel_style(focused));
        }
        let y = area.y + (i - self.top) as u16;
        f.render_widget(p, Rect::new(area.x, y, area.width, 1));
    }
}
