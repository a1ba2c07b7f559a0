use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

mod cli;

use cli::{Cli, Format, Mode};
use imgscope::{output, LoadProgress, Rules};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("imgscope: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.into_config().map_err(anyhow::Error::msg)?;
    let rules = Rules::builtin();
    let suggest = imgscope::suggest::SuggestOptions { dockerfile: config.dockerfile.clone() };
    #[cfg(feature = "tui")]
    if config.mode == Mode::Tui {
        imgscope::tui::run(&config.image, &config.load, &rules, &suggest)?;
        return Ok(ExitCode::SUCCESS);
    }
    let progress = Arc::new(LoadProgress::default());
    let bar = config.progress.then(|| spawn_progress_bar(progress.clone()));
    let loaded = imgscope::load(&config.image, &config.load, &progress);
    if let Some((stop, handle)) = bar {
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = handle.join();
    }
    let index = loaded?;
    let mut report = imgscope::report(&index, &rules, &suggest)?;
    if let Some(limit) = config.max_waste {
        report.checks.push(imgscope::checks::max_waste(&report, limit));
    }
    let failed = report.checks.iter().any(|c| !c.passed);
    match config.mode {
        Mode::Tui => {
            // Only reached in a build without the `tui` feature.
            print_out(&config, &output::text::render(&report, &output::text::TextOptions { top: config.top }))?;
        }
        Mode::Report(Format::Json) => print_out(&config, &output::json::render(&report))?,
        Mode::Report(Format::Text) => {
            print_out(&config, &output::text::render(&report, &output::text::TextOptions { top: config.top }))?
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn print_out(config: &cli::Config, s: &str) -> anyhow::Result<()> {
    match &config.output {
        Some(p) => std::fs::write(p, s).map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", p.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(s.as_bytes()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}

fn spawn_progress_bar(
    progress: Arc<LoadProgress>,
) -> (Arc<std::sync::atomic::AtomicBool>, std::thread::JoinHandle<()>) {
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
            let (read, total, done, n) = progress.snapshot();
            let stream = progress.stream.read.load(std::sync::atomic::Ordering::Relaxed);
            bar.set_length(total.max(read));
            bar.set_position(read.max(stream));
            bar.set_message(format!("layers {done}/{n}"));
            std::thread::sleep(std::time::Duration::from_millis(80));
        }
        bar.finish_and_clear();
    });
    (stop, h)
}
