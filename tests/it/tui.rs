//! TUI views on ratatui's TestBackend for a real image (insta snapshots),
//! and user journeys: key sequences → asserted state.
#![cfg(feature = "tui")]

use std::sync::Arc;

use crate::common;

use imgscope::tui::{draw, update, App, Focus, Msg, Tab, WasteRow};
use imgscope::LoadProgress;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Terminal;

const W: u16 = 120;
const H: u16 = 40;

/// dive's 14-step scenario rebuilt in tests/images/ (see tests/dive_steps.rs).
fn image() -> String {
    format!(
        "{}/tests/images/dive-steps.docker.tar.zst",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn app() -> App {
    app_of(&image(), "dive-steps.docker.tar.zst")
}

fn app_of(path: &str, name: &str) -> App {
    let a = imgscope::analyse(path, &Default::default(), &LoadProgress::default()).expect("loads");
    App::loaded(name, a.index, a.report, (W, H))
}

/// Bytecode, docs, man/info pages and locales (tests/images/src/python-optional).
fn optional_app() -> App {
    let p = format!(
        "{}/tests/images/python-optional.tar.zst",
        env!("CARGO_MANIFEST_DIR")
    );
    app_of(&p, "python-optional.tar.zst")
}

fn key(app: &mut App, code: KeyCode) {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn ctrl(app: &mut App, c: char) {
    update(
        app,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    );
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn click(app: &mut App, x: u16, y: u16) {
    update(
        app,
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }),
    );
}

fn wheel(app: &mut App, x: u16, y: u16, down: bool) {
    update(
        app,
        Msg::Mouse(MouseEvent {
            kind: if down {
                MouseEventKind::ScrollDown
            } else {
                MouseEventKind::ScrollUp
            },
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }),
    );
}

/// The screen as text (styles are not part of the snapshot).
fn render(app: &mut App) -> String {
    let mut term = Terminal::new(TestBackend::new(W, H)).unwrap();
    term.draw(|f| draw(f, app)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn data(app: &App) -> &imgscope::tui::Data {
    app.data.as_deref().expect("loaded")
}

fn selected(app: &App) -> String {
    data(app).selected_path().unwrap_or_default()
}

/// Select layer `l` from the Layers pane.
fn to_layer(a: &mut App, l: usize) {
    key(a, KeyCode::Char('1'));
    key(a, KeyCode::Home);
    for _ in 0..l {
        key(a, KeyCode::Down);
    }
    assert_eq!(data(a).layer(), l);
}

#[test]
fn view_layers_and_merged_tree() {
    let mut a = app();
    insta::assert_snapshot!("layers_merged_tree", render(&mut a));
}

#[test]
fn view_layer_only_changes_chmod() {
    let mut a = app();
    to_layer(&mut a, 4);
    ctrl(&mut a, 'l');
    insta::assert_snapshot!("layer_only_chmod", render(&mut a));
}

#[test]
fn view_whiteouts_in_the_layer_that_hid_them() {
    let mut a = app();
    to_layer(&mut a, 9);
    ctrl(&mut a, 'l');
    let s = render(&mut a);
    assert!(s.contains("somefile1.txt [remove"), "{s}");
    insta::assert_snapshot!("layer_only_rm", s);
}

#[test]
fn view_moved_file() {
    let mut a = app();
    to_layer(&mut a, 7);
    ctrl(&mut a, 'l');
    let s = render(&mut a);
    assert!(s.contains("somefile3.txt [moved]"), "{s}");
    assert!(s.contains("saved.txt [moved here]"), "{s}");
    insta::assert_snapshot!("layer_only_mv", s);
}

#[test]
fn view_waste() {
    let mut a = app();
    key(&mut a, KeyCode::Char('3'));
    let s = render(&mut a);
    assert!(
        s.contains("hidden by layer 9: RUN rm -rf /root/example/"),
        "{s}"
    );
    insta::assert_snapshot!("waste", s);
}

/// The Waste tab tags the base image's findings `[base]`, as Fixes does,
/// and does not tell the user to clean them up in the same RUN.
#[test]
fn waste_tab_marks_base_findings() {
    let p = format!(
        "{}/tests/images/app-wasteful.tar.zst",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut a = app_of(&p, "app-wasteful.tar.zst");
    key(&mut a, KeyCode::Char('3'));
    let d = data(&a);
    let base = d
        .report
        .waste
        .iter()
        .position(|f| f.in_base)
        .expect("a base finding");
    let user = d
        .report
        .waste
        .iter()
        .position(|f| !f.in_base)
        .expect("a user finding");
    for (fi, is_base) in [(base, true), (user, false)] {
        let row = data(&a)
            .waste
            .rows
            .iter()
            .position(|r| matches!(r, WasteRow::Finding(i) if *i == fi))
            .unwrap();
        let cur = data(&a).waste.list.sel;
        for _ in cur..row {
            key(&mut a, KeyCode::Down);
        }
        for _ in row..cur {
            key(&mut a, KeyCode::Up);
        }
        let path = data(&a).report.waste[fi].path.display();
        let s = render(&mut a);
        assert_eq!(s.contains(&format!("[base] {path}")), is_base, "{s}");
        if is_base {
            assert!(s.contains("Stored by a layer of the base image"), "{s}");
            assert!(
                !s.contains("same RUN") && !s.contains("A layer is a tar"),
                "{s}"
            );
        } else {
            assert!(s.contains("A layer is a tar of changes"), "{s}");
        }
    }
}

#[test]
fn view_optional_in_image_pane_and_waste_tab() {
    let mut a = optional_app();
    key(&mut a, KeyCode::Char('3'));
    let s = render(&mut a);
    // The Image pane: optional on its own line, after the efficiency.
    assert!(
        s.contains("Optional        155.61 kB  7.1% (not waste)"),
        "{s}"
    );
    // The Waste tab: the optional group after the waste, by rule.
    assert!(
        s.contains("optional        155.61 kB  9 files · a choice, not waste"),
        "{s}"
    );
    insta::assert_snapshot!("optional", s);
}

#[test]
fn journey_jump_from_optional_file_to_its_layer() {
    let mut a = optional_app();
    key(&mut a, KeyCode::Char('3'));
    let d = data(&a);
    let i = d
        .waste
        .rows
        .iter()
        .position(|r| matches!(r, WasteRow::Optional(_)))
        .expect("an optional row");
    let WasteRow::Optional(oi) = d.waste.rows[i] else {
        unreachable!()
    };
    let o = d.report.optional[oi].clone();
    let cur = d.waste.list.sel;
    for _ in cur..i {
        key(&mut a, KeyCode::Down);
    }
    let s = render(&mut a);
    assert!(s.contains("Cost "), "{s}");
    key(&mut a, KeyCode::Enter);
    assert_eq!(data(&a).focus, Focus::Tree);
    assert_eq!(data(&a).layer(), o.layer);
    assert_eq!(selected(&a), o.path.display());
}

#[test]
fn view_fixes() {
    let mut a = app();
    key(&mut a, KeyCode::Char('4'));
    insta::assert_snapshot!("fixes", render(&mut a));
}

#[test]
fn view_help() {
    let mut a = app();
    key(&mut a, KeyCode::Char('?'));
    assert!(a.help);
    insta::assert_snapshot!("help", render(&mut a));
    key(&mut a, KeyCode::Esc);
    assert!(!a.help);
}

#[test]
fn view_filter_sorted_by_size_without_attributes() {
    let mut a = app();
    ctrl(&mut a, 'f');
    typed(&mut a, "saved");
    key(&mut a, KeyCode::Enter);
    ctrl(&mut a, 'b');
    ctrl(&mut a, 'o');
    insta::assert_snapshot!("filter_size_noattrs", render(&mut a));
}

#[test]
fn view_loading_progress() {
    let p = Arc::new(LoadProgress::default());
    {
        let mut layers = p.layers.lock().unwrap();
        let mut sizes = p.layer_sizes.lock().unwrap();
        for i in 0..3u64 {
            let l = Arc::new(imgscope::load::layer::Progress::default());
            l.read.store(i * 1000, std::sync::atomic::Ordering::Relaxed);
            l.entries
                .store(i * 10, std::sync::atomic::Ordering::Relaxed);
            l.done
                .store((i == 0) as u64, std::sync::atomic::Ordering::Relaxed);
            layers.push(l);
            sizes.push(2000);
        }
    }
    p.phase.store(1, std::sync::atomic::Ordering::Relaxed);
    let mut a = App::new("big.tar", p.clone(), (W, 20));
    update(&mut a, Msg::Tick);
    assert!(a.dirty);
    let mut term = Terminal::new(TestBackend::new(W, 20)).unwrap();
    term.draw(|f| draw(f, &mut a)).unwrap();
    let buf = term.backend().buffer().clone();
    let text: String = (0..20)
        .map(|y| {
            let l: String = (0..W).map(|x| buf[(x, y)].symbol().to_string()).collect();
            l.trim_end().to_string() + "\n"
        })
        .collect();
    insta::assert_snapshot!("loading", text);
    // q quits while loading.
    key(&mut a, KeyCode::Char('q'));
    assert!(a.quit);
}

// ---- user journeys ----

#[test]
fn journey_layers_navigation() {
    let mut a = app();
    assert_eq!(data(&a).focus, Focus::Layers);
    assert_eq!(data(&a).layer(), 13);
    key(&mut a, KeyCode::Home);
    assert_eq!(data(&a).layer(), 0);
    key(&mut a, KeyCode::Char('j'));
    key(&mut a, KeyCode::Down);
    assert_eq!(data(&a).layer(), 2);
    key(&mut a, KeyCode::Char('k'));
    assert_eq!(data(&a).layer(), 1);
    key(&mut a, KeyCode::PageDown);
    assert_eq!(data(&a).layer(), 13);
    key(&mut a, KeyCode::Tab);
    assert_eq!(data(&a).focus, Focus::Tree);
    key(&mut a, KeyCode::BackTab);
    assert_eq!(data(&a).focus, Focus::Layers);
}

#[test]
fn journey_jump_from_finding_to_its_file() {
    let mut a = app();
    key(&mut a, KeyCode::Tab); // tree
    key(&mut a, KeyCode::Tab); // waste
    assert_eq!(data(&a).focus, Focus::Waste);
    // The first finding row is selected: /root/example/somefile1.txt, stored in layer 4.
    let d = data(&a);
    let WasteRow::Finding(fi) = d.waste.rows[d.waste.list.sel] else {
        panic!("a finding is selected")
    };
    let f = d.report.waste[fi].clone();
    key(&mut a, KeyCode::Enter);
    assert_eq!(data(&a).focus, Focus::Tree);
    assert_eq!(data(&a).layer(), f.stored_in_layer);
    assert_eq!(selected(&a), f.path.display());
    // The next finding: the moved file, from the waste list again.
    key(&mut a, KeyCode::Char('3'));
    let d = data(&a);
    let i = d
        .waste
        .rows
        .iter()
        .position(|r| matches!(r, WasteRow::Finding(i) if d.report.waste[*i].kind == imgscope::analyze::waste::WasteKind::Moved))
        .unwrap();
    let cur = d.waste.list.sel;
    for _ in cur..i {
        key(&mut a, KeyCode::Down);
    }
    key(&mut a, KeyCode::Enter);
    assert_eq!(data(&a).layer(), 6);
    assert_eq!(selected(&a), "/root/example/somefile3.txt");
    let s = render(&mut a);
    assert!(s.contains("Files at layer 6"), "{s}");
}

#[test]
fn journey_jump_from_fix() {
    let mut a = app();
    key(&mut a, KeyCode::Char('4'));
    assert_eq!(data(&a).focus, Focus::Fixes);
    let s = data(&a).report.suggestions[0].clone();
    key(&mut a, KeyCode::Enter);
    assert_eq!(data(&a).focus, Focus::Tree);
    let f = &data(&a).report.waste[s.findings[0]];
    assert_eq!(data(&a).layer(), f.stored_in_layer);
    assert_eq!(selected(&a), f.path.display());
}

#[test]
fn journey_filter_by_path() {
    let mut a = app();
    ctrl(&mut a, 'f');
    assert!(data(&a).files.filter.editing);
    typed(&mut a, "saved");
    key(&mut a, KeyCode::Enter);
    let d = data(&a);
    assert!(!d.files.filter.editing);
    assert_eq!(d.files.filter.text, "saved");
    // root/, .saved.txt, .data/, saved.again2.txt, saved.txt, tmp/, saved.again1.txt
    assert_eq!(d.files.tree.shown_count, 7);
    assert_eq!(data(&a).focus, Focus::Tree);
    key(&mut a, KeyCode::Home);
    assert_eq!(selected(&a), "/root");
    key(&mut a, KeyCode::Down);
    assert_eq!(selected(&a), "/root/.data");
    // A glob and a regex.
    ctrl(&mut a, 'f');
    ctrl(&mut a, 'u');
    typed(&mut a, "*.txt");
    key(&mut a, KeyCode::Enter);
    assert!(data(&a).files.tree.shown_count >= 5);
    ctrl(&mut a, 'f');
    ctrl(&mut a, 'u');
    typed(&mut a, "/^/tmp/");
    key(&mut a, KeyCode::Enter);
    assert_eq!(data(&a).files.filter.error, None);
    assert_eq!(data(&a).files.tree.shown_count, 2);
    // Esc clears it.
    key(&mut a, KeyCode::Esc);
    assert_eq!(data(&a).files.filter.text, "");
    // Every path of the final image: 281 non-directories (the base's 271,
    // somefile.txt, buildah's 3 empty /etc files, /root/saved.txt,
    // /root/.saved.txt, the 3 files of /root/.data, /tmp/saved.again1.txt)
    // and 14 directories (the base's 9, /dev /proc /run /sys, /root/.data).
    assert_eq!(data(&a).files.tree.shown_count, 295);
    // A bad regex is reported, the previous tree stays.
    ctrl(&mut a, 'f');
    typed(&mut a, "re:(");
    key(&mut a, KeyCode::Enter);
    assert!(data(&a).files.filter.error.is_some());
}

#[test]
fn journey_collapse_and_expand() {
    let mut a = app();
    key(&mut a, KeyCode::Tab);
    assert_eq!(selected(&a), "/bin");
    key(&mut a, KeyCode::Char(' '));
    assert!(data(&a).collapsed("/bin"));
    key(&mut a, KeyCode::Down);
    assert_eq!(selected(&a), "/dev");
    key(&mut a, KeyCode::Up);
    key(&mut a, KeyCode::Right);
    assert!(!data(&a).collapsed("/bin"));
    key(&mut a, KeyCode::Down);
    assert_eq!(selected(&a), "/bin/arch"); // busybox's first applet by name
    key(&mut a, KeyCode::Left); // to the parent
    assert_eq!(selected(&a), "/bin");
    key(&mut a, KeyCode::Left); // collapses it
    assert!(data(&a).collapsed("/bin"));
    // Collapse all, expand all.
    key(&mut a, KeyCode::Char('+'));
    assert!(!data(&a).collapsed("/bin"));
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::CONTROL)),
    );
    for d in ["/bin", "/etc", "/root", "/usr"] {
        assert!(data(&a).collapsed(d), "{d}");
    }
    key(&mut a, KeyCode::End);
    assert_eq!(selected(&a), "/var");
    key(&mut a, KeyCode::Home);
    assert_eq!(selected(&a), "/bin");
    key(&mut a, KeyCode::PageDown);
    assert_eq!(selected(&a), "/var");
}

#[test]
fn journey_change_type_toggles_and_mode() {
    let mut a = app();
    key(&mut a, KeyCode::Tab);
    ctrl(&mut a, 'u'); // hide unchanged
    let d = data(&a);
    assert!(!d.files.types.0[3]);
    // Layer 13 only re-stored /root/saved.txt.
    assert_eq!(d.files.tree.shown_count, 2);
    assert_eq!(selected(&a), "/root");
    key(&mut a, KeyCode::Down);
    assert_eq!(selected(&a), "/root/saved.txt");
    ctrl(&mut a, 'm'); // hide modified too: nothing left
    assert_eq!(data(&a).files.tree.shown_count, 0);
    key(&mut a, KeyCode::Esc); // clears the filters
    assert!(data(&a).files.types.all());
    ctrl(&mut a, 'l');
    assert_eq!(data(&a).files.mode, imgscope::view::Mode::LayerOnly);
    assert_eq!(data(&a).files.tree.shown_count, 2);
    ctrl(&mut a, 'o');
    assert_eq!(data(&a).files.sort, imgscope::view::Sort::Size);
    ctrl(&mut a, 'b');
    assert!(!data(&a).files.attrs);
}

#[test]
fn journey_mouse() {
    let mut a = app();
    let areas = data(&a).areas(a.size);
    // Click on layer 3's row.
    click(&mut a, 5, areas.layers.y + 2 + 3);
    assert_eq!(data(&a).layer(), 3);
    assert_eq!(data(&a).focus, Focus::Layers);
    // Wheel over the tree moves its selection; a click selects a row.
    let (x, y) = (areas.right.x + 10, areas.right.y + 5);
    wheel(&mut a, x, y, true);
    assert_eq!(data(&a).focus, Focus::Tree);
    assert_eq!(selected(&a), "/bin/base64"); // three rows down: arch, ash, base64
    click(&mut a, x, areas.right.y + 2);
    assert_eq!(selected(&a), "/bin");
    // Click the Waste tab.
    let tabs = areas.tabs;
    for x in tabs.x..tabs.x + tabs.width {
        click(&mut a, x, tabs.y);
        if data(&a).tab == Tab::Waste {
            break;
        }
    }
    assert_eq!(data(&a).tab, Tab::Waste);
}

#[test]
fn journey_resize_relayouts() {
    let mut a = app();
    key(&mut a, KeyCode::Tab);
    for _ in 0..50 {
        key(&mut a, KeyCode::Down);
    }
    let sel = selected(&a);
    update(&mut a, Msg::Resize(80, 15));
    assert_eq!(selected(&a), sel);
    let mut term = Terminal::new(TestBackend::new(80, 15)).unwrap();
    term.draw(|f| draw(f, &mut a)).unwrap();
    let d = data(&a);
    assert!(d.files.cur.sel_row < d.areas((80, 15)).tree_rows());
    // Tiny terminals do not panic.
    for (w, h) in [(10, 3), (1, 1), (30, 8)] {
        update(&mut a, Msg::Resize(w, h));
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| draw(f, &mut a)).unwrap();
    }
}

#[test]
fn quit_keys() {
    let mut a = app();
    key(&mut a, KeyCode::Char('q'));
    assert!(a.quit);
    let mut a = app();
    ctrl(&mut a, 'c');
    assert!(a.quit);
}

/// Queued layer moves build one tree, for the layer they end on.
#[test]
fn queued_layer_moves_build_one_tree() {
    let mut a = app();
    key(&mut a, KeyCode::Home);
    assert_eq!(data(&a).files.tree.key.layer, 0);
    a.defer = true;
    for _ in 0..5 {
        key(&mut a, KeyCode::Down);
    }
    assert_eq!(data(&a).layer(), 5);
    assert_eq!(
        data(&a).files.tree.key.layer,
        0,
        "not rebuilt while keys are queued"
    );
    a.defer = false;
    update(&mut a, Msg::Tick);
    assert_eq!(data(&a).files.tree.key.layer, 5);
    // A key for another pane settles first, even when deferred.
    a.defer = true;
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Down);
    assert_eq!(data(&a).files.tree.key.layer, 6);
    a.defer = false;
}

#[test]
fn view_small_terminal() {
    let mut a = app();
    update(&mut a, Msg::Resize(80, 24));
    key(&mut a, KeyCode::Tab);
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| draw(f, &mut a)).unwrap();
    let buf = term.backend().buffer().clone();
    let text: String = (0..24)
        .map(|y| {
            let l: String = (0..80).map(|x| buf[(x, y)].symbol().to_string()).collect();
            l.trim_end().to_string() + "\n"
        })
        .collect();
    insta::assert_snapshot!("small_80x24", text);
}

/// Issue 13: names, commands and tags from the image never drive the
/// terminal through the TUI (control characters and bidi marks shown
/// escaped, never drawn), and its warnings are counted on screen.
#[test]
fn image_data_never_drives_the_terminal_in_the_tui() {
    use common::{docker_archive, layer, temp_file, E};
    let l0 = layer(&[
        E::File("evil\x1b]0;pwned\x07name", vec![1; 10]),
        E::File("rlo\u{202e}txt.exe", vec![2; 5]),
    ]);
    let l1 = layer(&[
        E::Whiteout("never-there"),
        E::File("evil\x1b]0;pwned\x07name", vec![3; 10]),
    ]);
    let img = docker_archive(
        &[l0, l1],
        &["/bin/sh -c echo \x1b[2J\x1b[31mred", "RUN rm \u{202e}x"],
    );
    let f = temp_file(&img);
    let mut a = app_of(f.path().to_str().unwrap(), "evil\x1b[31m.tar");
    let mut seen = String::new();
    for k in ['2', '3', '4', '5', '1'] {
        key(&mut a, KeyCode::Char(k));
        for down in 0..2 {
            if down == 1 {
                key(&mut a, KeyCode::Down);
            }
            let s = render(&mut a);
            let bad: Vec<char> = s
                .chars()
                .filter(|&c| {
                    (c.is_control() && c != '\n')
                        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
                })
                .collect();
            assert!(bad.is_empty(), "tab {k}: {bad:?} on screen:\n{s}");
            seen.push_str(&s);
        }
    }
    assert!(seen.contains("evil\\x1b]0;pwned\\x07name"), "{seen}");
    assert!(seen.contains("\\x1b[2J\\x1b[31mred"), "{seen}");
    assert!(seen.contains("rm \\u{202e}x"), "{seen}");
    assert!(seen.contains("1 warning"), "{seen}");
}
