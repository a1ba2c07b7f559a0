//! Drawing helpers every pane uses: the pane frame, selection and mark
//! colours, and text fitting.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Borders};

use crate::analyze::waste::WasteKind;
use crate::view::Mark;

/// A bordered pane with its title; thick and bright when focused.
pub fn pane(title: String, focused: bool) -> Block<'static> {
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

/// The detail area under a list, with a hint as its title.
pub fn detail_block(title: &'static str) -> Block<'static> {
    Block::default()
        .borders(Borders::TOP)
        .border_style(Style::default().fg(Color::DarkGray))
        .title(title)
}

/// The selected row: reversed in the focused pane, greyed elsewhere.
pub fn sel_style(focused: bool) -> Style {
    if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default().bg(Color::DarkGray)
    }
}

pub fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

pub fn mark_style(m: Mark) -> Style {
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

pub fn kind_style(k: WasteKind) -> Style {
    Style::default().fg(match k {
        WasteKind::Removed => Color::Red,
        WasteKind::Overwritten => Color::Yellow,
        WasteKind::MetadataOnly => Color::Cyan,
        WasteKind::Moved => Color::Magenta,
        WasteKind::Cache => Color::LightBlue,
    })
}
