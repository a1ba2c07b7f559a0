use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

mod cli;
mod compare_cli;
mod config;

use cli::{Cli, Format, Mode};
use imgscope::ci::checks;
use imgscope::render;
use imgscope::render::verdict::{self, Context};
use imgscope::{LoadProgress, Report, Rules};

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
        None => {}
    }
    let config = cli.into_config().map_err(anyhow::Error::msg)?;
    let rules = if config.optional_as_waste {
        Rules::builtin().optional_as_waste()
    } else {
        Rules::builtin()
    };
    let suggest = imgscope::suggest::SuggestOptions {
        dockerfile: config.dockerfile.clone(),
    };
    #[cfg(feature = "tui")]
    if config.mode == Mode::Tui {
        imgscope::tui::run(&config.image, &config.load, &rules, &suggest)?;
        return Ok(ExitCode::SUCCESS);
    }
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
    // Ignored findings are dropped before suggestions are made, so every
    // suggestion (title, before/after, saving) is about what is left.
    let (mut report, ignored) = match &config.ignore {
        None => (imgscope::report(&index, &rules, &suggest)?, None),
        Some(ig) => {
            let mut report = imgscope::analyze(&index, &rules);
            let ignored = checks::apply_ignores(&mut report, ig);
            report.suggestions = imgscope::suggest::suggest(&index, &report, &rules, &suggest)?;
            imgscope::analyze::pull::fill(&mut report);
            (report, Some(ignored))
        }
    };
    report.checks = checks::evaluate(&report, &config.gate, config.ignore.as_ref());
    if config.default_rule {
        for c in &mut report.checks {
            c.limit.push_str(" (default)");
        }
    }
    let ctx = Context {
        ignored,
        origin: config.origin.clone(),
        dockerfile: config.dockerfile.as_ref().map(|p| p.display().to_string()),
        default_rule: config.default_rule,
    };
    let format = match config.mode {
        // Only reached in a build without the `tui` feature.
        Mode::Tui => Format::Text,
        Mode::Report(f) => f,
    };
    match &config.output {
        Some(path) => {
            let body = render_report(format, &mut report, &ctx, &config, false, &index);
            std::fs::write(path, body)
                .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", path.display()))?;
            let mut short = verdict::render(&report, &ctx, config.color);
            short.push_str(&format!(
                "  report ({}) written to {}\n",
                format.name(),
                path.display()
            ));
            print_stdout(&short)?;
        }
        None => {
            let body = render_report(format, &mut report, &ctx, &config, config.color, &index);
            print_stdout(&body)?;
        }
    }
    Ok(if verdict::passed(&report) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The report in `format`. Text: the verdict first (when there are checks,
/// ignores or `--ci`), then the readable report without its own checks list.
fn render_report(
    format: Format,
    report: &mut Report,
    ctx: &Context,
    config: &cli::Config,
    color: bool,
    index: &imgscope::Index,
) -> String {
    match format {
        Format::Json => verdict::json(report, ctx),
        Format::Sarif => render::sarif::render(report, ctx),
        Format::Junit => render::junit::render(report, ctx),
        Format::Markdown => render::markdown::render(report, ctx),
        Format::Github => render::github::render(report, ctx),
        Format::Html => {
            let files = imgscope::analyze::sizes::size_tree(index, report);
            render::html::render(report, ctx.ignored.as_ref(), &files)
        }
        Format::Text => {
            let opts = render::text::TextOptions { top: config.top };
            if !config.verdict {
                return render::text::render(report, &opts);
            }
            let mut s = verdict::render(report, ctx, color);
            s.push('\n');
            let checks = std::mem::take(&mut report.checks);
            s.push_str(&render::text::render(report, &opts));
            report.checks = checks;
            s
        }
    }
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
