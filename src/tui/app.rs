//! Elm-style state: [`App`], the messages it receives ([`Msg`]) and
//! [`update`], the only place state changes. Each pane owns its state and
//! its keys; this file routes a key or a click to the focused pane and
//! carries out the [`Action`] a pane hands back when something outside it
//! must change (another layer, another tab, a jump from a finding to its
//! file). Nothing here draws.

use std::sync::Arc;

use ratatui::crossterm::event::{KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::files::Files;
use super::fixes::Fixes;
use super::history::History;
use super::keys::KEYS;
use super::layers::Layers;
use super::layout::{layout, Areas, Focus, Sizes, Tab};
use super::look::{Done, Io, Look, Looks, Work};
use super::packages::Packages;
use super::pane::{Action, Ctx, Pane, View};
use super::vdiff::VersionDiff;
use super::viewer::Viewer;
use super::waste::Waste;
use crate::load::index::{Index, InodeId, NodeId};
use crate::load::{LoadOptions, LoadProgress, ProgressSnapshot};
use crate::look::contents::{self, Target};
use crate::present::one_line;
use crate::suggest::{Report, SuggestionKind};
use crate::view::Mode;

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
    /// A file's bytes read again (or two versions compared) for the viewer.
    Read(Box<Done>),
}

#[derive(Debug)]
pub struct Loaded {
    pub index: Index,
    pub report: Report,
}

/// The state once the image is indexed: the analysis and every pane.
pub struct Data {
    /// Shared with the thread that builds trees ahead.
    pub index: Arc<Index>,
    pub report: Report,
    pub focus: Focus,
    /// The tab shown on the right; the focus is on it or on the layers.
    pub tab: Tab,
    pub layers: Layers,
    pub files: Files,
    pub waste: Waste,
    pub packages: Packages,
    pub fixes: Fixes,
    /// The viewer, a path's history, a diff: over the panes while open.
    pub looks: Looks,
}

pub struct App {
    /// `imgscope diff` in a terminal: the comparison view instead of an
    /// image's panes.
    pub compare: Option<Box<super::compare::CompareView>>,
    pub source: String,
    pub progress: Arc<LoadProgress>,
    pub data: Option<Box<Data>>,
    /// How the viewer reads the image again (None: it cannot).
    pub io: Option<Arc<Io>>,
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
    last_progress: ProgressSnapshot,
}

impl App {
    pub fn new(source: &str, progress: Arc<LoadProgress>, size: (u16, u16)) -> App {
        App {
            compare: None,
            source: source.to_string(),
            progress,
            data: None,
            io: None,
            error: None,
            help: false,
            quit: false,
            dirty: true,
            size,
            defer: false,
            last_progress: Default::default(),
        }
    }

    /// The comparison view of `imgscope diff`.
    pub fn comparing(view: super::compare::CompareView, size: (u16, u16)) -> App {
        let source = format!("{} → {}", view.diff.old.source, view.diff.new.source);
        let mut app = App::new(&source, Arc::new(LoadProgress::default()), size);
        app.compare = Some(Box::new(view));
        app
    }

    /// An app already loaded (tests, benchmarks).
    pub fn loaded(source: &str, index: Index, report: Report, size: (u16, u16)) -> App {
        let mut app = App::new(source, Arc::new(LoadProgress::default()), size);
        update(&mut app, Msg::Loaded(Box::new(Loaded { index, report })));
        app
    }

    /// Let the viewer read IMAGE again (read with `opts`), its results
    /// coming back through `tx`, the channel `update` is fed from.
    pub fn reading(&mut self, image: &str, opts: LoadOptions, tx: std::sync::mpsc::Sender<Msg>) {
        let io = Arc::new(Io {
            image: image.to_string(),
            opts,
            tx,
        });
        if let Some(d) = self.data.as_deref_mut() {
            d.looks.io = Some(io.clone());
        }
        self.io = Some(io);
    }
}

/// The panes' view of `d` (a macro, so the panes' own state can be borrowed
/// mutably beside it).
macro_rules! cx {
    ($d:expr) => {
        Ctx {
            index: &$d.index,
            report: &$d.report,
            layer: $d.layers.layer(),
        }
    };
}

impl Data {
    fn new(index: Index, report: Report, io: Option<Arc<Io>>) -> Data {
        let index = Arc::new(index);
        let layers = Layers::new(index.layers.len());
        let files = Files::new(&index, &report, layers.layer());
        let waste = Waste::new(&report);
        let packages = Packages::new(&index, &report);
        Data {
            focus: Focus::Layers,
            tab: Tab::Files,
            layers,
            files,
            waste,
            packages,
            fixes: Fixes::default(),
            looks: Looks::new(io),
            index,
            report,
        }
    }

    pub fn layer(&self) -> usize {
        self.layers.layer()
    }

    pub fn ctx(&self) -> Ctx<'_> {
        cx!(self)
    }

    /// What the layout depends on besides the terminal size.
    pub fn sizes(&self) -> Sizes {
        let command = self.report.layers.get(self.layer());
        Sizes {
            layers: self.index.layers.len(),
            command_chars: command.map(|l| one_line(&l.command).chars().count()),
            fixes: self.report.suggestions.len(),
            findings: self.report.waste.len(),
            packages: self.report.packages.len(),
        }
    }

    /// The layout for a terminal of `size`.
    pub fn areas(&self, size: (u16, u16)) -> Areas {
        layout(size, self.sizes())
    }

    /// The path of the selected tree row.
    pub fn selected_path(&self) -> Option<String> {
        self.files.selected_path(&self.index)
    }

    /// Is the directory collapsed in the tree?
    pub fn collapsed(&self, path: &str) -> bool {
        self.files.collapsed(&self.index, path)
    }

    /// Focus a pane; a tab is also shown.
    fn focus_on(&mut self, f: Focus) {
        self.focus = f;
        if let Some(t) = f.tab() {
            self.tab = t;
        }
    }

    fn set_layer(&mut self, layer: usize, a: &Areas) {
        let n = self.index.layers.len();
        if n == 0 {
            return;
        }
        self.layers.list.select(layer.min(n - 1), a.layers_rows());
        self.files.rebuild(&cx!(self), a.tree_rows());
    }

    /// Rebuild the tree if a layer move left it stale.
    fn settle(&mut self, h: usize) {
        self.files.settle(&cx!(self), h);
    }

    fn act(&mut self, action: Action, a: &Areas) {
        match action {
            Action::None => {}
            Action::LayerMoved => self.files.stale = true,
            Action::SetLayer(l) => self.set_layer(l, a),
            Action::ShowFiles => self.focus_on(Focus::Tree),
            Action::JumpToFinding(fi) => self.jump_to_finding(fi, a),
            Action::JumpToOptional(oi) => self.jump_to_optional(oi, a),
            Action::JumpToPackage(node, layer) => self.jump_to(node, layer, None, a),
            Action::JumpToFix(si) => self.jump_to_fix(si, a),
            Action::View(node) => self.view(node),
            Action::ViewVersion(ino) => self.view_version(ino),
            Action::History(node) => {
                let h = History::new(&self.index, node, self.layer());
                self.looks.push(Look::History(Box::new(h)));
            }
            Action::Diff(old, new) => self.diff(old, new),
            Action::ReadMore => self.read_more(),
            Action::Back => self.looks.pop(),
        }
    }

    /// The viewer on `target`, its first part being read.
    fn open(&mut self, target: Target, what: String) {
        let job = match &target.file {
            Ok(st) => self.looks.start(
                &self.index,
                Work::Part {
                    st: st.clone(),
                    offset: 0,
                },
            ),
            Err(e) => Err(e.to_string()),
        };
        self.looks
            .push(Look::Viewer(Box::new(Viewer::new(target, what, job))));
    }

    /// The viewer on a path as of the selected layer.
    fn view(&mut self, node: NodeId) {
        let layer = self.layer();
        let target = contents::target(&self.index, node, layer).unwrap_or_else(|e| Target {
            path: self.index.path(node),
            layer,
            via: Vec::new(),
            file: Err(e),
        });
        self.open(target, format!("as of layer {layer}"));
    }

    /// The viewer on one version of a path.
    fn view_version(&mut self, ino: InodeId) {
        let target = contents::version(&self.index, ino);
        let what = format!("the version of layer {}", target.layer);
        self.open(target, what);
    }

    /// The diff of two versions, both being read.
    fn diff(&mut self, old: InodeId, new: InodeId) {
        let (old, new) = (
            crate::look::stored(&self.index, old),
            crate::look::stored(&self.index, new),
        );
        let mut path = b"/".to_vec();
        path.extend_from_slice(&new.path);
        let job = self.looks.start(
            &self.index,
            Work::Diff {
                old: old.clone(),
                new: new.clone(),
            },
        );
        let d = VersionDiff::new(path, old, new, job);
        self.looks.push(Look::Diff(Box::new(d)));
    }

    /// The viewer's next part.
    fn read_more(&mut self) {
        let Some(Look::Viewer(v)) = self.looks.top() else {
            return;
        };
        let (Ok(st), offset) = (v.target.file.clone(), v.read_so_far()) else {
            return;
        };
        let job = self.looks.start(&self.index, Work::Part { st, offset });
        if let Some(Look::Viewer(v)) = self.looks.top_mut() {
            match job {
                Ok(j) => v.more = Some(j),
                Err(e) => v.error = Some(e),
            }
        }
    }

    /// A finding's file in its layer (where its bytes are stored; the hiding
    /// layer if the path is not in the tree there), selected.
    fn jump_to_finding(&mut self, fi: usize, a: &Areas) {
        let Some(f) = self.report.waste.get(fi) else {
            return;
        };
        let (node, stored, hidden) = (f.node, f.stored_in_layer, f.hidden_by_layer);
        self.jump_to(node, stored, hidden, a);
    }

    /// An optional file, selected in the layer that stored it.
    fn jump_to_optional(&mut self, oi: usize, a: &Areas) {
        if let Some(o) = self.report.optional.get(oi) {
            let (node, layer) = (o.node, o.layer);
            self.jump_to(node, layer, None, a);
        }
    }

    /// Select `node` in the merged tree as of layer `stored` (or as of
    /// `hidden` when it is not shown there), clearing filters that hide it.
    fn jump_to(&mut self, node: NodeId, stored: usize, hidden: Option<usize>, a: &Areas) {
        let h = a.tree_rows();
        self.files.mode = Mode::Merged;
        self.set_layer(stored, a);
        if !self.files.tree.shown(node) && self.files.filtered() {
            self.files.clear_filters();
            self.files.rebuild(&cx!(self), h);
        }
        if !self.files.tree.shown(node) {
            if let Some(l) = hidden {
                self.set_layer(l, a);
            }
        }
        self.files.select_node(&self.index, node, h);
        self.focus_on(Focus::Tree);
    }

    /// A suggestion's first finding, or its first layer.
    fn jump_to_fix(&mut self, si: usize, a: &Areas) {
        let Some(s) = self.report.suggestions.get(si) else {
            return;
        };
        let (finding, layer) = (s.findings.first().copied(), s.layers.first().copied());
        let optional = (s.kind == SuggestionKind::Optional)
            .then(|| {
                self.report
                    .optional
                    .iter()
                    .position(|o| Some(o.layer) == layer)
            })
            .flatten();
        if let Some(fi) = finding {
            self.jump_to_finding(fi, a);
        } else if let Some(oi) = optional {
            self.jump_to_optional(oi, a);
        } else if let Some(l) = layer {
            self.set_layer(l, a);
            self.focus_on(Focus::Tree);
        }
    }
}

/// The whole state machine.
pub fn update(app: &mut App, msg: Msg) {
    handle(app, msg);
    if let Some(d) = app.data.as_deref_mut() {
        let layers = d.index.layers.len();
        d.files.focus_hint(d.focus == Focus::Layers, layers);
    }
    if !app.defer {
        if let Some(d) = app.data.as_deref_mut() {
            if d.files.stale {
                let h = d.areas(app.size).tree_rows();
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
                let a = d.areas(app.size);
                d.layers.list.select(d.layers.list.sel, a.layers_rows());
                d.waste.list.select(d.waste.list.sel, a.waste_rows());
                d.fixes.list.select(d.fixes.list.sel, a.fix_rows());
                d.files.reanchor(&d.index, a.tree_rows());
            }
            app.dirty = true;
        }
        Msg::Tick => match app.data.as_deref_mut() {
            None => {
                let p = app.progress.snapshot();
                if p != app.last_progress {
                    app.last_progress = p;
                    app.dirty = true;
                }
            }
            Some(d) => {
                let h = d.areas(app.size).tree_rows();
                if d.files.tick(&cx!(d), h) {
                    app.dirty = true;
                }
            }
        },
        Msg::Loaded(l) => {
            let Loaded { index, report } = *l;
            app.data = Some(Box::new(Data::new(index, report, app.io.clone())));
            app.dirty = true;
        }
        Msg::Failed(e) => {
            app.error = Some(e);
            app.quit = true;
        }
        Msg::Read(done) => {
            // A cancelled read's late result finds no view: nothing to draw.
            if let Some(d) = app.data.as_deref_mut() {
                if d.looks.done(*done) {
                    app.dirty = true;
                }
            }
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
                if !app.help && d.looks.top().is_none() && mouse(app.size, d, m) {
                    app.dirty = true;
                }
            }
        }
    }
}

fn key(app: &mut App, k: KeyEvent) {
    let keys = &KEYS;
    if keys.interrupt.is(&k) {
        app.quit = true;
        return;
    }
    if app.help {
        if keys.close_help.is(&k) {
            app.help = false;
        }
        return;
    }
    if let Some(v) = app.compare.as_deref_mut() {
        match () {
            _ if keys.quit.is(&k) => app.quit = true,
            _ if keys.help.is(&k) => app.help = true,
            _ => v.key(&k),
        }
        return;
    }
    let size = app.size;
    let Some(d) = app.data.as_deref_mut() else {
        // Loading: quit, or Esc.
        if keys.quit.is(&k) || keys.clear.is(&k) {
            app.quit = true;
        }
        return;
    };
    let a = d.areas(size);
    if let Some(top) = d.looks.top_mut() {
        // The viewer, a history or a diff: it takes the keys.
        let typing = matches!(top, Look::Viewer(v) if v.search.editing);
        if !typing && keys.help.is(&k) {
            app.help = true;
            return;
        }
        let v = View {
            cx: cx!(d),
            areas: &a,
            focused: true,
            mode: d.files.mode,
        };
        let action = top.pane_mut().key(&k, &v);
        return d.act(action, &a);
    }
    let th = a.tree_rows();
    if !(d.focus == Focus::Layers && !d.files.filter.editing && Layers::is_move(&k)) {
        d.settle(th);
    }
    if d.files.filter.editing {
        d.files.edit_key(&cx!(d), &k, th);
        return;
    }
    // Keys that work everywhere.
    match () {
        _ if keys.quit.is(&k) => {
            app.quit = true;
            return;
        }
        _ if keys.help.is(&k) => {
            app.help = true;
            return;
        }
        _ if keys.next_pane.is(&k) => return d.focus_on(d.focus.next()),
        _ if keys.prev_pane.is(&k) => return d.focus_on(d.focus.prev()),
        _ => {
            if let Some(&f) = keys.panes.which(&k).and_then(|n| Focus::ORDER.get(n)) {
                return d.focus_on(f);
            }
        }
    }
    let focus = d.focus;
    if let Some(action) = d.files.global_key(&cx!(d), &k, th, focus) {
        return d.act(action, &a);
    }
    let v = View {
        cx: cx!(d),
        areas: &a,
        focused: true,
        mode: d.files.mode,
    };
    let pane: &mut dyn Pane = match d.focus {
        Focus::Layers => &mut d.layers,
        Focus::Tree => &mut d.files,
        Focus::Waste => &mut d.waste,
        Focus::Fixes => &mut d.fixes,
        Focus::Packages => &mut d.packages,
    };
    let action = pane.key(&k, &v);
    d.act(action, &a);
}

fn mouse(size: (u16, u16), d: &mut Data, m: MouseEvent) -> bool {
    let a = d.areas(size);
    d.settle(a.tree_rows());
    let p = Position::new(m.column, m.row);
    let delta: isize = match m.kind {
        MouseEventKind::ScrollDown => 3,
        MouseEventKind::ScrollUp => -3,
        MouseEventKind::Down(MouseButton::Left) => 0,
        _ => return false,
    };
    if delta == 0 {
        if let Some(tab) = a.tab_at(p) {
            d.focus_on(tab.into());
            return true;
        }
    }
    if a.layers.contains(p) {
        if delta == 0 {
            d.focus = Focus::Layers;
        }
        let action = d.layers.mouse(&cx!(d), p, delta, &a);
        d.act(action, &a);
        return true;
    }
    if !a.right.contains(p) {
        return false;
    }
    d.focus = d.tab.into();
    let row = |first: u16| (p.y as usize).checked_sub(first as usize);
    match d.tab {
        Tab::Files => d
            .files
            .mouse(&d.index, row(a.tree_first_row()), delta, a.tree_rows()),
        Tab::Waste => d.waste.mouse(row(a.list_first_row()), delta, &a),
        Tab::Fixes => d.fixes.mouse(&cx!(d), row(a.list_first_row()), delta, &a),
        Tab::Packages => d
            .packages
            .mouse(&cx!(d), row(a.list_first_row()), delta, &a),
    }
    true
}
