//! The one way tests run the binary and read what it wrote: [`Exec`] says
//! how (arguments, directory, standard input, environment, bounds), [`Run`]
//! is what came back (exit code, standard output and error), and
//! [`json_findings`] pulls the findings out of a JSON report.
//!
//! A bounded run (hostile and fuzzed input) is measured and held to limits:
//! under [`MAX_SECS`] and [`MAX_RSS_KB`] of peak resident memory, or the test
//! fails. The memory is wait4's rusage of the child, an upper bound: it also
//! counts the forked copy of the test process before exec, so tests keep
//! their own buffers small. The child runs under a 3 GB address-space guard
//! (so a blow-up cannot take the machine down). The run waits on the process
//! itself; the time limit only decides when a child still running is killed.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::temp_file;

pub const MAX_SECS: f64 = 10.0;
pub const MAX_RSS_KB: i64 = 500 * 1024;

/// One run of the binary: its exit code, standard output and error.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Standard output as JSON (a panic naming standard error when it is not).
    pub fn json(&self) -> serde_json::Value {
        parse_json(self.stdout.as_bytes(), &self.stderr)
    }

    /// The report of a run that analysed (exit 0 or 1), as JSON.
    pub fn report(&self) -> serde_json::Value {
        assert!(
            self.code == 0 || self.code == 1,
            "exit {}: {}",
            self.code,
            self.stderr
        );
        self.json()
    }

    /// Refused as bad input: exit 2, one line on stderr holding `want`,
    /// nothing on stdout, no panic.
    pub fn rejected(&self, want: &str) {
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
}

/// `stdout` as JSON, or a panic showing `stderr` and the start of `stdout`.
pub fn parse_json(stdout: &[u8], stderr: &str) -> serde_json::Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {stderr}; stdout: {}",
            String::from_utf8_lossy(&stdout[..stdout.len().min(300)])
        )
    })
}

/// One finding of a report: (path, kind, bytes, stored_in_layer,
/// hidden_by_layer), from an [`imgscope::Analysis`] or a JSON report alike.
pub type Finding = (String, &'static str, u64, usize, Option<usize>);

/// The findings of an analysis, in its order.
pub fn findings(r: &imgscope::Analysis) -> Vec<Finding> {
    r.waste
        .iter()
        .map(|f| {
            (
                f.path.display(),
                f.kind.as_str(),
                f.bytes,
                f.stored_in_layer,
                f.hidden_by_layer,
            )
        })
        .collect()
}

fn kind(name: &str) -> &'static str {
    imgscope::analyze::waste::WasteKind::ALL
        .iter()
        .map(|k| k.as_str())
        .find(|k| *k == name)
        .unwrap_or_else(|| panic!("unknown finding kind {name:?}"))
}

/// The findings of a JSON report (`waste`), in its order.
pub fn json_findings(v: &serde_json::Value) -> Vec<Finding> {
    v["waste"]
        .as_array()
        .unwrap_or_else(|| panic!("no waste array in {v}"))
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                kind(f["kind"].as_str().unwrap()),
                f["bytes"].as_u64().unwrap(),
                f["stored_in_layer"].as_u64().unwrap() as usize,
                f["hidden_by_layer"].as_u64().map(|l| l as usize),
            )
        })
        .collect()
}

/// The binary, with the environment that changes its output (`CI`,
/// `NO_COLOR`) cleared, for tests that assert with `assert_cmd`.
pub fn imgscope() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("imgscope").unwrap();
    c.env_remove("CI").env_remove("NO_COLOR");
    c
}

/// Where a run's working directory is.
enum Dir {
    /// The test's own (the crate root under `cargo test`).
    Inherit,
    /// A fresh empty directory (no configuration file), removed after.
    Empty,
    At(PathBuf),
}

/// How to run the binary. `CI` and `NO_COLOR` are cleared unless set here.
pub struct Exec {
    args: Vec<OsString>,
    dir: Dir,
    stdin: Option<Vec<u8>>,
    env: Vec<(OsString, Option<OsString>)>,
    bounded: bool,
}

impl Exec {
    /// `imgscope ARGS` in the test's directory, unbounded.
    pub fn new<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Exec {
        Exec {
            args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
            dir: Dir::Inherit,
            stdin: None,
            env: vec![("CI".into(), None), ("NO_COLOR".into(), None)],
            bounded: false,
        }
    }

    /// Run in `dir`.
    pub fn dir(mut self, dir: &Path) -> Exec {
        self.dir = Dir::At(dir.to_path_buf());
        self
    }

    /// Run in a fresh empty directory (no configuration file).
    pub fn empty_dir(mut self) -> Exec {
        self.dir = Dir::Empty;
        self
    }

    /// Feed these bytes on standard input (otherwise it is empty).
    pub fn stdin(mut self, bytes: Vec<u8>) -> Exec {
        self.stdin = Some(bytes);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Exec {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Exec {
        self.env.push((key.into(), None));
        self
    }

    /// Hold the run to [`MAX_SECS`] and [`MAX_RSS_KB`] (the test fails
    /// beyond them), under a 3 GB address-space guard.
    pub fn bounded(mut self) -> Exec {
        self.bounded = true;
        self
    }

    /// Run it to the end. Standard output must be UTF-8 (standard error is
    /// read lossily).
    // The child is reaped by `wait4` (for its rusage), not by `Child::wait`.
    #[allow(clippy::zombie_processes)]
    pub fn run(self) -> Run {
        let empty = matches!(self.dir, Dir::Empty).then(|| tempfile::tempdir().unwrap());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_imgscope"));
        cmd.args(&self.args)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match (&self.dir, &empty) {
            (Dir::At(d), _) => {
                cmd.current_dir(d);
            }
            (Dir::Empty, Some(d)) => {
                cmd.current_dir(d.path());
            }
            _ => {}
        }
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        if self.bounded {
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
        }
        let mut child = cmd.spawn().unwrap();
        let pid = child.id() as libc::pid_t;
        let feeder = self.stdin.map(|data| {
            let mut w = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = w.write_all(&data);
            })
        });
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut v = Vec::new();
                let _ = r.read_to_end(&mut v);
                v
            })
        };
        let t_out = drain(Box::new(child.stdout.take().unwrap()));
        let t_err = drain(Box::new(child.stderr.take().unwrap()));
        // A thread blocks in wait4 until the child ends; this one waits for
        // that thread, and kills the child if a bounded run outlives its
        // limit (the waiter then reaps it).
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut status = 0;
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            let r = loop {
                let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
                if r != -1
                    || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
                {
                    break r;
                }
            };
            assert_eq!(r, pid, "wait4 failed");
            let _ = tx.send((status, usage.ru_maxrss));
        });
        let mut killed = false;
        let (status, maxrss) = if self.bounded {
            match rx.recv_timeout(Duration::from_secs_f64(MAX_SECS)) {
                Ok(r) => r,
                Err(_) => {
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    killed = true;
                    rx.recv().expect("the waiter reports")
                }
            }
        } else {
            rx.recv().expect("the waiter reports")
        };
        if let Some(f) = feeder {
            let _ = f.join();
        }
        let stdout = String::from_utf8(t_out.join().unwrap())
            .unwrap_or_else(|e| panic!("{:?}: stdout is not UTF-8: {e}", self.args));
        // Bad input may put any bytes in a message: standard error is read
        // as lossy UTF-8.
        let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
        let args = &self.args;
        if self.bounded {
            assert!(!killed, "{args:?}: still running after {MAX_SECS} s");
            assert!(
                maxrss < MAX_RSS_KB,
                "{args:?}: peak memory {} MB",
                maxrss / 1024
            );
        }
        assert!(
            libc::WIFEXITED(status),
            "{args:?}: killed by a signal (status {status}); stderr: {stderr}"
        );
        Run {
            code: libc::WEXITSTATUS(status),
            stdout,
            stderr,
        }
    }
}

/// Run the binary with `args` in `dir`.
pub fn exec_in(dir: &Path, args: &[&str]) -> Run {
    Exec::new(args).dir(dir).run()
}

/// Run the binary with `args` in an empty directory (no configuration file).
pub fn exec(args: &[&str]) -> Run {
    Exec::new(args).empty_dir().run()
}

/// `imgscope --format json ARGS`: the exit code (0 or 1) and the report.
pub fn json_report(args: &[&str]) -> (i32, serde_json::Value) {
    let mut a = vec!["--format", "json"];
    a.extend_from_slice(args);
    let r = exec(&a);
    (r.code, r.report())
}

/// A bounded run of `args`, feeding `stdin`.
pub fn run_bounded(args: &[&str], stdin: Option<Vec<u8>>) -> Run {
    let e = Exec::new(args).bounded();
    match stdin {
        Some(s) => e.stdin(s),
        None => e,
    }
    .run()
}

/// A bounded run on an image file, JSON output.
pub fn run_file(bytes: &[u8]) -> Run {
    run_file_with(bytes, &[])
}

/// A bounded run on an image file with more flags, JSON output.
pub fn run_file_with(bytes: &[u8], flags: &[&str]) -> Run {
    let f = temp_file(bytes);
    let mut args = vec!["--ci", "--format", "json"];
    args.extend_from_slice(flags);
    args.push(f.path().to_str().unwrap());
    run_bounded(&args, None)
}

/// The same image read from standard input, bounded.
pub fn run_stdin(bytes: &[u8]) -> Run {
    run_bounded(&["--ci", "--format", "json", "-"], Some(bytes.to_vec()))
}
