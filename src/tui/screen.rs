//! The whole screen, a pure function of [`App`]: the title bar, the left
//! column (layers, layer details, image summary), the tab bar and the tab
//! shown on the right, the status bar with the focused pane's keys, and the
//! help overlay. Each pane draws itself; this file only places them.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::app::{App, Data};
use super::layout::{Focus, Tab};
use super::pane::Ctx;
use super::{details, files, filter, fixes, help, image, layers, loading, waste};

pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    app.size = (area.width, area.height);
    match app.data.as_deref() {
        None => loading::draw(f, &app.source, &app.progress),
        Some(d) => {
            let a = d.areas(app.size);
            let cx = d.ctx();
            let focused = |p: Focus| d.focus == p;
            title(f, a.title, &app.source, &cx);
            d.layers
                .draw(f, &cx, a.layers, focused(Focus::Layers), d.files.mode);
            details::draw(f, &cx, a.details);
            image::draw(f, &cx, a.summary);
            tabs(f, a.tabs, d, &cx);
            match d.tab {
                Tab::Files => d.files.draw(f, &cx, &a, focused(Focus::Tree)),
                Tab::Waste => d.waste.draw(f, &cx, &a, focused(Focus::Waste)),
                Tab::Fixes => d.fixes.draw(f, &cx, &a, focused(Focus::Fixes)),
            }
            status(f, a.status, d);
        }
    }
    if app.help {
        help::draw(f, area);
    }
}

fn title(f: &mut Frame, r: Rect, source: &str, cx: &Ctx) {
    let img = &cx.report.image;
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
            source, img.format, img.os, img.architecture
        )),
    ]);
    f.render_widget(Paragraph::new(line), r);
}

fn tabs(f: &mut Frame, r: Rect, d: &Data, cx: &Ctx) {
    let mut spans = vec![Span::raw(" ")];
    for t in Tab::ALL {
        let extra = match t {
            Tab::Files => String::new(),
            Tab::Waste => format!(" {}", cx.report.waste.len()),
            Tab::Fixes => format!(" {}", cx.report.suggestions.len()),
        };
        let focus = Focus::from(t);
        let style = if d.tab == t {
            Style::default()
                .fg(Color::Black)
                .bg(if d.focus == focus {
                    Color::LightCyan
                } else {
                    Color::Gray
                })
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(Color::Gray)
        };
        let number = Focus::ORDER.iter().position(|o| *o == focus).unwrap_or(0) + 1;
        spans.push(Span::styled(format!(" {number} {}", t.name()), style));
        spans.push(Span::styled(format!("{extra} "), style));
        spans.push(Span::raw(" "));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), r);
}

/// The focused pane's keys.
fn status(f: &mut Frame, r: Rect, d: &Data) {
    let keys = if d.files.filter.editing {
        filter::EDIT_KEYS
    } else {
        match d.focus {
            Focus::Layers => layers::KEYS,
            Focus::Tree => files::KEYS,
            Focus::Waste => waste::KEYS,
            Focus::Fixes => fixes::KEYS,
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
