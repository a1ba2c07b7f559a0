//! Package databases and manifests (dpkg, apk, rpm's SQLite database and
//! its header blobs, Python RECORD, npm package.json, ld.so.conf, an ELF
//! file): the input stored at one of their paths
//! ([`imgscope_fuzz::packages_archive`]), then the whole report; an input
//! aimed at rpm also goes straight to the database and header parsers.
#![no_main]
use imgscope::analyze::packages::rpm;
use imgscope_fuzz::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&sel, body)) = data.split_first() {
        if PACKAGE_FILES[sel as usize % PACKAGE_FILES.len()].ends_with("rpmdb.sqlite") {
            let _ = rpm::read_db(body);
            let _ = rpm::parse_header(body);
        }
    }
    if let Ok(index) = load_stream(&packages_archive(data), "fuzz", false) {
        render_all(&index);
    }
});
