//! Hostile images: archives written by this test code the way an attacker
//! (or a broken tool) would. Each case runs the real binary and asserts its
//! outcome — exit 2 with one line naming what is wrong, or a warning and a
//! correct analysis — and that it took under 10 s and peaked under 500 MB of
//! resident memory (measured with wait4's rusage of the child, an upper
//! bound: it also counts the forked copy of this test process before exec,
//! so the tests keep their own buffers small).

use crate::common;
use common::*;

use std::io::Write;

/// The report's findings, sorted.
fn waste(v: &serde_json::Value) -> Vec<Finding> {
    let mut w = json_findings(v);
    w.sort();
    w
}

fn warned(v: &serde_json::Value, layer: u64, path: &str) -> bool {
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["layer"].as_u64() == Some(layer) && w["path"].as_str() == Some(path))
}

fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
        .collect()
}

// ------------------------------------------------ paths stored twice in a layer

#[test]
fn a_path_stored_twice_in_one_layer() {
    // `tar cf l.tar f; chmod 755 f; tar rf l.tar f`, in two later layers.
    let f = data(1000, 1);
    let twice = layer(&[
        E::FileMode("f", f.clone(), 0o644),
        E::FileMode("f", f.clone(), 0o755),
    ]);
    let base = layer(&[E::File("g", data(10, 2))]);
    let img = docker_archive(
        &[base, twice.clone(), twice],
        &["/bin/sh -c one", "/bin/sh -c two", "/bin/sh -c three"],
    );
    for o in [run_file(&img), run_stdin(&img)] {
        let v = o.report();
        assert_eq!(
            waste(&v),
            [
                ("/f".into(), "metadata_only", 1000, 1, Some(1)),
                ("/f".into(), "metadata_only", 1000, 1, Some(2)),
                ("/f".into(), "metadata_only", 1000, 2, Some(2)),
            ]
        );
        assert_eq!(v["summary"]["visible_bytes"], 1010);
        assert!(
            warned(&v, 1, "/f") && warned(&v, 2, "/f"),
            "{}",
            v["warnings"]
        );
    }
}

#[test]
fn a_changed_path_stored_twice_is_overwritten() {
    let l = layer(&[E::File("a/f", data(300, 1)), E::File("a/f", data(200, 9))]);
    let v = run_file(&docker_archive(&[l], &[])).report();
    assert_eq!(waste(&v), [("/a/f".into(), "overwritten", 300, 0, Some(0))]);
    assert_eq!(v["summary"]["visible_bytes"], 200);
    assert!(warned(&v, 0, "/a/f"));
}

#[test]
fn a_hard_link_stored_over_a_file_of_the_same_layer() {
    // Both orders: the link after the file it replaces, and before.
    let a = layer(&[
        E::File("x", data(500, 3)),
        E::File("y", data(700, 4)),
        E::HardLink("y", "x"),
    ]);
    let b = layer(&[
        E::File("x", data(500, 3)),
        E::HardLink("y", "x"),
        E::File("y", data(700, 4)),
    ]);
    let base = layer(&[E::File("g", data(10, 2))]);
    let img = docker_archive(&[base.clone(), a], &["/bin/sh -c a", "/bin/sh -c b"]);
    let v = run_file(&img).report();
    assert_eq!(waste(&v), [("/y".into(), "overwritten", 700, 1, Some(1))]);
    assert_eq!(v["summary"]["visible_bytes"], 510);
    assert!(warned(&v, 1, "/y"));
    let img = docker_archive(&[base, b], &["/bin/sh -c a", "/bin/sh -c b"]);
    let v = run_file(&img).report();
    // The link's name is replaced by a file: x keeps its name, nothing hidden.
    assert_eq!(waste(&v), []);
    assert_eq!(v["summary"]["visible_bytes"], 1210);
    assert!(warned(&v, 1, "/y"));
}

#[test]
fn directories_replaced_by_files_and_back_in_one_layer() {
    let l = layer(&[
        E::File("d/inner", data(100, 1)),
        E::File("d", data(50, 2)),
        E::Dir("d"),
        E::File("d/inner", data(30, 3)),
    ]);
    let v = run_file(&docker_archive(&[l], &[])).report();
    assert_eq!(
        waste(&v),
        [
            ("/d".into(), "overwritten", 50, 0, Some(0)),
            // Removed with its directory, then stored again by the same
            // layer: a replacement, as for a whiteout followed by the path.
            ("/d/inner".into(), "overwritten", 100, 0, Some(0)),
        ]
    );
    assert_eq!(v["summary"]["visible_bytes"], 30);
    assert!(warned(&v, 0, "/d"));
}

#[test]
fn whiteout_oddities() {
    // A whiteout of a path no layer holds, a whiteout and a file of the same
    // name in one layer, an opaque marker inside a file (it implies a
    // directory there, which replaces the file), a bare `.wh.` (skipped).
    let l0 = layer(&[E::File("keep", data(10, 1)), E::File("f", data(20, 2))]);
    let l1 = layer(&[
        E::Whiteout("never"),
        E::Whiteout("f"),
        E::File("f", data(20, 2)),
        E::Opaque("keep"),
        E::RawPath(b".wh.".to_vec(), vec![]),
    ]);
    let v = run_file(&docker_archive(&[l0, l1], &[])).report();
    assert_eq!(
        waste(&v),
        [
            ("/f".into(), "metadata_only", 20, 0, Some(1)),
            ("/keep".into(), "overwritten", 10, 0, Some(1)),
        ]
    );
    assert!(warned(&v, 1, "/never"), "{}", v["warnings"]);
    assert_eq!(v["summary"]["visible_bytes"], 20);
}

// ------------------------------------------------------------ path traversal

#[test]
fn path_traversal_is_rejected() {
    for raw in [&b"../../etc/passwd"[..], b"a/../../x", b"./.."] {
        let l = layer(&[E::RawPath(raw.to_vec(), b"x".to_vec())]);
        run_file(&docker_archive(&[l], &[])).rejected("contains '..'");
    }
    // Absolute paths are taken as inside the image.
    let l = layer(&[E::RawPath(b"/etc/x".to_vec(), b"x".to_vec())]);
    let v = run_file(&docker_archive(&[l], &[])).report();
    assert_eq!(v["summary"]["file_count"], 1);
}

// ------------------------------------------------------------ output hygiene

#[test]
fn image_data_never_drives_the_terminal() {
    let evil_name = "etc/\x1b]0;owned\x07\x1b[2J\x1b[31mred\nFAKE LINE\u{202e}gpj.exe";
    let l0 = layer(&[
        E::File(evil_name, data(100, 1)),
        E::File("keep", data(5, 1)),
    ]);
    let l1 = layer(&[E::Whiteout(evil_name)]);
    let cmd = "/bin/sh -c echo \x1b[41mPWNED\x1b[0m\x1b]2;title\x07\nsecond line";
    let img = docker_archive(&[l0, l1], &[cmd, cmd]);
    let f = temp_file(&img);
    let p = f.path().to_str().unwrap();
    for format in ["text", "markdown", "github"] {
        for args in [
            vec!["--ci", "--format", format, p],
            vec!["--format", format, p],
        ] {
            let o = run_bounded(&args, None);
            assert!(o.code == 0 || o.code == 1, "{}", o.stderr);
            let out = o.stdout;
            assert!(
                !out.contains('\x1b') && !out.contains('\x07'),
                "{format}: raw control characters:\n{out}"
            );
            assert!(!out.contains('\u{202e}'), "{format}: a bidi override");
            assert!(
                !out.lines().any(|l| l.starts_with("FAKE LINE")),
                "{format}: a forged line"
            );
            if format == "text" {
                assert!(
                    out.contains("\\x1b[31mred\\nFAKE LINE\\u{202e}gpj.exe"),
                    "{format}: {out}"
                );
            } else {
                assert!(
                    out.contains("\\x1b") && out.contains("FAKE LINE"),
                    "{format}: {out}"
                );
            }
        }
    }
    // JSON keeps the exact bytes.
    let v = run_bounded(&["--format", "json", p], None).report();
    assert_eq!(v["waste"][0]["path"], format!("/{evil_name}"));
    assert_eq!(v["layers"][0]["created_by"], cmd);
}

#[test]
fn an_archive_or_a_layer_cut_inside_its_padding_is_refused_both_ways() {
    // The last entry's content is all there but its padding to 512 bytes is
    // cut. Found by the layer fuzz target (a file accepted it, seeking past
    // the end; a stream refused it), then checked for the outer archive:
    // now a file and a stream refuse both alike.
    let l = layer(&[E::File("f", data(71, 1))]);
    let img = docker_archive(&[l[..512 + 71].to_vec()], &[]);
    run_file(&img).rejected("truncated");
    run_stdin(&img).rejected("unexpected EOF");
    let img = docker_archive(&[l], &[]);
    // manifest.json is the archive's last member: cut right after its text.
    let tag = img
        .windows(18)
        .position(|w| w == b"\"synthetic:latest\"")
        .unwrap();
    let end = tag + img[tag..].windows(3).position(|w| w == b"]}]").unwrap() + 3;
    let cut = &img[..end];
    run_file(cut).rejected("truncated archive");
    run_stdin(cut).rejected("unexpected EOF");
}

#[test]
fn an_error_naming_an_entry_stays_one_line() {
    let l = layer(&[E::RawPath(b"a\nb/../../\x1b[2Jx".to_vec(), b"x".to_vec())]);
    let o = run_file(&docker_archive(&[l], &[]));
    o.rejected("contains '..'");
    assert!(!o.stderr.contains('\x1b'), "{:?}", o.stderr);
    assert!(o.stderr.contains("a\\nb/"), "{:?}", o.stderr);
}

// ------------------------------------------------------------ helpers for raw tars

/// A raw 512-byte header with `typ`, `size` and a name; checksum set.
fn raw_header(name: &[u8], typ: u8, size: u64) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    let s = format!("{size:011o}\0");
    if s.len() == 12 {
        h[124..136].copy_from_slice(s.as_bytes());
    } else {
        // base-256
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = typ;
    h[257..263].copy_from_slice(b"ustar ");
    h[263..265].copy_from_slice(b" \0");
    finish_header(&mut h);
    h
}

fn finish_header(h: &mut [u8; 512]) {
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

fn pad(v: &mut Vec<u8>) {
    while v.len() % 512 != 0 {
        v.push(0);
    }
}

/// A one-entry-plus layer: `pre` raw bytes (special headers), then a file.
fn layer_with_prefix(pre: &[u8]) -> Vec<u8> {
    let mut v = pre.to_vec();
    pad(&mut v);
    v.extend(layer(&[E::File("after", data(10, 1))]));
    v
}

// ------------------------------------------------------------ tar size claims

#[test]
fn huge_pax_and_long_name_claims_are_refused_before_reading() {
    // 1.5 GB PAX header and GNU long name, with only a few bytes present:
    // refused from the header, never buffered.
    for (typ, want) in [
        (b'x', "PAX header of 1500000000 bytes"),
        (b'L', "GNU long name of 1500000000 bytes"),
        (b'K', "GNU long link"),
    ] {
        let mut pre = raw_header(b"././@LongLink", typ, 1_500_000_000).to_vec();
        pre.extend(vec![b'a'; 4096]);
        // Inside a layer…
        let img = docker_archive(&[layer_with_prefix(&pre)], &[]);
        let o = run_file(&img);
        o.rejected(want);
        assert!(o.stderr.len() < 1000, "{}", o.stderr.len());
        run_stdin(&img).rejected(want);
        // …and as the outer archive itself.
        let mut outer = pre.clone();
        pad(&mut outer);
        outer.extend(docker_archive(&[layer(&[])], &[]));
        run_file(&outer).rejected(want);
        run_stdin(&gzip(&outer)).rejected(want);
    }
}

#[test]
fn malformed_pax_records_and_absurd_pax_sizes_are_refused() {
    for (rec, want) in [
        (&b"garbage without a length\n"[..], "malformed PAX record"),
        (b"99 path=x\n", "malformed PAX record"),
        (b"29 size=99999999999999999999\n", "is not a size"),
        (b"11 size=-5\n", "is not a size"),
    ] {
        // A local or a global header, in a layer or in the outer archive:
        // refused from a file (which seeks over contents) as from a stream.
        for typ in [b'x', b'g'] {
            let mut pre = raw_header(b"PaxHeaders/f", typ, rec.len() as u64).to_vec();
            pre.extend_from_slice(rec);
            let img = docker_archive(&[layer_with_prefix(&pre)], &[]);
            run_file(&img).rejected(want);
            run_stdin(&img).rejected(want);
            let mut outer = pre.clone();
            pad(&mut outer);
            outer.extend(docker_archive(&[layer(&[])], &[]));
            run_file(&outer).rejected(want);
            run_stdin(&outer).rejected(want);
        }
    }
    // A well-formed PAX path is honoured.
    let rec = b"26 path=pax/long/name.txt\n";
    let mut pre = raw_header(b"PaxHeaders/f", b'x', rec.len() as u64).to_vec();
    pre.extend_from_slice(rec);
    pad(&mut pre);
    pre.extend(raw_header(b"short", b'0', 3));
    pre.extend(b"abc");
    pad(&mut pre);
    pre.extend([0u8; 1024]);
    let v = run_file(&docker_archive(&[pre], &[])).report();
    assert_eq!(v["summary"]["visible_bytes"], 3);
    assert_eq!(v["summary"]["file_count"], 1);
}

#[test]
fn a_sparse_file_declaring_a_petabyte_is_refused() {
    let mut h = raw_header(b"sparse", b'S', 512);
    h[257..265].copy_from_slice(b"ustar  \0");
    // Regions at 386: (offset 0, 512 bytes), (offset 1 PB, 0 bytes).
    h[386..398].copy_from_slice(b"00000000000\0");
    h[398..410].copy_from_slice(b"00000001000\0");
    let pb: u64 = 1 << 50;
    let b256 = |v: u64| {
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[4..].copy_from_slice(&v.to_be_bytes());
        f
    };
    h[410..422].copy_from_slice(&b256(pb));
    h[422..434].copy_from_slice(b"00000000000\0");
    h[483..495].copy_from_slice(&b256(pb));
    finish_header(&mut h);
    let mut l = h.to_vec();
    l.extend(vec![7u8; 512]);
    l.extend([0u8; 1024]);
    let img = docker_archive(&[l], &[]);
    run_file(&img).rejected("sparse file of 1125899906842624 bytes");
    run_stdin(&img).rejected("sparse file of 1125899906842624 bytes");
}

// ------------------------------------------------------------ OCI layouts

fn mkfifo(p: &std::path::Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

fn replace_with(p: &std::path::Path, what: &str) {
    std::fs::remove_file(p).unwrap();
    match what {
        "fifo" => mkfifo(p),
        "dev" => {
            // A character device node (as root), else a link to one.
            let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
            let dev = libc::makedev(1, 5);
            if unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o644, dev) } != 0 {
                std::os::unix::fs::symlink("/dev/zero", p).unwrap()
            }
        }
        "outside" => std::os::unix::fs::symlink("/etc/hostname", p).unwrap(),
        "socket" => {
            let _ = std::os::unix::net::UnixListener::bind(p).unwrap();
        }
        _ => unreachable!(),
    }
}

#[test]
fn only_regular_files_are_opened_in_an_oci_directory() {
    let l = layer(&[E::File("f", data(100, 1))]);
    let d = oci_dir(std::slice::from_ref(&l));
    let v = run_bounded(&["--format", "json", d.path().to_str().unwrap()], None).report();
    assert_eq!(v["summary"]["total_bytes"], 100);
    let blob = format!("blobs/sha256/{}", sha256_hex(&l));
    for member in ["index.json", blob.as_str()] {
        for what in ["fifo", "dev", "outside", "socket"] {
            let d = oci_dir(std::slice::from_ref(&l));
            replace_with(&d.path().join(member), what);
            let o = run_bounded(&["--format", "json", d.path().to_str().unwrap()], None);
            let p = d.path().join(member);
            let want = if std::fs::symlink_metadata(&p)
                .unwrap()
                .file_type()
                .is_symlink()
            {
                "out of the image directory"
            } else {
                "not a regular file"
            };
            o.rejected(want);
        }
    }
}

#[test]
fn nested_indexes_fanning_out_are_bounded() {
    // Seven levels of indexes, each listing the next ten times: 10^7 paths.
    let l = layer(&[E::File("f", data(100, 1))]);
    let mut members = oci_members(&[l]);
    let top_index = members[1].1.clone();
    let mut child = top_index;
    for _ in 0..7 {
        let d = format!(
            "{{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"sha256:{}\",\"size\":{}}}",
            sha256_hex(&child),
            child.len()
        );
        let next = format!(
            "{{\"schemaVersion\":2,\"manifests\":[{}]}}",
            vec![d; 10].join(",")
        );
        members.push((format!("blobs/sha256/{}", sha256_hex(&child)), child));
        child = next.into_bytes();
    }
    members[1].1 = child;
    let tar = oci_tar(&members);
    run_file(&tar).rejected("index documents");
    run_stdin(&tar).rejected("index documents");
}

#[test]
fn a_pipe_given_as_the_image_is_read_as_a_stream() {
    let img = docker_archive(&[layer(&[E::File("f", data(100, 1))])], &[]);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("image.fifo");
    mkfifo(&fifo);
    let writer = {
        let (fifo, img) = (fifo.clone(), img.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            let _ = f.write_all(&img);
        })
    };
    let v = run_bounded(&["--ci", "--format", "json", fifo.to_str().unwrap()], None).report();
    writer.join().unwrap();
    assert_eq!(v["summary"]["total_bytes"], 100);
    let mut same = run_file(&img).report();
    let mut got = v.clone();
    same["image"]["source"] = "".into();
    got["image"]["source"] = "".into();
    assert_eq!(got, same);
}

#[test]
fn whole_archive_gzip_with_an_empty_layer_reads_like_the_plain_archive() {
    let empty_tar = vec![0u8; 1024];
    let mut v7 = raw_header(b"v7file", b'0', 5);
    v7[257..265].fill(0);
    finish_header(&mut v7);
    let mut v7tar = v7.to_vec();
    v7tar.extend(b"hello");
    pad(&mut v7tar);
    v7tar.extend([0u8; 1024]);
    for l in [Vec::new(), empty_tar, v7tar] {
        let img = docker_archive(&[layer(&[E::File("f", data(10, 1))]), l], &[]);
        let plain = run_file(&img).report();
        for (name, o) in [
            ("gzip", run_file(&gzip(&img))),
            ("zstd", run_file(&zstd(&img))),
            ("stdin", run_stdin(&img)),
        ] {
            let mut v = o.report();
            v["image"]["source"] = plain["image"]["source"].clone();
            assert_eq!(v, plain, "{name}");
        }
    }
}

/// A docker-archive whose one blob of `files` three-byte files is listed
/// `refs` times (with matching diff_ids).
fn repeated_blob_archive(files: usize, refs: usize) -> Vec<u8> {
    let names: Vec<String> = (0..files).map(|i| format!("d{}/f{i}", i % 50)).collect();
    let es: Vec<E> = names
        .iter()
        .map(|n| E::File(Box::leak(n.clone().into_boxed_str()), vec![1, 2, 3]))
        .collect();
    let l = layer(&es);
    let digest = sha256_hex(&l);
    let member = format!("{digest}.tar");
    let list: Vec<String> = (0..refs).map(|_| format!("\"{member}\"")).collect();
    let diff_ids: Vec<String> = (0..refs).map(|_| format!("\"sha256:{digest}\"")).collect();
    let config = format!(
        "{{\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{}]}}}}",
        diff_ids.join(",")
    );
    let manifest = format!(
        "[{{\"Config\":\"c.json\",\"Layers\":[{}]}}]",
        list.join(",")
    );
    oci_tar(&[
        (member, l),
        ("c.json".into(), config.into_bytes()),
        ("manifest.json".into(), manifest.into_bytes()),
    ])
}

#[test]
fn a_blob_listed_many_times_is_indexed_once() {
    // One 1,000-file blob referenced by 40 layers: a small archive whose
    // every layer hides the one below (39,000 findings); analysed within
    // the bounds by the debug binary on a shared machine.
    let img = repeated_blob_archive(1000, 40);
    let v = run_file(&img).report();
    assert_eq!(v["summary"]["total_bytes"], 40 * 1000 * 3);
    assert_eq!(v["summary"]["visible_bytes"], 1000 * 3);
    assert_eq!(v["waste"].as_array().unwrap().len(), 39 * 1000);
    let o = run_stdin(&img);
    assert_eq!(o.report()["summary"]["hidden_bytes"], 39 * 1000 * 3);
}

#[test]
fn a_5000_file_blob_listed_200_and_2000_times_is_refused_at_once() {
    // Issue 13's case at full scale: 200 references of a 5,000-file blob
    // would apply 995,000 entries again (a million findings, 37 s and 527 MB
    // before the bound); the repeated-entries limit refuses it, read from
    // the file or from standard input (then verified: the diff_ids match).
    let img = repeated_blob_archive(5000, 200);
    run_file(&img).rejected("repeated-entries limit");
    run_stdin(&img).rejected("repeated-entries limit");
    // 2,000 references: over the layer limit, refused before any layer is read.
    let img = repeated_blob_archive(5000, 2000);
    run_file(&img).rejected("1000-layer limit");
    run_stdin(&img).rejected("1000-layer limit");
}

// ------------------------------------------------------------ loops, depth, bombs

#[test]
fn link_loops_end() {
    // Members of the outer archive that are symlinks to each other.
    let mut b = tar::Builder::new(Vec::new());
    for (name, target) in [("a.tar", "b.tar"), ("b.tar", "a.tar")] {
        let mut h = header(name.as_bytes(), 0, tar::EntryType::Symlink, 0o777);
        h.set_link_name(target).unwrap();
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    }
    let manifest = b"[{\"Config\":\"c.json\",\"Layers\":[\"a.tar\"]}]";
    for (p, bytes) in [("c.json", &b"{}"[..]), ("manifest.json", &manifest[..])] {
        let h = header(
            p.as_bytes(),
            bytes.len() as u64,
            tar::EntryType::Regular,
            0o644,
        );
        b.append(&h, bytes).unwrap();
    }
    let img = b.into_inner().unwrap();
    run_file(&img).rejected("a.tar");
    run_stdin(&img).rejected("a.tar");
    // Hard links inside a layer that point at each other or at themselves.
    let l = layer(&[
        E::HardLink("x", "y"),
        E::HardLink("y", "x"),
        E::HardLink("z", "z"),
    ]);
    let v = run_file(&docker_archive(&[l], &[])).report();
    assert_eq!(v["summary"]["total_bytes"], 0);
    assert!(
        warned(&v, 0, "/x") && warned(&v, 0, "/z"),
        "{}",
        v["warnings"]
    );
}

#[test]
fn deep_nesting() {
    // 20,000 directory levels (a 40 kB path), and a directory tree 1,000
    // entries deep built one entry at a time.
    let deep: String = vec!["d"; 20_000].join("/");
    let mut b = tar::Builder::new(Vec::new());
    let mut put = |path: &str, kind: tar::EntryType, body: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(body.len() as u64);
        h.set_mode(0o755);
        b.append_data(&mut h, path, body).unwrap();
    };
    put(&format!("{deep}/f"), tar::EntryType::Regular, &data(10, 1));
    let mut p = String::new();
    for i in 0..1_000 {
        p.push_str(if i == 0 { "e" } else { "/e" });
        put(&p, tar::EntryType::Directory, &[]);
    }
    let long: String = vec!["abcdefgh"; 9000].join("/");
    let l0 = b.into_inner().unwrap();
    let l1 = layer(&[E::Whiteout("d"), E::Whiteout("e")]);
    let img = docker_archive(&[l0, l1], &[]);
    for o in [run_file(&img), run_stdin(&img)] {
        let v = o.report();
        assert_eq!(v["summary"]["hidden_bytes"], 10);
        assert_eq!(v["waste"][0]["path"].as_str().unwrap().len(), 40_002);
    }
    // A path longer than the 64 KiB limit (in a GNU long-name header) is
    // refused with the limit named.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o644);
    b.append_data(&mut h, &long, &[1u8][..]).unwrap();
    run_file(&docker_archive(&[b.into_inner().unwrap()], &[])).rejected("limit");
}

#[test]
fn decompression_bombs_stream_in_bounded_memory() {
    // A 1 GB file of zeros, gzip- and zstd-compressed (about 1 MB each), as a
    // layer and as the whole archive: streamed, never held.
    let zeros = vec![0u8; 1 << 20];
    let mut raw = tar::Builder::new(Vec::new());
    let h = header(b"bomb", 1 << 30, tar::EntryType::Regular, 0o644);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut zs = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    {
        let _ = &mut raw;
        gz.write_all(h.as_bytes()).unwrap();
        zs.write_all(h.as_bytes()).unwrap();
        for _ in 0..1024 {
            gz.write_all(&zeros).unwrap();
            zs.write_all(&zeros).unwrap();
        }
        gz.write_all(&[0u8; 1024]).unwrap();
        zs.write_all(&[0u8; 1024]).unwrap();
    }
    for l in [gz.finish().unwrap(), zs.finish().unwrap()] {
        let img = docker_archive(&[l], &[]);
        let v = run_file(&img).report();
        assert_eq!(v["summary"]["total_bytes"], 1u64 << 30);
        let v = run_file(&gzip(&img)).report();
        assert_eq!(v["summary"]["total_bytes"], 1u64 << 30);
    }
}

#[test]
fn a_stream_of_many_tiny_gzip_members() {
    // The whole archive as 50,000 gzip members of about 20 bytes each.
    let img = docker_archive(&[layer(&[E::File("f", data(100_000, 1))])], &[]);
    let mut out = Vec::new();
    for chunk in img.chunks(img.len().div_ceil(50_000)) {
        out.extend(gzip(chunk));
    }
    let v = run_file(&out).report();
    assert_eq!(v["summary"]["total_bytes"], 100_000);
}

// ------------------------------------------------------------ integrity

#[test]
fn layers_that_do_not_match_their_digests_are_refused_with_verify() {
    let l = layer(&[E::File("f", data(1000, 1))]);
    let good = docker_archive(std::slice::from_ref(&l), &[]);
    let f = temp_file(&good);
    let p = f.path().to_str().unwrap();
    run_bounded(&["--verify", "--ci", "--format", "json", p], None).report();
    run_bounded(
        &["--verify", "--ci", "--format", "json", "-"],
        Some(gzip(&good)),
    )
    .report();
    // The same archive with one content byte changed: diff_id mismatch.
    let mut bad = good.clone();
    let at = bad
        .windows(6)
        .position(|w| w == &data(1000, 1)[..6])
        .unwrap();
    bad[at + 10] ^= 1;
    let f = temp_file(&bad);
    let want = "does not match its diff_id";
    run_bounded(
        &["--verify", "--format", "json", f.path().to_str().unwrap()],
        None,
    )
    .rejected(want);
    run_bounded(&["--verify", "--format", "json", "-"], Some(bad.clone())).rejected(want);
    run_bounded(&["--verify", "--format", "json", "-"], Some(zstd(&bad))).rejected(want);
    // Without --verify the bytes are analysed as they are.
    run_bounded(&["--format", "json", f.path().to_str().unwrap()], None).report();
    // An OCI directory whose gzip blob was swapped for the same tar in zstd:
    // the diff_id holds, the blob digest from the manifest does not.
    let lz = gzip(&l);
    let d = oci_dir(std::slice::from_ref(&lz));
    run_bounded(
        &["--verify", "--format", "json", d.path().to_str().unwrap()],
        None,
    )
    .report();
    let blob = d.path().join(format!("blobs/sha256/{}", sha256_hex(&lz)));
    std::fs::write(&blob, zstd(&l)).unwrap();
    run_bounded(
        &["--verify", "--format", "json", d.path().to_str().unwrap()],
        None,
    )
    .rejected("does not match its digest");
}

// ------------------------------------------------------------ streaming or seeking

#[test]
fn every_test_image_gives_the_same_report_from_a_file_and_from_stdin() {
    let mut images: Vec<std::path::PathBuf> = std::fs::read_dir(root().join("tests/images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.ends_with(".tar") || n.ends_with(".tar.zst") || n.ends_with(".tar.gz")
        })
        .collect();
    images.push(root().join("assets/demo/demo.tar.zst"));
    images.sort();
    assert!(images.len() >= 10);
    for p in images {
        let bytes = std::fs::read(&p).unwrap();
        let file = run_bounded(&["--ci", "--format", "json", p.to_str().unwrap()], None);
        // Standard input is verified by default: the digests hold too.
        let piped = run_bounded(&["--ci", "--format", "json", "-"], Some(bytes));
        let (mut a, mut b) = (file.report(), piped.report());
        a["image"]["source"] = "".into();
        b["image"]["source"] = "".into();
        assert_eq!(a, b, "{}", p.display());
    }
}

/// `n` bytes of words from a small vocabulary (gzip takes it to about a
/// third), from a fixed seed.
fn text(n: usize, seed: &mut u64) -> Vec<u8> {
    const WORDS: [&str; 8] = [
        "layer ", "image ", "bytes ", "cache\n", "apt ", "wasted ", "tar ", "gzip ",
    ];
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        v.extend_from_slice(WORDS[(*seed >> 61) as usize].as_bytes());
        v.extend_from_slice(format!("{} ", *seed >> 40).as_bytes());
    }
    v.truncate(n);
    v
}

#[test]
fn a_large_gzip_layer_gives_the_same_answer_from_a_file_and_a_stream() {
    // ~12 MB of files, ~4 MB of gzip, decoded on its own thread while the
    // tar is parsed (load::pipe), from a file and from standard input: same
    // report, same verified digests, same refusal of a damaged stream.
    let mut seed = 7;
    let mut entries = Vec::new();
    let mut total = 0u64;
    for i in 0..600 {
        let body = text(10_000 + (i % 7) * 3_000, &mut seed);
        total += body.len() as u64;
        entries.push(E::RawPath(format!("data/{i:04}.txt").into_bytes(), body));
    }
    let big = gzip(&layer(&entries));
    assert!(big.len() > 3 << 20, "{}", big.len());
    let small = gzip(&layer(&[E::File("etc/hostname", b"box\n".to_vec())]));
    let img = docker_archive(&[small, big.clone()], &[]);
    let (mut a, mut b) = (
        run_file_with(&img, &["--verify"]).report(),
        run_stdin(&img).report(),
    );
    assert_eq!(a["summary"]["total_bytes"], total + 4);
    a["image"]["source"] = "".into();
    b["image"]["source"] = "".into();
    assert_eq!(a, b);
    // One flipped byte in the middle of the deflate data.
    let mut bad = big;
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    let img = docker_archive(&[bad], &[]);
    run_file(&img).rejected("corrupt gzip");
    run_stdin(&img).rejected("gzip");
}
