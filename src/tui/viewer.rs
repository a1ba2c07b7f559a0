//! The viewer: a file's contents as of a layer (or one version from the
//! history). Text with line numbers and a search (`/`, then `n` / `N`,
//! matches highlighted), binaries as a hex dump; the size in the title;
//! the first [`PAGE`] read, `m` reads the next. A symlink shows its target
//! (and the file it leads to), a hard link the file it shares. The rows
//! come from [`crate::look::contents`], escaped there; this pane only
//! scrolls, searches and draws them.

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::keys::{pair, KEYS};
use super::look::{frame, Job, Output, Scroll};
use super::pane::{ctrl, Action, Pane, View};
use crate::look::contents::{matches, Contents, Kind, Target, PAGE};
use crate::look::show;
use crate::present::human;

/// The footer while the viewer is open.
pub fn hints(searching: bool) -> Vec<(String, &'static str)> {
    let k = &KEYS;
    if searching {
        return vec![(k.apply.short(), "search"), (k.clear.short(), "cancel")];
    }
    vec![
        (pair(&k.up, &k.down), "scroll"),
        (pair(&k.left, &k.right), "sideways"),
        (k.search.short(), "search"),
        (pair(&k.next_match, &k.prev_match), "next/prev"),
        (k.more.short(), "read more"),
        (k.hex.short(), "hex"),
        (k.history.short(), "history"),
        (k.back.short(), "back"),
        (k.help.short(), "help"),
    ]
}

/// Where the viewer is with the file's bytes.
pub enum State {
    /// The first part is being read.
    Reading(Job),
    Ready(Box<Contents>),
    Failed(String),
}

/// The search: the query typed, and whether it is being typed.
#[derive(Debug, Default, Clone)]
pub struct Search {
    pub query: String,
    pub editing: bool,
    /// What the last search found, for the footer.
    pub note: Option<String>,
}

pub struct Viewer {
    pub target: Target,
    /// What the title says besides the path: `as of layer 3`, `layer 1's
    /// version`.
    pub what: String,
    pub state: State,
    /// The next part being read.
    pub more: Option<Job>,
    /// The first row shown, and how far the rows are scrolled sideways.
    pub scroll: Scroll,
    pub search: Search,
    /// The row the last search went to.
    pub hit: Option<usize>,
    /// A failed read of a further part.
    pub error: Option<String>,
}

impl Viewer {
    /// A viewer on `target`, waiting for `job` (its first part), or with
    /// nothing to read (a dangling symlink: `job` is the error).
    pub fn new(target: Target, what: String, job: Result<Job, String>) -> Viewer {
        let state = match (&target.file, job) {
            (Err(e), _) => State::Failed(e.to_string()),
            (Ok(_), Ok(j)) => State::Reading(j),
            (Ok(_), Err(e)) => State::Failed(e),
        };
        Viewer {
            target,
            what,
            state,
            more: None,
            scroll: Scroll::default(),
            search: Search::default(),
            hit: None,
            error: None,
        }
    }

    /// Is the viewer waiting for job `id`?
    pub fn waiting(&self, id: u64) -> bool {
        matches!(&self.state, State::Reading(j) if j.id == id)
            || self.more.as_ref().is_some_and(|j| j.id == id)
    }

    /// A read finished.
    pub fn done(&mut self, out: Result<Output, String>) {
        let size = self.target.file.as_ref().map_or(0, |s| s.size);
        let more = self.more.take().is_some();
        match (out, &mut self.state) {
            (Ok(Output::Part(b)), State::Ready(c)) if more => c.extend(&b),
            (Ok(Output::Part(b)), _) => self.state = State::Ready(Box::new(Contents::new(size, b))),
            (Err(e), State::Ready(_)) if more => self.error = Some(e),
            (Err(e), _) => self.state = State::Failed(e),
            (Ok(Output::Diff(_)), _) => {}
        }
    }

    pub fn contents(&self) -> Option<&Contents> {
        match &self.state {
            State::Ready(c) => Some(c),
            _ => None,
        }
    }

    /// Is more of the file to be read (and not being read)?
    pub fn can_read_more(&self) -> bool {
        self.more.is_none() && self.contents().is_some_and(|c| !c.complete())
    }

    /// Where the next part starts.
    pub fn read_so_far(&self) -> u64 {
        self.contents().map_or(0, |c| c.bytes.len() as u64)
    }

    /// Rows of text on screen in `v`'s area: the frame, the lines above
    /// (how the path leads to the file) and the footer line taken off.
    fn rows_shown(&self, v: &View) -> usize {
        let inner = v.areas.body.height.saturating_sub(2) as usize;
        inner.saturating_sub(self.target.via.len() + 1).max(1)
    }

    fn rows(&self) -> usize {
        self.contents().map_or(0, Contents::rows)
    }

    /// Go to the next (or previous) match from the row shown first (from
    /// the last match when it is on screen).
    fn find(&mut self, forward: bool, h: usize) {
        let Some(c) = self.contents() else { return };
        let q = &self.search.query;
        if q.is_empty() {
            return;
        }
        let (n, top) = (c.rows(), self.scroll.top);
        if n == 0 {
            return;
        }
        // From the last match while it is on screen, else from the top row
        // (which a forward search looks at first).
        let from = match self.hit {
            Some(r) if r >= top && r < top + h => r,
            _ if forward => (top + n - 1) % n,
            _ => top,
        };
        match c.find(q, from, forward) {
            Some(r) => {
                let count: usize = (0..c.rows()).map(|i| matches(&c.row(i), q).len()).sum();
                self.hit = Some(r);
                self.search.note = Some(format!(
                    "line {}: {count} match{} in what was read",
                    r + 1,
                    if count == 1 { "" } else { "es" }
                ));
                if r < top || r >= top + h {
                    self.scroll.top = r.saturating_sub(h / 3);
                }
                self.scroll.by(0, n, h);
            }
            None => {
                self.hit = None;
                self.search.note = Some(format!("no match for {}", show(q.as_bytes())));
            }
        }
    }

    /// Keys while the search is typed.
    fn search_key(&mut self, k: &KeyEvent, h: usize) {
        let keys = &KEYS;
        match k.code {
            _ if keys.apply.is(k) => {
                self.search.editing = false;
                self.hit = None;
                self.find(true, h);
            }
            _ if keys.clear.is(k) => self.search.editing = false,
            _ if keys.erase.is(k) => {
                self.search.query.pop();
            }
            _ if keys.erase_line.is(k) => self.search.query.clear(),
            KeyCode::Char(c) if !ctrl(k) => self.search.query.push(c),
            _ => {}
        }
    }

    /// The title: the path, what version, its size, text or binary.
    fn title_text(&self) -> String {
        let mut t = format!(" {} · {}", show(&self.target.path), self.what);
        if let Ok(st) = &self.target.file {
            t.push_str(&format!(" · {}", human(st.size)));
        }
        if let Some(c) = self.contents() {
            t.push_str(match (c.kind, c.hex) {
                (Kind::Text, false) => " · text",
                (Kind::Text, true) => " · text as hex",
                (Kind::Binary, _) => " · binary",
            });
        }
        t.push(' ');
        t
    }

    /// The line at the bottom: the search being typed, what it found, how
    /// much of the file was read.
    fn footer(&self) -> Line<'static> {
        let hl = Style::default()
            .fg(Color::LightCyan)
            .add_modifier(Modifier::BOLD);
        if self.search.editing {
            return Line::from(vec![
                Span::styled("/", hl),
                Span::raw(show(self.search.query.as_bytes())),
                Span::styled("█", Style::default().fg(Color::Gray)),
            ]);
        }
        let mut spans = Vec::new();
        if let Some(e) = &self.error {
            spans.push(Span::styled(
                format!("{e}  "),
                Style::default().fg(Color::LightRed),
            ));
        }
        if let Some(n) = &self.search.note {
            spans.push(Span::raw(format!("{n}  ")));
        }
        if let Some(c) = self.contents() {
            if self.more.is_some() {
                spans.push(Span::styled("reading the next part…", hl));
            } else if !c.complete() {
                spans.push(Span::raw(format!(
                    "first {} of {} read; ",
                    human(c.bytes.len() as u64),
                    human(c.size)
                )));
                spans.push(Span::styled(KEYS.more.short(), hl));
                spans.push(Span::raw(format!(
                    " reads the next {}",
                    human(PAGE.min(c.size - c.bytes.len() as u64))
                )));
            }
        }
        Line::from(spans)
    }

    /// Row `i`'s line: its number (text), the row scrolled sideways, the
    /// search's matches highlighted.
    fn row_line(&self, c: &Contents, i: usize, num_w: usize) -> Line<'static> {
        let row = c.row(i);
        let mut spans = Vec::new();
        spans.push(if c.hex {
            Span::raw(" ")
        } else {
            Span::styled(
                format!(" {:>num_w$} ", i + 1),
                Style::default().fg(Color::DarkGray),
            )
        });
        let ranges = if self.search.query.is_empty() {
            Vec::new()
        } else {
            matches(&row, &self.search.query)
        };
        let hit_style = if self.hit == Some(i) {
            Style::default().fg(Color::Black).bg(Color::LightYellow)
        } else {
            Style::default().fg(Color::Black).bg(Color::Yellow)
        };
        let mut at = 0;
        let mut pieces: Vec<(&str, bool)> = Vec::new();
        for r in ranges {
            pieces.push((&row[at..r.start], false));
            pieces.push((&row[r.clone()], true));
            at = r.end;
        }
        pieces.push((&row[at..], false));
        // Sideways: skip `left` characters across the pieces.
        let mut skip = self.scroll.left;
        for (text, hit) in pieces {
            let n = text.chars().count();
            if skip >= n {
                skip -= n;
                continue;
            }
            let shown: String = text.chars().skip(skip).collect();
            skip = 0;
            spans.push(if hit {
                Span::styled(shown, hit_style)
            } else {
                Span::raw(shown)
            });
        }
        Line::from(spans)
    }
}

impl Pane for Viewer {
    fn title(&self, _: &View) -> String {
        self.title_text()
    }

    fn key(&mut self, k: &KeyEvent, v: &View) -> Action {
        let h = self.rows_shown(v);
        if self.search.editing {
            self.search_key(k, h);
            return Action::None;
        }
        let keys = &KEYS;
        match () {
            _ if keys.back.is(k) => return Action::Back,
            _ if self.scroll.key(k, self.rows(), h) => {}
            _ if keys.search.is(k) && self.contents().is_some() => {
                self.search.editing = true;
                self.search.query.clear();
                self.search.note = None;
            }
            _ if keys.next_match.is(k) => self.find(true, h),
            _ if keys.prev_match.is(k) => self.find(false, h),
            _ if keys.more.is(k) && self.can_read_more() => return Action::ReadMore,
            _ if keys.hex.is(k) => {
                if let State::Ready(c) = &mut self.state {
                    c.toggle_hex();
                    self.scroll.top = 0;
                    self.hit = None;
                }
            }
            _ if keys.history.is(k) => {
                if let Some(n) = v.cx.index.find(&self.target.path) {
                    return Action::History(n);
                }
            }
            _ => {}
        }
        Action::None
    }

    fn draw(&self, f: &mut Frame, v: &View) {
        let inner = frame(f, v.areas.body, self.title(v));
        if inner.height == 0 {
            return;
        }
        let mut y = inner.y;
        let line = |f: &mut Frame, y: u16, l: Line<'static>| {
            f.render_widget(Paragraph::new(l), Rect::new(inner.x, y, inner.width, 1));
        };
        for via in &self.target.via {
            line(
                f,
                y,
                Line::styled(format!(" {via}"), Style::default().fg(Color::LightMagenta)),
            );
            y += 1;
        }
        let h = self.rows_shown(v);
        let dim = Style::default().fg(Color::DarkGray);
        match &self.state {
            State::Reading(_) => line(f, y, Line::styled(" reading…", dim)),
            State::Failed(e) => line(
                f,
                y,
                Line::styled(format!(" {e}"), Style::default().fg(Color::LightRed)),
            ),
            State::Ready(c) if c.rows() == 0 => line(f, y, Line::styled(" (empty)", dim)),
            State::Ready(c) => {
                let num_w = c.rows().to_string().len();
                let top = self.scroll.top;
                for i in top..(top + h).min(c.rows()) {
                    line(f, y, self.row_line(c, i, num_w));
                    y += 1;
                }
            }
        }
        if inner.height > 1 {
            line(f, inner.bottom() - 1, self.footer());
        }
    }
}
