//! The outer archive (docker-archive or OCI tar, plain or compressed as a
//! whole): read as a stream and from a file (seeking), the two must agree,
//! and an accepted image is analysed and rendered.
#![no_main]
use imgscope_fuzz::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scratch("archive", data);
    let name = path.to_str().unwrap().to_string();
    let streamed = load_stream(data, &name, false);
    let seeked = imgscope::load(&name, &opts(false), &imgscope::LoadProgress::default());
    let _ = std::fs::remove_file(&path);
    match (&streamed, &seeked) {
        (Ok(a), Ok(b)) => {
            let (ja, jb) = (render_all(a), render_all(b));
            assert!(ja == jb, "stream and file reports differ");
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!(
            "stream and file disagree: stream {:?}, file {:?}",
            a.as_ref().err().map(|e| e.to_string()),
            b.as_ref().err().map(|e| e.to_string())
        ),
    }
});
