//! The comparison view of `imgscope diff` on ratatui's TestBackend, on the
//! real single-stage / multi-stage compiler pair: aligned layers, the merged
//! file tree with the toolchain marked removed, Ctrl+U for changes only.
#![cfg(feature = "tui")]

mod common;

use imgscope::compare::FileStatus;
use imgscope::tui::CompareView;
use imgscope::{AnalyseOptions, LoadProgress};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

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

fn screen(v: &mut CompareView) -> String {
    let mut term = Terminal::new(TestBackend::new(140, 40)).unwrap();
    term.draw(|f| v.draw(f)).unwrap();
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

fn key(v: &mut CompareView, code: KeyCode, m: KeyModifiers) {
    v.key(&KeyEvent::new(code, m));
}

#[test]
fn toolchain_pair_side_by_side_and_changes_only() {
    let mut v = view("toolchain-single.tar.zst", "toolchain-multistage.tar.zst");
    let s = screen(&mut v);
    assert!(s.contains("1 Layers (old | new)"), "{s}");
    for row in ["  0   0  same", "  1   -  removed", "  2   1  changed"] {
        assert!(s.contains(row), "{row}\n{s}");
    }
    assert!(
        s.contains("3 Findings: 0 fixed, 0 introduced, 0 changed"),
        "{s}"
    );

    let all = v.shown_paths();
    assert!(all.iter().any(|p| p.1 == "busybox" && p.2.is_none()));
    assert!(all
        .iter()
        .any(|p| p.1 == "gcc" && p.2 == Some(FileStatus::Removed)));
    key(&mut v, KeyCode::Char('u'), KeyModifiers::CONTROL);
    assert!(v.changes_only);
    let changed = v.shown_paths();
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
    assert_eq!(v.focus, imgscope::tui::compare::Pane::Findings);
    key(&mut v, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(v.focus, imgscope::tui::compare::Pane::Layers);
    key(&mut v, KeyCode::Char('?'), KeyModifiers::NONE);
    assert!(screen(&mut v).contains("only changed paths"));
    key(&mut v, KeyCode::Esc, KeyModifiers::NONE);
    key(&mut v, KeyCode::Char('q'), KeyModifiers::NONE);
    assert!(v.quit);
}

#[test]
fn cleanup_pair_lists_the_fixed_findings() {
    let mut v = view("cleanup-later.tar.zst", "cleanup-chained.tar.zst");
    let s = screen(&mut v);
    assert!(
        s.contains("3 Findings: 4 fixed, 0 introduced, 0 changed"),
        "{s}"
    );
    assert!(s.contains("/data/big.bin"), "{s}");
    assert!(s.contains("-300 kB"), "{s}");
}
