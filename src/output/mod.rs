//! Rendering a report: JSON (the contract) and readable text.

pub mod json;
pub mod text;

pub fn human(bytes: u64) -> String {
    humansize::format_size(bytes, humansize::DECIMAL)
}
