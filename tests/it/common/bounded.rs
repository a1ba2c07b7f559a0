//! Running the binary on hostile input with its time and peak memory
//! measured (wait4's rusage of the child: an upper bound, it also counts the
//! forked copy of the test process before exec, so tests keep their own
//! buffers small) and bounded: under 10 s and 500 MB, or the test fails.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::temp_file;

pub const MAX_SECS: f64 = 10.0;
pub const MAX_RSS_KB: i64 = 500 * 1024;

pub struct Outcome {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Outcome {
    pub fn json(&self) -> serde_json::Value {
        super::parse_json(&self.stdout, &self.stderr)
    }

    /// Exit 2, one line on stderr holding `want`, nothing on stdout.
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

    /// Analysed (exit 0 or 1).
    pub fn analysed(&self) -> serde_json::Value {
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
pub fn run(args: &[&str], stdin: Option<Vec<u8>>) -> Outcome {
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
pub fn run_file(bytes: &[u8]) -> Outcome {
    run_file_with(bytes, &[])
}

/// Run on an image file with more flags, JSON output.
pub fn run_file_with(bytes: &[u8], flags: &[&str]) -> Outcome {
    let f = temp_file(bytes);
    let mut args = vec!["--ci", "--format", "json"];
    args.extend_from_slice(flags);
    args.push(f.path().to_str().unwrap());
    run(&args, None)
}

/// The same image read from standard input.
pub fn run_stdin(bytes: &[u8]) -> Outcome {
    run(&["--ci", "--format", "json", "-"], Some(bytes.to_vec()))
}
