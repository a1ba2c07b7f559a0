//! The Packages tab: installed packages by size (visible + wasted), the
//! selected one's details below; Enter shows its largest file in the tree,
//! in the layer that installed it.

use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::layout::Areas;
use super::pane::{Action, Ctx, ListSel, Pane, View};
use super::widgets::{bold, detail_block, pane};
use crate::analyze::waste::walk_visible_files;
use crate::load::index::{Index, NodeId};
use crate::present::fit;
use crate::present::{escape, human};
use crate::suggest::Report;

/// The footer while the pane is focused.
pub fn hints() -> Vec<(String, &'static str)> {
    let k = &super::keys::KEYS;
    vec![
        (super::keys::pair(&k.up, &k.down), "select"),
        (k.enter.short(), "show its files in the tree"),
        (k.next_pane.short(), "pane"),
        (k.help.short(), "help"),
        (k.quit.short(), "quit"),
    ]
}

pub struct Packages {
    pub list: ListSel,
    /// Each package's largest visible file (node, bytes) and its count of
    /// files, by index into `report.packages`.
    largest: Vec<Option<(NodeId, u64)>>,
    /// Up to five of each package's largest files (path, bytes).
    top: Vec<Vec<(String, u64)>>,
}

impl Packages {
    pub fn new(index: &Index, report: &Report) -> Packages {
        let keys: rustc_hash::FxHashMap<String, usize> = report
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("{}:{}", p.manager, p.name), i))
            .collect();
        let n = report.packages.len();
        let mut files: Vec<Vec<(u64, NodeId, String)>> = vec![Vec::new(); n];
        if !keys.is_empty() {
            walk_visible_files(index, &mut |id, path, inode| {
                if let Some(&i) = report.owners.of(index, id).and_then(|k| keys.get(k)) {
                    let size = index.inodes[inode as usize].size;
                    let v = &mut files[i];
                    v.push((size, id, String::from_utf8_lossy(path).into_owned()));
                    if v.len() > 64 {
                        v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
                        v.truncate(5);
                    }
                }
            });
        }
        let mut largest = Vec::with_capacity(n);
        let mut top = Vec::with_capacity(n);
        for mut v in files {
            v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
            largest.push(v.first().map(|f| (f.1, f.0)));
            top.push(v.into_iter().take(5).map(|f| (f.2, f.0)).collect());
        }
        Packages {
            list: ListSel::default(),
            largest,
            top,
        }
    }

    pub fn mouse(&mut self, cx: &Ctx, row: Option<usize>, delta: isize, a: &Areas) {
        let (len, h) = (cx.report.packages.len(), a.waste_rows());
        if delta != 0 {
            self.list.moved(delta, len, h);
        } else if let Some(r) = row {
            self.list.click(r, len, h);
        }
    }
}

impl Pane for Packages {
    fn title(&self, v: &View) -> String {
        let ps = &v.cx.report.package_summary;
        format!(
            " Packages · {} installed · {} visible, {} not in a package ",
            ps.installed,
            human(ps.visible_bytes),
            human(ps.no_package_visible_bytes)
        )
    }

    fn key(&mut self, k: &KeyEvent, v: &View) -> Action {
        let (cx, a) = (&v.cx, v.areas);
        let n = cx.report.packages.len();
        if !self.list.key(k, n, a.waste_rows()) {
            return Action::None;
        }
        match self.largest.get(self.list.sel).copied().flatten() {
            Some((node, _)) => {
                Action::JumpToPackage(node, cx.report.packages[self.list.sel].layer.unwrap_or(0))
            }
            None => Action::None,
        }
    }

    fn draw(&self, f: &mut Frame, v: &View) {
        let (cx, a, focused) = (&v.cx, v.areas, v.focused);
        let r = cx.report;
        let block = pane(self.title(v), focused);
        let inner = block.inner(a.right);
        f.render_widget(block, a.right);
        let w = inner.width as usize;
        if r.packages.is_empty() {
            f.render_widget(
                Paragraph::new(
                    "  No package database found (dpkg, apk, Python, npm, Go build info).",
                ),
                inner,
            );
            return;
        }
        for (i, p) in r
            .packages
            .iter()
            .enumerate()
            .skip(self.list.top)
            .take(a.waste_rows())
        {
            let waste = if p.wasted_bytes > 0 {
                format!("  +{} wasted", human(p.wasted_bytes))
            } else {
                String::new()
            };
            let style = if p.installed {
                Style::default()
            } else {
                Style::default().fg(Color::Red)
            };
            let line = Line::from(vec![
                Span::raw(format!("{:>10}  ", human(p.visible_bytes))),
                Span::styled(
                    fit(
                        &format!(
                            "{}:{} {}{}",
                            p.manager,
                            escape::line(&p.name),
                            escape::line(&p.version),
                            if p.installed { "" } else { " (removed)" }
                        ),
                        w.saturating_sub(30),
                    ),
                    style,
                ),
                Span::styled(waste, Style::default().fg(Color::Red)),
            ]);
            self.list.draw_row(f, inner, i, line, focused);
        }
        let dh = a.waste_detail_h();
        let dr = Rect::new(inner.x, inner.bottom().saturating_sub(dh), inner.width, dh);
        let bold = bold();
        let mut lines = Vec::new();
        if let Some(p) = r.packages.get(self.list.sel) {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{}:{} {}", p.manager, p.name, p.version),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!(
                    "  {} in {} files, {} wasted",
                    human(p.visible_bytes),
                    p.files,
                    human(p.wasted_bytes)
                )),
            ]));
            if let Some(l) = p.layer {
                lines.push(Line::from(vec![
                    Span::styled("Installed by ", bold),
                    Span::raw(format!("layer {l}: {}", cx.layer_cmd(l))),
                ]));
            }
            if !p.wasted_by_kind.is_empty() {
                let kinds: Vec<String> = p
                    .wasted_by_kind
                    .iter()
                    .map(|(k, b)| format!("{k} {}", human(*b)))
                    .collect();
                lines.push(Line::from(vec![
                    Span::styled("Wasted ", bold),
                    Span::raw(kinds.join(", ")),
                ]));
            }
            for (path, bytes) in self.top.get(self.list.sel).into_iter().flatten() {
                lines.push(Line::from(Span::raw(format!(
                    "  {:>10}  {}",
                    human(*bytes),
                    escape::line(path)
                ))));
            }
        }
        f.render_widget(Clear, dr);
        f.render_widget(
            Paragraph::new(lines)
                .block(detail_block(" Enter: show its largest file in the tree "))
                .wrap(Wrap { trim: true }),
            dr,
        );
    }
}
