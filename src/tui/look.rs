//! Looking inside files: the viewer, a path's history and the diff of two
//! versions, an overlay mode of the image view. [`Looks`] is a stack (the
//! history opens the viewer or a diff on top of itself; `Esc` closes the
//! top one); while it is not empty it takes the keys and covers the panes.
//!
//! A file's bytes are read again from the image on a thread of its own
//! ([`Looks::start`]): the view shows "reading…" until the [`Done`]
//! message comes back through the app's channel. Closing a view drops its
//! [`Job`], which sets the job's cancel flag (the reader stops at its next
//! read of the layer); a result that comes anyway finds no view waiting
//! for it and is dropped. The reading itself is the library's
//! ([`crate::look::contents`]); this file only starts it and routes it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;

use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::widgets::Clear;
use ratatui::Frame;

use super::app::Msg;
use super::history::History;
use super::keys::KEYS;
use super::pane::Pane;
use super::vdiff::VersionDiff;
use super::viewer::Viewer;
use super::widgets::pane;
use crate::load::index::Index;
use crate::load::LoadOptions;
use crate::look::contents::{classify, read_part, Contents, Kind, PAGE};
use crate::look::{diff, Stored};

/// What the views need to read the image again: where it is, how it was
/// read, and the channel back to the app.
pub struct Io {
    pub image: String,
    pub opts: LoadOptions,
    pub tx: Sender<Msg>,
}

/// A read under way; dropping it cancels it.
#[derive(Debug)]
pub struct Job {
    pub id: u64,
    cancel: Arc<AtomicBool>,
}

impl Drop for Job {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// What a job does.
pub enum Work {
    /// Up to [`PAGE`] bytes of a stored file from `offset`.
    Part { st: Stored, offset: u64 },
    /// The first [`PAGE`] of two versions, compared line by line.
    Diff { old: Stored, new: Stored },
}

/// A job's result, back on the app's channel.
#[derive(Debug)]
pub struct Done {
    pub job: u64,
    pub out: Result<Output, String>,
}

#[derive(Debug)]
pub enum Output {
    Part(Vec<u8>),
    Diff(Compared),
}

/// Two versions compared.
#[derive(Debug, Clone)]
pub enum Compared {
    /// Line diff rows; `cut` when a version is longer than what was read.
    Text { rows: Vec<diff::Row>, cut: bool },
    /// One of them is binary: no line diff.
    Binary,
}

/// How far a view of rows is scrolled: down and sideways.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scroll {
    /// The first row shown.
    pub top: usize,
    /// Characters skipped at the start of each row.
    pub left: usize,
}

impl Scroll {
    /// Move `delta` rows, keeping `h` rows of the `rows` on screen.
    pub fn by(&mut self, delta: isize, rows: usize, h: usize) {
        let max = rows.saturating_sub(h);
        self.top = (self.top as isize)
            .saturating_add(delta)
            .clamp(0, max as isize) as usize;
    }

    /// The scrolling keys (rows, pages, ends, sideways, Space a page down);
    /// true when `k` is one of them.
    pub fn key(&mut self, k: &KeyEvent, rows: usize, h: usize) -> bool {
        let keys = &KEYS;
        let page = h as isize;
        match () {
            _ if keys.up.is(k) => self.by(-1, rows, h),
            _ if keys.down.is(k) => self.by(1, rows, h),
            _ if keys.page_up.is(k) => self.by(-page, rows, h),
            _ if keys.page_down.is(k) || keys.mark.is(k) => self.by(page, rows, h),
            _ if keys.home.is(k) => self.top = 0,
            _ if keys.end.is(k) => self.by(isize::MAX, rows, h),
            _ if keys.left.is(k) => self.left = self.left.saturating_sub(8),
            _ if keys.right.is(k) => self.left += 8,
            _ => return false,
        }
        true
    }
}

/// A view's frame over the whole body (what is under it cleared): the
/// area inside it.
pub fn frame(f: &mut Frame, area: Rect, title: String) -> Rect {
    f.render_widget(Clear, area);
    let block = pane(title, true);
    let inner = block.inner(area);
    f.render_widget(block, area);
    inner
}

/// A view of the stack.
pub enum Look {
    Viewer(Box<Viewer>),
    History(Box<History>),
    Diff(Box<VersionDiff>),
}

impl Look {
    pub fn pane(&self) -> &dyn Pane {
        match self {
            Look::Viewer(v) => v.as_ref(),
            Look::History(h) => h.as_ref(),
            Look::Diff(d) => d.as_ref(),
        }
    }

    pub fn pane_mut(&mut self) -> &mut dyn Pane {
        match self {
            Look::Viewer(v) => v.as_mut(),
            Look::History(h) => h.as_mut(),
            Look::Diff(d) => d.as_mut(),
        }
    }

    /// Take a job's result if it is this view's; true if it was.
    fn done(&mut self, d: &mut Option<Done>) -> bool {
        let Some(id) = d.as_ref().map(|d| d.job) else {
            return false;
        };
        match self {
            Look::Viewer(v) if v.waiting(id) => v.done(d.take().expect("checked").out),
            Look::Diff(v) if v.waiting(id) => v.done(d.take().expect("checked").out),
            _ => return false,
        }
        true
    }
}

/// The stack of views over the image view.
#[derive(Default)]
pub struct Looks {
    pub io: Option<Arc<Io>>,
    pub stack: Vec<Look>,
    next_job: u64,
}

impl Looks {
    pub fn new(io: Option<Arc<Io>>) -> Looks {
        Looks {
            io,
            ..Looks::default()
        }
    }

    pub fn top(&self) -> Option<&Look> {
        self.stack.last()
    }

    pub fn top_mut(&mut self) -> Option<&mut Look> {
        self.stack.last_mut()
    }

    pub fn push(&mut self, l: Look) {
        self.stack.push(l);
    }

    /// Close the top view (its read, if any, is cancelled).
    pub fn pop(&mut self) {
        self.stack.pop();
    }

    /// Start `work` on a thread of its own; its [`Done`] comes back on the
    /// app's channel. An error when the image cannot be read again here.
    pub fn start(&mut self, index: &Arc<Index>, work: Work) -> Result<Job, String> {
        let Some(io) = self.io.clone() else {
            return Err("the image is not at hand to read again".into());
        };
        self.next_job += 1;
        let id = self.next_job;
        let cancel = Arc::new(AtomicBool::new(false));
        let (flag, index) = (cancel.clone(), index.clone());
        std::thread::Builder::new()
            .name("imgscope-read".into())
            .spawn(move || {
                let out = run(&io, &index, &work, &flag);
                // A cancelled read sends nothing.
                if let Some(out) = out {
                    let _ = io.tx.send(Msg::Read(Box::new(Done { job: id, out })));
                }
            })
            .map_err(|e| format!("cannot start a reader: {e}"))?;
        Ok(Job { id, cancel })
    }

    /// A job's result: given to the view waiting for it; true if one was
    /// (a cancelled job's late result is dropped).
    pub fn done(&mut self, d: Done) -> bool {
        let mut d = Some(d);
        self.stack.iter_mut().any(|l| l.done(&mut d))
    }
}

/// Do the work; None when cancelled.
fn run(io: &Io, index: &Index, work: &Work, cancel: &AtomicBool) -> Option<Result<Output, String>> {
    let part = |st: &Stored, offset: u64| {
        read_part(&io.image, &io.opts, index, st, offset, PAGE, cancel).map_err(|e| e.to_string())
    };
    match work {
        Work::Part { st, offset } => part(st, *offset).transpose().map(|r| r.map(Output::Part)),
        Work::Diff { old, new } => {
            let a = match part(old, 0) {
                Ok(Some(b)) => b,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
            let b = match part(new, 0) {
                Ok(Some(b)) => b,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
            if classify(&a) == Kind::Binary || classify(&b) == Kind::Binary {
                return Some(Ok(Output::Diff(Compared::Binary)));
            }
            let cut = (a.len() as u64) < old.size || (b.len() as u64) < new.size;
            let (a, b) = (Contents::new(old.size, a), Contents::new(new.size, b));
            let rows = diff::lines(&a.lines, &b.lines);
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            Some(Ok(Output::Diff(Compared::Text { rows, cut })))
        }
    }
}
