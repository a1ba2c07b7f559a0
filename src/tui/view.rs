//! Views: a pure function of the state, drawn on any ratatui backend.
//! Only the rows on screen are built.

use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Gauge, Paragraph, Wrap};
use ratatui::Frame;

use super::app::{App, Data, Focus, WasteRow};
use crate::analyze::index::{NodeKind, NO_INODE, ROOT};
use crate::analyze::waste::WasteKind;
use crate::render::human;
use crate::view::tree::{change_at, Mark, Mode, Sort};

/// Where everything is, for drawing and for mouse hits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Areas {
    pub title: Rect,
    pub layers: Rect,
    pub details: Rect,
    pub summary: Rect,
    pub tabs: Rect,
    pub right: Rect,
    pub status: Rect,
    tab_x: [(u16, u16); 3],
    filter_line: bool,
    fix_count: usize,
}

const TAB_NAMES: [&str; 3] = ["Files", "Waste", "Fixes"];
const TABS: [Focus; 3] = [Focus::Tree, Focus::Waste, Focus::Fixes];

impl Areas {
    fn inner(r: Rect) -> Rect {
        Rect::new(
            r.x.saturating_add(1),
            r.y.saturating_add(1),
            r.width.saturating_sub(2),
            r.height.saturating_sub(2),
        )
    }
    /// Layer rows on screen (below the header).
    pub fn layers_rows(&self) -> usize {
        Self::inner(self.layers).height.saturating_sub(1).max(1) as usize
    }
    pub fn layers_first_row(&self) -> u16 {
        self.layers.y + 2
    }
    pub fn tree_rows(&self) -> usize {
        let h = Self::inner(self.right).height.saturating_sub(1);
        h.saturating_sub(self.filter_line as u16).max(1) as usize
    }
    pub fn tree_first_row(&self) -> u16 {
        self.right.y + 2
    }
    pub fn list_first_row(&self) -> u16 {
        self.right.y + 1
    }
    fn waste_detail_h(&self) -> u16 {
        (Self::inner(self.right).height / 3).clamp(3, 10)
    }
    pub fn waste_rows(&self) -> usize {
        Self::inner(self.right)
            .height
            .saturating_sub(self.waste_detail_h())
            .max(1) as usize
    }
    /// Fix rows on screen: as many as there are, up to 2/5 of the pane.
    pub fn fix_rows(&self) -> usize {
        let max = (Self::inner(self.right).height as usize * 2 / 5).max(2);
        self.fix_count.clamp(1, max)
    }
    pub fn tab_at(&self, p: Position) -> Option<Focus> {
        if p.y != self.tabs.y {
            return None;
        }
        self.tab_x
            .iter()
            .zip(TABS)
            .find(|((a, b), _)| p.x >= *a && p.x < *b)
            .map(|(_, t)| t)
    }
}

pub fn layout(size: (u16, u16), d: &Data) -> Areas {
    let (w, h) = size;
    let title = Rect::new(0, 0, w, 1.min(h));
    let status = Rect::new(0, h.saturating_sub(1), w, 1.min(h));
    let body_h = h.saturating_sub(2);
    let lw = if w < 70 {
        w / 2
    } else {
        ((w as u32 * 2 / 5) as u16).clamp(34, 80)
    };
    let n = d.index.layers.len() as u16;
    let layers_h = n
        .saturating_add(3)
        .min((body_h as u32 * 45 / 100) as u16)
        .max(5.min(body_h));
    // Room for the selected layer's whole command (within reason).
    let cmd = d
        .report
        .layers
        .get(d.layers.sel)
        .map_or(0, |l| one_line(&l.command).chars().count() + 8);
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
    let mut tab_x = [(0, 0); 3];
    let mut x = tabs.x + 1;
    for (i, name) in TAB_NAMES.iter().enumerate() {
        let len = name.len() as u16 + 4;
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
        tab_x,
        filter_line: true,
        fix_count: d.report.suggestions.len(),
    }
}

fn mark_style(m: Mark) -> Style {
    let s = Style::default();
    match m {
        Mark::Unchanged => s,
        Mark::Added => s.fg(Color::Green),
        Mark::Modified => s.fg(Color::Yellow),
        Mark::MetaOnly => s.fg(Color::Cyan),
        Mark::Moved => s.fg(Color::Magenta).add_modifier(Modifier::CROSSED_OUT),
        Mark::MovedHere => s.fg(Color::Magenta),
        Mark::Removed => s.fg(Color::Red).add_modifier(Modifier::CROSSED_OUT),
    }
}

fn kind_label(k: WasteKind) -> &'static str {
    match k {
        WasteKind::Removed => "removed",
        WasteKind::Overwritten => "overwritten",
        WasteKind::MetadataOnly => "metadata only",
        WasteKind::Moved => "moved",
        WasteKind::Cache => "cache",
    }
}

fn kind_style(k: WasteKind) -> Style {
    Style::default().fg(match k {
        WasteKind::Removed => Color::Red,
        WasteKind::Overwritten => Color::Yellow,
        WasteKind::MetadataOnly => Color::Cyan,
        WasteKind::Moved => Color::Magenta,
        WasteKind::Cache => Color::LightBlue,
    })
}

fn pane(title: String, focused: bool) -> Block<'static> {
    let style = if focused {
        Style::default().fg(Color::LightCyan)
    } else {
        Style::default().fg(Color::DarkGray)
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(style)
        .title(Span::styled(
            title,
            Style::default()
                .add_modifier(Modifier::BOLD)
                .fg(if focused {
                    Color::LightCyan
                } else {
                    Color::Gray
                }),
        ))
}

fn sel_style(focused: bool) -> Style {
    if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default().bg(Color::DarkGray)
    }
}

/// Cut to `w` display columns (one column per char), with an ellipsis.
fn fit(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(w - 1).collect();
    out.push('…');
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    app.size = (area.width, area.height);
    match app.data.as_deref() {
        None => draw_loading(f, app),
        Some(d) => {
            let a = layout(app.size, d);
            draw_title(f, a.title, app, d);
            draw_layers(f, a.layers, d);
            draw_details(f, a.details, d);
            draw_summary(f, a.summary, d);
            draw_tabs(f, &a, d);
            match d.tab {
                Focus::Waste => draw_waste(f, &a, d),
                Focus::Fixes => draw_fixes(f, &a, d),
                _ => draw_tree(f, &a, d),
            }
            draw_status(f, a.status, d);
        }
    }
    if app.help {
        draw_help(f, area);
    }
}

fn draw_loading(f: &mut Frame, app: &App) {
    let area = f.area();
    let crate::ProgressSnapshot {
        read,
        total,
        layers_done: done,
        layers: n,
        stream,
        phase,
    } = app.progress.snapshot();
    let w = area.width.min(90);
    let h = area.height.min(8 + n as u16).max(7.min(area.height));
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + area.height.saturating_sub(h) / 2,
        w,
        h,
    );
    let block = pane(format!(" imgscope · {} ", app.source), true);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let what = match phase {
        0 => "reading the image".to_string(),
        1 => format!("indexing layers: {done} of {n} done"),
        2 => "merging layers".to_string(),
        _ => "analysing waste".to_string(),
    };
    // Bytes read, or layers done when that says more (the indexer reads
    // uncompressed layers' headers first, then their contents in parallel).
    let ratio = if phase >= 2 {
        1.0
    } else {
        let bytes = if total > 0 {
            read as f64 / total as f64
        } else {
            0.0
        };
        let layers = if n > 0 { done as f64 / n as f64 } else { 0.0 };
        bytes.max(layers).min(1.0)
    };
    let label = if total > 0 {
        format!("{} / {}", human(read), human(total))
    } else {
        human(read.max(stream))
    };
    let mut y = inner.y;
    f.render_widget(Paragraph::new(what), Rect::new(inner.x, y, inner.width, 1));
    y += 1;
    if y < inner.bottom() {
        f.render_widget(
            Gauge::default()
                .gauge_style(Style::default().fg(Color::Cyan))
                .ratio(ratio)
                .label(label),
            Rect::new(inner.x, y, inner.width, 1),
        );
        y += 2;
    }
    let layers = app.progress.layers.lock().unwrap().clone();
    let sizes = app.progress.layer_sizes.lock().unwrap().clone();
    for (i, p) in layers.iter().enumerate() {
        if y >= inner.bottom() {
            break;
        }
        let r = p.read.load(std::sync::atomic::Ordering::Relaxed);
        let e = p.entries.load(std::sync::atomic::Ordering::Relaxed);
        let dn = p.done.load(std::sync::atomic::Ordering::Relaxed) == 1;
        let s = sizes.get(i).copied().unwrap_or(0);
        let text = format!(
            "layer {i:>3}  {:>10} / {:<10} {:>9} entries  {}",
            human(r),
            human(s),
            e,
            if dn { "done" } else { "" }
        );
        f.render_widget(
            Paragraph::new(text).style(Style::default().fg(if dn {
                Color::Green
            } else {
                Color::Gray
            })),
            Rect::new(inner.x, y, inner.width, 1),
        );
        y += 1;
    }
}

fn draw_title(f: &mut Frame, r: Rect, app: &App, d: &Data) {
    let img = &d.report.image;
    let tags = if img.tags.is_empty() {
        String::new()
    } else {
        format!(" · {}", img.tags.join(", "))
    };
    let line = Line::from(vec![
        Span::styled(
            " imgscope ",
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(
            " {} ({}, {}/{}){tags}",
            app.source, img.format, img.os, img.architecture
        )),
    ]);
    f.render_widget(Paragraph::new(line), r);
}

fn draw_layers(f: &mut Frame, r: Rect, d: &Data) {
    let focused = d.focus == Focus::Layers;
    let block = pane(
        format!(
            " Layers ({}) · {} ",
            d.report.layers.len(),
            match d.mode {
                Mode::Merged => "merged",
                Mode::LayerOnly => "this layer only",
            }
        ),
        focused,
    );
    let inner = block.inner(r);
    f.render_widget(block, r);
    if inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    let head = format!("{:>3} {:>9} {:>9}  Command", "#", "Size", "Wasted");
    f.render_widget(
        Paragraph::new(fit(&head, w)).style(Style::default().add_modifier(Modifier::BOLD)),
        Rect::new(inner.x, inner.y, inner.width, 1),
    );
    let rows = inner.height.saturating_sub(1) as usize;
    for (i, l) in d
        .report
        .layers
        .iter()
        .enumerate()
        .skip(d.layers.top)
        .take(rows)
    {
        let waste = if l.wasted_bytes > 0 {
            human(l.wasted_bytes)
        } else {
            "-".into()
        };
        let cmd = one_line(&crate::suggest::layer_command(&l.command));
        let text = format!("{:>3} {:>9} {:>9}  {}", i, human(l.bytes), waste, cmd);
        let mut style = Style::default();
        if l.wasted_bytes > 0 {
            style = style.fg(Color::LightRed);
        }
        if i == d.layer() {
            style = sel_style(focused);
        } else if i < d.layer() && d.mode == Mode::Merged {
            style = style.add_modifier(Modifier::DIM);
        }
        let y = inner.y + 1 + (i - d.layers.top) as u16;
        f.render_widget(
            Paragraph::new(fit(&text, w)).style(style),
            Rect::new(inner.x, y, inner.width, 1),
        );
    }
}

fn draw_details(f: &mut Frame, r: Rect, d: &Data) {
    let Some(l) = d.report.layers.get(d.layer()) else {
        return;
    };
    let st = &d.index.layers[d.layer()].stats;
    let block = pane(format!(" Layer {} ", l.index), false);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let digest = if l.digest.is_empty() {
        &l.diff_id
    } else {
        &l.digest
    };
    let w = r.width.saturating_sub(2) as usize;
    let lines = vec![
        Line::from(vec![
            Span::styled("Size ", bold),
            Span::raw(format!(
                "{} ({} stored) · wasted {}",
                human(l.bytes),
                human(l.compressed_bytes),
                human(l.wasted_bytes)
            )),
        ]),
        Line::from(vec![
            Span::styled("Files ", bold),
            Span::styled(
                format!("+{} {}  ", st.added, human(st.added_bytes)),
                Style::default().fg(Color::Green),
            ),
            Span::styled(
                format!("~{} {}  ", st.modified, human(st.modified_bytes)),
                Style::default().fg(Color::Yellow),
            ),
            Span::styled(
                format!("-{} {}", st.removed, human(st.removed_bytes)),
                Style::default().fg(Color::Red),
            ),
        ]),
        Line::from(vec![
            Span::styled("Digest ", bold),
            Span::raw(fit(digest, w.saturating_sub(7))),
        ]),
        Line::from(vec![
            Span::styled("Command ", bold),
            Span::raw(one_line(&l.command)),
        ]),
    ];
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        r,
    );
}

fn draw_summary(f: &mut Frame, r: Rect, d: &Data) {
    let s = &d.report.summary;
    let block = pane(
        format!(
            " Image · {} layers · {} files ",
            s.layer_count, s.file_count
        ),
        false,
    );
    let pct = |b: u64| {
        if s.total_bytes == 0 {
            0.0
        } else {
            b as f64 * 100.0 / s.total_bytes as f64
        }
    };
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<15}", "Total"), bold),
            Span::raw(format!("{:>10}", human(s.total_bytes))),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<15}", "Visible"), bold),
            Span::raw(format!("{:>10}", human(s.visible_bytes))),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<15}", "Wasted"), bold),
            Span::styled(
                format!("{:>10}", human(s.wasted_bytes)),
                Style::default().fg(if s.wasted_bytes > 0 {
                    Color::LightRed
                } else {
                    Color::Green
                }),
            ),
            Span::raw(format!("  {:.1}% of total", pct(s.wasted_bytes))),
        ]),
    ];
    for k in WasteKind::ALL {
        let b = d.report.bytes_of(k);
        if b == 0 {
            continue;
        }
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<13}", kind_label(k)), kind_style(k)),
            Span::raw(format!("{:>10}", human(b))),
            Span::raw(format!("  {:.1}%", pct(b))),
        ]));
    }
    lines.push(Line::from(vec![
        Span::styled(format!("{:<15}", "Efficiency"), bold),
        Span::raw(format!("{:>9.1}%", s.efficiency * 100.0)),
    ]));
    f.render_widget(Paragraph::new(lines).block(block), r);
}

fn draw_tabs(f: &mut Frame, a: &Areas, d: &Data) {
    let mut spans = vec![Span::raw(" ")];
    for (i, name) in TAB_NAMES.iter().enumerate() {
        let t = TABS[i];
        let extra = match t {
            Focus::Waste => format!(" {}", d.report.waste.len()),
            Focus::Fixes => format!(" {}", d.report.suggestions.len()),
            _ => String::new(),
        };
        let style = if d.tab == t {
            Style::default()
                .fg(Color::Black)
                .bg(if d.focus == t {
                    Color::LightCyan
                } else {
                    Color::Gray
                })
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(Color::Gray)
        };
        spans.push(Span::styled(format!(" {} {name}", i + 2), style));
        spans.push(Span::styled(format!("{extra} "), style));
        spans.push(Span::raw(" "));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), a.tabs);
}

fn mode_string(kind: NodeKind, mode: u32) -> String {
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

fn draw_tree(f: &mut Frame, a: &Areas, d: &Data) {
    let focused = d.focus == Focus::Tree;
    let t = &d.tree;
    let mut title = format!(
        " Files at layer {} · {} · by {} ",
        d.layer(),
        match d.mode {
            Mode::Merged => "merged",
            Mode::LayerOnly => "this layer's changes",
        },
        match d.sort {
            Sort::Name => "name",
            Sort::Size => "size",
        }
    );
    if !d.types.all() {
        let names = ["added", "removed", "modified", "unchanged"];
        let hidden: Vec<&str> = names
            .iter()
            .zip(d.types.0)
            .filter(|(_, on)| !on)
            .map(|(n, _)| *n)
            .collect();
        title.push_str(&format!("· hiding {} ", hidden.join(", ")));
    }
    let block = pane(title, focused);
    let inner = block.inner(a.right);
    f.render_widget(block, a.right);
    if inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    // Narrow panes keep the names readable: attributes only when there is room.
    let attrs_on = d.attrs && w >= 64;
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
    let nav = d.nav();
    let mut cur = d.cur.top;
    let layer = d.layer();
    let mut guide: Vec<bool> = Vec::new();
    for row in 0..rows {
        let Some(n) = cur else { break };
        let node = &d.index.nodes[n as usize];
        let change = change_at(&d.index, n, layer).map(|(_, c)| *c);
        let m = t.mark(n);
        let present = t.present(n);
        // Tree guides: for each ancestor, is it the last of its siblings?
        guide.clear();
        let mut p = node.parent;
        while p != ROOT {
            guide.push(t.is_last(&d.index, p));
            p = d.index.nodes[p as usize].parent;
        }
        let mut prefix = String::new();
        for last in guide.iter().rev() {
            prefix.push_str(if *last { "    " } else { "│   " });
        }
        prefix.push_str(if t.is_last(&d.index, n) {
            "└── "
        } else {
            "├── "
        });
        let is_dir = t.is_dir(n);
        // Names and link targets from the image, control characters escaped.
        let name = crate::render::escape::line(&String::from_utf8_lossy(&node.name)).into_owned();
        let mut label = String::new();
        if is_dir && !t.children(n).is_empty() {
            label.push_str(if d.exp.expanded(n) { "▾ " } else { "▸ " });
        }
        label.push_str(&name);
        if is_dir {
            label.push('/');
        }
        if let Some(c) = change {
            if c.kind == NodeKind::Symlink && c.link != u32::MAX && present {
                if let Some(l) = d.index.links.get(c.link as usize) {
                    label.push_str(" → ");
                    label.push_str(&crate::render::escape::line(&String::from_utf8_lossy(l)));
                }
            }
        }
        if m == Mark::MovedHere {
            label.push_str(" [moved here]");
        }
        let wasted = !is_dir && d.live_findings(n).next().is_some();
        if !present {
            label.push_str(if m == Mark::Moved {
                " [moved]"
            } else {
                " [removed]"
            });
        }
        let size = if is_dir || change.is_some_and(|c| c.inode != NO_INODE) {
            human(t.size[n as usize])
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
        if Some(n) == d.cur.sel {
            para = para.style(sel_style(focused));
        }
        f.render_widget(
            para,
            Rect::new(inner.x, inner.y + 1 + row as u16, inner.width, 1),
        );
        cur = nav.next(n);
    }
    if a.filter_line && inner.height > 1 {
        let y = inner.bottom() - 1;
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let mut spans = Vec::new();
        if d.filter_editing || !d.filter_text.is_empty() {
            spans.push(Span::styled("Filter: ", bold));
            spans.push(Span::raw(d.filter_text.clone()));
            if d.filter_editing {
                spans.push(Span::styled("▏", Style::default().fg(Color::LightCyan)));
            }
            match &d.filter_error {
                Some(e) => spans.push(Span::styled(
                    format!("  {e}"),
                    Style::default().fg(Color::Red),
                )),
                None => spans.push(Span::styled(
                    format!("  {} paths shown", t.shown_count),
                    Style::default().fg(Color::DarkGray),
                )),
            }
        } else if let Some(n) = d.cur.sel {
            // The selected path, what this layer did to it, and its waste.
            let m = t.mark(n);
            spans.push(Span::styled(
                String::from_utf8_lossy(&d.index.path(n)).into_owned(),
                bold,
            ));
            if m != Mark::Unchanged {
                spans.push(Span::styled(format!("  {}", m.label()), mark_style(m)));
            }
            let live: Vec<usize> = d.live_findings(n).collect();
            if let Some(&fi) = live.first() {
                let fd = &d.report.waste[fi];
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
            Rect::new(inner.x, y, inner.width, 1),
        );
    }
    if t.shown_count == 0 {
        f.render_widget(
            Paragraph::new("  (nothing to show here)").style(Style::default().fg(Color::DarkGray)),
            Rect::new(inner.x, inner.y + 1, inner.width, 1.min(inner.height - 1)),
        );
    }
}

fn layer_cmd(d: &Data, l: usize) -> String {
    d.report
        .layers
        .get(l)
        .map(|l| one_line(&crate::suggest::layer_command(&l.command)))
        .unwrap_or_default()
}

fn draw_waste(f: &mut Frame, a: &Areas, d: &Data) {
    let focused = d.focus == Focus::Waste;
    let s = &d.report.summary;
    let block = pane(
        format!(
            " Waste · {} in {} findings · by kind, then cause ",
            human(s.wasted_bytes),
            d.report.waste.len()
        ),
        focused,
    );
    let inner = block.inner(a.right);
    f.render_widget(block, a.right);
    let w = inner.width as usize;
    let rows = a.waste_rows();
    if d.waste_rows.is_empty() {
        f.render_widget(
            Paragraph::new("  No waste: every stored byte is visible and no cache is left behind.")
                .style(Style::default().fg(Color::Green)),
            inner,
        );
        return;
    }
    for (i, r) in d.waste_rows.iter().enumerate().skip(d.waste.top).take(rows) {
        let line = match r {
            WasteRow::Kind { kind, bytes, count } => Line::from(vec![Span::styled(
                fit(
                    &format!(
                        "{:<14} {:>10}  {count} finding{}",
                        kind_label(*kind),
                        human(*bytes),
                        if *count == 1 { "" } else { "s" }
                    ),
                    w,
                ),
                kind_style(*kind).add_modifier(Modifier::BOLD),
            )]),
            WasteRow::Cause {
                layer,
                rule,
                bytes,
                count,
                ..
            } => {
                let cause = match (layer, rule) {
                    (Some(l), _) => format!("hidden by layer {l}: {}", layer_cmd(d, *l)),
                    (None, Some(r)) => format!("cache rule {r}"),
                    (None, None) => "visible".into(),
                };
                Line::from(Span::raw(fit(
                    &format!("  {:>10}  {cause}  ({count})", human(*bytes)),
                    w,
                )))
            }
            WasteRow::Finding(fi) => {
                let fd = &d.report.waste[*fi];
                Line::from(vec![
                    Span::raw(format!("    {:>10}  ", human(fd.bytes))),
                    Span::styled(
                        crate::render::escape::line(&fd.path.display()).into_owned(),
                        kind_style(fd.kind),
                    ),
                    Span::styled(
                        format!("  stored in layer {}", fd.stored_in_layer),
                        Style::default().fg(Color::DarkGray),
                    ),
                ])
            }
        };
        let mut p = Paragraph::new(line);
        if i == d.waste.sel {
            p = p.style(sel_style(focused));
        }
        f.render_widget(
            p,
            Rect::new(inner.x, inner.y + (i - d.waste.top) as u16, inner.width, 1),
        );
    }
    // Detail of the selection.
    let dh = a.waste_detail_h();
    let dr = Rect::new(inner.x, inner.bottom().saturating_sub(dh), inner.width, dh);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    match d.waste_rows.get(d.waste.sel) {
        Some(WasteRow::Finding(fi)) => {
            let fd = &d.report.waste[*fi];
            lines.push(Line::from(vec![
                Span::styled(
                    crate::render::escape::line(&fd.path.display()).into_owned(),
                    kind_style(fd.kind).add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!(
                    "  {} {} ({} bytes)",
                    kind_label(fd.kind),
                    human(fd.bytes),
                    fd.bytes
                )),
            ]));
            lines.push(Line::from(vec![
                Span::styled("Stored in ", bold),
                Span::raw(format!(
                    "layer {}: {}",
                    fd.stored_in_layer,
                    layer_cmd(d, fd.stored_in_layer)
                )),
            ]));
            if let Some(h) = fd.hidden_by_layer {
                lines.push(Line::from(vec![
                    Span::styled("Hidden by ", bold),
                    Span::raw(format!("layer {h}: {}", layer_cmd(d, h))),
                ]));
            }
            if let Some(r) = &fd.rule {
                lines.push(Line::from(vec![
                    Span::styled("Rule ", bold),
                    Span::raw(r.clone()),
                ]));
            }
            if let Some(si) = d.fix_of.get(*fi).copied().flatten() {
                let s = &d.report.suggestions[si];
                lines.push(Line::from(vec![
                    Span::styled(
                        "Fix ",
                        Style::default()
                            .fg(Color::Green)
                            .add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(format!("{} (saves {})", s.title, human(s.saves_bytes))),
                ]));
            }
            lines.push(Line::from(Span::styled(
                one_line(crate::suggest::why(fd.kind)),
                Style::default().fg(Color::Gray),
            )));
        }
        Some(WasteRow::Kind { kind, .. }) | Some(WasteRow::Cause { kind, .. }) => {
            lines.push(Line::from(Span::styled(
                kind_label(*kind),
                kind_style(*kind).add_modifier(Modifier::BOLD),
            )));
            lines.push(Line::from(Span::raw(one_line(crate::suggest::why(*kind)))));
        }
        None => {}
    }
    f.render_widget(Clear, dr);
    f.render_widget(
        Paragraph::new(lines)
            .block(detail_block(" Enter: show the file in its layer "))
            .wrap(Wrap { trim: true }),
        dr,
    );
}

fn detail_block(title: &'static str) -> Block<'static> {
    Block::default()
        .borders(Borders::TOP)
        .border_style(Style::default().fg(Color::DarkGray))
        .title(title)
}

fn draw_fixes(f: &mut Frame, a: &Areas, d: &Data) {
    let focused = d.focus == Focus::Fixes;
    let sug = &d.report.suggestions;
    let total: u64 = sug.iter().map(|s| s.saves_bytes).sum();
    let block = pane(format!(" Fixes · {} suggestions ", sug.len()), focused);
    let inner = block.inner(a.right);
    f.render_widget(block, a.right);
    let _ = total;
    if sug.is_empty() {
        f.render_widget(
            Paragraph::new("  Nothing to fix.").style(Style::default().fg(Color::Green)),
            inner,
        );
        return;
    }
    let w = inner.width as usize;
    let rows = a.fix_rows();
    for (i, s) in sug.iter().enumerate().skip(d.fixes.top).take(rows) {
        let layers: Vec<String> = s.layers.iter().map(|l| l.to_string()).collect();
        let line = Line::from(vec![
            Span::styled(
                format!("{:>10}  ", human(s.saves_bytes)),
                Style::default().fg(Color::Green),
            ),
            Span::raw(fit(
                &format!("{}  (layers {})", s.title, layers.join(", ")),
                w.saturating_sub(12),
            )),
        ]);
        let mut p = Paragraph::new(line);
        if i == d.fixes.sel {
            p = p.style(sel_style(focused));
        }
        f.render_widget(
            p,
            Rect::new(inner.x, inner.y + (i - d.fixes.top) as u16, inner.width, 1),
        );
    }
    let Some(s) = sug.get(d.fixes.sel) else {
        return;
    };
    let dr = Rect::new(
        inner.x,
        inner.y + rows as u16,
        inner.width,
        inner.height.saturating_sub(rows as u16),
    );
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::from(vec![
        Span::styled(s.title.clone(), bold),
        Span::styled(
            format!("  saves {} ({} bytes)", human(s.saves_bytes), s.saves_bytes),
            Style::default().fg(Color::Green),
        ),
    ])];
    for &l in &s.layers {
        lines.push(Line::from(vec![
            Span::styled(format!("layer {l}: "), bold),
            Span::raw(layer_cmd(d, l)),
        ]));
    }
    if !s.why.is_empty() {
        lines.push(Line::from(Span::styled(
            one_line(&s.why),
            Style::default().fg(Color::Gray),
        )));
    }
    lines.push(Line::from(Span::styled("Before:", bold.fg(Color::Red))));
    for l in s.before.lines() {
        lines.push(Line::from(Span::styled(
            format!("  {l}"),
            Style::default().fg(Color::LightRed),
        )));
    }
    lines.push(Line::from(Span::styled("After:", bold.fg(Color::Green))));
    for l in s.after.lines() {
        lines.push(Line::from(Span::styled(
            format!("  {l}"),
            Style::default().fg(Color::LightGreen),
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(detail_block(" Enter: show its files in the tree "))
            .wrap(Wrap { trim: false }),
        dr,
    );
}

fn draw_status(f: &mut Frame, r: Rect, d: &Data) {
    let keys: &[(&str, &str)] = if d.filter_editing {
        &[
            ("type", "filter: text, glob *?[ ] or /regex/"),
            ("Enter", "apply"),
            ("Esc", "clear"),
            ("↑↓", "move"),
        ]
    } else {
        match d.focus {
            Focus::Layers => &[
                ("↑↓", "layer"),
                ("Tab", "pane"),
                ("^L", "layer only"),
                ("^A", "merged"),
                ("^F", "filter"),
                ("?", "help"),
                ("q", "quit"),
            ],
            Focus::Tree => &[
                ("↑↓", "move"),
                ("Space", "collapse"),
                ("^Space", "all"),
                ("^F", "filter"),
                ("^A/R/M/U", "types"),
                ("^B", "attrs"),
                ("^O", "sort"),
                ("^L", "mode"),
                ("Tab", "pane"),
                ("?", "help"),
                ("q", "quit"),
            ],
            Focus::Waste | Focus::Fixes => &[
                ("↑↓", "select"),
                ("Enter", "show in tree"),
                ("Tab", "pane"),
                ("?", "help"),
                ("q", "quit"),
            ],
        }
    };
    let mut spans = Vec::new();
    for (k, what) in keys {
        spans.push(Span::styled(
            format!(" {k}"),
            Style::default()
                .fg(Color::LightCyan)
                .add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(format!(" {what} ")));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(Style::default().bg(Color::Black)),
        r,
    );
}

pub const HELP: &[(&str, &str)] = &[
    (
        "Tab / Shift+Tab",
        "next / previous pane (Layers, Files, Waste, Fixes)",
    ),
    ("1 2 3 4", "go to Layers, Files, Waste, Fixes"),
    ("↑ ↓ / k j", "move the selection"),
    ("PgUp PgDn Home End", "page, first, last"),
    (
        "Ctrl+L",
        "tree: only this layer's changes / merged (toggle)",
    ),
    ("Ctrl+A (Layers)", "tree: merged filesystem as of the layer"),
    ("Space / Enter", "collapse or expand the directory"),
    ("← → / h l", "collapse / go to parent; expand"),
    ("Ctrl+Space, - , +", "collapse or expand every directory"),
    ("Ctrl+F or /", "filter paths: text, glob (*?[ ]) or /regex/"),
    ("Esc", "clear the filters"),
    (
        "Ctrl+A Ctrl+R Ctrl+M Ctrl+U",
        "show/hide added, removed, modified, unchanged",
    ),
    ("Ctrl+B", "show/hide attributes (mode, uid:gid)"),
    ("Ctrl+O", "sort by name / by size"),
    (
        "Enter (Waste, Fixes)",
        "jump to the layer and select the file",
    ),
    ("mouse", "wheel scrolls, click selects, click a tab"),
    ("?", "this help"),
    ("q, Ctrl+C", "quit"),
];

fn draw_help(f: &mut Frame, area: Rect) {
    let w = area.width.min(96);
    let h = area.height.min(HELP.len() as u16 + 6);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, r);
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(
                    format!(" {k:<28}"),
                    Style::default()
                        .fg(Color::LightCyan)
                        .add_modifier(Modifier::BOLD),
                ),
                Span::raw(*v),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::raw(" Marks: "),
        Span::styled("+ added  ", mark_style(Mark::Added)),
        Span::styled("~ modified  ", mark_style(Mark::Modified)),
        Span::styled("= metadata only", mark_style(Mark::MetaOnly)),
        Span::raw("  "),
        Span::styled("> moved away", mark_style(Mark::Moved)),
        Span::raw("  "),
        Span::styled("< moved here", mark_style(Mark::MovedHere)),
        Span::raw("  "),
        Span::styled("- removed", mark_style(Mark::Removed)),
    ]));
    lines.push(Line::raw(
        " Wasted = bytes shipped but hidden by a later layer + caches left in the image.",
    ));
    lines.push(Line::raw(" Press ? or Esc to close."));
    f.render_widget(Paragraph::new(lines).block(pane(" Keys ".into(), true)), r);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::testing::{image, E};
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
            E::File("dev/notes", b"x"),
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
