//! The TUI's viewer, history and diff on ratatui's TestBackend (insta
//! snapshots of the text; colours checked cell by cell), on the real image
//! tests/images/versions.tar.zst. The app reads files on a thread and
//! sends the result on a channel; the tests receive it and hand it to
//! `update`, as the event loop does.
#![cfg(feature = "tui")]

use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use imgscope::tui::{draw, update, App, Msg};
use imgscope::{LoadOptions, LoadProgress};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;
use ratatui::Terminal;

const W: u16 = 120;
const H: u16 = 32;

fn image() -> String {
    format!(
        "{}/tests/images/versions.tar.zst",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn app() -> (App, Receiver<Msg>) {
    let a =
        imgscope::analyse(&image(), &Default::default(), &LoadProgress::default()).expect("loads");
    let mut app = App::loaded("versions.tar.zst", a.index, a.report, (W, H));
    let (tx, rx) = channel();
    app.reading(&image(), LoadOptions::default(), tx);
    (app, rx)
}

fn key(app: &mut App, code: KeyCode) {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// The next message of a reader thread, handed to the app.
fn receive(app: &mut App, rx: &Receiver<Msg>) {
    let m = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the reader answers");
    assert!(matches!(m, Msg::Read(_)), "{m:?}");
    update(app, m);
}

fn buffer(app: &mut App) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(W, H)).unwrap();
    term.draw(|f| draw(f, app)).unwrap();
    term.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn render(app: &mut App) -> String {
    text(&buffer(app))
}

/// Where `what` is on screen: (x, y) of its first character.
fn find(buf: &Buffer, what: &str) -> (u16, u16) {
    for y in 0..buf.area.height {
        let cells: Vec<&str> = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        let line: String = cells.concat();
        if let Some(i) = line.find(what) {
            let x = line[..i].chars().count() as u16;
            return (x, y);
        }
    }
    panic!("{what:?} not on screen:\n{}", text(buf));
}

/// Select `path` in the Files tab (filtered by `filter`).
fn select(app: &mut App, filter: &str, path: &str) {
    key(app, KeyCode::Char('2'));
    update(
        app,
        Msg::Key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL)),
    );
    update(
        app,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    typed(app, filter);
    key(app, KeyCode::Enter);
    key(app, KeyCode::Home);
    for _ in 0..40 {
        if app.data.as_deref().unwrap().selected_path().as_deref() == Some(path) {
            return;
        }
        key(app, KeyCode::Down);
    }
    panic!("{path} not in the tree:\n{}", render(app));
}

fn looks(app: &App) -> usize {
    app.data.as_deref().unwrap().looks.stack.len()
}

#[test]
fn viewer_shows_text_with_line_numbers_and_searches() {
    let (mut a, rx) = app();
    select(&mut a, "app.conf", "/etc/app/app.conf");
    key(&mut a, KeyCode::Enter);
    // Nothing read yet: the viewer says so, and the UI goes on.
    let s = render(&mut a);
    assert!(s.contains("reading…"), "{s}");
    receive(&mut a, &rx);
    insta::assert_snapshot!("viewer_text", render(&mut a));

    typed(&mut a, "/log");
    assert!(render(&mut a).contains("/log█"));
    key(&mut a, KeyCode::Enter);
    let buf = buffer(&mut a);
    insta::assert_snapshot!("viewer_search", text(&buf));
    // The match the search went to is highlighted, the others too.
    let (x, y) = find(&buf, "[log]");
    assert_eq!(buf[(x + 1, y)].bg, Color::LightYellow);
    let (x, y) = find(&buf, "log_level");
    assert_eq!(buf[(x, y)].bg, Color::Yellow);
    assert_ne!(buf[(x + 3, y)].bg, Color::Yellow);
    key(&mut a, KeyCode::Char('n'));
    let buf = buffer(&mut a);
    let (x, y) = find(&buf, "log_level");
    assert_eq!(buf[(x, y)].bg, Color::LightYellow);
    assert!(text(&buf).contains("line 9: 4 matches"));
    key(&mut a, KeyCode::Char('N'));
    assert!(render(&mut a).contains("line 8: 4 matches"));

    key(&mut a, KeyCode::Esc);
    assert_eq!(looks(&a), 0);
    assert!(render(&mut a).contains("Files at layer 4"));
}

#[test]
fn viewer_shows_a_binary_as_hex_and_escapes_a_text() {
    let (mut a, rx) = app();
    select(&mut a, "blob", "/opt/blob.bin");
    key(&mut a, KeyCode::Char('v'));
    receive(&mut a, &rx);
    insta::assert_snapshot!("viewer_hex", render(&mut a));

    key(&mut a, KeyCode::Esc);
    select(&mut a, "motd", "/etc/motd");
    key(&mut a, KeyCode::Enter);
    receive(&mut a, &rx);
    let buf = buffer(&mut a);
    let s = text(&buf);
    assert!(
        s.contains("1 Welcome \\x1b[1;31mred\\x1b[0m \\x1b]0;retitled\\x07 done"),
        "{s}"
    );
    assert!(!(0..buf.area.height)
        .any(|y| (0..W).any(|x| buf[(x, y)].symbol().chars().any(char::is_control))));
}

#[test]
fn history_opens_versions_and_diffs_two() {
    let (mut a, rx) = app();
    select(&mut a, "app.conf", "/etc/app/app.conf");
    key(&mut a, KeyCode::Char('H'));
    insta::assert_snapshot!("history", render(&mut a));

    // The hidden first version, in the viewer.
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Enter);
    receive(&mut a, &rx);
    let s = render(&mut a);
    assert!(s.contains("the version of layer 1 · 257 B"), "{s}");
    assert!(s.contains("port = 8080"), "{s}");
    key(&mut a, KeyCode::Esc);
    assert_eq!(looks(&a), 1);

    // d marks layer 1's version, d on layer 2's diffs them.
    key(&mut a, KeyCode::Char('d'));
    assert!(render(&mut a).contains("* "));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Char('d'));
    assert!(render(&mut a).contains("reading both versions…"));
    receive(&mut a, &rx);
    let buf = buffer(&mut a);
    insta::assert_snapshot!("diff", text(&buf));
    let (x, y) = find(&buf, "-port = 8080");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    let (x, y) = find(&buf, "+port = 9090");
    assert_eq!(buf[(x, y)].fg, Color::Green);
    // Back to the history, back to the files.
    key(&mut a, KeyCode::Esc);
    assert!(render(&mut a).contains("History of /etc/app/app.conf"));
    key(&mut a, KeyCode::Char('q'));
    assert_eq!(looks(&a), 0);
    assert!(!a.quit);
}

/// Esc while reading closes the viewer at once; the reader's late result
/// finds nothing waiting and changes nothing.
#[test]
fn esc_cancels_a_read_and_its_late_result_is_dropped() {
    let (mut a, rx) = app();
    select(&mut a, "app.conf", "/etc/app/app.conf");
    key(&mut a, KeyCode::Enter);
    assert_eq!(looks(&a), 1);
    key(&mut a, KeyCode::Esc);
    assert_eq!(looks(&a), 0);
    render(&mut a);
    a.dirty = false;
    // The file is small: the reader may have finished before it saw the
    // flag. A result that comes is dropped.
    if let Ok(m) = rx.recv_timeout(Duration::from_secs(5)) {
        update(&mut a, m);
        assert!(!a.dirty);
        assert_eq!(looks(&a), 0);
    }
}

/// A file larger than a page: the first MiB is shown, the footer says how
/// much was read, `m` reads the next MiB and the rows grow; never more.
#[test]
fn viewer_reads_a_big_file_a_page_at_a_time() {
    use crate::common::{docker_archive, layer, temp_file, E};
    let mut text = Vec::new();
    let mut i = 0;
    while text.len() < 2_500_000 {
        text.extend_from_slice(format!("row {i:07}\n").as_bytes());
        i += 1;
    }
    let rows = i;
    let file = temp_file(&docker_archive(
        &[layer(&[E::File("big.txt", text.clone())])],
        &["ADD big.txt /"],
    ));
    let path = file.path().to_str().unwrap().to_string();
    let a = imgscope::analyse(&path, &Default::default(), &LoadProgress::default()).unwrap();
    let mut app = App::loaded("big.tar", a.index, a.report, (W, H));
    let (tx, rx) = channel();
    app.reading(&path, LoadOptions::default(), tx);
    select(&mut app, "big", "/big.txt");
    key(&mut app, KeyCode::Enter);
    receive(&mut app, &rx);
    let s = render(&mut app);
    assert!(
        s.contains("/big.txt · as of layer 0 · 2.50 MB · text"),
        "{s}"
    );
    assert!(
        s.contains("first 1.05 MB of 2.50 MB read; m reads the next 1.05 MB"),
        "{s}"
    );
    let shown = |app: &App| match app.data.as_deref().unwrap().looks.stack.last() {
        Some(imgscope::tui::Look::Viewer(v)) => v.contents().map(|c| (c.bytes.len(), c.rows())),
        _ => None,
    };
    assert_eq!(shown(&app).unwrap().0, 1 << 20);
    key(&mut app, KeyCode::End);
    key(&mut app, KeyCode::Char('m'));
    assert!(render(&mut app).contains("reading the next part…"));
    receive(&mut app, &rx);
    assert_eq!(shown(&app).unwrap().0, 2 << 20);
    key(&mut app, KeyCode::Char('m'));
    receive(&mut app, &rx);
    let (bytes, n) = shown(&app).unwrap();
    assert_eq!(bytes, text.len());
    assert_eq!(n, rows);
    key(&mut app, KeyCode::End);
    let s = render(&mut app);
    assert!(s.contains(&format!("row {:07}", rows - 1)), "{s}");
    assert!(!s.contains("reads the next"), "{s}");
    // Everything is read: m starts no read.
    key(&mut app, KeyCode::Char('m'));
    match app.data.as_deref().unwrap().looks.stack.last() {
        Some(imgscope::tui::Look::Viewer(v)) => assert!(v.more.is_none()),
        _ => panic!("the viewer is open"),
    }
}
