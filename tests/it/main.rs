//! Every integration test in one binary (linking one test binary instead of
//! one per file is most of a fresh `cargo test` on two cores). One module per
//! area; `cargo test --test it MODULE::` runs one of them.

mod bad_input;
mod base_boundary;
mod base_gcc;
mod ci;
mod ci_formats;
mod ci_images;
mod common;
mod cstorage;
mod diff_images;
mod diff_model;
mod diff_tui;
mod dive_steps;
mod fix_cli;
mod fix_corpus;
mod formats;
mod fuzz_regressions;
mod golden;
mod hostile;
mod html;
mod look;
mod look_contents;
mod model;
mod optional;
mod packages;
mod packages_apps;
mod packages_debian;
mod packages_rpm;
mod real_images;
mod registry;
mod suggest;
mod tui;
mod tui_e2e;
mod tui_viewer;
