//! `imgscope [OPTIONS] IMAGE`: the TUI, or a report in `--format` (text,
//! JSON, HTML, SARIF, …) with the CI verdict and its exit code.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use imgscope::ci::checks;
use imgscope::render::{self, Format};
use imgscope::{LoadProgress, Rules};

use super::args::{Mode, ReportArgs};
use super::shared::{print_stdout, Env};
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
    let bar = config
        .progress
        .then(|| spawn_progress_bar(progress.clone()));
    let analysed = imgscope::analyse(&config.image, &opts, &progress);
    if let Some((stop, handle)) = bar {
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = handle.join();
    }
    let imgscope::Analysed { report, sizes, .. } = analysed?;
    let verdict = checks::evaluate(&report, &config.gate);
    if timings {
        let nanos = |n: &std::sync::atomic::AtomicU64| {
            n.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e9
        };
        let load = nanos(&progress.load_nanos);
        eprintln!(
            "timings: load {load:.3}s (merging, overlapped with indexing, {:.3}s); analysis and \
             suggestions {:.3}s",
            nanos(&progress.merge_nanos),
            t0.elapsed().as_secs_f64() - load
        );
    }
    let mut opts = render::Options {
        top: config.top,
        verdict_first: config.verdict,
        color: config.color,
        dockerfile: config.dockerfile.as_ref().map(|p| p.display().to_string()),
        sizes,
    };
    match &config.output {
        Some(path) => {
            opts.color = false;
            let body = render::render(&report, &verdict, format, &opts);
            std::fs::write(path, body)
                .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
            let mut short = render::verdict::render(&report, &verdict, config.color);
            short.push_str(&format!(
                "  report ({}) written to {}\n",
                format.name(),
                path.display()
            ));
            print_stdout(&short)?;
        }
        None => print_stdout(&render::render(&report, &verdict, format, &opts))?,
    }
    Ok(if verdict.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} indexing {msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
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
