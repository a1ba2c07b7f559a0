//! Rendering a report: JSON (the contract) and readable text.

pub mod diff_github;
pub mod diff_markdown;
pub mod diff_text;
pub mod escape;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod packages;
pub mod sarif;
pub mod share_text;
pub mod text;
pub mod verdict;

pub fn human(bytes: u64) -> String {
    humansize::format_size(bytes, humansize::DECIMAL)
}
