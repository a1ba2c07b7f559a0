//! CI: rules, limits, ignores and baselines, evaluated over a report.

pub mod checks;
pub mod growth;
