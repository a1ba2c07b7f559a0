//! Manifest, index and config parsing, then the whole report, on the image
//! [`imgscope_fuzz::metadata_archive`] builds from the input.
#![no_main]
use imgscope_fuzz::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let archive = metadata_archive(data);
    if let Ok(index) = load_stream(&archive, "fuzz", false) {
        render_all(&index);
    }
});
