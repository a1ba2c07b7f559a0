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
use super::layout::{tab_label, Focus, Sizes, Tab};
use super::look::Look;
use super::pane::{Ctx, Pane, View};
use super::{
    details, files, filter, fixes, help, history, image, layers, loading, vdiff, viewer, waste,
};
use crate::present::escape;

pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    app.size = (area.width, area.height);
    if let Some(v) = app.compare.as_deref_mut() {
        v.draw(f);
        if app.help {
            help::draw_compare(f, area);
        }
        return;
    }
    match app.data.as_deref() {
        None => loading::draw(f, &app.source, &app.progress),
        Some(d) => {
            let a = d.areas(app.size);
            let cx = d.ctx();
            let view = |focus: Focus| View {
                cx,
                areas: &a,
                focused: d.focus == focus,
                mode: d.files.mode,
            };
            title(f, a.title, &app.source, &cx);
            if let Some(top) = d.looks.top() {
                // The viewer, a history or a diff covers the panes.
                top.pane().draw(f, &view(d.focus));
                status(f, a.status, d);
                if app.help {
                    help::draw(f, area);
                }
                return;
            }
            d.layers.draw(f, &view(Focus::Layers));
            details::draw(f, &cx, a.details);
            image::draw(f, &cx, a.summary);
            tabs(f, a.tabs, d, &d.sizes());
            let tab: &dyn Pane = match d.tab {
                Tab::Files => &d.files,
                Tab::Waste => &d.waste,
                Tab::Fixes => &d.fixes,
                Tab::Packages => &d.packages,
            };
            tab.draw(f, &view(d.tab.into()));
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
        format!(" · {}", escape::line(&img.tags.join(", ")))
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
            escape::line(source),
            img.format,
            escape::line(&img.os),
            escape::line(&img.architecture)
        )),
    ]);
    f.render_widget(Paragraph::new(line), r);
}

/// The tab labels, the shown one highlighted (brighter when focused).
fn tabs(f: &mut Frame, r: Rect, d: &Data, sizes: &Sizes) {
    let mut spans = vec![Span::raw(" ")];
    for t in Tab::ALL {
        let style = if d.tab == t {
            Style::default()
                .fg(Color::Black)
                .bg(if d.focus == Focus::from(t) {
                    Color::LightCyan
                } else {
                    Color::Gray
                })
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(Color::Gray)
        };
        spans.push(Span::styled(tab_label(t, sizes), style));
        spans.push(Span::raw(" "));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), r);
}

/// The focused pane's keys.
fn status(f: &mut Frame, r: Rect, d: &Data) {
    let keys = if let Some(top) = d.looks.top() {
        match top {
            Look::Viewer(v) => viewer::hints(v.search.editing),
            Look::History(_) => history::hints(),
            Look::Diff(_) => vdiff::hints(),
        }
    } else if d.files.filter.editing {
        filter::hints()
    } else {
        match d.focus {
            Focus::Layers => layers::hints(),
            Focus::Tree => files::hints(),
            Focus::Waste => waste::hints(),
            Focus::Fixes => fixes::hints(),
            Focus::Packages => super::packages::hints(),
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

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;
    use ratatui::layout::Position;
    use ratatui::Terminal;

    use super::*;
    use crate::testing::three_layers;

    /// Every tab's label, where it is drawn, is where a click selects it
    /// (adding a tab keeps the drawing and the hit areas in step).
    #[test]
    fn tab_labels_are_where_clicks_find_them() {
        let (index, report) = three_layers();
        let mut app = App::loaded("t.tar", index, report, (120, 30));
        let mut term = Terminal::new(TestBackend::new(120, 30)).unwrap();
        term.draw(|f| draw(f, &mut app)).unwrap();
        let d = app.data.as_deref().unwrap();
        let a = d.areas(app.size);
        let buf = term.backend().buffer();
        let row: String = (0..120).map(|x| buf[(x, a.tabs.y)].symbol()).collect();
        let chars: Vec<char> = row.chars().collect();
        let tab_at = |x: usize| a.tab_at(Position::new(x as u16, a.tabs.y));
        for t in Tab::ALL {
            let name = row.find(t.name()).expect("the tab is drawn");
            let name = row[..name].chars().count();
            // The label runs from the space before its number to the space
            // after its name or count; one unstyled space separates labels.
            let start = name - 3;
            let mut end = name + t.name().len();
            if chars[end] == ' ' && chars[end + 1].is_ascii_digit() {
                end += 1;
                while chars[end].is_ascii_digit() {
                    end += 1;
                }
            }
            for x in start..=end {
                assert_eq!(tab_at(x), Some(t), "x {x} in {row}");
            }
            assert_eq!(tab_at(end + 1), None, "x {} in {row}", end + 1);
        }
    }
}
