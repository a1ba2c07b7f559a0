//! The comparison view of `imgscope diff OLD NEW` in a terminal: the two
//! layer lists aligned side by side with statuses and deltas, the final
//! filesystems as one tree with changed paths marked (Ctrl+U: changes only),
//! and the fixed / introduced / changed findings. The normal view's keys
//! apply: Tab / Shift+Tab and 1 2 3 for panes, ↑ ↓ k j, PgUp PgDn Home End,
//! ? help, q / Ctrl+C quit.
//!
//! A mode of the one [`App`]: [`CompareView`] is its state, changed only by
//! [`CompareView::key`] (which the app's `update` calls), drawn by
//! [`CompareView::draw`]; the app's event loop, quit and help overlay
//! serve it as they serve the image view.

use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::app::App;
use super::keys::{pair, KEYS};
use crate::analyze::waste::Finding;
use crate::compare::diff::{Diff, FileStatus, LayerStatus};
use crate::compare::tree::{tree, TreeRow};
use crate::present::human;
use crate::present::signed;
use crate::render::diff_text::headline;
use crate::{AnalyseOptions, Index, LoadProgress};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Layers,
    Files,
    Findings,
}

const PANES: [Pane; 3] = [Pane::Layers, Pane::Files, Pane::Findings];

/// One row of the findings pane.
#[derive(Debug, Clone)]
struct FindingRow {
    what: &'static str,
    delta: i64,
    finding: Finding,
}

pub struct CompareView {
    pub diff: Diff,
    rows: Vec<TreeRow>,
    /// Indexes into `rows` shown (all, or only changed paths).
    shown: Vec<usize>,
    pub changes_only: bool,
    findings: Vec<FindingRow>,
    pub focus: Pane,
    sel: [usize; 3],
    /// Rows of each pane at the last draw (for paging).
    page: [usize; 3],
}

impl CompareView {
    pub fn new(diff: Diff, old: &Index, new: &Index) -> CompareView {
        let rows = tree(old, new);
        let mut findings = Vec::new();
        for f in &diff.fixed {
            findings.push(FindingRow {
                what: "fixed",
                delta: -(f.bytes as i64),
                finding: f.clone(),
            });
        }
        for f in &diff.introduced {
            findings.push(FindingRow {
                what: "introduced",
                delta: f.bytes as i64,
                finding: f.clone(),
            });
        }
        for c in &diff.changed {
            findings.push(FindingRow {
                what: "changed",
                delta: c.bytes_delta,
                finding: c.new.clone(),
            });
        }
        findings.sort_by(|a, b| {
            b.delta
                .unsigned_abs()
                .cmp(&a.delta.unsigned_abs())
                .then_with(|| a.finding.path.cmp(&b.finding.path))
        });
        let mut v = CompareView {
            diff,
            shown: Vec::new(),
            rows,
            changes_only: false,
            findings,
            focus: Pane::Layers,
            sel: [0; 3],
            page: [10; 3],
        };
        v.refilter();
        v
    }

    fn refilter(&mut self) {
        let keep_path = self.shown.get(self.sel[1]).copied();
        self.shown = (0..self.rows.len())
            .filter(|&i| !self.changes_only || self.rows[i].changed())
            .collect();
        self.sel[1] = keep_path
            .and_then(|k| self.shown.iter().position(|&i| i >= k))
            .unwrap_or(0);
    }

    fn len(&self, p: Pane) -> usize {
        match p {
            Pane::Layers => self.diff.layers.len(),
            Pane::Files => self.shown.len(),
            Pane::Findings => self.findings.len(),
        }
    }

    fn pane_index(p: Pane) -> usize {
        PANES.iter().position(|x| *x == p).unwrap_or(0)
    }

    /// Rows of the file tree as shown, for tests: `(depth, name, mark)`.
    pub fn shown_paths(&self) -> Vec<(u16, String, Option<FileStatus>)> {
        self.shown
            .iter()
            .map(|&i| {
                let r = &self.rows[i];
                (
                    r.depth,
                    String::from_utf8_lossy(&r.name).into_owned(),
                    r.mark,
                )
            })
            .collect()
    }

    /// A key (the help overlay, when open, is the app's).
    pub fn key(&mut self, k: &KeyEvent) {
        let keys = &KEYS;
        let p = Self::pane_index(self.focus);
        let len = self.len(self.focus);
        let last = len.saturating_sub(1);
        match () {
            _ if keys.changes_only.is(k) => {
                self.changes_only = !self.changes_only;
                self.refilter();
            }
            _ if keys.next_pane.is(k) => self.focus = PANES[(p + 1) % PANES.len()],
            _ if keys.prev_pane.is(k) => self.focus = PANES[(p + PANES.len() - 1) % PANES.len()],
            _ if keys.down.is(k) => self.sel[p] = (self.sel[p] + 1).min(last),
            _ if keys.up.is(k) => self.sel[p] = self.sel[p].saturating_sub(1),
            _ if keys.page_down.is(k) => {
                self.sel[p] = (self.sel[p] + self.page[p].max(1)).min(last)
            }
            _ if keys.page_up.is(k) => {
                self.sel[p] = self.sel[p].saturating_sub(self.page[p].max(1))
            }
            _ if keys.home.is(k) => self.sel[p] = 0,
            _ if keys.end.is(k) => self.sel[p] = last,
            _ if keys.clear.is(k) => {
                self.changes_only = false;
                self.refilter();
            }
            _ => {
                if let Some(&pane) = keys.panes.which(k).and_then(|n| PANES.get(n)) {
                    self.focus = pane;
                }
            }
        }
    }

    pub fn draw(&mut self, f: &mut Frame) {
        let area = f.area();
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(1),
                Constraint::Length(4),
                Constraint::Min(6),
                Constraint::Length(8.min(area.height / 4).max(3)),
                Constraint::Length(1),
            ])
            .split(area);
        let d = &self.diff;
        let title = format!(
            " imgscope diff  {} → {}   {}",
            d.old.source,
            d.new.source,
            headline(d)
        );
        f.render_widget(
            Paragraph::new(title).style(Style::default().add_modifier(Modifier::BOLD)),
            rows[0],
        );
        let (os, ns) = (&d.old.summary, &d.new.summary);
        let totals = [
            ("Total", os.total_bytes, ns.total_bytes, d.total_delta),
            ("Wasted", os.wasted_bytes, ns.wasted_bytes, d.wasted_delta),
            ("Pull", d.old.pull_bytes, d.new.pull_bytes, d.pull_delta),
        ];
        let lines: Vec<Line> = totals
            .iter()
            .map(|(n, a, b, dl)| {
                Line::from(vec![
                    Span::raw(format!(" {n:<7}{:>12} → {:>12}  ", human(*a), human(*b))),
                    Span::styled(signed(*dl), delta_style(*dl)),
                ])
            })
            .collect();
        f.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::BOTTOM)),
            rows[1],
        );
        let mid = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
            .split(rows[2]);
        self.draw_layers(f, mid[0]);
        self.draw_files(f, mid[1]);
        self.draw_findings(f, rows[3]);
        let k = &KEYS;
        let status = format!(
            " {}/1-{} pane  {} move  {}/{}  {} {}  {} help  {} quit",
            k.next_pane.long(),
            PANES.len(),
            pair(&k.up, &k.down),
            k.page_up.long(),
            k.page_down.long(),
            k.changes_only.long(),
            if self.changes_only {
                "show all paths"
            } else {
                "changes only"
            },
            k.help.long(),
            k.quit.long(),
        );
        f.render_widget(
            Paragraph::new(status).style(Style::default().add_modifier(Modifier::REVERSED)),
            rows[4],
        );
    }

    /// The window of `height` rows of pane `p` that keeps its selection visible.
    fn window(&mut self, p: usize, height: usize, len: usize) -> std::ops::Range<usize> {
        self.page[p] = height;
        let sel = self.sel[p].min(len.saturating_sub(1));
        let start = sel.saturating_sub(height.saturating_sub(1));
        start..(start + height).min(len)
    }

    fn draw_layers(&mut self, f: &mut Frame, r: Rect) {
        let focused = self.focus == Pane::Layers;
        let h = r.height.saturating_sub(3) as usize;
        let win = self.window(0, h, self.diff.layers.len());
        let mut lines = vec![Line::styled(
            format!(
                " {:>3} {:>3}  {:<8}{:>11}{:>11}  instruction",
                "old", "new", "status", "bytes", "waste"
            ),
            Style::default().add_modifier(Modifier::BOLD),
        )];
        let idx = |i: Option<usize>| i.map_or("-".to_string(), |i| i.to_string());
        for i in win {
            let l = &self.diff.layers[i];
            let st = match l.status {
                LayerStatus::Same => Style::default().fg(Color::DarkGray),
                LayerStatus::Changed => Style::default().fg(Color::Yellow),
                LayerStatus::Added => Style::default().fg(Color::Green),
                LayerStatus::Removed => Style::default().fg(Color::Red),
            };
            let mut line = Line::from(vec![
                Span::raw(format!(" {:>3} {:>3}  ", idx(l.old), idx(l.new))),
                Span::styled(format!("{:<8}", l.status.as_str()), st),
                Span::styled(
                    format!("{:>11}", signed(l.bytes_delta)),
                    delta_style(l.bytes_delta),
                ),
                Span::styled(
                    format!("{:>11}", signed(l.wasted_delta)),
                    delta_style(l.wasted_delta),
                ),
                Span::raw(format!("  {}", crate::present::escape::line(&l.command()))),
            ]);
            if focused && i == self.sel[0] {
                line = line.style(Style::default().add_modifier(Modifier::REVERSED));
            }
            lines.push(line);
        }
        f.render_widget(
            Paragraph::new(lines).block(frame(" 1 Layers (old | new) ", focused)),
            r,
        );
    }

    fn draw_files(&mut self, f: &mut Frame, r: Rect) {
        let focused = self.focus == Pane::Files;
        let h = r.height.saturating_sub(2) as usize;
        let win = self.window(1, h, self.shown.len());
        let mut lines = Vec::new();
        for k in win {
            let row = &self.rows[self.shown[k]];
            let (mark, style) = match row.mark {
                Some(FileStatus::Added) => ('+', Style::default().fg(Color::Green)),
                Some(FileStatus::Removed) => ('-', Style::default().fg(Color::Red)),
                Some(FileStatus::Grown) => ('>', Style::default().fg(Color::Yellow)),
                Some(FileStatus::Shrunk) => ('<', Style::default().fg(Color::Cyan)),
                None if row.changed_below => ('*', Style::default()),
                None => (' ', Style::default().fg(Color::DarkGray)),
            };
            let name = String::from_utf8_lossy(&row.name);
            let size = match (row.old_bytes, row.new_bytes) {
                (Some(a), Some(b)) if a != b => format!("  {} → {}", human(a), human(b)),
                (Some(a), None) if !row.dir => format!("  {}", human(a)),
                (_, Some(b)) if !row.dir => format!("  {}", human(b)),
                _ => String::new(),
            };
            let mut line = Line::from(vec![
                Span::styled(format!("{mark} "), style),
                Span::raw("  ".repeat(row.depth as usize)),
                Span::styled(
                    format!(
                        "{}{}",
                        crate::present::escape::line(&name),
                        if row.dir { "/" } else { "" }
                    ),
                    style,
                ),
                Span::raw(size),
            ]);
            if focused && k == self.sel[1] {
                line = line.style(Style::default().add_modifier(Modifier::REVERSED));
            }
            lines.push(line);
        }
        let title = format!(
            " 2 Files{} ({} paths) ",
            if self.changes_only {
                ", changes only"
            } else {
                ""
            },
            self.shown.len()
        );
        f.render_widget(Paragraph::new(lines).block(frame(&title, focused)), r);
    }

    fn draw_findings(&mut self, f: &mut Frame, r: Rect) {
        let focused = self.focus == Pane::Findings;
        let h = r.height.saturating_sub(2) as usize;
        let win = self.window(2, h, self.findings.len());
        let mut lines = Vec::new();
        for i in win {
            let row = &self.findings[i];
            let style = match row.what {
                "fixed" => Style::default().fg(Color::Green),
                "introduced" => Style::default().fg(Color::Red),
                _ => Style::default().fg(Color::Yellow),
            };
            let mut line = Line::from(vec![
                Span::styled(format!(" {:<11}", row.what), style),
                Span::styled(
                    format!("{:>11}  ", signed(row.delta)),
                    delta_style(row.delta),
                ),
                Span::raw(format!(
                    "{:<14}{}",
                    crate::present::kind_label(row.finding.kind),
                    crate::present::escape::line(&row.finding.path.display())
                )),
            ]);
            if focused && i == self.sel[2] {
                line = line.style(Style::default().add_modifier(Modifier::REVERSED));
            }
            lines.push(line);
        }
        let title = format!(
            " 3 Findings: {} fixed, {} introduced, {} changed ",
            self.diff.fixed.len(),
            self.diff.introduced.len(),
            self.diff.changed.len()
        );
        f.render_widget(Paragraph::new(lines).block(frame(&title, focused)), r);
    }
}

fn delta_style(d: i64) -> Style {
    match d.signum() {
        1 => Style::default().fg(Color::Red),
        -1 => Style::default().fg(Color::Green),
        _ => Style::default().fg(Color::DarkGray),
    }
}

fn frame(title: &str, focused: bool) -> Block<'static> {
    let b = Block::default()
        .borders(Borders::ALL)
        .title(title.to_string());
    if focused {
        b.border_style(Style::default().fg(Color::Cyan))
    } else {
        b
    }
}

/// `imgscope diff OLD NEW` in a terminal: load both (errors before the
/// screen is taken), then the comparison view, a mode of the one [`App`]
/// and its event loop, until the user quits.
pub fn run_diff(old: &str, new: &str, opts: &AnalyseOptions) -> anyhow::Result<()> {
    let analyse = |image: &str| {
        eprint!("imgscope: loading {image}…\r");
        crate::analyse(image, opts, &LoadProgress::default())
    };
    let (old, new) = (analyse(old)?, analyse(new)?);
    let d = crate::compare::diff(
        (&old.index, &old.report),
        (&new.index, &new.report),
        &Default::default(),
    );
    let view = CompareView::new(d, &old.index, &new.index);
    drop((old, new));
    let (tx, rx) = std::sync::mpsc::channel();
    super::event_loop(App::comparing(view, (0, 0)), tx, rx)
}
