use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

mod cli;
mod cli_rules;
mod compare_cli;
mod config;
mod fix_cli;

use cli::{Cli, Mode};
use imgscope::ci::checks;
use imgscope::render::{self, Format};
use imgscope::{LoadProgress, Rules};

fn main() -> ExitCode {
    let cli = match compare_cli::parse::<Cli>(std::env::args_os().collect()) {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!(
                "imgscope: {} (see imgscope --help)",
                one_line(&e.render().to_string())
            );
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line, whatever the image put in the names it quotes.
            eprintln!("imgscope: {}", render::escape::line(&format!("{e}")));
            ExitCode::from(2)
        }
    }
}

fn run(mut cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command.take() {
        Some(compare_cli::Command::Diff(a)) => {
            return compare_cli::run_diff(a, &cli::Env::current())
        }
        Some(compare_cli::Command::Share(a)) => return compare_cli::run_share(a),
        Some(compare_cli::Command::Fix(a)) => return fix_cli::run_fix(a),
        None => {}
    }
    let config = cli.into_config().map_err(anyhow::Error::msg)?;
    let rules = if config.optional_as_waste {
        Rules::builtin().optional_as_waste()
    } else {
        Rules::builtin()
    };
    // `--base`: its manifest and config only, where the source allows it.
    let base = match &config.base {
        Some(arg) => {
            let (meta, refs) = imgscope::load::load_meta(arg, &config.load)?;
            Some(imgscope::analyze::base::BaseImage::new(arg, &meta, &refs))
        }
        None => None,
    };
    let suggest = imgscope::suggest::SuggestOptions {
        dockerfile: config.dockerfile.clone(),
        base,
    };
    #[cfg(feature = "tui")]
    if config.mode == Mode::Tui {
        imgscope::tui::run(&config.image, &config.load, &rules, &suggest)?;
        return Ok(ExitCode::SUCCESS);
    }
    let timings = std::env::var_os("IMGSCOPE_TIMINGS").is_some();
    let t0 = Instant::now();
    let progress = Arc::new(LoadProgress::default());
    let bar = config
        .progress
        .then(|| spawn_progress_bar(progress.clone()));
    let loaded = imgscope::load(&config.image, &config.load, &progress);
    if let Some((stop, handle)) = bar {
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = handle.join();
    }
    let index = loaded?;
    let t1 = Instant::now();
    // One way: ignored findings never enter the analysis, so every figure and
    // suggestion (title, before/after, saving) is about what is left.
    let report = imgscope::report_ignoring(&index, &rules, &config.ignore, &suggest)?;
    let verdict = checks::evaluate(&report, &config.gate);
    if timings {
        let merge = progress
            .merge_nanos
            .load(std::sync::atomic::Ordering::Relaxed);
        eprintln!(
            "timings: load {:.3}s (merging, overlapped with indexing, {:.3}s); analysis and \
             suggestions {:.3}s",
            (t1 - t0).as_secs_f64(),
            merge as f64 / 1e9,
            t1.elapsed().as_secs_f64()
        );
    }
    let format = match config.mode {
        // Only reached in a build without the `tui` feature.
        Mode::Tui => Format::Text,
        Mode::Report(f) => f,
    };
    let mut opts = render::Options {
        top: config.top,
        verdict_first: config.verdict,
        color: config.color,
        dockerfile: config.dockerfile.as_ref().map(|p| p.display().to_string()),
        sizes: (format == Format::Html)
            .then(|| imgscope::analyze::sizes::size_tree(&index, &report)),
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

/// A clap error on one line (SPEC: bad usage is one line on stderr): its
/// first paragraph, without the `error:` prefix.
fn one_line(text: &str) -> String {
    let para: Vec<&str> = text
        .trim_start()
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let line = para.join(" ");
    line.strip_prefix("error: ").unwrap_or(&line).to_string()
}

pub(crate) fn print_stdout(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e.into());
        }
    }
    Ok(())
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
