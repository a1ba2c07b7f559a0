//! Test images written in memory: layers of tar entries in a docker archive,
//! loaded and analysed as users' images are.

use crate::load::index::Index;
use crate::suggest::Report;

/// One tar entry (paths relative, no leading `/`).
pub enum E {
    File(&'static str, &'static [u8]),
    /// A file with a mode other than 0644.
    FileMode(&'static str, &'static [u8], u32),
    Dir(&'static str),
    /// `.wh.NAME` beside it: the path is removed.
    Whiteout(&'static str),
    Char(&'static str),
    Block(&'static str),
    Fifo(&'static str),
}

fn append(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8], kind: tar::EntryType, mode: u32) {
    let mut h = tar::Header::new_gnu();
    h.set_path(path).unwrap();
    h.set_size(data.len() as u64);
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

fn layer(entries: &[E]) -> Vec<u8> {
    use tar::EntryType as T;
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match *e {
            E::File(p, d) => append(&mut b, p, d, T::Regular, 0o644),
            E::FileMode(p, d, m) => append(&mut b, p, d, T::Regular, m),
            E::Dir(p) => append(&mut b, &format!("{p}/"), &[], T::Directory, 0o755),
            E::Whiteout(p) => {
                let (dir, name) = p.rsplit_once('/').map_or(("", p), |(d, n)| (d, n));
                let wh = if dir.is_empty() {
                    format!(".wh.{name}")
                } else {
                    format!("{dir}/.wh.{name}")
                };
                append(&mut b, &wh, &[], T::Regular, 0o644);
            }
            E::Char(p) => append(&mut b, p, &[], T::Char, 0o666),
            E::Block(p) => append(&mut b, p, &[], T::Block, 0o660),
            E::Fifo(p) => append(&mut b, p, &[], T::Fifo, 0o644),
        }
    }
    b.into_inner().unwrap()
}

/// Load a docker archive of these layers (one `RUN layer N` history entry
/// each) and analyse it with the built-in rules.
pub fn image(layers: &[&[E]]) -> (Index, Report) {
    let mut b = tar::Builder::new(Vec::new());
    let mut names = Vec::new();
    let mut history = Vec::new();
    let mut diff_ids = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let name = format!("layer{i}/layer.tar");
        append(&mut b, &name, &layer(l), tar::EntryType::Regular, 0o644);
        names.push(format!("\"{name}\""));
        history.push(format!("{{\"created_by\":\"RUN layer {i}\"}}"));
        diff_ids.push(format!("\"sha256:{:x}\"", {
            use sha2::Digest;
            sha2::Sha256::digest(layer(l))
        }));
    }
    let config = format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{}]}},\"history\":[{}]}}",
        diff_ids.join(","),
        history.join(",")
    );
    append(
        &mut b,
        "config.json",
        config.as_bytes(),
        tar::EntryType::Regular,
        0o644,
    );
    let manifest = format!(
        "[{{\"Config\":\"config.json\",\"RepoTags\":[\"t:1\"],\"Layers\":[{}]}}]",
        names.join(",")
    );
    append(
        &mut b,
        "manifest.json",
        manifest.as_bytes(),
        tar::EntryType::Regular,
        0o644,
    );
    let bytes = b.into_inner().unwrap();
    let index = crate::load_reader(
        Box::new(std::io::Cursor::new(bytes)),
        "test.tar",
        &Default::default(),
        &Default::default(),
    )
    .expect("the test image loads");
    let a = crate::analyse_index(index, &Default::default()).expect("the test image has a report");
    (a.index, a.report)
}

/// Three layers: a base; a layer that modifies, adds and removes; a layer
/// that moves a file (rm + the same bytes elsewhere) and chmods another.
pub fn three_layers() -> (Index, Report) {
    image(&[
        &[
            E::Dir("bin"),
            E::File("bin/sh", b"#!sh"),
            E::File("bin/x", b"xx"),
            E::Dir("etc"),
            E::File("etc/a", b"aaaa"),
            E::Dir("usr"),
            E::Dir("usr/lib"),
            E::File("usr/lib/big", b"0123456789"),
        ],
        &[
            E::File("etc/a", b"AAAAAA"),
            E::File("etc/b", b"b"),
            E::Whiteout("bin/x"),
        ],
        &[
            E::Whiteout("usr/lib/big"),
            E::Dir("opt"),
            E::File("opt/big", b"0123456789"),
            E::FileMode("etc/b", b"b", 0o600),
        ],
    ])
}
