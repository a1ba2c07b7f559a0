//! CI: the rules (one table), limits, ignores and baselines, evaluated over
//! a report or a diff.

pub mod checks;
pub mod rules;
