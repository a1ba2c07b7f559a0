//! The Image pane: totals, waste by kind and efficiency. Stateless.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::pane::Ctx;
use super::widgets::{bold, kind_style, pane};
use crate::analyze::waste::WasteKind;
use crate::present::human;
use crate::present::kind_label;

pub fn draw(f: &mut Frame, cx: &Ctx, r: Rect) {
    let s = &cx.report.summary;
    // Oddities of the archive (`warnings` in the JSON report, listed by the
    // text report) counted in the title, where they are never cut off.
    let warnings = match cx.report.warnings.len() {
        0 => String::new(),
        1 => " · 1 warning".to_string(),
        n => format!(" · {n} warnings"),
    };
    let block = pane(
        format!(
            " Image · {} layers · {} files{warnings} ",
            s.layer_count, s.file_count
        ),
        false,
    );
    let pct = |b: u64| crate::present::share(b, s.total_bytes);
    let bold = bold();
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
    // The user's own waste beside the total: what their Dockerfile can fix.
    if cx.report.image.base.layers > 0 {
        let of_user = if s.user_bytes == 0 {
            0.0
        } else {
            s.user_wasted_bytes as f64 * 100.0 / s.user_bytes as f64
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<13}", "yours"), bold),
            Span::raw(format!("{:>10}", human(s.user_wasted_bytes))),
            Span::raw(format!("  {of_user:.1}% of yours")),
        ]));
    }
    for k in WasteKind::ALL {
        let b = cx.report.bytes_of(k);
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
    if s.optional_bytes > 0 {
        // A trade-off, not waste: its own line, after the efficiency.
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<15}", "Optional"),
                Style::default().fg(Color::Cyan),
            ),
            Span::raw(format!("{:>10}", human(s.optional_bytes))),
            Span::raw(format!("  {:.1}% (not waste)", pct(s.optional_bytes))),
        ]));
    }
    // The download, and the waste's share of it (an estimate: each file at
    // its layer's compression ratio).
    let mut pull = vec![
        Span::styled(format!("{:<15}", "Pull"), bold),
        Span::raw(if s.pull_estimated_layers > 0 {
            format!("~{:>9}", human(s.pull_bytes))
        } else {
            format!("{:>10}", human(s.compressed_bytes))
        }),
    ];
    if s.wasted_bytes > 0 {
        pull.push(Span::raw(format!(
            "  ~{} wasted",
            human(s.wasted_compressed_bytes)
        )));
    }
    lines.push(Line::from(pull));
    f.render_widget(Paragraph::new(lines).block(block), r);
}
