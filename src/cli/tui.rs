//! The interactive views, where the build has them (feature `tui`): the
//! image's TUI and `diff`'s comparison view. Both analyse through
//! [`imgscope::analyse`] with the options the report would use, so they
//! show what the report says. Imports nothing else of the binary.

use imgscope::AnalyseOptions;

/// The TUI on IMAGE, until the user quits.
#[cfg(feature = "tui")]
pub fn run_tui(image: &str, opts: &AnalyseOptions) -> anyhow::Result<()> {
    imgscope::tui::run(image, opts)
}

/// The comparison view of OLD and NEW, until the user quits.
#[cfg(feature = "tui")]
pub fn run_diff_tui(old: &str, new: &str, opts: &AnalyseOptions) -> anyhow::Result<()> {
    imgscope::tui::run_diff(old, new, opts)
}

#[cfg(not(feature = "tui"))]
pub fn run_tui(_: &str, _: &AnalyseOptions) -> anyhow::Result<()> {
    anyhow::bail!("this imgscope was built without the TUI (feature `tui`)")
}

#[cfg(not(feature = "tui"))]
pub fn run_diff_tui(_: &str, _: &str, _: &AnalyseOptions) -> anyhow::Result<()> {
    anyhow::bail!("this imgscope was built without the TUI (feature `tui`)")
}
