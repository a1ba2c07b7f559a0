//! Every version of a path ([`crate::look::history`]): one row per layer
//! that stored it (change, type, size, mode, uid:gid, content hash), the
//! layer that hid it and how, and the version the image shows. Enter opens
//! a version in the viewer; `d` marks one, `d` on another diffs the two.

use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::files::mode_string;
use super::keys::{pair, KEYS};
use super::look::frame;
use super::pane::{Action, ListSel, Pane, View};
use super::widgets::detail_block;
use crate::load::index::{Index, NodeId, NodeKind};
use crate::look::history::{history, Entry};
use crate::look::ls::op_name;
use crate::look::{kind_name, show};
use crate::present::{fit, human};

/// The footer while the history is open.
pub fn hints() -> Vec<(String, &'static str)> {
    let k = &KEYS;
    vec![
        (pair(&k.up, &k.down), "move"),
        (k.enter.short(), "view"),
        (k.diff.short(), "mark / diff"),
        (k.mark.short(), "mark"),
        (k.back.short(), "back"),
        (k.help.short(), "help"),
    ]
}

pub struct History {
    pub node: NodeId,
    pub path: Vec<u8>,
    pub entries: Vec<Entry>,
    pub list: ListSel,
    /// The version marked for a diff.
    pub marked: Option<usize>,
    /// A word for the footer (why a key did nothing).
    pub note: Option<String>,
}

impl History {
    /// The versions of `node`, the one in force as of `layer` selected.
    pub fn new(index: &Index, node: NodeId, layer: usize) -> History {
        let entries = history(index, node);
        let sel = entries.iter().rposition(|e| e.layer <= layer).unwrap_or(0);
        History {
            node,
            path: index.path(node),
            entries,
            list: ListSel { sel, top: 0 },
            marked: None,
            note: None,
        }
    }

    /// List rows on screen.
    fn rows(v: &View) -> usize {
        let h = v.areas.body.height.saturating_sub(2);
        h.saturating_sub(detail_h(h) + 1).max(1) as usize
    }

    fn selected(&self) -> Option<&Entry> {
        self.entries.get(self.list.sel)
    }

    /// The selected version's stored file, or a note why it has none.
    fn file_of(&mut self, i: usize) -> Option<u32> {
        let e = self.entries.get(i)?;
        if e.inode.is_none() {
            self.note = Some(format!(
                "layer {}'s version is a {}: no contents to show",
                e.layer,
                kind_name(e.kind)
            ));
        }
        e.inode
    }

    /// `d`: mark the selected version, or diff it with the marked one.
    fn diff_key(&mut self) -> Action {
        let sel = self.list.sel;
        match self.marked {
            Some(m) if m != sel => {
                let (Some(a), Some(b)) = (self.file_of(m), self.file_of(sel)) else {
                    return Action::None;
                };
                // Older first.
                let (a, b) = if m < sel { (a, b) } else { (b, a) };
                Action::Diff(a, b)
            }
            _ => {
                self.toggle_mark();
                Action::None
            }
        }
    }

    fn toggle_mark(&mut self) {
        let sel = self.list.sel;
        if self.marked == Some(sel) {
            self.marked = None;
            self.note = None;
        } else if self.file_of(sel).is_some() {
            self.marked = Some(sel);
            self.note = Some(format!(
                "layer {}'s version marked: {} on another version diffs the two",
                self.entries[sel].layer,
                KEYS.diff.short()
            ));
        }
    }
}

/// Lines under the list for the selected version.
fn detail_h(h: u16) -> u16 {
    (h / 3).clamp(3, 6)
}

/// The first 16 hex digits of a content hash.
/// The first 64 bits of the content hash, or "not read" for a file whose
/// content the load left unread (a size no other file of the image has:
/// docs/performance.md, "When content is read").
fn short_hash(h: u128) -> String {
    if crate::load::layer::is_unread(h) {
        return format!("{:<16}", "(not read)");
    }
    format!("{:016x}", (h >> 64) as u64)
}

impl Pane for History {
    fn title(&self, _: &View) -> String {
        format!(
            " History of {} · {} version{} ",
            show(&self.path),
            self.entries.len(),
            if self.entries.len() == 1 { "" } else { "s" }
        )
    }

    fn key(&mut self, k: &KeyEvent, v: &View) -> Action {
        let keys = &KEYS;
        let h = Self::rows(v);
        match () {
            _ if keys.back.is(k) => return Action::Back,
            _ if keys.enter.is(k) || keys.view.is(k) => {
                let sel = self.list.sel;
                if let Some(ino) = self.file_of(sel) {
                    return Action::ViewVersion(ino);
                }
            }
            _ if keys.diff.is(k) => return self.diff_key(),
            _ if keys.mark.is(k) => self.toggle_mark(),
            _ => {
                let before = self.list.sel;
                self.list.key(k, self.entries.len(), h);
                if self.list.sel != before && self.marked.is_none() {
                    self.note = None;
                }
            }
        }
        Action::None
    }

    fn draw(&self, f: &mut Frame, v: &View) {
        let inner = frame(f, v.areas.body, self.title(v));
        if inner.height < 3 {
            return;
        }
        let w = inner.width as usize;
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let head = format!(
            "  {:>5}  {:<8}  {:<8} {:>9}  {:<10} {:>9}  {:<16}  Hidden by",
            "Layer", "Change", "Type", "Size", "Mode", "UID:GID", "Content hash"
        );
        f.render_widget(
            Paragraph::new(fit(&head, w)).style(bold),
            Rect::new(inner.x, inner.y, inner.width, 1),
        );
        let rows = Self::rows(v);
        let list_area = Rect::new(inner.x, inner.y + 1, inner.width, rows as u16);
        let mut list = self.list;
        list.select(list.sel, rows);
        for i in list.top..(list.top + rows).min(self.entries.len()) {
            let e = &self.entries[i];
            let mark = if self.marked == Some(i) { "* " } else { "  " };
            let size = e.size.map(human).unwrap_or_default();
            let hash = e.hash.map(short_hash).unwrap_or_default();
            let kind = match (e.kind, &e.link) {
                (NodeKind::File, Some(_)) => "hardlink",
                (k, _) => kind_name(k),
            };
            let kind = if kind == "character device" {
                "char dev"
            } else if kind == "block device" {
                "blk dev"
            } else {
                kind
            };
            let (then, style) = match (&e.hidden, e.visible) {
                (Some((l, how)), _) => (
                    format!("layer {l}: {}", how.describe()),
                    Style::default().fg(match how.word() {
                        "overwritten" => Color::Yellow,
                        "metadata only" => Color::Cyan,
                        "moved" => Color::Magenta,
                        _ => Color::Red,
                    }),
                ),
                (None, true) => (
                    "- (the version the image shows)".into(),
                    Style::default().fg(Color::LightGreen),
                ),
                (None, false) => ("hidden".into(), Style::default().fg(Color::Red)),
            };
            let cols = format!(
                "{mark}{:>5}  {:<8}  {:<8} {:>9}  {:<10} {:>9}  {:<16}  ",
                e.layer,
                op_name(e.op),
                kind,
                size,
                mode_string(e.kind, e.mode),
                format!("{}:{}", e.uid, e.gid),
                hash
            );
            let line = Line::from(vec![Span::raw(cols), Span::styled(then, style)]);
            list.draw_row(f, list_area, i, line, true);
        }
        // The selected version: its layer's command, what it links to,
        // what hid it.
        let detail = Rect::new(
            inner.x,
            inner.y + 1 + rows as u16,
            inner.width,
            inner.height.saturating_sub(2 + rows as u16),
        );
        let block = detail_block(" Enter: view · d: mark, then d on another: diff ");
        let d_inner = block.inner(detail);
        f.render_widget(block, detail);
        let mut lines = Vec::new();
        if let Some(e) = self.selected() {
            let dim = Style::default().fg(Color::Gray);
            lines.push(Line::from(vec![
                Span::styled(format!(" layer {}: ", e.layer), bold),
                Span::styled(v.cx.layer_cmd(e.layer), dim),
            ]));
            if let Some(l) = &e.link {
                let what = if e.kind == NodeKind::Symlink {
                    format!(" symlink → {}", show(l))
                } else {
                    format!(" hard link: shares /{}", show(l))
                };
                lines.push(Line::raw(what));
            }
            if let Some((l, _)) = &e.hidden {
                lines.push(Line::from(vec![
                    Span::styled(format!(" hidden by layer {l}: "), bold),
                    Span::styled(v.cx.layer_cmd(*l), dim),
                ]));
            }
        }
        for (i, l) in lines.into_iter().enumerate().take(d_inner.height as usize) {
            f.render_widget(
                Paragraph::new(l),
                Rect::new(d_inner.x, d_inner.y + i as u16, d_inner.width, 1),
            );
        }
        if let Some(n) = &self.note {
            f.render_widget(
                Paragraph::new(format!(" {n}")).style(Style::default().fg(Color::LightCyan)),
                Rect::new(inner.x, inner.bottom() - 1, inner.width, 1),
            );
        }
    }
}
