//! Hostile images: archives written by this test code the way an attacker
//! (or a broken tool) would. Each case runs the real binary and asserts its
//! outcome — exit 2 with one line naming what is wrong, or a warning and a
//! correct analysis — and that it took under 10 s and peaked under 500 MB of
//! resident memory (measured with wait4's rusage of the child).

mod common;
use common::*;

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MAX_SECS: f64 = 10.0;
const MAX_RSS_KB: i64 = 500 * 1024;

struct Outcome {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Outcome {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}); stderr: {}; stdout: {}",
                self.stderr,
                String::from_utf8_lossy(&self.stdout[..self.stdout.len().min(300)])
            )
        })
    }

    /// Exit 2, one line on stderr holding `want`, nothing on stdout.
    fn rejected(&self, want: &str) {
        assert_eq!(self.code, 2, "stderr: {}", self.stderr);
        assert!(self.stdout.is_empty(), "nothing on stdout");
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "one line: {:?}",
            self.stderr
        );
        assert!(
            self.stderr.contains(want),
            "stderr should say {want:?}: {}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }

    /// Analysed (exit 0 or 1).
    fn analysed(&self) -> serde_json::Value {
        assert!(
            self.code == 0 || self.code == 1,
            "exit {}: {}",
            self.code,
            self.stderr
        );
        self.json()
    }
}

/// The child is reaped by `wait4` (for its rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
/// Run the binary with `args`, feeding `stdin`, under a 3 GB address-space
/// guard (so a blow-up cannot take the machine down), and assert the time
/// and peak-memory bounds.
fn run(args: &[&str], stdin: Option<Vec<u8>>) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imgscope"));
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 3 << 30,
                rlim_max: 3 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let t0 = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let feeder = stdin.map(|data| {
        let mut w = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        })
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut killed = false;
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed");
        if t0.elapsed() > Duration::from_secs_f64(MAX_SECS) && !killed {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let secs = t0.elapsed().as_secs_f64();
    if let Some(f) = feeder {
        let _ = f.join();
    }
    let stdout = t_out.join().unwrap();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    assert!(!killed, "{args:?}: still running after {MAX_SECS} s");
    assert!(
        usage.ru_maxrss < MAX_RSS_KB,
        "{args:?}: peak memory {} MB",
        usage.ru_maxrss / 1024
    );
    assert!(
        libc::WIFEXITED(status),
        "{args:?}: killed by a signal (status {status}); stderr: {stderr}"
    );
    let _ = secs;
    Outcome {
        code: libc::WEXITSTATUS(status),
        stdout,
        stderr,
    }
}

/// Run on an image file, JSON output.
fn run_file(bytes: &[u8]) -> Outcome {
    let f = temp_file(bytes);
    run(
        &["--ci", "--format", "json", f.path().to_str().unwrap()],
        None,
    )
}

/// The same image read from standard input.
fn run_stdin(bytes: &[u8]) -> Outcome {
    run(&["--ci", "--format", "json", "-"], Some(bytes.to_vec()))
}

fn waste(v: &serde_json::Value) -> Vec<(String, String, u64, u64, u64)> {
    let mut w: Vec<_> = v["waste"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
                f["bytes"].as_u64().unwrap(),
                f["stored_in_layer"].as_u64().unwrap(),
                f["hidden_by_layer"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
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
        let v = o.analysed();
        assert_eq!(
            waste(&v),
            [
                ("/f".into(), "metadata_only".into(), 1000, 1, 1),
                ("/f".into(), "metadata_only".into(), 1000, 1, 2),
                ("/f".into(), "metadata_only".into(), 1000, 2, 2),
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
    let v = run_file(&docker_archive(&[l], &[])).analysed();
    assert_eq!(
        waste(&v),
        [("/a/f".into(), "overwritten".into(), 300, 0, 0)]
    );
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
    let v = run_file(&img).analysed();
    assert_eq!(waste(&v), [("/y".into(), "overwritten".into(), 700, 1, 1)]);
    assert_eq!(v["summary"]["visible_bytes"], 510);
    assert!(warned(&v, 1, "/y"));
    let img = docker_archive(&[base, b], &["/bin/sh -c a", "/bin/sh -c b"]);
    let v = run_file(&img).analysed();
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
    let v = run_file(&docker_archive(&[l], &[])).analysed();
    assert_eq!(
        waste(&v),
        [
            ("/d".into(), "overwritten".into(), 50, 0, 0),
            // Removed with its directory, then stored again by the same
            // layer: a replacement, as for a whiteout followed by the path.
            ("/d/inner".into(), "overwritten".into(), 100, 0, 0),
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
    let v = run_file(&docker_archive(&[l0, l1], &[])).analysed();
    assert_eq!(
        waste(&v),
        [
            ("/f".into(), "metadata_only".into(), 20, 0, 1),
            ("/keep".into(), "overwritten".into(), 10, 0, 1),
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
    let v = run_file(&docker_archive(&[l], &[])).analysed();
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
            let o = run(&args, None);
            assert!(o.code == 0 || o.code == 1, "{}", o.stderr);
            let out = String::from_utf8(o.stdout).unwrap();
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
    let v = run(&["--format", "json", p], None).analysed();
    assert_eq!(v["waste"][0]["path"], format!("/{evil_name}"));
    assert_eq!(v["layers"][0]["created_by"], cmd);
}

#[test]
fn an_error_naming_an_entry_stays_one_line() {
    let l = layer(&[E::RawPath(b"a\nb/../../\x1b[2Jx".to_vec(), b"x".to_vec())]);
    let o = run_file(&docker_archive(&[l], &[]));
    o.rejected("contains '..'");
    assert!(!o.stderr.contains('\x1b'), "{:?}", o.stderr);
    assert!(o.stderr.contains("a\\nb/"), "{:?}", o.stderr);
}
