//! The whole analysis on the image [`imgscope_fuzz::analysis_archive`]
//! builds (an image config whose history commands drive the suggestions,
//! and up to 12 layer blobs): load -> analyze -> suggest -> check -> render
//! (JSON, text, Markdown, GitHub annotations).
#![no_main]
use imgscope_fuzz::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(archive) = analysis_archive(data) else {
        return;
    };
    if let Ok(index) = load_stream(&archive, "fuzz", false) {
        render_all(&index);
    }
});
