//! `imgscope [OPTIONS] IMAGE`: the TUI, or a report in `--format` (text,
//! JSON, HTML, SARIF, …) with the CI verdict and its exit code.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use imgscope::ci::checks;
use imgscope::render::{self, Format};
use imgscope::{LoadProgress, Rules};

use super::args::{Mode, ReportArgs};
use super::shared::{print_stdout_bytes, Env};
use super::tui::run_tui;

pub fn run_report(args: ReportArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let config = args.into_config_in(env).map_err(anyhow::Error::msg)?;
    let format = match config.mode {
        Mode::Tui => Format::Text,
        Mode::Report(f) => f,
    };
    let opts = imgscope::AnalyseOptions {
        load: config.load.clone(),
        rules: if config.optional_as_waste {
            Rules::builtin().optional_as_waste()
        } else {
            Rules::builtin()
        },
        ignore: config.ignore.clone(),
        dockerfile: config.dockerfile.clone(),
        base: config.base.clone(),
        sizes: format == Format::Html,
    };
    if config.mode == Mode::Tui {
        run_tui(&config.image, &opts)?;
        return Ok(ExitCode::SUCCESS);
    }
    let timings = std::env::var_os("IMGSCOPE_TIMINGS").is_some();
    let t0 = Instant::now();
    let progress = Arc::new(LoadProgress::default());
    let bar = std::cell::Cell::new(
        config
            .progress
            .then(|| spawn_progress_bar(progress.clone())),
    );
    let stop_bar = || {
        if let Some((stop, handle)) = bar.take() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = handle.join();
        }
    };
    let nanos = |n: &std::sync::atomic::AtomicU64| {
        n.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e9
    };
    let flag = |f: &std::sync::atomic::AtomicBool| f.load(std::sync::atomic::Ordering::Relaxed);
    let base = render::Options {
        top: config.top,
        verdict_first: config.verdict,
        color: config.color,
        dockerfile: config.dockerfile.as_ref().map(|p| p.display().to_string()),
        sizes: None,
    };
    // Everything besides the report that the bytes written depend on, in
    // `Debug` forms (a field added to the options or the gate is in it).
    let variant = format!(
        "{format:?}\n{base:?}\n{:?}\noutput {:?}",
        config.gate, config.output
    );
    let rendered = imgscope::report_rendered(&config.image, &opts, &progress, &variant, |r| {
        stop_bar();
        let imgscope::Reported { report, sizes } = r;
        let verdict = checks::evaluate(&report, &config.gate);
        if timings {
            let load = nanos(&progress.load_nanos);
            eprintln!(
                "timings: load {load:.3}s (merging, overlapped with indexing, {:.3}s{}); analysis \
                 and suggestions {:.3}s; content hashed {} of {} bytes",
                nanos(&progress.merge_nanos),
                if flag(&progress.report_cached) {
                    "; report from the report cache"
                } else {
                    ""
                },
                t0.elapsed().as_secs_f64() - load,
                progress.hashed(),
                report.summary.total_bytes
            );
        }
        let status = if verdict.passed() { 0 } else { 1 };
        let mut opts = base.clone();
        opts.sizes = sizes;
        match &config.output {
            Some(path) => {
                opts.color = false;
                let body = render::render(&report, &verdict, format, &opts);
                let mut short = render::verdict::render(&report, &verdict, config.color);
                short.push_str(&format!(
                    "  report ({}) written to {}\n",
                    format.name(),
                    path.display()
                ));
                imgscope::Rendered::new(status, &[body.as_bytes(), short.as_bytes()])
            }
            None => {
                let body = render::render(&report, &verdict, format, &opts);
                imgscope::Rendered::whole(status, body.into_bytes())
            }
        }
    });
    stop_bar();
    let rendered = rendered?;
    if timings && flag(&progress.output_cached) {
        eprintln!(
            "timings: load {:.3}s; report from the report cache, rendered before",
            nanos(&progress.load_nanos)
        );
    }
    match &config.output {
        Some(path) => {
            std::fs::write(path, rendered.part(0))
                .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
            print_stdout_bytes(rendered.part(1))?;
        }
        None => print_stdout_bytes(rendered.part(0))?,
    }
    Ok(ExitCode::from(rendered.status))
}

/// The progress bar's look: sizes in decimal units (`1.12 GB`), as every
/// report shows them.
fn progress_style() -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(
        "{spinner} indexing {msg} [{bar:30}] {decimal_bytes}/{decimal_total_bytes} \
         ({decimal_bytes_per_sec})",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ")
}

fn spawn_progress_bar(
    progress: Arc<LoadProgress>,
) -> (
    Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<()>,
) {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let h = std::thread::spawn(move || {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(progress_style());
        while !s.load(std::sync::atomic::Ordering::Relaxed) {
            let p = progress.snapshot();
            bar.set_length(p.total.max(p.read));
            bar.set_position(p.read.max(p.stream));
            bar.set_message(format!("layers {}/{}", p.layers_done, p.layers));
            std::thread::sleep(std::time::Duration::from_millis(80));
        }
        bar.finish_and_clear();
    });
    (stop, h)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    /// A terminal that keeps what the bar writes.
    #[derive(Debug, Default, Clone)]
    struct Screen(Arc<Mutex<String>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            160
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The bar says 1.12 GB, as the reports do, not 1.04 GiB.
    #[test]
    fn the_progress_bar_counts_in_decimal_units() {
        let screen = Screen::default();
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(1_120_000_000),
            indicatif::ProgressDrawTarget::term_like(Box::new(screen.clone())),
        );
        bar.set_style(super::progress_style());
        bar.set_position(560_000_000);
        bar.force_draw();
        let shown = screen.0.lock().unwrap().clone();
        assert!(shown.contains("560.00 MB/1.12 GB"), "{shown:?}");
        assert!(!shown.contains("iB"), "{shown:?}");
    }
}
