//! Rendering a report: JSON (the contract) and readable text.

pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;
pub mod verdict;

pub fn human(bytes: u64) -> String {
    humansize::format_size(bytes, humansize::DECIMAL)
}
