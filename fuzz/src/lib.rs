//! Helpers shared by the fuzz targets: splitting one input into parts,
//! wrapping parts into archives, a scratch file per process, and the whole
//! report as the binary renders it.

use std::io::Cursor;
use std::path::PathBuf;

use imgscope::ci::checks::{self, Gate};
use imgscope::load::cache::{CacheMode, CacheOptions};
use imgscope::render::{self, Format};
use imgscope::{Index, LoadOptions};

pub mod wrap;
pub use wrap::*;

/// Load options for fuzzing: no cache (nothing written), verification as
/// asked.
pub fn opts(verify: bool) -> LoadOptions {
    LoadOptions {
        cache: CacheOptions {
            mode: CacheMode::Off,
            ..Default::default()
        },
        verify: Some(verify),
        ..Default::default()
    }
}

/// A scratch file of this process in memory-backed /dev/shm (or the temp
/// folder), holding `data`.
pub fn scratch(name: &str, data: &[u8]) -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let p = dir.join(format!("imgscope-fuzz-{}-{name}", std::process::id()));
    std::fs::write(&p, data).expect("scratch file");
    p
}

/// Load `data` as a stream named `name`.
pub fn load_stream(data: &[u8], name: &str, verify: bool) -> imgscope::Result<Index> {
    imgscope::load_reader(
        Box::new(Cursor::new(data.to_vec())),
        name,
        &opts(verify),
        &imgscope::LoadProgress::default(),
    )
}

/// Analyse, suggest, check and render `index` in every text format the
/// binary writes without a browser (JSON first, returned).
pub fn render_all(index: &Index) -> String {
    let report = match imgscope::analyse_index(index.clone(), &Default::default()) {
        Ok(a) => a.report,
        Err(_) => return String::new(),
    };
    let verdict = checks::evaluate(&report, &Gate::default());
    let json = render::render(&report, &verdict, Format::Json, &Default::default());
    serde_check(&json);
    for f in [Format::Text, Format::Markdown, Format::Github] {
        let out = render::render(&report, &verdict, f, &Default::default());
        // Image data never drives a terminal: no ESC or other C0 control
        // character but newline and tab in the text formats.
        if let Some(c) = out.bytes().find(|&b| b < 0x20 && b != b'\n' && b != b'\t') {
            panic!("{f:?} output holds control byte {c:#04x}");
        }
    }
    json
}

fn serde_check(json: &str) {
    // The JSON report must be one valid document.
    assert!(
        json.trim_start().starts_with('{') && json.trim_end().ends_with('}'),
        "JSON report is not an object"
    );
}
