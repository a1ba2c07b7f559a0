//! Where every pane goes, for drawing and for mouse hits: a pure function of
//! the terminal size and a few counts ([`Sizes`]). It knows no pane's state,
//! so the app (keys, mouse) and the panes (drawing) both read it without
//! depending on each other.

use ratatui::layout::{Position, Rect};

/// The right-hand panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Files,
    Waste,
    Fixes,
    Packages,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Files, Tab::Waste, Tab::Fixes, Tab::Packages];

    pub fn name(self) -> &'static str {
        match self {
            Tab::Files => "Files",
            Tab::Waste => "Waste",
            Tab::Fixes => "Fixes",
            Tab::Packages => "Packages",
        }
    }
}

/// The pane that receives the keys: the layer list or one of the tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Layers,
    Tree,
    Waste,
    Fixes,
    Packages,
}

impl Focus {
    /// Tab order, also the number keys 1, 2, 3, ….
    pub const ORDER: [Focus; 5] = [
        Focus::Layers,
        Focus::Tree,
        Focus::Waste,
        Focus::Fixes,
        Focus::Packages,
    ];

    pub fn next(self) -> Focus {
        let i = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        Self::ORDER[(i + 1) % Self::ORDER.len()]
    }
    pub fn prev(self) -> Focus {
        let i = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        Self::ORDER[(i + Self::ORDER.len() - 1) % Self::ORDER.len()]
    }
    /// The tab this focus shows, None for the layer list.
    pub fn tab(self) -> Option<Tab> {
        match self {
            Focus::Layers => None,
            Focus::Tree => Some(Tab::Files),
            Focus::Waste => Some(Tab::Waste),
            Focus::Fixes => Some(Tab::Fixes),
            Focus::Packages => Some(Tab::Packages),
        }
    }
}

impl From<Tab> for Focus {
    fn from(t: Tab) -> Focus {
        match t {
            Tab::Files => Focus::Tree,
            Tab::Waste => Focus::Waste,
            Tab::Fixes => Focus::Fixes,
            Tab::Packages => Focus::Packages,
        }
    }
}

/// What the layout depends on besides the terminal size.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sizes {
    pub layers: usize,
    /// Characters in the selected layer's command, if there is a layer (the
    /// details pane grows to show it whole, within reason).
    pub command_chars: Option<usize>,
    pub fixes: usize,
    /// Findings (the Waste tab's count).
    pub findings: usize,
    /// Packages (the Packages tab's count).
    pub packages: usize,
}

/// Where everything is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Areas {
    pub title: Rect,
    pub layers: Rect,
    pub details: Rect,
    pub summary: Rect,
    pub tabs: Rect,
    pub right: Rect,
    pub status: Rect,
    /// Everything between the title and the status bar: where the viewer,
    /// a history and a diff are drawn.
    pub body: Rect,
    tab_x: [(u16, u16); Tab::ALL.len()],
    fix_count: usize,
}

/// A block's inside (one cell of border all round).
pub fn inner(r: Rect) -> Rect {
    Rect::new(
        r.x.saturating_add(1),
        r.y.saturating_add(1),
        r.width.saturating_sub(2),
        r.height.saturating_sub(2),
    )
}

impl Areas {
    /// Layer rows on screen (below the header).
    pub fn layers_rows(&self) -> usize {
        inner(self.layers).height.saturating_sub(1).max(1) as usize
    }
    pub fn layers_first_row(&self) -> u16 {
        self.layers.y + 2
    }
    /// Tree rows on screen: below the header, above the filter line.
    pub fn tree_rows(&self) -> usize {
        inner(self.right).height.saturating_sub(2).max(1) as usize
    }
    pub fn tree_first_row(&self) -> u16 {
        self.right.y + 2
    }
    pub fn list_first_row(&self) -> u16 {
        self.right.y + 1
    }
    pub fn waste_detail_h(&self) -> u16 {
        (inner(self.right).height / 3).clamp(3, 10)
    }
    pub fn waste_rows(&self) -> usize {
        inner(self.right)
            .height
            .saturating_sub(self.waste_detail_h())
            .max(1) as usize
    }
    /// Fix rows on screen: as many as there are, up to 2/5 of the pane.
    pub fn fix_rows(&self) -> usize {
        let max = (inner(self.right).height as usize * 2 / 5).max(2);
        self.fix_count.clamp(1, max)
    }
    /// The tab whose label is at `p`.
    pub fn tab_at(&self, p: Position) -> Option<Tab> {
        if p.y != self.tabs.y {
            return None;
        }
        self.tab_x
            .iter()
            .zip(Tab::ALL)
            .find(|((a, b), _)| p.x >= *a && p.x < *b)
            .map(|(_, t)| t)
    }
}

/// A tab's label as the tab bar draws it: its number key, its name and
/// its count, padded; one more space separates it from the next.
pub fn tab_label(t: Tab, s: &Sizes) -> String {
    let number = Focus::ORDER
        .iter()
        .position(|f| *f == Focus::from(t))
        .unwrap_or(0)
        + 1;
    let count = match t {
        Tab::Files => String::new(),
        Tab::Waste => format!(" {}", s.findings),
        Tab::Fixes => format!(" {}", s.fixes),
        Tab::Packages => format!(" {}", s.packages),
    };
    format!(" {number} {}{count} ", t.name())
}

pub fn layout(size: (u16, u16), s: Sizes) -> Areas {
    let (w, h) = size;
    let title = Rect::new(0, 0, w, 1.min(h));
    let status = Rect::new(0, h.saturating_sub(1), w, 1.min(h));
    let body_h = h.saturating_sub(2);
    let lw = if w < 70 {
        w / 2
    } else {
        ((w as u32 * 2 / 5) as u16).clamp(34, 80)
    };
    let n = s.layers.min(u16::MAX as usize) as u16;
    let layers_h = n
        .saturating_add(3)
        .min((body_h as u32 * 45 / 100) as u16)
        .max(5.min(body_h));
    let cmd = s.command_chars.map_or(0, |c| c + 8);
    let cmd_lines = (cmd / (lw.saturating_sub(2).max(1) as usize) + 1) as u16;
    let details_h = (5 + cmd_lines)
        .clamp(8, 16)
        .min(body_h.saturating_sub(layers_h + 6).max(8))
        .min(body_h.saturating_sub(layers_h));
    let summary_h = body_h.saturating_sub(layers_h + details_h);
    let layers = Rect::new(0, 1, lw, layers_h);
    let details = Rect::new(0, 1 + layers_h, lw, details_h);
    let summary = Rect::new(0, 1 + layers_h + details_h, lw, summary_h);
    let tabs = Rect::new(lw, 1, w.saturating_sub(lw), 1.min(body_h));
    let right = Rect::new(lw, 2, w.saturating_sub(lw), body_h.saturating_sub(1));
    let mut tab_x = [(0, 0); Tab::ALL.len()];
    let mut x = tabs.x + 1;
    for (i, t) in Tab::ALL.into_iter().enumerate() {
        let len = tab_label(t, &s).chars().count() as u16;
        tab_x[i] = (x, x + len);
        x += len + 1;
    }
    Areas {
        title,
        layers,
        details,
        summary,
        tabs,
        right,
        status,
        body: Rect::new(0, 1.min(h), w, body_h),
        tab_x,
        fix_count: s.fixes,
    }
}
