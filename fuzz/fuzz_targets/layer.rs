//! One layer blob (tar, gzip, zstd, eStargz), indexed as a stream and, as an
//! uncompressed layer of a seekable archive is, from a file by positional
//! reads; the two must agree on the entries and the digests.
#![no_main]
use std::io::Cursor;
use std::sync::Arc;

use imgscope::load::layer::{self, LayerIndex};
use imgscope::load::plain;
use imgscope::Location;
use imgscope_fuzz::*;
use libfuzzer_sys::fuzz_target;

fn key(ix: &LayerIndex) -> Vec<String> {
    let mut v: Vec<String> = ix
        .entries
        .iter()
        .map(|e| {
            format!(
                "{:?} {:?} {} {:o} {:?} {:x}",
                ix.path(e),
                e.kind,
                e.size,
                e.mode,
                ix.link(e),
                e.hash()
            )
        })
        .collect();
    v.push(format!("{:?}", ix.digests));
    v
}

fuzz_target!(|data: &[u8]| {
    let loc = Location::source("fuzz");
    let streamed = layer::index_layer(Cursor::new(data), &loc, Arc::new(Default::default()), true);
    let path = scratch("layer", data);
    let file = std::fs::File::open(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let seeked = plain::index_layer_at(
        &file,
        0,
        data.len() as u64,
        &loc,
        Arc::new(Default::default()),
        true,
    );
    match (&streamed, &seeked) {
        (Ok(a), Ok(b)) => assert_eq!(key(a), key(b), "stream and file index differ"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!(
            "stream and file disagree: stream {:?}, file {:?}",
            a.as_ref().err().map(|e| e.to_string()),
            b.as_ref().err().map(|e| e.to_string())
        ),
    }
});
