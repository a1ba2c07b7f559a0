//! The diff of two versions of a path (from its history): the first
//! [`PAGE`](crate::look::contents::PAGE) of each read again and compared
//! line by line ([`crate::look::diff`]) on the reader's thread; shown as
//! hunks, removed lines red with `-`, added lines green with `+`.

use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::keys::{pair, KEYS};
use super::look::{frame, Compared, Job, Output, Scroll};
use super::pane::{Action, Pane, View};
use crate::look::diff::Row;
use crate::look::{show, Stored};
use crate::present::human;

/// The footer while a diff is open.
pub fn hints() -> Vec<(String, &'static str)> {
    let k = &KEYS;
    vec![
        (pair(&k.up, &k.down), "scroll"),
        (pair(&k.left, &k.right), "sideways"),
        (k.back.short(), "back"),
        (k.help.short(), "help"),
    ]
}

pub enum State {
    Reading(Job),
    Ready(Compared),
    Failed(String),
}

pub struct VersionDiff {
    pub path: Vec<u8>,
    pub old: Stored,
    pub new: Stored,
    pub state: State,
    pub scroll: Scroll,
}

impl VersionDiff {
    pub fn new(path: Vec<u8>, old: Stored, new: Stored, job: Result<Job, String>) -> VersionDiff {
        VersionDiff {
            path,
            old,
            new,
            state: match job {
                Ok(j) => State::Reading(j),
                Err(e) => State::Failed(e),
            },
            scroll: Scroll::default(),
        }
    }

    pub fn waiting(&self, id: u64) -> bool {
        matches!(&self.state, State::Reading(j) if j.id == id)
    }

    pub fn done(&mut self, out: Result<Output, String>) {
        self.state = match out {
            Ok(Output::Diff(c)) => State::Ready(c),
            Ok(Output::Part(_)) => State::Failed("not a diff".into()),
            Err(e) => State::Failed(e),
        };
    }

    /// The lines shown, as rows: the diff's, or what stands for it.
    fn lines(&self) -> Vec<Line<'static>> {
        let dim = Style::default().fg(Color::DarkGray);
        let (o, n) = (&self.old, &self.new);
        match &self.state {
            State::Reading(_) => vec![Line::styled(" reading both versions…", dim)],
            State::Failed(e) => vec![Line::styled(
                format!(" {e}"),
                Style::default().fg(Color::LightRed),
            )],
            State::Ready(Compared::Binary) => vec![
                Line::raw(" Binary: no line diff."),
                Line::raw(format!(
                    " layer {}: {}   layer {}: {}   content {}",
                    o.layer,
                    human(o.size),
                    n.layer,
                    human(n.size),
                    if o.hash == n.hash {
                        "the same"
                    } else {
                        "differs"
                    }
                )),
            ],
            State::Ready(Compared::Text { rows, cut }) => {
                let mut out = Vec::with_capacity(rows.len() + 1);
                if rows.is_empty() {
                    out.push(Line::raw(" The same text: only the metadata differs."));
                }
                for r in rows {
                    out.push(match r {
                        Row::Hunk(h) => Line::styled(h.clone(), Style::default().fg(Color::Cyan)),
                        Row::Same { text, .. } => Line::raw(format!(" {text}")),
                        Row::Old { text, .. } => {
                            Line::styled(format!("-{text}"), Style::default().fg(Color::Red))
                        }
                        Row::New { text, .. } => {
                            Line::styled(format!("+{text}"), Style::default().fg(Color::Green))
                        }
                    });
                }
                if *cut {
                    out.push(Line::styled(
                        " (only the first part of each version was compared)",
                        dim,
                    ));
                }
                out
            }
        }
    }

    fn rows_shown(v: &View) -> usize {
        v.areas.body.height.saturating_sub(2).max(1) as usize
    }
}

/// A line scrolled `left` characters sideways.
fn shifted(l: Line<'static>, left: usize) -> Line<'static> {
    if left == 0 {
        return l;
    }
    let style = l.style;
    let spans: Vec<Span<'static>> = l
        .spans
        .into_iter()
        .map(|s| {
            let mut chars = s.content.chars();
            let first: String = chars.next().into_iter().collect();
            let rest: String = chars.skip(left).collect();
            Span::styled(first + &rest, s.style)
        })
        .collect();
    Line::from(spans).style(style)
}

impl Pane for VersionDiff {
    fn title(&self, _: &View) -> String {
        format!(
            " Diff of {}: layer {} ({}) → layer {} ({}) ",
            show(&self.path),
            self.old.layer,
            human(self.old.size),
            self.new.layer,
            human(self.new.size)
        )
    }

    fn key(&mut self, k: &KeyEvent, v: &View) -> Action {
        let keys = &KEYS;
        let h = Self::rows_shown(v);
        match () {
            _ if keys.back.is(k) => return Action::Back,
            _ => {
                let rows = self.lines().len();
                self.scroll.key(k, rows, h);
            }
        }
        Action::None
    }

    fn draw(&self, f: &mut Frame, v: &View) {
        let inner = frame(f, v.areas.body, self.title(v));
        for (i, l) in self
            .lines()
            .into_iter()
            .skip(self.scroll.top)
            .take(inner.height as usize)
            .enumerate()
        {
            f.render_widget(
                Paragraph::new(shifted(l, self.scroll.left)),
                Rect::new(inner.x, inner.y + i as u16, inner.width, 1),
            );
        }
    }
}
