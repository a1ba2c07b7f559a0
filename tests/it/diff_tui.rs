//! The comparison view of `imgscope diff` on ratatui's TestBackend, on the
//! real single-stage / multi-stage compiler pair: aligned layers, the merged
//! file tree with the toolchain marked removed, Ctrl+U for changes only.
#![cfg(feature = "tui")]

use crate::common;

use imgscope::compare::FileStatus;
use imgscope::tui::{draw, update, App, CompareView, Msg};
use imgscope::{AnalyseOptions, LoadProgress};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

/// The comparison view, as the one app shows it.
fn app(old: &str, new: &str) -> App {
    App::comparing(view(old, new), (140, 40))
}

fn view(old: &str, new: &str) -> CompareView {
    let load = |n: &str| {
        let a = imgscope::analyse(
            common::built(n).to_str().unwrap(),
            &AnalyseOptions::default(),
            &LoadProgress::default(),
        )
        .unwrap();
        (a.index, a.report)
    };
    let (oi, or) = load(old);
    let (ni, nr) = load(new);
    let d = imgscope::compare::diff((&oi, &or), (&ni, &nr), &Default::default());
    CompareView::new(d, &oi, &ni)
}

fn screen(app: &mut App) -> String {
    let mut term = Terminal::new(TestBackend::new(140, 40)).unwrap();
    term.draw(|f| draw(f, app)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn key(app: &mut App, code: KeyCode, m: KeyModifiers) {
    update(app, Msg::Key(KeyEvent::new(code, m)));
}

fn cmp(app: &App) -> &CompareView {
    app.compare.as_deref().expect("the comparison view")
}

#[test]
fn toolchain_pair_side_by_side_and_changes_only() {
    let mut v = app("toolchain-single.tar.zst", "toolchain-multistage.tar.zst");
    let s = screen(&mut v);
    assert!(s.contains("1 Layers (old | new)"), "{s}");
    for row in ["  0   0  same", "  1   -  removed", "  2   1  changed"] {
        assert!(s.contains(row), "{row}\n{s}");
    }
    assert!(
        s.contains("3 Findings: 0 fixed, 0 introduced, 0 changed"),
        "{s}"
    );

    let all = cmp(&v).shown_paths();
    assert!(all.iter().any(|p| p.1 == "busybox" && p.2.is_none()));
    assert!(all
        .iter()
        .any(|p| p.1 == "gcc" && p.2 == Some(FileStatus::Removed)));
    key(&mut v, KeyCode::Char('u'), KeyModifiers::CONTROL);
    assert!(cmp(&v).changes_only);
    let changed = cmp(&v).shown_paths();
    assert!(changed.len() < all.len());
    assert!(!changed.iter().any(|p| p.1 == "busybox"));
    // Every shown path is a change or holds one: the toolchain's headers are
    // all marked removed with their directory.
    let headers: Vec<_> = changed.iter().filter(|p| p.1.ends_with(".h")).collect();
    assert_eq!(headers.len(), 6, "{changed:?}");
    assert!(headers.iter().all(|p| p.2 == Some(FileStatus::Removed)));
    let s = screen(&mut v);
    assert!(s.contains("2 Files, changes only"), "{s}");
    assert!(s.contains("gcc"), "{s}");
    // The normal view's keys: panes by number and Tab, q quits.
    key(&mut v, KeyCode::Char('3'), KeyModifiers::NONE);
    assert_eq!(cmp(&v).focus, imgscope::tui::compare::Pane::Findings);
    key(&mut v, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(cmp(&v).focus, imgscope::tui::compare::Pane::Layers);
    key(&mut v, KeyCode::Char('?'), KeyModifiers::NONE);
    assert!(screen(&mut v).contains("only changed paths"));
    // The help takes the next key: q closes it, the next q quits.
    key(&mut v, KeyCode::Char('q'), KeyModifiers::NONE);
    assert!(!v.help && !v.quit);
    assert!(cmp(&v).changes_only, "the help took the key");
    key(&mut v, KeyCode::Char('q'), KeyModifiers::NONE);
    assert!(v.quit);
}

#[test]
fn cleanup_pair_lists_the_fixed_findings() {
    let mut v = app("cleanup-later.tar.zst", "cleanup-chained.tar.zst");
    let s = screen(&mut v);
    assert!(
        s.contains("3 Findings: 4 fixed, 0 introduced, 0 changed"),
        "{s}"
    );
    assert!(s.contains("/data/big.bin"), "{s}");
    assert!(s.contains("-300 kB"), "{s}");
}
