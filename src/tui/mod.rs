//! The interactive TUI (ratatui + crossterm), behind the `tui` feature.
//!
//! Elm style: [`App`] is the state, [`Msg`] what happens (keys, mouse,
//! resizes, a progress tick, the loaded image), [`update`] the only place
//! state changes, and [`draw`] a view of the state. One channel carries every
//! message: an input thread, a ticker that reads the loader's atomic progress
//! counters (never a message per file), and the loader thread. A frame is
//! drawn only when a message changed something.
//!
//! Modules (imports point down this list, never up):
//! - `app`: [`App`], [`Msg`], [`update`]; routes keys and clicks to the
//!   focused pane and carries out the [`Action`](pane::Action)s panes return.
//!   `imgscope diff`'s comparison view (`compare`) is a mode of the same app
//!   and event loop ([`App::compare`]).
//! - `screen`: [`draw`]: title, tab and status bars; places the panes.
//! - one file per pane, each owning its state, keys and drawing behind the
//!   [`Pane`](pane::Pane) trait (`title`, `key`, `draw`, each given one
//!   [`View`](pane::View)): `layers`, `files` (with its `filter` line),
//!   `waste`, `fixes`, `packages`; drawn only: `details`, `image`, `help`,
//!   `loading`.
//! - `keys`: every key, once ([`keys::KEYS`]): the handlers match it, the
//!   help screen and the footers print it.
//! - `pane`: what panes share (the trait, the read-only [`Ctx`](pane::Ctx),
//!   `Action`, the list selection); `widgets`: frames, colours, text
//!   fitting; `layout`: where each pane goes ([`Areas`]), from the size and
//!   a few counts only.
//! - The file tree itself (shown paths, marks, sizes, rows, cursor, filter)
//!   is the core's UI-free `crate::view`.
//!
//! Adding a tab (e.g. Packages, a diff):
//! 1. `layout.rs`: a variant in [`Tab`] (with its name) and in [`Focus`]
//!    (and `Focus::ORDER`, which gives its number key), in their
//!    conversions and in `tab_label` (its count, if any); add any row counts
//!    it needs to [`Areas`].
//! 2. `NAME.rs`: `pub struct Name { .. }` with its state, `pub fn hints()`
//!    (the status bar, from `KEYS`), `impl Pane for Name` (`title`, `key`,
//!    `draw`) and `fn mouse(..)`. Read the analysis through `View::cx`; ask
//!    for anything outside the pane (another layer, a jump to a file) with
//!    an `Action` (add a variant in `pane.rs` if none fits, handled in
//!    `Data::act`). A new key is a field of `keys::Keys` and a line in
//!    `help.rs`'s list.
//! 3. `app.rs`: a field in `Data`, built in `Data::new`; one arm each in
//!    `key` and `mouse`. `screen.rs`: one arm each in `draw` and `status`.
//!    The compiler points at every `match` missed.

mod app;
pub mod compare;
mod details;
mod files;
mod filter;
mod fixes;
mod help;
mod history;
mod image;
pub mod keys;
mod layers;
mod layout;
mod loading;
mod look;
mod packages;
mod pane;
mod screen;
mod vdiff;
mod viewer;
mod waste;
mod widgets;

use std::io::Write;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::crossterm::{cursor, execute};
use ratatui::Terminal;

pub use app::{update, App, Data, Loaded, Msg};
pub use compare::{run_diff, CompareView};
pub use files::Files;
pub use fixes::Fixes;
pub use layers::Layers;
pub use layout::{Areas, Focus, Tab};
pub use look::{Done, Look, Looks};
pub use pane::{Ctx, ListSel};
pub use screen::draw;
pub use waste::{Waste, WasteRow};

use crate::{AnalyseOptions, LoadProgress};

/// How often the ticker wakes the loop (progress, debounced filter).
const TICK: Duration = Duration::from_millis(100);

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = std::io::stdout().flush();
}

/// Restores the terminal when dropped (quit, error, early return).
struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn setup_terminal() -> anyhow::Result<(Guard, Terminal<CrosstermBackend<std::io::Stdout>>)> {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        prev(info);
    }));
    enable_raw_mode()?;
    let guard = Guard;
    execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        cursor::Hide
    )?;
    let term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    Ok((guard, term))
}

/// Open the TUI on IMAGE: it shows progress while the layers are indexed,
/// then becomes interactive. Returns when the user quits. The image is
/// analysed by [`crate::analyse`] with `opts`, as the reports are.
pub fn run(image: &str, opts: &AnalyseOptions) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel::<Msg>();
    let progress = Arc::new(LoadProgress::default());
    {
        let (tx, image, opts, progress) = (
            tx.clone(),
            image.to_string(),
            opts.clone(),
            progress.clone(),
        );
        std::thread::spawn(move || {
            let _ = tx.send(match crate::analyse(&image, &opts, &progress) {
                Ok(a) => Msg::Loaded(Box::new(Loaded {
                    index: a.index,
                    report: a.report,
                })),
                Err(e) => Msg::Failed(e.to_string()),
            });
        });
    }
    {
        let tx = tx.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(TICK);
            if tx.send(Msg::Tick).is_err() {
                break;
            }
        });
    }
    let mut app = App::new(image, progress, (0, 0));
    app.reading(image, opts.load.clone(), tx.clone());
    event_loop(app, tx, rx)
}

/// The one event loop (the image view and the comparison view): take the
/// terminal, read input on a thread of its own, and draw after each batch
/// of messages that changed something, until the app quits or every
/// sender is gone.
fn event_loop(mut app: App, tx: mpsc::Sender<Msg>, rx: mpsc::Receiver<Msg>) -> anyhow::Result<()> {
    let (guard, mut term) = setup_terminal()?;
    {
        let tx = tx.clone();
        std::thread::spawn(move || loop {
            let msg = match event::read() {
                Ok(Event::Key(k)) => Msg::Key(k),
                Ok(Event::Mouse(m)) => Msg::Mouse(m),
                Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                Ok(_) => continue,
                Err(_) => break,
            };
            if tx.send(msg).is_err() {
                break;
            }
        });
    }
    drop(tx);
    let size = term.size()?;
    app.size = (size.width, size.height);
    term.draw(|f| draw(f, &mut app))?;
    app.dirty = false;
    while let Ok(msg) = rx.recv() {
        // Whatever else is queued goes into the same frame.
        let mut batch = vec![msg];
        batch.extend(rx.try_iter());
        let last = batch.len() - 1;
        for (i, m) in batch.into_iter().enumerate() {
            app.defer = i < last;
            update(&mut app, m);
            if app.quit {
                break;
            }
        }
        if app.quit {
            break;
        }
        if app.dirty {
            term.draw(|f| draw(f, &mut app))?;
            app.dirty = false;
        }
    }
    drop(term);
    drop(guard);
    match app.error {
        Some(e) => Err(anyhow::anyhow!(e)),
        None => Ok(()),
    }
}
