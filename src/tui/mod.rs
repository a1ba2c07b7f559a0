//! The interactive TUI (ratatui + crossterm), behind the `tui` feature.
//! (Filled in by the TUI work; see issue "TUI".)

use crate::rules::Rules;
use crate::suggest::SuggestOptions;
use crate::LoadOptions;

/// Open the TUI on IMAGE: it shows progress while the layers are indexed,
/// then becomes interactive. Returns when the user quits.
pub fn run(image: &str, load: &LoadOptions, rules: &Rules, suggest: &SuggestOptions) -> anyhow::Result<()> {
    let _ = (image, load, rules, suggest);
    anyhow::bail!("the TUI is not built yet; use --format text")
}
