//! Times `Tree::build_with` on every layer of an image, in each mode and
//! sort, and with a substring and a glob filter.
//!
//!   cargo run --release --example tree_build -- IMAGE

use imgscope::view::tree::{hide_kinds, Key, Mode, Sort, Tree, Types};
use imgscope::view::{Columns, PathFilter};
use imgscope::LoadProgress;
use std::time::Instant;

fn main() {
    let image = std::env::args().nth(1).expect("usage: tree_build IMAGE");
    let imgscope::Analysed { index, report, .. } =
        imgscope::analyse(&image, &Default::default(), &LoadProgress::default()).unwrap();
    let kinds = hide_kinds(&report);
    let cols = Columns::new(&index);
    let mut old = None;
    for (mode, sort, text) in [
        (Mode::Merged, Sort::Name, ""),
        (Mode::Merged, Sort::Size, ""),
        (Mode::LayerOnly, Sort::Name, ""),
        (Mode::Merged, Sort::Name, "f00012"),
        (Mode::Merged, Sort::Name, "*/f00012*"),
    ] {
        let filter = PathFilter::parse(text).unwrap();
        let mut ms = Vec::new();
        for layer in 0..index.layers.len() {
            let key = Key {
                layer,
                mode,
                sort,
                types: Types::default(),
                filter: text.into(),
            };
            let t = Instant::now();
            let tree = Tree::build_with(&index, &cols, &kinds, key, filter.as_ref(), old.take());
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            old = Some(tree);
        }
        let mut s = ms.clone();
        s.sort_by(f64::total_cmp);
        println!(
            "{mode:?} {sort:?} {text:?}: median {:.1} ms, max {:.1} ms ({})",
            s[s.len() / 2],
            s[s.len() - 1],
            ms.iter()
                .map(|m| format!("{m:.1}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
}
