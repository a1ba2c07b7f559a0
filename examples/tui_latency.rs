//! Keystroke-to-frame latency of the TUI: for each key, `update` plus a full
//! `draw` on a 120x40 TestBackend (the terminal write itself is not counted).
//!
//!   cargo run --release --example tui_latency -- IMAGE [IMAGE...]
//!
//! Prints, per kind of key, the number of keys and p50 / p95 / max in ms.
//! First, the time from `main` to the first frame (the loading gauge, drawn
//! before any layer is read, as `tui::run` does) and the drawing of the first
//! interactive frame once the image is indexed.
//!
//! The trees of the layers next to the shown one are built ahead on a
//! background thread, so moving between layers is measured four ways: on a
//! fresh view right at start, with keys 40 ms apart (a key held from the
//! first frame on) and with no pause at all (the worst case: the builds
//! ahead have no time to run), then later with keys 200 ms apart (single
//! presses) and 40 ms apart (auto-repeat); the pauses are not counted.

use std::time::{Duration, Instant};

use imgscope::tui::{draw, update, App, Msg};
use imgscope::LoadProgress;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

fn k(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}
fn c(ch: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(ch), KeyModifiers::CONTROL)
}

fn main() {
    let t_main = Instant::now();
    let images: Vec<String> = std::env::args().skip(1).collect();
    if images.is_empty() {
        eprintln!("usage: tui_latency IMAGE [IMAGE...]");
        std::process::exit(2);
    }
    // The loading screen: App::new and one draw, as `tui::run` does before
    // the loader has read anything.
    let progress = std::sync::Arc::new(LoadProgress::default());
    let mut app = App::new(&images[0], progress, (120, 40));
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    term.draw(|f| draw(f, &mut app)).unwrap();
    println!(
        "first frame (loading gauge) {:.3} ms after main",
        t_main.elapsed().as_secs_f64() * 1e3
    );
    for image in images {
        bench(&image);
    }
}

fn bench(image: &str) {
    let t0 = Instant::now();
    let index = imgscope::load(image, &Default::default(), &LoadProgress::default())
        .unwrap_or_else(|e| panic!("{image}: {e}"));
    let t_load = t0.elapsed();
    let imgscope::Analysed { index, report, .. } =
        imgscope::analyse_index(index, &Default::default()).unwrap();
    let t_report = t0.elapsed() - t_load;
    let nodes = index.node_count();
    let layers = index.layers.len();
    println!(
        "== {image}\n   {nodes} paths, {layers} layers; load {:.2} s, report {:.2} s",
        t_load.as_secs_f64(),
        t_report.as_secs_f64(),
    );
    let n = layers.min(30);
    let mut lk = vec![k(KeyCode::Up); n];
    lk.extend(vec![k(KeyCode::Down); n]);
    // A fresh view whose first keys come 40 ms apart (a key held from the
    // first frame on): they race the builds ahead.
    {
        let mut app = App::loaded(image, index.clone(), report.clone(), (120, 40));
        let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
        term.draw(|f| draw(f, &mut app)).unwrap();
        let keys = lk.clone();
        let t = keys_timed(&mut app, &mut term, keys, Duration::from_millis(40));
        row("layers: Up/Down at start, 40 ms apart", t);
    }
    let t1 = Instant::now();
    let mut app = App::loaded(image, index.clone(), report.clone(), (120, 40));
    let t_app = t1.elapsed();
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    term.draw(|f| draw(f, &mut app)).unwrap();
    let t_frame = t1.elapsed();
    println!(
        "   first tree {:.1} ms, first interactive frame {:.1} ms after the index",
        t_app.as_secs_f64() * 1e3,
        t_frame.as_secs_f64() * 1e3
    );
    // The pause before each key (not counted).
    let pause = std::cell::Cell::new(Duration::ZERO);
    let mut run = |name: &str, keys: Vec<KeyEvent>| {
        row(name, keys_timed(&mut app, &mut term, keys, pause.get()));
    };
    // Right at start with no pause: the worst case.
    run("layers: focus (at start)", vec![k(KeyCode::Char('1'))]);
    run("layers: Up/Down at start, no pause", lk.clone());
    run("tree: focus (Tab)", vec![k(KeyCode::Tab)]);
    run("tree: Down", vec![k(KeyCode::Down); 500]);
    run("tree: Up", vec![k(KeyCode::Up); 200]);
    run("tree: PgDn", vec![k(KeyCode::PageDown); 200]);
    run("tree: PgUp", vec![k(KeyCode::PageUp); 100]);
    run("tree: End / Home", vec![k(KeyCode::End), k(KeyCode::Home)]);
    let mut sp = Vec::new();
    for _ in 0..20 {
        sp.push(k(KeyCode::Char(' ')));
        sp.push(k(KeyCode::Down));
    }
    run("tree: Space (collapse) + Down", sp);
    run(
        "tree: collapse all / expand all",
        vec![k(KeyCode::Char('-')), k(KeyCode::Char('+'))],
    );
    run("tree: Ctrl+B attributes", vec![c('b'); 10]);
    let mut f = vec![c('f')];
    f.extend("f00012".chars().map(|ch| k(KeyCode::Char(ch))));
    run("filter: typing (debounced if big)", f.clone());
    run("filter: Enter (apply)", vec![k(KeyCode::Enter)]);
    run("filter: Esc (clear)", vec![k(KeyCode::Esc)]);
    run("layers: focus", vec![k(KeyCode::Char('1'))]);
    pause.set(Duration::from_millis(200));
    run("layers: Up/Down, keys 200 ms apart", lk.clone());
    pause.set(Duration::from_millis(40));
    run("layers: Up/Down, keys 40 ms apart", lk);
    pause.set(Duration::ZERO);
    // Keys that rebuild the shown tree, each timed on a fresh view (Files
    // focused, its builds ahead done), so that every key timed is a
    // rebuild (pressed twice, a key's second press finds the tree it left).
    let sort = vec![vec![c('o')]; 10];
    rebuilds(
        image,
        &index,
        &report,
        "tree: Ctrl+O sort (rebuild)",
        vec![],
        sort,
    );
    let mode = vec![vec![c('l')]; 10];
    rebuilds(
        image,
        &index,
        &report,
        "tree: Ctrl+L mode (rebuild)",
        vec![],
        mode,
    );
    let types: Vec<Vec<KeyEvent>> = "armuarmuarmu".chars().map(|t| vec![c(t)]).collect();
    rebuilds(
        image,
        &index,
        &report,
        "tree: Ctrl+A/R/M/U types (rebuild)",
        vec![],
        types,
    );
    let enter = vec![vec![k(KeyCode::Enter)]; 5];
    rebuilds(
        image,
        &index,
        &report,
        "filter: Enter (apply, fresh view)",
        f,
        enter,
    );
    run(
        "waste: focus + Down",
        vec![k(KeyCode::Char('3')), k(KeyCode::Down), k(KeyCode::Down)],
    );
    run("waste: Enter (jump to file)", vec![k(KeyCode::Enter)]);
    run(
        "fixes: focus + Down",
        vec![k(KeyCode::Char('4')), k(KeyCode::Down)],
    );
}

/// One row of keys timed each on a fresh view: `setup` then the keys of
/// one sample are pressed untimed after Tab (Files focused) and once the
/// view's builds ahead are done; the last key of each sample is timed.
fn rebuilds(
    image: &str,
    index: &imgscope::Index,
    report: &imgscope::Report,
    name: &str,
    setup: Vec<KeyEvent>,
    samples: Vec<Vec<KeyEvent>>,
) {
    let mut times = Vec::new();
    for mut keys in samples {
        let mut app = App::loaded(image, index.clone(), report.clone(), (120, 40));
        let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let last = keys.pop().expect("a key");
        let mut before = vec![k(KeyCode::Tab)];
        before.extend(setup.iter().cloned());
        before.extend(keys);
        keys_timed(&mut app, &mut term, before, Duration::ZERO);
        app.data.as_ref().expect("loaded").files.wait_ahead();
        times.extend(keys_timed(&mut app, &mut term, vec![last], Duration::ZERO));
    }
    row(name, times);
}

/// Update and draw for each key, `pause` before each (not counted).
fn keys_timed(
    app: &mut App,
    term: &mut Terminal<TestBackend>,
    keys: Vec<KeyEvent>,
    pause: Duration,
) -> Vec<Duration> {
    let mut times: Vec<Duration> = Vec::with_capacity(keys.len());
    for key in keys {
        std::thread::sleep(pause);
        let t = Instant::now();
        update(app, Msg::Key(key));
        term.draw(|f| draw(f, app)).unwrap();
        times.push(t.elapsed());
    }
    times
}

/// One line: the number of keys and p50 / p95 / max in ms.
fn row(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let p = |q: f64| ms(times[((times.len() - 1) as f64 * q) as usize]);
    println!(
        "   {name:<38} n={:<4} p50 {:>7.3} ms  p95 {:>7.3} ms  max {:>7.3} ms",
        times.len(),
        p(0.5),
        p(0.95),
        ms(*times.last().unwrap())
    );
}
