//! The Waste tab: findings grouped by kind, then by cause (the hiding layer
//! or the cache rule), each finding's detail below the list; Enter shows the
//! file in its layer.

use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::layout::Areas;
use super::pane::{Action, ListSel, Pane, View};
use super::widgets::{bold, detail_block, kind_style, pane};
use crate::analyze::rules::builtin_optional;
use crate::analyze::waste::WasteKind;
use crate::present::{escape, human};
use crate::present::{fit, kind_label, one_line, why};
use crate::suggest::Report;

/// The footer while the pane is focused.
pub fn hints() -> Vec<(String, &'static str)> {
    let k = &super::keys::KEYS;
    vec![
        (super::keys::pair(&k.up, &k.down), "select"),
        (k.enter.short(), "show in tree"),
        (k.next_pane.short(), "pane"),
        (k.help.short(), "help"),
        (k.quit.short(), "quit"),
    ]
}

/// A row of the Waste tab.
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
    /// The optional files, after every kind of waste: a choice, not waste.
    OptionalHeader {
        bytes: u64,
        count: usize,
    },
    OptionalRule {
        rule: String,
        bytes: u64,
        count: usize,
    },
    /// `report.optional[i]`.
    Optional(usize),
}

pub struct Waste {
    pub rows: Vec<WasteRow>,
    pub list: ListSel,
    /// The suggestion covering each finding, if any.
    fix_of: Vec<Option<usize>>,
}

impl Waste {
    /// Starts on the first finding rather than its group header.
    pub fn new(report: &Report) -> Waste {
        let rows = rows(report);
        let fix_of = crate::suggest::suggestion_of_findings(report);
        let mut list = ListSel::default();
        if let Some(i) = rows.iter().position(|r| matches!(r, WasteRow::Finding(_))) {
            list.sel = i;
        }
        Waste { rows, list, fix_of }
    }

    /// A click on list row `row` (None: above the list), or a wheel step.
    pub fn mouse(&mut self, row: Option<usize>, delta: isize, a: &Areas) {
        let (len, h) = (self.rows.len(), a.waste_rows());
        if delta != 0 {
            self.list.moved(delta, len, h);
        } else if let Some(r) = row {
            self.list.click(r, len, h);
        }
    }
}

/// Optional files' colour: neither waste red nor clean green.
fn optional_style() -> Style {
    Style::default().fg(Color::Cyan)
}

/// The trade-off and the fix of an optional rule.
fn optional_texts(rule: &str, lines: &mut Vec<Line<'static>>) {
    let bold = bold();
    lines.push(Line::from(vec![
        Span::styled("Rule ", bold),
        Span::raw(rule.to_string()),
        Span::styled("  a choice, not waste", optional_style()),
    ]));
    if let Some(r) = builtin_optional(rule) {
        lines.push(Line::from(vec![
            Span::styled("Cost ", bold),
            Span::raw(r.tradeoff.clone()),
        ]));
        lines.push(Line::from(vec![
            Span::styled("How ", bold),
            Span::raw(one_line(&r.fix)),
        ]));
    }
}

type Causes = std::collections::BTreeMap<(Option<usize>, Option<String>), Vec<usize>>;

/// Findings grouped by kind (most bytes first), then by cause.
fn rows(report: &Report) -> Vec<WasteRow> {
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
    // Optional files last, by rule (most bytes first).
    if !report.optional.is_empty() {
        let mut by_rule: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, o) in report.optional.iter().enumerate() {
            by_rule.entry(o.rule.as_str()).or_default().push(i);
        }
        let obytes = |v: &[usize]| v.iter().map(|&i| report.optional[i].bytes).sum::<u64>();
        rows.push(WasteRow::OptionalHeader {
            bytes: report.summary.optional_bytes,
            count: report.optional.len(),
        });
        let mut rules: Vec<_> = by_rule.into_iter().collect();
        rules.sort_by(|a, b| obytes(&b.1).cmp(&obytes(&a.1)).then(a.0.cmp(b.0)));
        for (rule, list) in rules {
            rows.push(WasteRow::OptionalRule {
                rule: rule.to_string(),
                bytes: obytes(&list),
                count: list.len(),
            });
            // `report.optional` is sorted by bytes: so is each list.
            rows.extend(list.into_iter().map(WasteRow::Optional));
        }
    }
    rows
}

impl Pane for Waste {
    fn title(&self, v: &View) -> String {
        format!(
            " Waste · {} in {} findings · by kind, then cause ",
            human(v.cx.report.summary.wasted_bytes),
            v.cx.report.waste.len()
        )
    }

    /// Enter jumps to the selected finding (or the first one of a group).
    fn key(&mut self, k: &KeyEvent, v: &View) -> Action {
        let a = v.areas;
        if !self.list.key(k, self.rows.len(), a.waste_rows()) {
            return Action::None;
        }
        self.rows[self.list.sel..]
            .iter()
            .find_map(|r| match r {
                WasteRow::Finding(i) => Some(Action::JumpToFinding(*i)),
                WasteRow::Optional(i) => Some(Action::JumpToOptional(*i)),
                _ => None,
            })
            .unwrap_or(Action::None)
    }

    fn draw(&self, f: &mut Frame, v: &View) {
        let (cx, a, focused) = (&v.cx, v.areas, v.focused);
        let block = pane(self.title(v), focused);
        let inner = block.inner(a.right);
        f.render_widget(block, a.right);
        let w = inner.width as usize;
        let rows = a.waste_rows();
        if self.rows.is_empty() {
            f.render_widget(
                Paragraph::new(
                    "  No waste: every stored byte is visible and no cache is left behind.",
                )
                .style(Style::default().fg(Color::Green)),
                inner,
            );
            return;
        }
        for (i, r) in self.rows.iter().enumerate().skip(self.list.top).take(rows) {
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
                        (Some(l), _) => format!("hidden by layer {l}: {}", cx.layer_cmd(*l)),
                        (None, Some(r)) => format!("cache rule {r}"),
                        (None, None) => "visible".into(),
                    };
                    Line::from(Span::raw(fit(
                        &format!("  {:>10}  {cause}  ({count})", human(*bytes)),
                        w,
                    )))
                }
                WasteRow::OptionalHeader { bytes, count } => Line::from(Span::styled(
                    fit(
                        &format!(
                            "{:<14} {:>10}  {count} file{} · a choice, not waste",
                            "optional",
                            human(*bytes),
                            if *count == 1 { "" } else { "s" }
                        ),
                        w,
                    ),
                    optional_style().add_modifier(Modifier::BOLD),
                )),
                WasteRow::OptionalRule { rule, bytes, count } => {
                    let name = match builtin_optional(rule) {
                        Some(r) if r.title != *rule => format!("{} ({rule})", r.title),
                        _ => rule.clone(),
                    };
                    Line::from(Span::raw(fit(
                        &format!("  {:>10}  {name}  ({count})", human(*bytes)),
                        w,
                    )))
                }
                WasteRow::Optional(oi) => {
                    let o = &cx.report.optional[*oi];
                    Line::from(vec![
                        Span::raw(format!("    {:>10}  ", human(o.bytes))),
                        Span::styled(
                            escape::line(&o.path.display()).into_owned(),
                            optional_style(),
                        ),
                        Span::styled(
                            format!("  stored in layer {}", o.layer),
                            Style::default().fg(Color::DarkGray),
                        ),
                    ])
                }
                WasteRow::Finding(fi) => {
                    let fd = &cx.report.waste[*fi];
                    // The base image's waste: tagged as in Fixes.
                    Line::from(vec![
                        Span::raw(format!(
                            "    {:>10}  {}",
                            human(fd.bytes),
                            if fd.in_base { "[base] " } else { "" }
                        )),
                        Span::styled(
                            escape::line(&fd.path.display()).into_owned(),
                            kind_style(fd.kind),
                        ),
                        Span::styled(
                            format!("  stored in layer {}", fd.stored_in_layer),
                            Style::default().fg(Color::DarkGray),
                        ),
                    ])
                }
            };
            self.list.draw_row(f, inner, i, line, focused);
        }
        // Detail of the selection.
        let dh = a.waste_detail_h();
        let dr = Rect::new(inner.x, inner.bottom().saturating_sub(dh), inner.width, dh);
        let bold = bold();
        let mut lines = Vec::new();
        match self.rows.get(self.list.sel) {
            Some(WasteRow::Finding(fi)) => {
                let fd = &cx.report.waste[*fi];
                lines.push(Line::from(vec![
                    Span::styled(
                        escape::line(&fd.path.display()).into_owned(),
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
                        cx.layer_cmd(fd.stored_in_layer)
                    )),
                ]));
                if let Some(h) = fd.hidden_by_layer {
                    lines.push(Line::from(vec![
                        Span::styled("Hidden by ", bold),
                        Span::raw(format!("layer {h}: {}", cx.layer_cmd(h))),
                    ]));
                }
                if let Some(r) = &fd.rule {
                    lines.push(Line::from(vec![
                        Span::styled("Rule ", bold),
                        Span::raw(r.clone()),
                    ]));
                }
                if let Some(si) = self.fix_of.get(*fi).copied().flatten() {
                    let s = &cx.report.suggestions[si];
                    lines.push(Line::from(vec![
                        Span::styled(
                            "Fix ",
                            Style::default()
                                .fg(Color::Green)
                                .add_modifier(Modifier::BOLD),
                        ),
                        Span::raw(format!(
                            "{} (saves {})",
                            escape::line(&s.title),
                            human(s.saves_bytes)
                        )),
                    ]));
                }
                lines.push(Line::from(Span::styled(
                    if fd.in_base {
                        crate::present::why_base().to_string()
                    } else {
                        one_line(why(fd.kind))
                    },
                    Style::default().fg(Color::Gray),
                )));
            }
            Some(WasteRow::Optional(oi)) => {
                let o = &cx.report.optional[*oi];
                lines.push(Line::from(vec![
                    Span::styled(
                        escape::line(&o.path.display()).into_owned(),
                        optional_style().add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(format!("  optional {} ({} bytes)", human(o.bytes), o.bytes)),
                ]));
                lines.push(Line::from(vec![
                    Span::styled("Stored in ", bold),
                    Span::raw(format!("layer {}: {}", o.layer, cx.layer_cmd(o.layer))),
                ]));
                optional_texts(&o.rule, &mut lines);
            }
            Some(WasteRow::OptionalRule { rule, .. }) => optional_texts(rule, &mut lines),
            Some(WasteRow::OptionalHeader { .. }) => {
                lines.push(Line::from(Span::styled(
                    "optional: a choice, not waste",
                    optional_style().add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(Span::raw(
                    "Visible files the container may use: removing them saves bytes at a cost (slower starts, no docs or translations). Never counted as waste.",
                )));
            }
            Some(WasteRow::Kind { kind, .. }) | Some(WasteRow::Cause { kind, .. }) => {
                lines.push(Line::from(Span::styled(
                    kind_label(*kind),
                    kind_style(*kind).add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(Span::raw(one_line(why(*kind)))));
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
}
