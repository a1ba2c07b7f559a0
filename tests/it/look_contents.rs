//! The viewer's library side (`imgscope::look::contents`, `history`) on
//! synthetic images: a capped part read from the layer (plain and
//! compressed archives), text or binary, escaping, cancelling, what a
//! symlink or a hard link leads to, and every version of a path.

use crate::common;

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{docker_archive, gzip, layer, temp_file, E};
use imgscope::load::index::Index;
use imgscope::look::contents::{read_part, read_part_in, target, version, Contents, Kind, PAGE};
use imgscope::look::history::{history, How};
use imgscope::look::{LookError, Stored};
use imgscope::{LoadOptions, LoadProgress, Location};

/// 2.5 MiB of numbered lines: a text larger than two pages.
fn big_text() -> Vec<u8> {
    let mut v = Vec::new();
    let mut i = 0;
    while v.len() < 5 * PAGE as usize / 2 {
        v.extend_from_slice(format!("line {i:07} of the big text\n").as_bytes());
        i += 1;
    }
    v
}

fn binary() -> Vec<u8> {
    (0..70_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

/// Layer 0: a big text, a binary, a text with escape sequences, a config
/// (v1), a symlink to it, a hard link to the binary, a dangling symlink.
/// Layer 1: config v2, the binary moved, a note. Layer 2: config chmodded
/// (same bytes), the note removed.
fn layers() -> Vec<Vec<u8>> {
    vec![
        layer(&[
            E::Dir("data"),
            E::File("data/big.txt", big_text()),
            E::File("data/blob.bin", binary()),
            E::File("data/motd", b"hi \x1b[2J\x1b]0;title\x07 there\n".to_vec()),
            E::Dir("etc"),
            E::File("etc/app.conf", b"port = 8080\nlog = info\n".to_vec()),
            E::Symlink("etc/link.conf", "app.conf"),
            E::Symlink("etc/dangling", "../nowhere"),
            E::HardLink("data/blob.hard", "data/blob.bin"),
        ]),
        layer(&[
            E::File(
                "etc/app.conf",
                b"port = 9090\nlog = info\nworkers = 4\n".to_vec(),
            ),
            E::Dir("moved"),
            E::File("moved/blob.bin", binary()),
            E::Whiteout("data/blob.bin"),
            E::Whiteout("data/blob.hard"),
            E::File("etc/note", b"note\n".to_vec()),
        ]),
        layer(&[
            E::FileMode(
                "etc/app.conf",
                b"port = 9090\nlog = info\nworkers = 4\n".to_vec(),
                0o600,
            ),
            E::Whiteout("etc/note"),
        ]),
    ]
}

struct Image {
    _file: tempfile::NamedTempFile,
    path: String,
    index: Index,
}

fn image_of(bytes: &[u8]) -> Image {
    let file = temp_file(bytes);
    let path = file.path().to_str().unwrap().to_string();
    let index = imgscope::index_only(&path, &LoadOptions::default(), &LoadProgress::default())
        .expect("the image loads");
    Image {
        _file: file,
        path,
        index,
    }
}

fn image() -> Image {
    image_of(&docker_archive(
        &layers(),
        &["ADD", "RUN edit", "RUN chmod"],
    ))
}

fn node(index: &Index, path: &str) -> u32 {
    index
        .find(path.as_bytes())
        .unwrap_or_else(|| panic!("{path}"))
}

fn file_at(index: &Index, path: &str, layer: usize) -> Stored {
    target(index, node(index, path), layer)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .file
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn part(img: &Image, st: &Stored, offset: u64) -> Vec<u8> {
    read_part(
        &img.path,
        &LoadOptions::default(),
        &img.index,
        st,
        offset,
        PAGE,
        &AtomicBool::new(false),
    )
    .expect("reads")
    .expect("not cancelled")
}

/// The first page, then the next, then the rest: the bytes of the file,
/// never more than a page at a time; from a plain and a gzip archive.
#[test]
fn reads_a_page_at_a_time() {
    let text = big_text();
    let plain = docker_archive(&layers(), &[]);
    for img in [image_of(&plain), image_of(&gzip(&plain))] {
        let st = file_at(&img.index, "/data/big.txt", 2);
        assert_eq!(st.size, text.len() as u64);
        let first = part(&img, &st, 0);
        assert_eq!(first.len() as u64, PAGE);
        assert_eq!(first, text[..PAGE as usize]);
        let second = part(&img, &st, PAGE);
        assert_eq!(second, text[PAGE as usize..2 * PAGE as usize]);
        let last = part(&img, &st, 2 * PAGE);
        assert_eq!(last, text[2 * PAGE as usize..]);
        assert!(last.len() < PAGE as usize);

        let mut c = Contents::new(st.size, first);
        assert_eq!(c.kind, Kind::Text);
        assert!(!c.complete());
        let shown = c.rows();
        assert_eq!(c.row(0), "line 0000000 of the big text");
        c.extend(&second);
        c.extend(&last);
        assert!(c.complete());
        assert!(c.rows() > 2 * shown);
        assert_eq!(c.rows(), text.split(|&b| b == b'\n').count() - 1);
        assert_eq!(c.find("line 0090000", 0, true), Some(90_000));
    }
}

#[test]
fn text_binary_and_escapes() {
    let img = image();
    let st = file_at(&img.index, "/data/blob.bin", 0);
    let c = Contents::new(st.size, part(&img, &st, 0));
    assert_eq!(c.kind, Kind::Binary);
    assert!(c.hex);
    assert_eq!(c.bytes, binary());
    assert_eq!(c.rows(), 70_000usize.div_ceil(16));
    for i in 0..c.rows() {
        assert!(!c.row(i).chars().any(|ch| ch.is_control()), "row {i}");
    }

    let st = file_at(&img.index, "/data/motd", 0);
    let c = Contents::new(st.size, part(&img, &st, 0));
    assert_eq!(c.kind, Kind::Text);
    assert_eq!(c.lines, ["hi \\x1b[2J\\x1b]0;title\\x07 there"]);
    let mut c = c;
    c.toggle_hex();
    assert!(c.row(0).starts_with("00000000  68 69 20 1b 5b 32 4a"));
    assert!(!c.row(0).contains('\x1b'));
}

/// A cancelled read stops at its next read of the layer and gives
/// nothing; a flag set before the read reads nothing at all.
#[test]
fn a_cancelled_read_stops_and_gives_nothing() {
    let img = image();
    let st = file_at(&img.index, "/data/big.txt", 2);
    let set = AtomicBool::new(true);
    let r = read_part(
        &img.path,
        &LoadOptions::default(),
        &img.index,
        &st,
        0,
        PAGE,
        &set,
    );
    assert!(matches!(r, Ok(None)), "{r:?}");

    /// A layer blob that sets the flag once `after` bytes were read.
    struct Tripwire<'a> {
        inner: &'a [u8],
        read: usize,
        after: usize,
        flag: &'a AtomicBool,
    }
    impl Read for Tripwire<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n;
            if self.read >= self.after {
                self.flag.store(true, Ordering::Relaxed);
            }
            Ok(n)
        }
    }
    let blob = &layers()[0];
    let flag = AtomicBool::new(false);
    let mut wire = Tripwire {
        inner: blob,
        read: 0,
        after: 300_000,
        flag: &flag,
    };
    let r = read_part_in(&mut wire, &st, &Location::default(), 0, PAGE, &flag);
    assert!(matches!(r, Ok(None)), "{r:?}");
    // It stopped soon after the flag: far from the page it was asked for.
    assert!(wire.read < 300_000 + 512 * 1024, "read {}", wire.read);

    // Not cancelled: the same walk gives the page.
    let flag = AtomicBool::new(false);
    let got = read_part_in(&mut &blob[..], &st, &Location::default(), 0, PAGE, &flag)
        .unwrap()
        .unwrap();
    assert_eq!(got, big_text()[..PAGE as usize]);
}

#[test]
fn symlinks_and_hard_links_lead_to_their_files() {
    let img = image();
    let ix = &img.index;
    let t = target(ix, node(ix, "/etc/link.conf"), 2).unwrap();
    assert_eq!(t.via, ["symlink → app.conf", "which is /etc/app.conf"]);
    let st = t.file.unwrap();
    assert_eq!(st.layer, 2);
    assert_eq!(
        part(&img, &st, 0),
        b"port = 9090\nlog = info\nworkers = 4\n"
    );
    // As of layer 0 the link leads to the first version.
    let st = target(ix, node(ix, "/etc/link.conf"), 0)
        .unwrap()
        .file
        .unwrap();
    assert_eq!(part(&img, &st, 0), b"port = 8080\nlog = info\n");

    let t = target(ix, node(ix, "/data/blob.hard"), 0).unwrap();
    assert_eq!(t.via, ["hard link: shares /data/blob.bin"]);
    assert_eq!(part(&img, &t.file.unwrap(), 0), binary());

    let t = target(ix, node(ix, "/etc/dangling"), 0).unwrap();
    assert_eq!(t.via, ["symlink → ../nowhere"]);
    assert!(matches!(t.file, Err(LookError::NotFound { .. })));

    assert!(matches!(
        target(ix, node(ix, "/etc"), 0),
        Err(LookError::IsDirectory { .. })
    ));
    // Removed at layer 2, by layer 2.
    let e = target(ix, node(ix, "/etc/note"), 2).unwrap_err();
    assert!(matches!(e, LookError::Removed { by: 2, .. }), "{e}");
}

#[test]
fn every_version_of_a_path_and_how_it_was_hidden() {
    let img = image();
    let ix = &img.index;
    let h = history(ix, node(ix, "/etc/app.conf"));
    let seen: Vec<_> = h
        .iter()
        .map(|e| (e.layer, e.size, e.mode, e.hidden.clone(), e.visible))
        .collect();
    assert_eq!(
        seen,
        vec![
            (0, Some(23), 0o644, Some((1, How::Overwritten)), false),
            (1, Some(35), 0o644, Some((2, How::MetadataOnly)), false),
            (2, Some(35), 0o600, None, true),
        ]
    );
    assert_eq!(h[1].hash, h[2].hash);
    assert_ne!(h[0].hash, h[1].hash);
    // A hidden version opens as it was stored.
    let v = version(ix, h[0].inode.unwrap());
    assert_eq!(
        part(&img, &v.file.unwrap(), 0),
        b"port = 8080\nlog = info\n"
    );

    let h = history(ix, node(ix, "/data/blob.bin"));
    assert_eq!(h.len(), 1);
    assert_eq!(
        h[0].hidden,
        Some((
            1,
            How::Moved {
                to: b"/moved/blob.bin".to_vec()
            }
        ))
    );
    let h = history(ix, node(ix, "/etc/note"));
    assert_eq!(h[0].hidden, Some((2, How::Removed { why: None })));
    assert!(!h[0].visible);
    let h = history(ix, node(ix, "/etc/link.conf"));
    assert_eq!(h[0].link.as_deref(), Some(&b"app.conf"[..]));
    assert!(h[0].visible && h[0].inode.is_none());
}

/// The demo image built into the binary (`--demo`) is read again from the
/// bytes in the binary: the viewer works on it as on a file.
#[test]
fn the_built_in_demo_is_read_again() {
    let demo = imgscope::load::DEMO_SOURCE;
    let index = imgscope::index_only(demo, &LoadOptions::default(), &LoadProgress::default())
        .expect("the demo loads");
    let last = index.layers.len() - 1;
    let st = target(&index, node(&index, "/srv/requirements.txt"), last)
        .unwrap()
        .file
        .unwrap();
    let got = read_part(
        demo,
        &LoadOptions::default(),
        &index,
        &st,
        0,
        PAGE,
        &AtomicBool::new(false),
    )
    .unwrap()
    .unwrap();
    let want = std::fs::read(format!(
        "{}/assets/demo/requirements.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(got, want);
}
