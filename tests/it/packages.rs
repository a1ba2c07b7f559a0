//! Packages and binaries on synthetic images: dpkg attribution (merged /usr,
//! a package removed in a later layer), apk, Python RECORD, npm; ELF facts
//! of real binaries from this machine (a dynamic one and a static one on an
//! otherwise empty image), an unstripped gcc build measured against `strip`,
//! and UPX's markers written by the test.

use crate::common;

use std::process::Command;

use common::{analyse_bytes, docker_archive, layer, E};

fn status(pkgs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::new();
    for (name, extra) in pkgs {
        s.push_str(&format!(
            "Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-{name}\n{extra}\n"
        ));
    }
    s.into_bytes()
}

fn pkg<'a>(r: &'a imgscope::Analysis, name: &str) -> &'a imgscope::analyze::packages::Package {
    r.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name} in {:?}", names(r)))
}

fn names(r: &imgscope::Analysis) -> Vec<String> {
    r.packages.iter().map(|p| p.name.clone()).collect()
}

#[test]
fn dpkg_bytes_follow_merged_usr_and_removal() {
    let l0 = layer(&[
        E::Dir("usr/bin"),
        E::Symlink("bin", "usr/bin"),
        E::File("usr/bin/a1", vec![1; 100]),
        E::File("usr/share/doc/a/copyright", vec![2; 50]),
        E::File("usr/bin/b1", vec![3; 30]),
        E::File("etc/unowned", vec![4; 7]),
        E::File("var/lib/dpkg/status", status(&[("a", ""), ("b", "")])),
        E::File(
            "var/lib/dpkg/info/a.list",
            b"/.\n/bin\n/bin/a1\n/usr/share/doc/a\n/usr/share/doc/a/copyright\n".to_vec(),
        ),
        E::File("var/lib/dpkg/info/b:amd64.list", b"/bin/b1\n".to_vec()),
    ]);
    let l1 = layer(&[
        E::Whiteout("usr/bin/b1"),
        E::Whiteout("var/lib/dpkg/info/b:amd64.list"),
        E::File("var/lib/dpkg/status", status(&[("a", "")])),
    ]);
    let img = docker_archive(&[l0, l1], &["ADD rootfs.tar /", "RUN apt-get purge -y b"]);
    let r = analyse_bytes(&img);
    let a = pkg(&r, "a");
    assert_eq!((a.visible_bytes, a.files, a.layer), (150, 2, Some(0)));
    assert!(a.installed);
    assert_eq!(a.version, "1.0-a");
    let b = pkg(&r, "b");
    assert!(!b.installed);
    assert_eq!((b.visible_bytes, b.wasted_bytes, b.layer), (0, 30, Some(0)));
    assert_eq!(b.wasted_by_kind.get("removed"), Some(&30));
    let f = r
        .waste
        .iter()
        .find(|f| f.path.display() == "/usr/bin/b1")
        .unwrap();
    assert_eq!(f.package.as_deref(), Some("dpkg:b"));
    let ps = &r.package_summary;
    assert_eq!(ps.installed, 1);
    assert_eq!(ps.visible_bytes, 150);
    assert_eq!(ps.no_package_visible_bytes, r.summary.visible_bytes - 150);
    assert_eq!(ps.wasted_bytes, 30);
    assert_eq!(
        ps.wasted_bytes + ps.no_package_wasted_bytes,
        r.summary.wasted_bytes
    );
    let json: serde_json::Value = serde_json::from_str(&imgscope::render::json::render(
        &imgscope::Report {
            analysis: r.clone(),
            suggestions: Vec::new(),
        },
        &Default::default(),
    ))
    .unwrap();
    let p = &json["packages"][0];
    for k in [
        "manager",
        "name",
        "version",
        "layer",
        "visible_bytes",
        "wasted_bytes",
        "files",
    ] {
        assert!(!p[k].is_null(), "packages[0].{k} missing: {p}");
    }
}

/// Debian compiles the bytecode of its Python packages at install
/// (`py3compile`): the `__pycache__/*.pyc` files are not in the package's
/// file list, but belong to the package that owns their `.py`.
#[test]
fn bytecode_belongs_to_the_package_of_its_source() {
    let l0 = layer(&[
        E::File("usr/lib/python3/dist-packages/yaml/__init__.py", vec![1; 100]),
        E::File(
            "usr/lib/python3/dist-packages/yaml/__pycache__/__init__.cpython-311.pyc",
            vec![2; 70],
        ),
        E::File(
            "usr/lib/python3/dist-packages/yaml/__pycache__/__init__.cpython-311.opt-1.pyc",
            vec![3; 60],
        ),
        // No .py beside it: nobody's.
        E::File(
            "usr/lib/python3/dist-packages/yaml/__pycache__/gone.cpython-311.pyc",
            vec![4; 40],
        ),
        E::File("var/lib/dpkg/status", status(&[("python3-yaml", "")])),
        E::File(
            "var/lib/dpkg/info/python3-yaml.list",
            b"/usr/lib/python3/dist-packages/yaml\n/usr/lib/python3/dist-packages/yaml/__init__.py\n"
                .to_vec(),
        ),
    ]);
    let oci = common::oci_tar(&common::oci_members(&[l0]));
    let r = analyse_bytes(&oci);
    let p = pkg(&r, "python3-yaml");
    assert_eq!((p.visible_bytes, p.files), (230, 3));
}

#[test]
fn distroless_status_d_apk_python_npm() {
    let l0 = layer(&[
        E::File(
            "var/lib/dpkg/status.d/base",
            b"Package: base-files\nVersion: 12\nArchitecture: amd64\n".to_vec(),
        ),
        E::File(
            "var/lib/dpkg/status.d/base.md5sums",
            b"0123456789abcdef0123456789abcdef  etc/os-release\n".to_vec(),
        ),
        E::File("etc/os-release", vec![b'x'; 40]),
        E::File(
            "lib/apk/db/installed",
            b"P:musl\nV:1.2.4-r2\nF:lib\nR:ld-musl-x86_64.so.1\n\n".to_vec(),
        ),
        E::File("lib/ld-musl-x86_64.so.1", vec![0; 60]),
        E::File("usr/lib/python3/site-packages/six.py", vec![b's'; 70]),
        E::File(
            "usr/lib/python3/site-packages/six-1.16.0.dist-info/RECORD",
            b"six.py,sha256=x,70\nsix-1.16.0.dist-info/RECORD,,\n../../../bin/six-tool,,\n"
                .to_vec(),
        ),
        E::File("usr/bin/six-tool", vec![b't'; 9]),
        E::File(
            "app/node_modules/left-pad/package.json",
            br#"{"name":"left-pad","version":"1.3.0","x":[1,2]}"#.to_vec(),
        ),
        E::File("app/node_modules/left-pad/index.js", vec![b'j'; 80]),
        E::File(
            "app/node_modules/left-pad/node_modules/tiny/package.json",
            br#"{"name":"tiny","version":"0.1.0"}"#.to_vec(),
        ),
        E::File(
            "app/node_modules/left-pad/node_modules/tiny/i.js",
            vec![b'k'; 5],
        ),
    ]);
    let r = analyse_bytes(&docker_archive(&[l0], &["ADD rootfs.tar /"]));
    assert_eq!(pkg(&r, "base-files").visible_bytes, 40);
    assert_eq!(pkg(&r, "musl").visible_bytes, 60);
    assert_eq!(pkg(&r, "musl").manager, "apk");
    let six = pkg(&r, "six");
    assert_eq!((six.manager, six.version.as_str()), ("python", "1.16.0"));
    // six.py, the RECORD itself and the script in /usr/bin.
    let record_len = b"six.py,sha256=x,70\nsix-1.16.0.dist-info/RECORD,,\n../../../bin/six-tool,,\n"
        .len() as u64;
    assert_eq!(six.visible_bytes, 70 + 9 + record_len);
    let lp = pkg(&r, "left-pad");
    let lp_json = br#"{"name":"left-pad","version":"1.3.0","x":[1,2]}"#.len() as u64;
    assert_eq!((lp.manager, lp.visible_bytes), ("npm", 80 + lp_json));
    let tiny = pkg(&r, "tiny");
    assert_eq!(
        tiny.visible_bytes,
        5 + br#"{"name":"tiny","version":"0.1.0"}"#.len() as u64
    );
}

fn host_file(path: &str) -> Option<Vec<u8>> {
    let b = std::fs::read(path).ok()?;
    b.starts_with(b"\x7fELF").then_some(b)
}

fn insight_ids(r: &imgscope::Analysis) -> Vec<(&'static str, String)> {
    r.insights
        .iter()
        .map(|i| (i.id, i.path.display()))
        .collect()
}

#[test]
fn dynamic_binary_on_scratch_names_its_loader_and_libc() {
    let Some(exe) = host_file("/usr/bin/true") else {
        eprintln!("skipped: no dynamic /usr/bin/true on this machine");
        return;
    };
    let r = analyse_bytes(&docker_archive(
        &[layer(&[E::File("app", exe)])],
        &["COPY true /app"],
    ));
    let b = &r.binaries[0];
    assert_eq!(b.linkage, imgscope::load::elf::Linkage::Dynamic);
    let interp = String::from_utf8_lossy(b.interpreter.as_deref().unwrap()).into_owned();
    let mi = r
        .insights
        .iter()
        .find(|i| i.id == "missing-interpreter")
        .unwrap();
    assert_eq!(mi.missing, vec![interp.clone()]);
    assert!(mi.message.contains(&interp));
    let ml = r
        .insights
        .iter()
        .find(|i| i.id == "missing-library")
        .unwrap();
    assert!(
        ml.missing.iter().any(|m| m.starts_with("libc.so")),
        "{:?}",
        ml.missing
    );
    // The same binary with its loader and libc in place: no insight.
    let libc = host_file("/lib/x86_64-linux-gnu/libc.so.6");
    let ld = std::fs::canonicalize(&interp)
        .ok()
        .and_then(|p| std::fs::read(p).ok());
    if let (Some(libc), Some(ld), true) = (libc, ld, interp == "/lib64/ld-linux-x86-64.so.2") {
        let exe = host_file("/usr/bin/true").unwrap();
        let r = analyse_bytes(&docker_archive(
            &[layer(&[
                E::File("app", exe),
                E::File("lib/x86_64-linux-gnu/libc.so.6", libc),
                E::File("lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", ld),
                E::Symlink(
                    "lib64/ld-linux-x86-64.so.2",
                    "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                ),
            ])],
            &["COPY . /"],
        ));
        let ids = insight_ids(&r);
        assert!(
            !ids.iter().any(|(id, _)| id.starts_with("missing")),
            "{ids:?}"
        );
    }
}

#[test]
fn static_binary_on_scratch_has_no_insight() {
    let Some(bb) = host_file("/bin/busybox") else {
        eprintln!("skipped: no static /bin/busybox (busybox-static) on this machine");
        return;
    };
    let r = analyse_bytes(&docker_archive(
        &[layer(&[E::File("bin/busybox", bb)])],
        &["COPY busybox /bin/"],
    ));
    assert_eq!(r.binaries.len(), 1);
    assert_ne!(r.binaries[0].linkage, imgscope::load::elf::Linkage::Dynamic);
    assert!(r.insights.is_empty(), "{:?}", insight_ids(&r));
}

fn run(cmd: &mut Command) -> bool {
    cmd.status().map(|s| s.success()).unwrap_or(false)
}

#[test]
fn unstripped_gcc_build_matches_strip() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("m.c");
    // Enough code and debug info that 1% is a meaningful bound.
    let mut c = String::from("#include <stdio.h>\n");
    for i in 0..300 {
        c.push_str(&format!(
            "struct s{i} {{ int a; double b[{i}]; }};\nint f{i}(int x) {{ struct s{i} v = {{x}}; return v.a * {i} + x; }}\n"
        ));
    }
    c.push_str("int main(int c, char **v) { int s = 0;\n");
    for i in 0..300 {
        c.push_str(&format!("s += f{i}(c);\n"));
    }
    c.push_str("printf(\"%d %s\\n\", s, v[0]); return 0; }\n");
    std::fs::write(&src, c).unwrap();
    let exe = dir.path().join("m");
    let stripped = dir.path().join("m.stripped");
    if !run(Command::new("gcc")
        .args(["-g", "-O1", "-o"])
        .arg(&exe)
        .arg(&src))
        || !run(Command::new("strip").arg("-o").arg(&stripped).arg(&exe))
    {
        eprintln!("skipped: gcc or strip is missing");
        return;
    }
    let full = std::fs::read(&exe).unwrap();
    let saving = full.len() as u64 - std::fs::metadata(&stripped).unwrap().len();
    let r = analyse_bytes(&docker_archive(
        &[layer(&[
            E::File("usr/local/bin/m", full),
            E::File(
                "usr/local/bin/m.stripped",
                std::fs::read(&stripped).unwrap(),
            ),
        ])],
        &["RUN gcc -g -o /usr/local/bin/m m.c"],
    ));
    let un: Vec<_> = r.insights.iter().filter(|i| i.id == "unstripped").collect();
    assert_eq!(un.len(), 1, "{:?}", insight_ids(&r));
    assert_eq!(un[0].path.display(), "/usr/local/bin/m");
    let est = un[0].bytes;
    let diff = (est as f64 - saving as f64).abs() / saving as f64;
    assert!(diff < 0.01, "estimated {est}, strip saved {saving}");
    let s = r
        .binaries
        .iter()
        .find(|b| b.path.display() == "/usr/local/bin/m.stripped")
        .unwrap();
    assert_eq!(s.strippable_bytes, Some(0));
}

/// A 64-bit ELF executable laid out as UPX leaves one: ELF header, two
/// program headers, then UPX's `l_info` block (checksum, the magic `UPX!`,
/// version, format, method, level), its stub with the `$Info:` banner, and the
/// packed data ending in the `UPX!` pack header.
fn upx_like() -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(b"\x7fELF\x02\x01\x01\x03");
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&62u16.to_le_bytes()); // x86-64
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&0x400100u64.to_le_bytes()); // entry
    f.extend_from_slice(&64u64.to_le_bytes()); // phoff
    f.extend_from_slice(&0u64.to_le_bytes()); // shoff: none, as UPX writes
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&64u16.to_le_bytes());
    f.extend_from_slice(&56u16.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes()); // phnum
    f.extend_from_slice(&64u16.to_le_bytes());
    f.extend_from_slice(&0u16.to_le_bytes());
    f.extend_from_slice(&0u16.to_le_bytes());
    for _ in 0..2 {
        f.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        f.extend_from_slice(&5u32.to_le_bytes());
        f.extend_from_slice(&0u64.to_le_bytes());
        f.extend_from_slice(&0x400000u64.to_le_bytes());
        f.extend_from_slice(&0x400000u64.to_le_bytes());
        f.extend_from_slice(&4096u64.to_le_bytes());
        f.extend_from_slice(&4096u64.to_le_bytes());
        f.extend_from_slice(&0x1000u64.to_le_bytes());
    }
    f.extend_from_slice(&0x1234_5678u32.to_le_bytes()); // l_checksum
    f.extend_from_slice(b"UPX!"); // l_magic
    f.extend_from_slice(&[13, 22, 14, 9]); // version, format (ELF amd64), method, level
    f.extend_from_slice(
        b"\0$Info: This file is packed with the UPX executable packer http://upx.sf.net $\n",
    );
    f.resize(4096 - 36, 0x90);
    f.extend_from_slice(b"UPX!");
    f.resize(4096, 0);
    f
}

#[test]
fn upx_markers_are_detected() {
    let r = analyse_bytes(&docker_archive(
        &[layer(&[
            E::File("app", upx_like()),
            E::File("plain", vec![0x7f; 4096]),
        ])],
        &["COPY app /"],
    ));
    let ids = insight_ids(&r);
    assert!(ids.contains(&("upx-packed", "/app".to_string())), "{ids:?}");
    assert_eq!(
        r.insights.iter().filter(|i| i.id == "upx-packed").count(),
        1
    );
    // The same file without the markers is not UPX.
    let mut plain = upx_like();
    for i in 0..plain.len() - 3 {
        if &plain[i..i + 3] == b"UPX" {
            plain[i..i + 3].copy_from_slice(b"XXX");
        }
    }
    let r = analyse_bytes(&docker_archive(
        &[layer(&[E::File("app", plain)])],
        &["COPY app /"],
    ));
    assert!(!r.insights.iter().any(|i| i.id == "upx-packed"));
}

#[test]
fn compressed_archives_are_named() {
    let r = analyse_bytes(&docker_archive(
        &[layer(&[
            E::File("srv/data.tar.gz", vec![0x1f; 300]),
            E::File("srv/lib.jar", vec![0x50; 300]),
            E::File("srv/x.whl", vec![0x50; 200]),
        ])],
        &["COPY . /srv"],
    ));
    let ids = insight_ids(&r);
    assert_eq!(
        ids,
        vec![
            ("compressed-archive", "/srv/data.tar.gz".to_string()),
            ("compressed-archive", "/srv/x.whl".to_string())
        ]
    );
}

/// The TUI's Packages tab: sorted by size; Enter shows the selected
/// package's largest file in the tree.
#[cfg(feature = "tui")]
#[test]
fn tui_packages_tab_lists_by_size_and_enter_shows_a_file() {
    use imgscope::tui::{draw, update, App, Msg, Tab};
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let l0 = layer(&[
        E::File("usr/bin/small", vec![1; 10]),
        E::File("usr/lib/big/a.so", vec![2; 900]),
        E::File("usr/lib/big/b.so", vec![3; 300]),
        E::File("var/lib/dpkg/status", status(&[("small", ""), ("big", "")])),
        E::File("var/lib/dpkg/info/small.list", b"/usr/bin/small\n".to_vec()),
        E::File(
            "var/lib/dpkg/info/big.list",
            b"/usr/lib/big/a.so\n/usr/lib/big/b.so\n".to_vec(),
        ),
    ]);
    let tmp = common::temp_file(&docker_archive(
        &[l0],
        &["RUN apt-get install -y big small"],
    ));
    let path = tmp.path().to_str().unwrap();
    let a = imgscope::analyse(path, &Default::default(), &Default::default()).unwrap();
    let mut app = App::loaded("pkgs", a.index, a.report, (120, 40));
    let key = |app: &mut App, code| update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    key(&mut app, KeyCode::Char('5'));
    let d = app.data.as_deref().unwrap();
    assert_eq!(d.tab, Tab::Packages);
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    term.draw(|f| draw(f, &mut app)).unwrap();
    let buf = term.backend().buffer().clone();
    let screen: String = (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                + "\n"
        })
        .collect();
    let big = screen.find("dpkg:big 1.0-big").expect(&screen);
    let small = screen.find("dpkg:small 1.0-small").expect(&screen);
    assert!(big < small, "largest first:\n{screen}");
    assert!(screen.contains("5 Packages 2"), "{screen}");
    key(&mut app, KeyCode::Enter);
    let d = app.data.as_deref().unwrap();
    assert_eq!(d.tab, Tab::Files);
    assert_eq!(d.selected_path().as_deref(), Some("/usr/lib/big/a.so"));
    key(&mut app, KeyCode::Char('5'));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    let d = app.data.as_deref().unwrap();
    assert_eq!(d.selected_path().as_deref(), Some("/usr/bin/small"));
}

/// The optional-bytes suggestion of an apt RUN counts the dpkg packages whose
/// documentation it takes, and names dpkg's path-exclude as the fix.
#[test]
fn docs_suggestion_names_the_dpkg_packages() {
    let base = layer(&[E::File("etc/os-release", vec![b'x'; 10])]);
    let l1 = layer(&[
        E::File("usr/share/doc/a/README", vec![1; 3000]),
        E::File("usr/share/doc/a/copyright", vec![2; 500]),
        E::File("usr/share/doc/b/changelog.gz", vec![3; 2000]),
        E::File("usr/share/doc/c/copyright", vec![4; 400]),
        E::File("usr/share/doc/orphan/NOTES", vec![5; 100]),
        E::File(
            "var/lib/dpkg/status",
            status(&[("a", ""), ("b", ""), ("c", "")]),
        ),
        E::File(
            "var/lib/dpkg/info/a.list",
            b"/usr/share/doc/a/README\n/usr/share/doc/a/copyright\n".to_vec(),
        ),
        E::File(
            "var/lib/dpkg/info/b.list",
            b"/usr/share/doc/b/changelog.gz\n".to_vec(),
        ),
        E::File(
            "var/lib/dpkg/info/c.list",
            b"/usr/share/doc/c/copyright\n".to_vec(),
        ),
    ]);
    let tmp = common::temp_file(&docker_archive(
        &[base, l1],
        &["ADD rootfs.tar /", "RUN apt-get install -y a b c"],
    ));
    let r = common::real_report(tmp.path());
    let s = r
        .suggestions
        .iter()
        .find(|s| s.id == "optional:L1")
        .expect("optional suggestion");
    // a's README and b's changelog (copyright files are kept), and the
    // unowned NOTES: 5100 bytes, of 2 packages.
    assert_eq!(s.saves_bytes, 3000 + 2000 + 100);
    assert!(
        s.title.contains("documentation of 2 packages in layer 1")
            && s.title.ends_with("; dpkg path-exclude in the same RUN)"),
        "{}",
        s.title
    );
}

/// A Go binary on scratch: whether it makes TLS connections or loads time
/// zones is not in its build info, so the no-certs / no-zoneinfo hints say
/// "if", never that something fails.
#[test]
fn go_binary_hints_are_conditional() {
    let Some(exe) = ["/usr/lib/podman/rootlessport", "/usr/bin/skopeo"]
        .into_iter()
        .find_map(host_file)
    else {
        eprintln!("go_binary_hints_are_conditional: skipped: no Go binary (podman's rootlessport, skopeo) on this machine");
        return;
    };
    let r = analyse_bytes(&docker_archive(
        &[layer(&[E::File("app", exe)])],
        &["COPY app /app"],
    ));
    assert!(r.binaries[0].go.is_some(), "a Go binary");
    for id in ["no-ca-certificates", "no-zoneinfo"] {
        let i = r
            .insights
            .iter()
            .find(|i| i.id == id)
            .unwrap_or_else(|| panic!("{id}"));
        assert!(i.message.contains(" if "), "{id}: {}", i.message);
        assert!(!i.message.contains(" fail in"), "{id}: {}", i.message);
    }
}
