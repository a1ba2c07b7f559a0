//! The Files tab's filter line: the typed text, whether it is being typed,
//! the compiled filter or its error, and the pause before applying on huge
//! images. The Files pane applies it to the tree.

use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::style::{Color, Style};
use ratatui::text::Span;

use super::keys::{pair, KEYS};
use super::pane::ctrl;
use super::widgets::bold;
use crate::view::PathFilter;

/// The status bar while the filter is typed.
pub fn hints() -> Vec<(String, &'static str)> {
    let k = &KEYS;
    vec![
        ("type".into(), "filter: text, glob *?[ ] or /regex/"),
        (k.apply.short(), "apply"),
        (k.clear.short(), "clear"),
        (pair(&k.up, &k.down), "move"),
    ]
}

/// Filters on images with more nodes than this are applied after a short
/// pause in typing (or on Enter) instead of on every key.
pub const LIVE_FILTER_NODES: usize = 200_000;
const DEBOUNCE: Duration = Duration::from_millis(150);

#[derive(Debug, Default)]
pub struct FilterInput {
    pub text: String,
    pub editing: bool,
    pub error: Option<String>,
    pending: Option<Instant>,
    compiled: Option<PathFilter>,
}

/// What a key typed into the filter asks of the tree.
pub enum Edit {
    None,
    /// Apply the text now.
    Apply,
    /// Move the tree's selection.
    Up,
    Down,
}

impl FilterInput {
    /// The filter as applied, if any.
    pub fn compiled(&self) -> Option<&PathFilter> {
        self.compiled.as_ref()
    }

    /// The applied text, part of the tree's key.
    pub fn key(&self) -> String {
        match &self.compiled {
            Some(_) => self.text.trim().to_string(),
            None => String::new(),
        }
    }

    pub fn clear(&mut self) {
        *self = FilterInput::default();
    }

    /// Compile the text: `Some(changed)` when it compiled (`changed`: a
    /// filter is or was on), None when it did not (the error is kept and
    /// the previous filter stays).
    pub fn apply(&mut self) -> Option<bool> {
        self.pending = None;
        match PathFilter::parse(&self.text) {
            Ok(f) => {
                self.error = None;
                let changed = f.is_some() || self.compiled.is_some();
                self.compiled = f;
                Some(changed)
            }
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    /// Is a paused filter due?
    pub fn due(&self) -> bool {
        self.pending.is_some_and(|t| t.elapsed() >= DEBOUNCE)
    }

    /// A key while typing; `live`: apply on every change (else after a pause).
    pub fn edit(&mut self, k: &KeyEvent, live: bool) -> Edit {
        let keys = &KEYS;
        let edited = match k.code {
            _ if keys.apply.is(k) => {
                self.editing = false;
                return Edit::Apply;
            }
            _ if keys.clear.is(k) => {
                self.editing = false;
                self.text.clear();
                return Edit::Apply;
            }
            _ if keys.leave_filter.is(k) => {
                self.editing = false;
                return Edit::None;
            }
            _ if keys.erase.is(k) => {
                self.text.pop();
                true
            }
            _ if keys.erase_line.is(k) => {
                self.text.clear();
                true
            }
            KeyCode::Char(c) if !ctrl(k) => {
                self.text.push(c);
                true
            }
            // The arrows (the letters are typed).
            _ if keys.up.0[0].is(k) => return Edit::Up,
            _ if keys.down.0[0].is(k) => return Edit::Down,
            _ => false,
        };
        if !edited {
            Edit::None
        } else if live {
            Edit::Apply
        } else {
            self.pending = Some(Instant::now());
            Edit::None
        }
    }

    /// The filter line, when the filter is typed or on (`shown`: paths the
    /// tree shows).
    pub fn spans(&self, shown: usize) -> Option<Vec<Span<'static>>> {
        if !self.editing && self.text.is_empty() {
            return None;
        }
        let mut spans = vec![
            Span::styled("Filter: ", bold()),
            Span::raw(self.text.clone()),
        ];
        if self.editing {
            spans.push(Span::styled("▏", Style::default().fg(Color::LightCyan)));
        }
        spans.push(match &self.error {
            Some(e) => Span::styled(format!("  {e}"), Style::default().fg(Color::Red)),
            None => Span::styled(
                format!("  {shown} paths shown"),
                Style::default().fg(Color::DarkGray),
            ),
        });
        Some(spans)
    }
}
