//! Elm-style state: [`App`], the messages it receives ([`Msg`]) and
//! [`update`]. Drawing lives in `view`; nothing here touches the terminal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use super::view;
use crate::analyze::index::{Index, NodeId};
use crate::analyze::waste::{Report, WasteKind};
use crate::view::tree::{self, HideKinds, Mode, Sort, Tree, Types};
use crate::view::{Cursor, Expansion, Nav, PathFilter};
use crate::LoadProgress;

/// Everything the TUI reacts to, from one channel.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// Periodic: progress while loading, debounced filter afterwards.
    Tick,
    Loaded(Box<Loaded>),
    Failed(String),
}

#[derive(Debug)]
pub struct Loaded {
    pub index: Index,
    pub report: Report,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Layers,
    Tree,
    Waste,
    Fixes,
}

impl Focus {
    fn next(self) -> Focus {
        match self {
            Focus::Layers => Focus::Tree,
            Focus::Tree => Focus::Waste,
            Focus::Waste => Focus::Fixes,
            Focus::Fixes => Focus::Layers,
        }
    }
    fn prev(self) -> Focus {
        match self {
            Focus::Layers => Focus::Fixes,
            Focus::Tree => Focus::Layers,
            Focus::Waste => Focus::Tree,
            Focus::Fixes => Focus::Waste,
        }
    }
}

/// A row of the Waste view: findings grouped by kind, then by cause.
#[derive(Debug, Clone)]
pub enum WasteRow {
    Kind {
        kind: WasteKind,
        bytes: u64,
        count: usize,
    },
    Cause {
        kind: WasteKind,
        /// The layer that hid the bytes (None for cache findings).
        layer: Option<usize>,
        rule: Option<String>,
        bytes: u64,
        count: usize,
    },
    Finding(usize),
}

/// A scrolled list selection.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListSel {
    pub sel: usize,
    pub top: usize,
}

impl ListSel {
    fn moved(&mut self, delta: isize, len: usize, height: usize) {
        if len == 0 {
            return;
        }
        let s = (self.sel as isize + delta).clamp(0, len as isize - 1) as usize;
        self.select(s, height);
    }
    pub fn select(&mut self, s: usize, height: usize) {
        self.sel = s;
        let h = height.max(1);
        if self.sel < self.top {
            self.top = self.sel;
        } else if self.sel >= self.top + h {
            self.top = self.sel + 1 - h;
        }
    }
}

/// The state once the image is indexed.
pub struct Data {
    pub index: Index,
    pub report: Report,
    kinds: HideKinds,
    pub focus: Focus,
    /// The tab shown on the right (Tree, Waste or Fixes).
    pub tab: Focus,
    pub layers: ListSel,
    pub mode: Mode,
    pub sort: Sort,
    pub types: Types,
    pub attrs: bool,
    pub filter_text: String,
    pub filter_editing: bool,
    pub filter_error: Option<String>,
    filter_pending: Option<Instant>,
    filter: Option<PathFilter>,
    pub tree: Tree,
    cache: Vec<Tree>,
    pub exp: Expansion,
    /// The selected row of the tree.
    pub cur: Cursor,
    pub waste_rows: Vec<WasteRow>,
    pub waste: ListSel,
    pub fixes: ListSel,
    /// Suggestion covering each finding, if any.
    pub fix_of: Vec<Option<usize>>,
    /// The selected layer changed and the tree was not rebuilt yet.
    stale: bool,
    /// Findings of each path.
    pub findings_of: rustc_hash::FxHashMap<NodeId, Vec<usize>>,
}

pub struct App {
    pub source: String,
    pub progress: Arc<LoadProgress>,
    pub started: Instant,
    pub data: Option<Box<Data>>,
    pub error: Option<String>,
    pub help: bool,
    pub quit: bool,
    /// Something changed since the last frame.
    pub dirty: bool,
    pub size: (u16, u16),
    /// More messages are queued: moving between layers may leave the tree
    /// to be rebuilt once, after the last of them (holding ↓ on a huge
    /// image does not build a tree per layer passed).
    pub defer: bool,
    last_progress: crate::ProgressSnapshot,
}

/// Filters on images with more nodes than this are applied after a short
/// pause in typing (or on Enter) instead of on every key.
const LIVE_FILTER_NODES: usize = 200_000;
const FILTER_DEBOUNCE: Duration = Duration::from_millis(150);

impl App {
    pub fn new(source: &str, progress: Arc<LoadProgress>, size: (u16, u16)) -> App {
        App {
            source: source.to_string(),
            progress,
            started: Instant::now(),
            data: None,
            error: None,
            help: false,
            quit: false,
            dirty: true,
            size,
            defer: false,
            last_progress: Default::default(),
        }
    }

    /// An app already loaded (tests, benchmarks).
    pub fn loaded(source: &str, index: Index, report: Report, size: (u16, u16)) -> App {
        let mut app = App::new(source, Arc::new(LoadProgress::default()), size);
        update(&mut app, Msg::Loaded(Box::new(Loaded { index, report })));
        app
    }

    pub fn area(&self) -> Rect {
        Rect::new(0, 0, self.size.0, self.size.1)
    }
}

impl Data {
    fn new(index: Index, report: Report) -> Data {
        let kinds = tree::hide_kinds(&report);
        let last = index.layers.len().saturating_sub(1);
        let key = tree::Key {
            layer: last,
            mode: Mode::Merged,
            sort: Sort::Name,
            types: Types::default(),
            filter: String::new(),
        };
        let tree = Tree::build(&index, &kinds, key, None);
        let waste_rows = waste_rows(&report);
        let mut fix_of = vec![None; report.waste.len()];
        for (si, s) in report.suggestions.iter().enumerate() {
            for &f in &s.findings {
                if let Some(slot) = fix_of.get_mut(f) {
                    slot.get_or_insert(si);
                }
            }
        }
        let mut findings_of: rustc_hash::FxHashMap<NodeId, Vec<usize>> = Default::default();
        for (i, f) in report.waste.iter().enumerate() {
            findings_of.entry(f.node).or_default().push(i);
        }
        let mut d = Data {
            index,
            report,
            kinds,
            focus: Focus::Layers,
            tab: Focus::Tree,
            layers: ListSel::default(),
            mode: Mode::Merged,
            sort: Sort::Name,
            types: Types::default(),
            attrs: true,
            filter_text: String::new(),
            filter_editing: false,
            filter_error: None,
            filter_pending: None,
            filter: None,
            tree,
            cache: Vec::new(),
            exp: Expansion::default(),
            cur: Cursor::default(),
            waste_rows,
            waste: ListSel::default(),
            fixes: ListSel::default(),
            fix_of,
            findings_of,
            stale: false,
        };
        d.layers.sel = last;
        let mut cur = Cursor::default();
        cur.first(&d.nav());
        d.cur = cur;
        // Start on the first finding row rather than its group header.
        if let Some(i) = d
            .waste_rows
            .iter()
            .position(|r| matches!(r, WasteRow::Finding(_)))
        {
            d.waste.sel = i;
        }
        d
    }

    pub fn layer(&self) -> usize {
        self.layers.sel
    }

    pub fn nav(&self) -> Nav<'_> {
        Nav {
            index: &self.index,
            tree: &self.tree,
            exp: &self.exp,
        }
    }

    /// The path of the selected tree row.
    pub fn selected_path(&self) -> Option<String> {
        self.cur
            .sel
            .map(|n| String::from_utf8_lossy(&self.index.path(n)).into_owned())
    }

    /// The findings of a path whose bytes are in the tree at this layer:
    /// stored at or below it and not yet hidden.
    pub fn live_findings(&self, node: NodeId) -> impl Iterator<Item = usize> + '_ {
        let layer = self.layer();
        self.findings_of
            .get(&node)
            .into_iter()
            .flatten()
            .copied()
            .filter(move |&i| {
                let f = &self.report.waste[i];
                f.stored_in_layer <= layer && f.hidden_by_layer.is_none_or(|h| layer < h)
            })
    }

    /// Is the directory collapsed (as a row)?
    pub fn collapsed(&self, path: &str) -> bool {
        self.index
            .find(path.as_bytes())
            .is_some_and(|n| !self.exp.expanded(n))
    }

    /// Rebuild the tree when its key changed (a small cache keeps the last
    /// few layers, so stepping back and forth is instant), then keep the
    /// selection on the same path or its nearest shown ancestor.
    fn rebuild(&mut self, h: usize) {
        let key = tree::Key {
            layer: self.layer(),
            mode: self.mode,
            sort: self.sort,
            types: self.types,
            filter: self.filter_key(),
        };
        if key != self.tree.key {
            let new = match self.cache.iter().position(|t| t.key == key) {
                Some(i) => self.cache.swap_remove(i),
                None => Tree::build(&self.index, &self.kinds, key, self.filter.as_ref()),
            };
            let old = std::mem::replace(&mut self.tree, new);
            self.cache.push(old);
            if self.cache.len() > 4 {
                self.cache.remove(0);
            }
        }
        self.reanchor(h);
    }

    fn filter_key(&self) -> String {
        match &self.filter {
            Some(_) => self.filter_text.trim().to_string(),
            None => String::new(),
        }
    }

    fn reanchor(&mut self, h: usize) {
        let mut cur = self.cur;
        cur.reanchor(&self.nav(), h);
        self.cur = cur;
    }

    fn tree_down(&mut self, h: usize) -> bool {
        let mut cur = self.cur;
        let moved = cur.down(&self.nav(), h);
        self.cur = cur;
        moved
    }

    fn tree_up(&mut self) -> bool {
        let mut cur = self.cur;
        let moved = cur.up(&self.nav());
        self.cur = cur;
        moved
    }

    fn select_node(&mut self, node: NodeId, h: usize) {
        self.exp.reveal(&self.index, node);
        let mut cur = self.cur;
        cur.select(&self.nav(), node, h);
        self.cur = cur;
    }

    fn set_layer(&mut self, layer: usize, a: &view::Areas) {
        let n = self.index.layers.len();
        if n == 0 {
            return;
        }
        self.layers.select(layer.min(n - 1), a.layers_rows());
        self.rebuild(a.tree_rows());
        self.stale = false;
    }

    /// Rebuild the tree if a layer move left it stale.
    fn settle(&mut self, h: usize) {
        if self.stale {
            self.stale = false;
            self.rebuild(h);
        }
    }

    /// Enter on a finding: its layer (where its bytes are stored; the hiding
    /// layer if the path is not in the tree there), its file selected.
    fn jump_to_finding(&mut self, fi: usize, a: &view::Areas) {
        let Some(f) = self.report.waste.get(fi) else {
            return;
        };
        let (node, stored, hidden) = (f.node, f.stored_in_layer, f.hidden_by_layer);
        self.mode = Mode::Merged;
        self.set_layer(stored, a);
        if !self.tree.shown(node) && (self.filter.is_some() || !self.types.all()) {
            self.clear_filters();
            self.rebuild(a.tree_rows());
        }
        if !self.tree.shown(node) {
            if let Some(h) = hidden {
                self.set_layer(h, a);
            }
        }
        self.select_node(node, a.tree_rows());
        self.focus = Focus::Tree;
        self.tab = Focus::Tree;
    }

    fn jump_to_fix(&mut self, si: usize, a: &view::Areas) {
        let Some(s) = self.report.suggestions.get(si) else {
            return;
        };
        if let Some(&fi) = s.findings.first() {
            self.jump_to_finding(fi, a);
        } else if let Some(&l) = s.layers.first() {
            self.set_layer(l, a);
            self.focus = Focus::Tree;
            self.tab = Focus::Tree;
        }
    }

    fn clear_filters(&mut self) {
        self.filter_text.clear();
        self.filter = None;
        self.filter_error = None;
        self.filter_pending = None;
        self.types = Types::default();
    }

    fn apply_filter(&mut self, h: usize) {
        self.filter_pending = None;
        match PathFilter::parse(&self.filter_text) {
            Ok(f) => {
                self.filter_error = None;
                let changed = f.is_some() || self.filter.is_some();
                self.filter = f;
                if changed {
                    // Show every match: expand all.
                    self.exp.all(true);
                }
                self.rebuild(h);
            }
            Err(e) => self.filter_error = Some(e),
        }
    }

    fn filter_edited(&mut self, h: usize) {
        if self.index.nodes.len() <= LIVE_FILTER_NODES {
            self.apply_filter(h);
        } else {
            self.filter_pending = Some(Instant::now());
        }
    }
}

type Causes = std::collections::BTreeMap<(Option<usize>, Option<String>), Vec<usize>>;

fn waste_rows(report: &Report) -> Vec<WasteRow> {
    use std::collections::BTreeMap;
    let mut by_kind: BTreeMap<WasteKind, Causes> = BTreeMap::new();
    for (i, f) in report.waste.iter().enumerate() {
        let cause = match f.hidden_by_layer {
            Some(l) => (Some(l), None),
            None => (None, f.rule.clone()),
        };
        by_kind
            .entry(f.kind)
            .or_default()
            .entry(cause)
            .or_default()
            .push(i);
    }
    let bytes = |v: &[usize]| v.iter().map(|&i| report.waste[i].bytes).sum::<u64>();
    let mut kinds: Vec<_> = by_kind
        .into_iter()
        .map(|(k, causes)| {
            let total: u64 = causes.values().map(|v| bytes(v)).sum();
            (k, total, causes)
        })
        .collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut rows = Vec::new();
    for (kind, total, causes) in kinds {
        let count = causes.values().map(|v| v.len()).sum();
        rows.push(WasteRow::Kind {
            kind,
            bytes: total,
            count,
        });
        let mut causes: Vec<_> = causes.into_iter().collect();
        causes.sort_by(|a, b| bytes(&b.1).cmp(&bytes(&a.1)).then(a.0.cmp(&b.0)));
        for ((layer, rule), list) in causes {
            rows.push(WasteRow::Cause {
                kind,
                layer,
                rule,
                bytes: bytes(&list),
                count: list.len(),
            });
            // `report.waste` is sorted by bytes: so is each list.
            rows.extend(list.into_iter().map(WasteRow::Finding));
        }
    }
    rows
}

fn ctrl(k: &KeyEvent) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL)
}

/// The whole state machine.
pub fn update(app: &mut App, msg: Msg) {
    handle(app, msg);
    if !app.defer {
        if let Some(d) = app.data.as_deref_mut() {
            if d.stale {
                let h = view::layout(app.size, d).tree_rows();
                d.settle(h);
            }
        }
    }
}

fn handle(app: &mut App, msg: Msg) {
    match msg {
        Msg::Resize(w, h) => {
            app.size = (w, h);
            if let Some(d) = app.data.as_deref_mut() {
                let a = view::layout(app.size, d);
                d.layers.select(d.layers.sel, a.layers_rows());
                d.waste.select(d.waste.sel, a.waste_rows());
                d.fixes.select(d.fixes.sel, a.fix_rows());
                d.reanchor(a.tree_rows());
            }
            app.dirty = true;
        }
        Msg::Tick => {
            if app.data.is_none() {
                let p = app.progress.snapshot();
                if p != app.last_progress {
                    app.last_progress = p;
                    app.dirty = true;
                }
            } else if let Some(d) = app.data.as_deref_mut() {
                if d.filter_pending
                    .is_some_and(|t| t.elapsed() >= FILTER_DEBOUNCE)
                {
                    let h = view::layout(app.size, d).tree_rows();
                    d.apply_filter(h);
                    app.dirty = true;
                }
            }
        }
        Msg::Loaded(l) => {
            let Loaded { index, report } = *l;
            app.data = Some(Box::new(Data::new(index, report)));
            app.dirty = true;
        }
        Msg::Failed(e) => {
            app.error = Some(e);
            app.quit = true;
        }
        Msg::Key(k) => {
            if k.kind == KeyEventKind::Release {
                return;
            }
            app.dirty = true;
            key(app, k);
        }
        Msg::Mouse(m) => {
            if let Some(d) = app.data.as_deref_mut() {
                if !app.help && mouse(app.size, d, m) {
                    app.dirty = true;
                }
            }
        }
    }
}

fn key(app: &mut App, k: KeyEvent) {
    if ctrl(&k) && k.code == KeyCode::Char('c') {
        app.quit = true;
        return;
    }
    if app.help {
        if matches!(
            k.code,
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
        ) {
            app.help = false;
        }
        return;
    }
    let size = app.size;
    let Some(d) = app.data.as_deref_mut() else {
        if matches!(k.code, KeyCode::Char('q') | KeyCode::Esc) {
            app.quit = true;
        }
        return;
    };
    let a = view::layout(size, d);
    let th = a.tree_rows();
    let layer_move = d.focus == Focus::Layers
        && !d.filter_editing
        && !ctrl(&k)
        && matches!(
            k.code,
            KeyCode::Up
                | KeyCode::Down
                | KeyCode::Char('j')
                | KeyCode::Char('k')
                | KeyCode::PageUp
                | KeyCode::PageDown
                | KeyCode::Home
                | KeyCode::End
                | KeyCode::Char('g')
                | KeyCode::Char('G')
        );
    if !layer_move {
        d.settle(th);
    }
    if d.filter_editing {
        match k.code {
            KeyCode::Enter => {
                d.filter_editing = false;
                d.apply_filter(th);
            }
            KeyCode::Esc => {
                d.filter_editing = false;
                d.filter_text.clear();
                d.apply_filter(th);
            }
            KeyCode::Char('f') if ctrl(&k) => d.filter_editing = false,
            KeyCode::Backspace => {
                d.filter_text.pop();
                d.filter_edited(th);
            }
            KeyCode::Char('u') if ctrl(&k) => {
                d.filter_text.clear();
                d.filter_edited(th);
            }
            KeyCode::Char(c) if !ctrl(&k) => {
                d.filter_text.push(c);
                d.filter_edited(th);
            }
            KeyCode::Up => {
                d.tree_up();
            }
            KeyCode::Down => {
                d.tree_down(th);
            }
            _ => {}
        }
        return;
    }
    // Keys that work everywhere.
    match k.code {
        KeyCode::Char('q') if !ctrl(&k) => {
            app.quit = true;
            return;
        }
        KeyCode::Char('?') => {
            app.help = true;
            return;
        }
        KeyCode::Tab => {
            d.focus = d.focus.next();
            if d.focus != Focus::Layers {
                d.tab = d.focus;
            }
            return;
        }
        KeyCode::BackTab => {
            d.focus = d.focus.prev();
            if d.focus != Focus::Layers {
                d.tab = d.focus;
            }
            return;
        }
        KeyCode::Char(c @ '1'..='4') => {
            d.focus =
                [Focus::Layers, Focus::Tree, Focus::Waste, Focus::Fixes][c as usize - '1' as usize];
            if d.focus != Focus::Layers {
                d.tab = d.focus;
            }
            return;
        }
        KeyCode::Char('f') | KeyCode::Char('/') if ctrl(&k) || k.code == KeyCode::Char('/') => {
            d.filter_editing = true;
            d.focus = Focus::Tree;
            d.tab = Focus::Tree;
            return;
        }
        KeyCode::Char('b') if ctrl(&k) => {
            d.attrs = !d.attrs;
            return;
        }
        KeyCode::Char('o') if ctrl(&k) => {
            d.sort = match d.sort {
                Sort::Name => Sort::Size,
                Sort::Size => Sort::Name,
            };
            d.rebuild(th);
            return;
        }
        KeyCode::Char('l') if ctrl(&k) => {
            d.mode = if d.focus == Focus::Layers {
                Mode::LayerOnly
            } else {
                match d.mode {
                    Mode::Merged => Mode::LayerOnly,
                    Mode::LayerOnly => Mode::Merged,
                }
            };
            d.rebuild(th);
            return;
        }
        KeyCode::Char('a') if ctrl(&k) && d.focus == Focus::Layers => {
            d.mode = Mode::Merged;
            d.rebuild(th);
            return;
        }
        KeyCode::Char(c @ ('a' | 'r' | 'm' | 'u')) if ctrl(&k) => {
            let i = match c {
                'a' => 0,
                'r' => 1,
                'm' => 2,
                _ => 3,
            };
            d.types.0[i] = !d.types.0[i];
            d.rebuild(th);
            return;
        }
        KeyCode::Esc if d.filter.is_some() || !d.types.all() => {
            d.clear_filters();
            d.rebuild(th);
            return;
        }
        _ => {}
    }
    let up = matches!(k.code, KeyCode::Up | KeyCode::Char('k'));
    let down = matches!(k.code, KeyCode::Down | KeyCode::Char('j'));
    match d.focus {
        Focus::Layers => {
            let n = d.index.layers.len();
            let h = a.layers_rows();
            let cur = d.layer();
            let target = match k.code {
                _ if up => cur.checked_sub(1),
                _ if down => Some(cur + 1),
                KeyCode::PageUp => Some(cur.saturating_sub(h)),
                KeyCode::PageDown => Some(cur + h),
                KeyCode::Home | KeyCode::Char('g') => Some(0),
                KeyCode::End | KeyCode::Char('G') => Some(n.saturating_sub(1)),
                KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
                    d.focus = Focus::Tree;
                    d.tab = Focus::Tree;
                    None
                }
                _ => None,
            };
            if let Some(t) = target {
                let t = t.min(n.saturating_sub(1));
                if t != cur {
                    d.layers.select(t, h);
                    d.stale = true;
                }
            }
        }
        Focus::Tree => tree_key(d, k, th, up, down),
        Focus::Waste => {
            let len = d.waste_rows.len();
            if list_key(&mut d.waste, k.code, up, down, len, a.waste_rows()) {
                let fi = d.waste_rows[d.waste.sel..].iter().find_map(|r| match r {
                    WasteRow::Finding(i) => Some(*i),
                    _ => None,
                });
                if let Some(fi) = fi {
                    d.jump_to_finding(fi, &a);
                }
            }
        }
        Focus::Fixes => {
            let len = d.report.suggestions.len();
            if list_key(&mut d.fixes, k.code, up, down, len, a.fix_rows()) {
                let s = d.fixes.sel;
                d.jump_to_fix(s, &a);
            }
        }
    }
}

/// Moves a list selection; true on Enter.
fn list_key(ls: &mut ListSel, code: KeyCode, up: bool, down: bool, len: usize, h: usize) -> bool {
    match code {
        _ if up => ls.moved(-1, len, h),
        _ if down => ls.moved(1, len, h),
        KeyCode::PageUp => ls.moved(-(h as isize), len, h),
        KeyCode::PageDown => ls.moved(h as isize, len, h),
        KeyCode::Home | KeyCode::Char('g') => ls.select(0, h),
        KeyCode::End | KeyCode::Char('G') => ls.select(len.saturating_sub(1), h),
        KeyCode::Enter => return len > 0,
        _ => {}
    }
    false
}

fn tree_key(d: &mut Data, k: KeyEvent, h: usize, up: bool, down: bool) {
    match k.code {
        _ if up => {
            d.tree_up();
        }
        _ if down => {
            d.tree_down(h);
        }
        KeyCode::PageDown => {
            for _ in 0..h.max(1) {
                if !d.tree_down(h) {
                    break;
                }
            }
        }
        KeyCode::PageUp => {
            for _ in 0..h.max(1) {
                if !d.tree_up() {
                    break;
                }
            }
        }
        KeyCode::Home | KeyCode::Char('g') => {
            let mut cur = d.cur;
            cur.first(&d.nav());
            d.cur = cur;
        }
        KeyCode::End | KeyCode::Char('G') => {
            let mut cur = d.cur;
            cur.last(&d.nav(), h);
            d.cur = cur;
        }
        KeyCode::Char(' ') if ctrl(&k) => toggle_all(d, h),
        KeyCode::Char('\0') => toggle_all(d, h),
        KeyCode::Char('-') => {
            d.exp.all(false);
            d.reanchor(h);
        }
        KeyCode::Char('+') | KeyCode::Char('=') => {
            d.exp.all(true);
            d.reanchor(h);
        }
        KeyCode::Char(' ') | KeyCode::Enter => {
            if let Some(s) = d.cur.sel.filter(|s| d.tree.is_dir(*s)) {
                let e = d.exp.expanded(s);
                d.exp.set(s, !e);
            }
        }
        KeyCode::Left | KeyCode::Char('h') => {
            let Some(s) = d.cur.sel else { return };
            if d.tree.is_dir(s) && d.exp.expanded(s) && !d.tree.children(s).is_empty() {
                d.exp.set(s, false);
                return;
            }
            let mut cur = d.cur;
            cur.to_parent(&d.nav());
            d.cur = cur;
        }
        KeyCode::Right | KeyCode::Char('l') => {
            let Some(s) = d.cur.sel else { return };
            if d.tree.is_dir(s) && !d.exp.expanded(s) {
                d.exp.set(s, true);
            } else if !d.tree.children(s).is_empty() {
                d.tree_down(h);
            }
        }
        _ => {}
    }
}

fn toggle_all(d: &mut Data, h: usize) {
    let collapse = !d.exp.collapsed_by_default;
    d.exp.all(!collapse);
    d.reanchor(h);
}

fn mouse(size: (u16, u16), d: &mut Data, m: MouseEvent) -> bool {
    let a = view::layout(size, d);
    d.settle(a.tree_rows());
    let p = Position::new(m.column, m.row);
    let delta: isize = match m.kind {
        MouseEventKind::ScrollDown => 3,
        MouseEventKind::ScrollUp => -3,
        MouseEventKind::Down(MouseButton::Left) => 0,
        _ => return false,
    };
    let click = delta == 0;
    if let Some(tab) = a.tab_at(p) {
        if click {
            d.tab = tab;
            d.focus = tab;
            return true;
        }
    }
    if a.layers.contains(p) {
        let n = d.index.layers.len();
        if click {
            d.focus = Focus::Layers;
            let row = (p.y as usize).checked_sub(a.layers_first_row() as usize);
            if let Some(r) = row {
                let t = d.layers.top + r;
                if t < n {
                    d.set_layer(t, &a);
                }
            }
        } else {
            let t = (d.layer() as isize + delta.signum()).clamp(0, n as isize - 1) as usize;
            d.set_layer(t, &a);
        }
        return true;
    }
    if !a.right.contains(p) {
        return false;
    }
    d.focus = d.tab;
    let h = a.tree_rows();
    match d.tab {
        Focus::Tree => {
            if click {
                if let Some(r) = (p.y as usize).checked_sub(a.tree_first_row() as usize) {
                    if r < h {
                        if let Some(s) = d.cur.row_at(&d.nav(), r) {
                            if Some(s) == d.cur.sel && d.tree.is_dir(s) {
                                let e = d.exp.expanded(s);
                                d.exp.set(s, !e);
                            }
                            d.cur.sel = Some(s);
                            d.cur.sel_row = r;
                        }
                    }
                }
            } else {
                for _ in 0..delta.unsigned_abs() {
                    if delta > 0 {
                        d.tree_down(h);
                    } else {
                        d.tree_up();
                    }
                }
            }
        }
        Focus::Waste => {
            let wh = a.waste_rows();
            let len = d.waste_rows.len();
            if click {
                if let Some(r) = (p.y as usize).checked_sub(a.list_first_row() as usize) {
                    if r < wh && d.waste.top + r < len {
                        d.waste.select(d.waste.top + r, wh);
                    }
                }
            } else {
                d.waste.moved(delta, len, wh);
            }
        }
        Focus::Fixes => {
            let fh = a.fix_rows();
            let len = d.report.suggestions.len();
            if click {
                if let Some(r) = (p.y as usize).checked_sub(a.list_first_row() as usize) {
                    if r < fh && d.fixes.top + r < len {
                        d.fixes.select(d.fixes.top + r, fh);
                    }
                }
            } else {
                d.fixes.moved(delta.signum(), len, fh);
            }
        }
        Focus::Layers => {}
    }
    true
}
