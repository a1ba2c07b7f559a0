//! The Files tab: the file tree as of the selected layer (merged, or only the
//! layer's changes) with change marks, attributes, sizes and waste; the path
//! filter; the keys that change what the tree shows work from every pane.
//! The tree itself (what is shown, marks, sizes, rows, cursor) is the core's
//! UI-free `crate::view`; this file holds its screen state, keys and drawing.
//! (Past 600 lines only by its unit test: the pane's code is ~600 lines, half
//! of it the drawing of a tree row, which reads best in one piece.)

use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use rustc_hash::FxHashMap;
use std::sync::Arc;

use super::filter::{Edit, FilterInput, LIVE_FILTER_NODES};
use super::keys::{ctrl_group, pair, KEYS};
use super::layout::Focus;
use super::pane::{Action, Ctx, Pane, View};
use super::widgets::{bold, mark_style, pane, sel_style};
use crate::load::index::{Index, NodeId, NodeKind, NO_INODE, ROOT};
use crate::present::{escape, human};
use crate::present::{fit, kind_label};
use crate::suggest::Report;
use crate::view::tree::{self, Mark, Mode, Sort, Tree, Types};
use crate::view::{Cursor, Expansion, Nav, Trees};

/// The footer while the pane is focused.
pub fn hints() -> Vec<(String, &'static str)> {
    let k = &KEYS;
    vec![
        (pair(&k.up, &k.down), "move"),
        (k.toggle_dir.short(), "collapse"),
        (
            format!("{}/{}", k.view.short(), k.history.short()),
            "view/history",
        ),
        (k.toggle_all.short(), "all"),
        (k.filter.short(), "filter"),
        (ctrl_group(&k.types), "types"),
        (k.attrs.short(), "attrs"),
        (k.sort.short(), "sort"),
        (k.layer_only.short(), "mode"),
        (k.next_pane.short(), "pane"),
        (k.help.short(), "help"),
        (k.quit.short(), "quit"),
    ]
}

/// Trees kept besides the shown one: the neighbouring layers and the other
/// mode's tree of the shown layer, built ahead on a background thread
/// (`view::prefetch`), or spare buffers for them (11 bytes per path each:
/// 11 MB on 1M paths).
const KEPT_TREES: usize = 5;
/// How many layers on each side of the shown one are built ahead.
const AHEAD: usize = 2;

/// Rows of the tree (a macro, so the cursor can move while it borrows the
/// tree and the expansion).
macro_rules! nav {
    ($files:expr, $index:expr) => {
        Nav {
            index: $index,
            tree: &$files.tree,
            exp: &$files.exp,
        }
    };
}

pub struct Files {
    pub mode: Mode,
    pub sort: Sort,
    pub types: Types,
    /// Show the permission and owner columns.
    pub attrs: bool,
    pub filter: FilterInput,
    pub tree: Tree,
    /// Trees not shown: kept, or built ahead for the neighbouring layers.
    trees: Trees,
    pub exp: Expansion,
    /// The selected row.
    pub cur: Cursor,
    /// The selected layer changed and the tree was not rebuilt yet.
    pub stale: bool,
    /// Findings of each path.
    findings_of: FxHashMap<NodeId, Vec<usize>>,
    /// The Layers pane has the focus: its next keys are most likely ↑/↓.
    layers_focus: bool,
}

impl Files {
    /// The merged tree of `layer`, sorted by name, the first row selected;
    /// the trees of the neighbouring layers are then built in the background.
    pub fn new(index: &Arc<Index>, report: &Report, layer: usize) -> Files {
        let kinds = tree::hide_kinds(report);
        let key = tree::Key {
            layer,
            mode: Mode::Merged,
            sort: Sort::Name,
            types: Types::default(),
            filter: String::new(),
        };
        let trees = Trees::new(index.clone(), kinds, KEPT_TREES, true);
        let tree = trees.take(&key, None, None);
        let mut findings_of: FxHashMap<NodeId, Vec<usize>> = Default::default();
        for (i, f) in report.waste.iter().enumerate() {
            findings_of.entry(f.node).or_default().push(i);
        }
        let mut files = Files {
            mode: Mode::Merged,
            sort: Sort::Name,
            types: Types::default(),
            attrs: true,
            filter: FilterInput::default(),
            tree,
            trees,
            exp: Expansion::default(),
            cur: Cursor::default(),
            stale: false,
            findings_of,
            layers_focus: true,
        };
        let mut cur = Cursor::default();
        cur.first(&files.nav(index));
        files.cur = cur;
        files.want_neighbours(index.layers.len());
        files
    }

    /// Say whether the Layers pane has the focus (after every message):
    /// the trees built ahead follow.
    pub fn focus_hint(&mut self, layers_focus: bool, layers: usize) {
        if layers_focus != self.layers_focus {
            self.layers_focus = layers_focus;
            self.want_neighbours(layers);
        }
    }

    /// Have the trees of the layers next to the shown one built ahead,
    /// nearest first, as the shown tree (same mode, sort and filters), then,
    /// unless the Layers pane has the focus, the shown layer's tree in the
    /// other mode (Ctrl+L, a full build too). In the Layers pane the next
    /// keys are most likely ↑/↓: with keys faster than builds (↑/↓ held) the
    /// worker is then always on the next layer's tree.
    fn want_neighbours(&self, layers: usize) {
        let k = &self.tree.key;
        let mut keys = Vec::with_capacity(2 * AHEAD + 1);
        for d in 1..=AHEAD {
            let near = [k.layer.checked_sub(d), Some(k.layer + d)];
            for l in near.into_iter().flatten().filter(|&l| l < layers) {
                keys.push(tree::Key {
                    layer: l,
                    ..k.clone()
                });
            }
        }
        if self.layers_focus {
            return self.trees.want(keys, self.filter.compiled());
        }
        keys.push(tree::Key {
            mode: match k.mode {
                Mode::Merged => Mode::LayerOnly,
                Mode::LayerOnly => Mode::Merged,
            },
            ..k.clone()
        });
        self.trees.want(keys, self.filter.compiled());
    }

    /// Wait until the trees wanted ahead are built (benchmarks, tests).
    pub fn wait_ahead(&self) {
        self.trees.wait_idle();
    }

    pub fn nav<'a>(&'a self, index: &'a Index) -> Nav<'a> {
        nav!(self, index)
    }

    /// The path of the selected row.
    pub fn selected_path(&self, index: &Index) -> Option<String> {
        self.cur
            .sel
            .map(|n| String::from_utf8_lossy(&index.path(n)).into_owned())
    }

    /// Is the directory collapsed (as a row)?
    pub fn collapsed(&self, index: &Index, path: &str) -> bool {
        index
            .find(path.as_bytes())
            .is_some_and(|n| !self.exp.expanded(n))
    }

    /// Is a path or change-type filter on?
    pub fn filtered(&self) -> bool {
        self.filter.compiled().is_some() || !self.types.all()
    }

    /// The findings of a path whose bytes are in the tree at this layer:
    /// stored at or below it and not yet hidden.
    fn live_findings<'a>(&'a self, cx: &Ctx<'a>, node: NodeId) -> impl Iterator<Item = usize> + 'a {
        let (layer, report) = (cx.layer, cx.report);
        self.findings_of
            .get(&node)
            .into_iter()
            .flatten()
            .copied()
            .filter(move |&i| {
                let f = &report.waste[i];
                f.stored_in_layer <= layer && f.hidden_by_layer.is_none_or(|h| layer < h)
            })
    }

    /// Rebuild the tree when its key changed (taking it from the trees kept
    /// or built ahead when it is there), then keep the selection on the same
    /// path or its nearest shown ancestor.
    pub fn rebuild(&mut self, cx: &Ctx, h: usize) {
        let key = tree::Key {
            layer: cx.layer,
            mode: self.mode,
            sort: self.sort,
            types: self.types,
            filter: self.filter.key(),
        };
        if key != self.tree.key {
            let new = self
                .trees
                .take(&key, self.filter.compiled(), Some(&self.tree));
            let old = std::mem::replace(&mut self.tree, new);
            self.trees.put(old);
            self.want_neighbours(cx.index.layers.len());
        }
        self.stale = false;
        self.reanchor(cx.index, h);
    }

    /// Rebuild the tree if a layer move left it stale.
    pub fn settle(&mut self, cx: &Ctx, h: usize) {
        if self.stale {
            self.rebuild(cx, h);
        }
    }

    /// Keep the cursor on a row, `h` rows on screen (after a resize, a
    /// collapse, a rebuild).
    pub fn reanchor(&mut self, index: &Index, h: usize) {
        self.cur.reanchor(&nav!(self, index), h);
    }

    fn down(&mut self, index: &Index, h: usize) -> bool {
        self.cur.down(&nav!(self, index), h)
    }

    fn up(&mut self, index: &Index) -> bool {
        self.cur.up(&nav!(self, index))
    }

    /// Select `node`, expanding its ancestors.
    pub fn select_node(&mut self, index: &Index, node: NodeId, h: usize) {
        self.exp.reveal(index, node);
        self.cur.select(&nav!(self, index), node, h);
    }

    pub fn clear_filters(&mut self) {
        self.filter.clear();
        self.types = Types::default();
    }

    fn apply_filter(&mut self, cx: &Ctx, h: usize) {
        if let Some(changed) = self.filter.apply() {
            if changed {
                // Show every match: expand all.
                self.exp.all(true);
            }
            self.rebuild(cx, h);
        }
    }

    /// Apply a filter typed on a huge image once typing paused; true if
    /// the tree changed.
    pub fn tick(&mut self, cx: &Ctx, h: usize) -> bool {
        if self.filter.due() {
            self.apply_filter(cx, h);
            return true;
        }
        false
    }

    /// Keys while the filter is typed.
    pub fn edit_key(&mut self, cx: &Ctx, k: &KeyEvent, h: usize) {
        match self
            .filter
            .edit(k, cx.index.node_count() <= LIVE_FILTER_NODES)
        {
            Edit::None => {}
            Edit::Apply => self.apply_filter(cx, h),
            Edit::Up => {
                self.up(cx.index);
            }
            Edit::Down => {
                self.down(cx.index, h);
            }
        }
    }

    /// Keys that change what the tree shows, from any pane (`focus`); None
    /// when the key is not one of them.
    pub fn global_key(&mut self, cx: &Ctx, k: &KeyEvent, h: usize, focus: Focus) -> Option<Action> {
        let keys = &KEYS;
        match () {
            _ if keys.filter.is(k) => {
                self.filter.editing = true;
                return Some(Action::ShowFiles);
            }
            _ if keys.attrs.is(k) => {
                self.attrs = !self.attrs;
                return Some(Action::None);
            }
            _ if keys.sort.is(k) => {
                self.sort = match self.sort {
                    Sort::Name => Sort::Size,
                    Sort::Size => Sort::Name,
                };
            }
            _ if keys.layer_only.is(k) => {
                self.mode = match (focus, self.mode) {
                    (Focus::Layers, _) | (_, Mode::Merged) => Mode::LayerOnly,
                    (_, Mode::LayerOnly) => Mode::Merged,
                };
            }
            _ if keys.merged.is(k) && focus == Focus::Layers => self.mode = Mode::Merged,
            _ if keys.types.is(k) => {
                let i = keys.types.which(k).unwrap_or(0);
                self.types.0[i] = !self.types.0[i];
            }
            _ if keys.clear.is(k) && self.filtered() => self.clear_filters(),
            _ => return None,
        }
        self.rebuild(cx, h);
        Some(Action::None)
    }

    /// Keys of the focused tree.
    fn tree_key(&mut self, cx: &Ctx, k: &KeyEvent, h: usize) {
        let index = cx.index;
        let keys = &KEYS;
        match () {
            _ if keys.up.is(k) => {
                self.up(index);
            }
            _ if keys.down.is(k) => {
                self.down(index, h);
            }
            _ if keys.page_down.is(k) => {
                for _ in 0..h.max(1) {
                    if !self.down(index, h) {
                        break;
                    }
                }
            }
            _ if keys.page_up.is(k) => {
                for _ in 0..h.max(1) {
                    if !self.up(index) {
                        break;
                    }
                }
            }
            _ if keys.home.is(k) => {
                self.cur.first(&nav!(self, index));
            }
            _ if keys.end.is(k) => {
                self.cur.last(&nav!(self, index), h);
            }
            _ if keys.toggle_all.is(k) => self.toggle_all(index, h),
            _ if keys.collapse_all.is(k) => {
                self.exp.all(false);
                self.reanchor(index, h);
            }
            _ if keys.expand_all.is(k) => {
                self.exp.all(true);
                self.reanchor(index, h);
            }
            _ if keys.toggle_dir.is(k) => {
                if let Some(s) = self.cur.sel.filter(|s| self.tree.is_dir(*s)) {
                    self.exp.set(s, !self.exp.expanded(s));
                }
            }
            _ if keys.collapse.is(k) => {
                let Some(s) = self.cur.sel else { return };
                if self.tree.is_dir(s)
                    && self.exp.expanded(s)
                    && !self.tree.children(index, s).is_empty()
                {
                    self.exp.set(s, false);
                    return;
                }
                self.cur.to_parent(&nav!(self, index));
            }
            _ if keys.expand.is(k) => {
                let Some(s) = self.cur.sel else { return };
                if self.tree.is_dir(s) && !self.exp.expanded(s) {
                    self.exp.set(s, true);
                } else if !self.tree.children(index, s).is_empty() {
                    self.down(index, h);
                }
            }
            _ => {}
        }
    }

    fn toggle_all(&mut self, index: &Index, h: usize) {
        let collapse = !self.exp.collapsed_by_default;
        self.exp.all(!collapse);
        self.reanchor(index, h);
    }

    /// A click on tree row `row` (None: on the header) selects it, a second
    /// click on a directory toggles it; the wheel moves `delta` rows.
    pub fn mouse(&mut self, index: &Index, row: Option<usize>, delta: isize, h: usize) {
        if delta == 0 {
            let Some(r) = row.filter(|r| *r < h) else {
                return;
            };
            if let Some(s) = self.cur.row_at(&self.nav(index), r) {
                if Some(s) == self.cur.sel && self.tree.is_dir(s) {
                    self.exp.set(s, !self.exp.expanded(s));
                }
                self.cur.sel = Some(s);
                self.cur.sel_row = r;
            }
            return;
        }
        for _ in 0..delta.unsigned_abs() {
            if delta > 0 {
                self.down(index, h);
            } else {
                self.up(index);
            }
        }
    }

    /// The filter line while a filter is typed or on; else the selected
    /// path, what this layer did to it and its waste.
    fn draw_footer(&self, f: &mut Frame, cx: &Ctx, r: Rect) {
        let t = &self.tree;
        let bold = bold();
        let mut spans = Vec::new();
        if let Some(line) = self.filter.spans(t.shown_count) {
            spans = line;
        } else if let Some(n) = self.cur.sel {
            // The selected path, what this layer did to it, and its waste.
            let m = t.mark(n);
            spans.push(Span::styled(
                escape::line(&String::from_utf8_lossy(&cx.index.path(n))).into_owned(),
                bold,
            ));
            if m != Mark::Unchanged {
                spans.push(Span::styled(format!("  {}", m.label()), mark_style(m)));
            }
            let live: Vec<usize> = self.live_findings(cx, n).collect();
            if let Some(&fi) = live.first() {
                let fd = &cx.report.waste[fi];
                let when = match fd.hidden_by_layer {
                    Some(h) => format!("hidden by layer {h}"),
                    None => "left in the image".into(),
                };
                spans.push(Span::styled(
                    format!(
                        "  waste: {} {} ({when}){}",
                        human(fd.bytes),
                        kind_label(fd.kind),
                        if live.len() > 1 {
                            format!(" +{} more", live.len() - 1)
                        } else {
                            String::new()
                        }
                    ),
                    Style::default().fg(Color::LightRed),
                ));
            }
        }
        f.render_widget(
            Paragraph::new(Line::from(spans)).style(Style::default().bg(Color::Black)),
            r,
        );
    }
}

/// `ls -l`'s type letter and permission bits.
pub(super) fn mode_string(kind: NodeKind, mode: u32) -> String {
    let t = match kind {
        NodeKind::Dir => 'd',
        NodeKind::Symlink => 'l',
        NodeKind::File => '-',
        NodeKind::Char => 'c',
        NodeKind::Block => 'b',
        NodeKind::Fifo => 'p',
    };
    let mut s = String::with_capacity(10);
    s.push(t);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

impl Pane for Files {
    fn title(&self, v: &View) -> String {
        let mut title = format!(
            " Files at layer {} · {} · by {} ",
            v.cx.layer,
            match self.mode {
                Mode::Merged => "merged",
                Mode::LayerOnly => "this layer's changes",
            },
            match self.sort {
                Sort::Name => "name",
                Sort::Size => "size",
            }
        );
        if !self.types.all() {
            let names = ["added", "removed", "modified", "unchanged"];
            let hidden: Vec<&str> = names
                .iter()
                .zip(self.types.0)
                .filter(|(_, on)| !on)
                .map(|(n, _)| *n)
                .collect();
            title.push_str(&format!("· hiding {} ", hidden.join(", ")));
        }
        title
    }

    fn key(&mut self, k: &KeyEvent, v: &View) -> Action {
        let keys = &KEYS;
        if let Some(s) = self.cur.sel {
            if keys.history.is(k) {
                return Action::History(s);
            }
            if keys.view.is(k) || (keys.enter.is(k) && !self.tree.is_dir(s)) {
                return Action::View(s);
            }
        }
        self.tree_key(&v.cx, k, v.areas.tree_rows());
        Action::None
    }

    fn draw(&self, f: &mut Frame, v: &View) {
        let (cx, a, focused) = (&v.cx, v.areas, v.focused);
        let t = &self.tree;
        let block = pane(self.title(v), focused);
        let inner = block.inner(a.right);
        f.render_widget(block, a.right);
        if inner.height == 0 {
            return;
        }
        let w = inner.width as usize;
        // Narrow panes keep the names readable: attributes only when there is room.
        let attrs_on = self.attrs && w >= 64;
        let head = if attrs_on {
            format!(
                "  {:<10} {:>11} {:>9}  Name",
                "Permission", "UID:GID", "Size"
            )
        } else {
            format!("  {:>9}  Name", "Size")
        };
        f.render_widget(
            Paragraph::new(fit(&head, w)).style(Style::default().add_modifier(Modifier::BOLD)),
            Rect::new(inner.x, inner.y, inner.width, 1),
        );
        let rows = a.tree_rows();
        let nav = self.nav(cx.index);
        let mut cur = self.cur.top;
        let layer = cx.layer;
        let mut guide: Vec<bool> = Vec::new();
        for row in 0..rows {
            let Some(n) = cur else { break };
            let change = cx.index.change_at(n, layer).map(|(_, c)| *c);
            let m = t.mark(n);
            let present = t.present(n);
            // Tree guides: for each ancestor, is it the last of its siblings?
            guide.clear();
            let mut p = cx.index.parent(n);
            while p != ROOT {
                guide.push(t.is_last(cx.index, p));
                p = cx.index.parent(p);
            }
            let mut prefix = String::new();
            for last in guide.iter().rev() {
                prefix.push_str(if *last { "    " } else { "│   " });
            }
            prefix.push_str(if t.is_last(cx.index, n) {
                "└── "
            } else {
                "├── "
            });
            let is_dir = t.is_dir(n);
            // Names and link targets from the image, control characters escaped.
            let name = escape::line(&String::from_utf8_lossy(cx.index.name(n))).into_owned();
            let mut label = String::new();
            if is_dir && !t.children(cx.index, n).is_empty() {
                label.push_str(if self.exp.expanded(n) { "▾ " } else { "▸ " });
            }
            label.push_str(&name);
            if is_dir {
                label.push('/');
            }
            if let Some(c) = change {
                if c.kind == NodeKind::Symlink && present {
                    if let Some(l) = cx.index.link(&c) {
                        label.push_str(" → ");
                        label.push_str(&escape::line(&String::from_utf8_lossy(l)));
                    }
                }
            }
            if m == Mark::MovedHere {
                label.push_str(" [moved here]");
            }
            let wasted = !is_dir && self.live_findings(cx, n).next().is_some();
            if !present {
                label.push_str(if m == Mark::Moved {
                    " [moved]"
                } else {
                    " [removed]"
                });
            }
            let size = if is_dir || change.is_some_and(|c| c.inode != NO_INODE) {
                human(t.size(n))
            } else {
                String::new()
            };
            let attrs = if attrs_on {
                match change {
                    Some(c) if present => format!(
                        "{:<10} {:>11} ",
                        mode_string(c.kind, c.mode),
                        format!("{}:{}", c.uid, c.gid)
                    ),
                    _ => format!("{:<10} {:>11} ", "whiteout", ""),
                }
            } else {
                String::new()
            };
            let mut style = mark_style(m);
            if is_dir && m == Mark::Modified && change.is_some_and(|c| c.layer as usize != layer) {
                // Only its contents changed.
                style = Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::DIM);
            }
            let mut spans = vec![
                Span::styled(format!("{} ", m.symbol()), mark_style(m)),
                Span::raw(format!("{attrs}{size:>9}  ")),
                Span::raw(prefix),
                Span::styled(label, style),
            ];
            if wasted {
                spans.push(Span::styled(
                    " [waste]",
                    Style::default().fg(Color::LightRed),
                ));
            }
            let line = Line::from(spans);
            let mut para = Paragraph::new(line);
            if Some(n) == self.cur.sel {
                para = para.style(sel_style(focused));
            }
            f.render_widget(
                para,
                Rect::new(inner.x, inner.y + 1 + row as u16, inner.width, 1),
            );
            cur = nav.next(n);
        }
        if inner.height > 1 {
            self.draw_footer(
                f,
                cx,
                Rect::new(inner.x, inner.bottom() - 1, inner.width, 1),
            );
        }
        if t.shown_count == 0 {
            f.render_widget(
                Paragraph::new("  (nothing to show here)")
                    .style(Style::default().fg(Color::DarkGray)),
                Rect::new(inner.x, inner.y + 1, inner.width, 1.min(inner.height - 1)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{image, E};
    use crate::tui::{draw, App};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn screen(app: &mut App) -> Vec<String> {
        let (w, h) = app.size;
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| draw(f, app)).unwrap();
        let buf = term.backend().buffer();
        (0..h)
            .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect()
    }

    /// Devices and pipes get `ls -l`'s type letters, not `?`.
    #[test]
    fn files_show_device_and_pipe_types_as_ls_does() {
        let (index, report) = image(&[&[
            E::Dir("dev"),
            E::Char("dev/null"),
            E::Block("dev/sda"),
            E::Fifo("dev/initctl"),
            E::File("dev/notes", b"x".to_vec()),
        ]]);
        let mut app = App::loaded("devices.tar", index, report, (140, 30));
        let rows = screen(&mut app);
        let row = |name: &str| {
            rows.iter()
                .find(|r| r.contains(&format!("{name} ")))
                .unwrap_or_else(|| panic!("no row for {name}:\n{}", rows.join("\n")))
                .clone()
        };
        assert!(row("── null").contains(" crw-rw-rw- "), "{}", row("null"));
        assert!(row("── sda").contains(" brw-rw---- "), "{}", row("sda"));
        assert!(
            row("── initctl").contains(" prw-r--r-- "),
            "{}",
            row("initctl")
        );
        assert!(row("── notes").contains(" -rw-r--r-- "));
        assert!(row("dev/").contains(" drwxr-xr-x "));
        assert!(!rows.iter().any(|r| r.contains("?rw")));
    }
}
