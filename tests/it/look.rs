//! `imgscope cat` and `imgscope ls` on synthetic images: every byte `cat`
//! writes is compared with the entry extracted independently from the
//! layer tar with the `tar` crate; every row `ls` writes with the tars and
//! with the index.

use crate::common;

use std::collections::BTreeSet;
use std::io::Read;

use common::{docker_archive, gzip, imgscope, layer, temp_file, E};

/// The bytes of the regular-file entry at `path` in a layer tar (the last
/// one when stored twice), read with the `tar` crate alone.
fn extract(layer_tar: &[u8], path: &str) -> Vec<u8> {
    let mut found = None;
    let mut a = tar::Archive::new(layer_tar);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let p = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        if p.trim_start_matches("./").trim_end_matches('/') == path
            && e.header().entry_type() == tar::EntryType::Regular
        {
            let mut v = Vec::new();
            e.read_to_end(&mut v).unwrap();
            found = Some(v);
        }
    }
    found.unwrap_or_else(|| panic!("{path} not in the layer"))
}

fn binary() -> Vec<u8> {
    // Every byte value, escape sequences and NULs included, 600 KB.
    (0..600_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

/// Three layers: v1 of a text file, a binary, a hard link, a file under a
/// symlinked directory, a directory later removed and one made opaque; then
/// v2 of the text file, the removals; then v3.
fn layers() -> Vec<Vec<u8>> {
    vec![
        layer(&[
            E::Dir("etc"),
            E::File("etc/hello.txt", b"hello v1\n".to_vec()),
            E::Dir("data"),
            E::File("data/blob.bin", binary()),
            E::Dir("usr"),
            E::FileMode("usr/a", b"shared bytes\n".to_vec(), 0o755),
            E::HardLink("usr/b", "usr/a"),
            E::Dir("opt"),
            E::Dir("opt/real"),
            E::File("opt/real/f.txt", b"under a symlinked directory\n".to_vec()),
            E::Symlink("opt/link", "real"),
            E::Symlink("abs", "/opt/link/f.txt"),
            E::Dir("gone"),
            E::File("gone/x.txt", b"x\n".to_vec()),
            E::Dir("hid"),
            E::File("hid/y.txt", b"y\n".to_vec()),
            E::RawPath(b"odd\xffname,\"q\"".to_vec(), b"odd\n".to_vec()),
        ]),
        layer(&[
            E::File("etc/hello.txt", b"hello v2, \x1b[31mred\x1b[0m\n".to_vec()),
            E::Whiteout("gone"),
            E::Opaque("hid"),
        ]),
        layer(&[E::File("etc/hello.txt", b"hello v3\n".to_vec())]),
    ]
}

struct Image {
    layers: Vec<Vec<u8>>,
    file: tempfile::NamedTempFile,
}

fn image() -> Image {
    let layers = layers();
    let cmds = ["ADD a /", "RUN b", "RUN c"];
    let file = temp_file(&docker_archive(&layers, &cmds));
    Image { layers, file }
}

fn path(i: &Image) -> &str {
    i.file.path().to_str().unwrap()
}

fn cat(args: &[&str]) -> std::process::Output {
    imgscope().arg("cat").args(args).output().unwrap()
}

fn ok(o: &std::process::Output) -> Vec<u8> {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout.clone()
}

/// Exit 2, nothing on standard output, one line on standard error that
/// holds `want`.
fn refused(o: &std::process::Output, want: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(o.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(want), "{err:?} lacks {want:?}");
}

#[test]
fn cat_writes_the_bytes_the_layer_tar_holds() {
    let img = image();
    let p = path(&img);
    let l = &img.layers;
    assert_eq!(
        ok(&cat(&[p, "/etc/hello.txt"])),
        extract(&l[2], "etc/hello.txt")
    );
    assert_eq!(
        ok(&cat(&[p, "etc/hello.txt"])),
        extract(&l[2], "etc/hello.txt")
    );
    // Hidden versions, each as the layer that stored it.
    assert_eq!(
        ok(&cat(&[p, "etc/hello.txt", "--layer", "1"])),
        extract(&l[1], "etc/hello.txt")
    );
    assert_eq!(
        ok(&cat(&[p, "etc/hello.txt", "--layer", "0"])),
        extract(&l[0], "etc/hello.txt")
    );
    // A binary, every byte value in it.
    assert_eq!(
        ok(&cat(&[p, "data/blob.bin"])),
        extract(&l[0], "data/blob.bin")
    );
    // A hard link: the bytes of the file it shares.
    assert_eq!(ok(&cat(&[p, "usr/b"])), extract(&l[0], "usr/a"));
    // Under a symlinked directory, and through an absolute symlink.
    assert_eq!(
        ok(&cat(&[p, "opt/link/f.txt"])),
        extract(&l[0], "opt/real/f.txt")
    );
    assert_eq!(ok(&cat(&[p, "/abs"])), extract(&l[0], "opt/real/f.txt"));
    // A file removed later, as of the layer that still had it.
    assert_eq!(
        ok(&cat(&[p, "gone/x.txt", "--layer", "0"])),
        extract(&l[0], "gone/x.txt")
    );
}

#[test]
fn cat_reads_gzip_archives_and_layers() {
    let plain = layers();
    let gzipped: Vec<Vec<u8>> = plain.iter().map(|l| gzip(l)).collect();
    let archive = docker_archive(&gzipped, &["a", "b", "c"]);
    // Gzip layers in a plain archive, then the whole archive gzipped.
    let f = temp_file(&archive);
    let p = f.path().to_str().unwrap();
    assert_eq!(
        ok(&cat(&[p, "data/blob.bin"])),
        extract(&plain[0], "data/blob.bin")
    );
    let gz = temp_file(&gzip(&archive));
    let p = gz.path().to_str().unwrap();
    assert_eq!(
        ok(&cat(&[p, "etc/hello.txt", "--layer", "1"])),
        extract(&plain[1], "etc/hello.txt")
    );
}

#[test]
fn cat_from_standard_input() {
    let layers = layers();
    let archive = docker_archive(&layers, &["a", "b", "c"]);
    let run = |args: &[&str]| {
        imgscope()
            .arg("cat")
            .arg("-")
            .args(args)
            .write_stdin(archive.clone())
            .output()
            .unwrap()
    };
    assert_eq!(
        ok(&run(&["/etc/hello.txt"])),
        extract(&layers[2], "etc/hello.txt")
    );
    assert_eq!(
        ok(&run(&["etc/hello.txt", "--layer", "1"])),
        extract(&layers[1], "etc/hello.txt")
    );
    assert_eq!(
        ok(&run(&["data/blob.bin"])),
        extract(&layers[0], "data/blob.bin")
    );
    // Read once: a link's bytes are only kept under the path that stores them.
    refused(&run(&["usr/b"]), "stored at /usr/a");
}

#[test]
fn cat_refuses_what_has_no_bytes_in_one_line() {
    let img = image();
    let p = path(&img);
    refused(&cat(&[p, "nope"]), "/nope: no such path as of layer 2");
    refused(&cat(&[p, "etc"]), "/etc: is a directory");
    refused(&cat(&[p, "/"]), "is a directory");
    refused(
        &cat(&[p, "gone/x.txt"]),
        "hidden by layer 1, which removed its directory /gone",
    );
    refused(&cat(&[p, "gone"]), "/gone: removed by layer 1");
    refused(
        &cat(&[p, "hid/y.txt"]),
        "removed by layer 1 (an opaque directory)",
    );
    refused(
        &cat(&[p, "etc/hello.txt", "--layer", "3"]),
        "--layer 3: the image has 3 layers",
    );
    refused(&cat(&[p, "etc/hello.txt/x"]), "not a directory");
    refused(
        &cat(&["/nonexistent/image.tar", "x"]),
        "/nonexistent/image.tar",
    );
}

/// `ls --format json` rows, one object per line.
fn ls_json(p: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let o = imgscope()
        .args(["ls", p, "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let out = ok(&o);
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn row<'a>(rows: &'a [serde_json::Value], path: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["path"] == path)
        .unwrap_or_else(|| panic!("{path} not listed"))
}

#[test]
fn ls_json_lists_exactly_the_index_and_the_tars() {
    let img = image();
    let p = path(&img);
    let rows = ls_json(p, &[]);
    // Exactly the paths the index holds as present, each once.
    let index = imgscope::load(p, &Default::default(), &Default::default()).unwrap();
    let present: BTreeSet<Vec<u8>> = index
        .node_ids()
        .skip(1)
        .filter(|&id| index.visible(id))
        .map(|id| index.path(id))
        .collect();
    assert_eq!(rows.len(), present.len());
    let listed: BTreeSet<Vec<u8>> = rows
        .iter()
        .map(|r| match &r["path"] {
            serde_json::Value::String(s) => s.as_bytes().to_vec(),
            o => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(o["bytes_base64"].as_str().unwrap())
                    .unwrap()
            }
        })
        .collect();
    assert_eq!(listed, present);
    assert!(listed.contains(b"/odd\xffname,\"q\"".as_slice()));
    // A sample against the tars.
    let hello = row(&rows, "/etc/hello.txt");
    assert_eq!(
        hello["size"],
        extract(&img.layers[2], "etc/hello.txt").len()
    );
    assert_eq!(hello["layer"], 2);
    assert_eq!(hello["change"], "modified");
    assert_eq!(hello["type"], "file");
    assert_eq!(hello["mode"], "0644");
    let b = row(&rows, "/usr/b");
    assert_eq!(b["type"], "hardlink");
    assert_eq!(b["link"], "/usr/a");
    assert_eq!(b["size"], extract(&img.layers[0], "usr/a").len());
    assert_eq!(row(&rows, "/usr/a")["mode"], "0755");
    assert_eq!(row(&rows, "/opt/link")["link"], "real");
    assert_eq!(row(&rows, "/opt/link")["type"], "symlink");
    assert_eq!(row(&rows, "/data/blob.bin")["size"], binary().len());
    assert!(rows
        .iter()
        .all(|r| r["path"] != "/gone" && r["path"] != "/hid/y.txt"));
    // As of layer 0: the removed paths are there.
    let rows0 = ls_json(p, &["--layer", "0"]);
    assert_eq!(row(&rows0, "/gone/x.txt")["change"], "added");
    assert_eq!(row(&rows0, "/etc/hello.txt")["size"], 9);
}

#[test]
fn ls_changes_lists_one_layer_with_removals() {
    let img = image();
    let p = path(&img);
    let rows = ls_json(p, &["--layer", "1", "--changes"]);
    let mut got: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["change"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let want: Vec<(String, String)> = [
        ("/etc/hello.txt", "modified"),
        ("/gone", "removed"),
        ("/gone/x.txt", "removed"),
        ("/hid/y.txt", "removed"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    // The opaque directory itself may be listed as re-stored; nothing else.
    let got: Vec<_> = got.into_iter().filter(|(p, _)| p != "/hid").collect();
    assert_eq!(got, want);
}

#[test]
fn ls_text_and_csv_escape_names() {
    let img = image();
    let p = path(&img);
    let text = ok(&imgscope().args(["ls", p]).output().unwrap());
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("/odd\\xffname,\"q\""), "{text}");
    assert!(text.contains("/opt/link -> real"), "{text}");
    assert!(text.contains("/usr/b => /usr/a"), "{text}");
    let line = text.lines().find(|l| l.ends_with("/usr/a")).unwrap();
    assert!(line.starts_with("-rwxr-xr-x "), "{line}");
    let csv = ok(&imgscope()
        .args(["ls", p, "--format", "csv"])
        .output()
        .unwrap());
    let csv = String::from_utf8(csv).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("path,type,size,mode,uid,gid,link,change,layer")
    );
    assert!(
        csv.contains("\"/odd\\xffname,\"\"q\"\"\",file,4,0644,0,0,,added,0\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + ls_json(p, &[]).len());
    refused(
        &imgscope().args(["ls", p, "--layer", "9"]).output().unwrap(),
        "--layer 9",
    );
}

#[test]
fn cat_from_an_oci_directory_reads_its_blob() {
    let dir = common::root().join("tests/images/cleanup-later.ocidir");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let blob = |d: &str| {
        std::fs::read(
            dir.join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
        )
        .unwrap()
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(&blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap();
    let layer1 = blob(manifest["layers"][1]["digest"].as_str().unwrap());
    let mut tar_bytes = Vec::new();
    if layer1.starts_with(&[0x1f, 0x8b]) {
        flate2::read::GzDecoder::new(&layer1[..])
            .read_to_end(&mut tar_bytes)
            .unwrap();
    } else {
        tar_bytes = layer1;
    }
    let p = dir.to_str().unwrap();
    let got = ok(&cat(&[p, "/data/big.bin", "--layer", "1"]));
    assert_eq!(got.len(), 300_000);
    assert_eq!(got, extract(&tar_bytes, "data/big.bin"));
    refused(&cat(&[p, "/data/big.bin"]), "removed by layer 2");
}
