//! End to end: the real binary in a real terminal (tmux). Opens the TUI on a
//! real image, checks the layers with their commands and the waste, moves
//! around, jumps from a finding to its file, filters, quits with exit 0 and a
//! restored terminal. Skipped (with a message) when tmux is not installed.
#![cfg(feature = "tui")]

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    target: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", &self.target, k]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }
    fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-t", &self.target])
    }
    fn wait_for(&self, what: &str) -> String {
        self.wait_for_all(&[what])
    }
    /// The screen once `what` is gone from it.
    fn wait_for_none(&self, what: &str) -> String {
        let t0 = Instant::now();
        loop {
            let s = self.screen();
            if !s.contains(what) {
                return s;
            }
            if t0.elapsed() > Duration::from_secs(20) {
                panic!("timed out waiting for {what:?} to go; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// The screen once it shows every one of `what`: a capture can catch a
    /// frame half drawn, so wait for all the parts a check needs.
    fn wait_for_all(&self, what: &[&str]) -> String {
        let t0 = Instant::now();
        loop {
            let s = self.screen();
            if what.iter().all(|w| s.contains(w)) {
                return s;
            }
            if t0.elapsed() > Duration::from_secs(20) {
                panic!("timed out waiting for {what:?}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Our own server (private socket) only.
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn tmux_available(test: &str) -> bool {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED {test}: tmux is not installed");
        return false;
    }
    true
}

/// Start `imgscope ARGS` in a 120x40 tmux session on a private server.
/// After it exits the pane shows its exit code and whether the tty is back
/// in cooked mode (icanon, echo).
fn start(name: &str, args: &str) -> Tmux {
    start_in(name, env!("CARGO_MANIFEST_DIR").as_ref(), args)
}

/// [`start`] in the working directory `dir`.
fn start_in(name: &str, dir: &std::path::Path, args: &str) -> Tmux {
    let bin = env!("CARGO_BIN_EXE_imgscope");
    let t = Tmux {
        socket: format!("imgscope-{name}-{}", std::process::id()),
        target: name.into(),
    };
    let script = format!(
        "'{bin}' {args}; echo \"exit=$?\"; stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo; sleep 60"
    );
    t.cmd(&[
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        "120",
        "-y",
        "40",
        "-c",
        dir.to_str().expect("a UTF-8 directory"),
        "sh",
        "-c",
        &script,
    ]);
    t
}

fn quits_cleanly(t: &Tmux) {
    t.keys(&["q"]);
    let s = t.wait_for("exit=");
    assert!(s.contains("exit=0"), "{s}");
    let s = t.wait_for("icanon");
    assert!(
        s.contains("icanon echo") || s.contains("echo icanon"),
        "{s}"
    );
    assert!(!s.contains("-icanon") && !s.contains("-echo "), "{s}");
    assert!(
        !s.contains("Layers ("),
        "still on the alternate screen:\n{s}"
    );
}

#[test]
fn demo_in_tmux() {
    if !tmux_available("demo_in_tmux") {
        return;
    }
    let t = start("demo", "--demo");
    // The first frame with the layers may not have the Image pane yet.
    t.wait_for_all(&["Layers (", "Efficiency"]);
    quits_cleanly(&t);
}

#[test]
fn tui_in_tmux() {
    if !tmux_available("tui_in_tmux") {
        return;
    }
    // dive's 14-step scenario rebuilt in tests/images/ (see tests/dive_steps.rs).
    let image = format!(
        "{}/tests/images/dive-steps.docker.tar.zst",
        env!("CARGO_MANIFEST_DIR")
    );
    let t = start("e2e", &format!("'{image}'"));
    // Opens: the layers with their commands and the waste.
    t.wait_for_all(&[
        "Layers (14)",
        "RUN chmod 444 /root/",
        "RUN rm -rf /root/exa",
        "Wasted",
        "60 kB",
        "Efficiency",
    ]);
    // Navigates: layer 4 in the layers pane, its command in the details.
    t.keys(&["Home", "Down", "Down", "Down", "Down"]);
    t.wait_for_all(&["Files at layer 4", "Command RUN chmod 444"]);
    // The waste tab, Enter on the first finding: its layer and file.
    t.keys(&["3"]);
    t.wait_for("hidden by layer 9: RUN rm -rf /root/example/");
    t.keys(&["Down", "Enter"]);
    t.wait_for_all(&["Files at layer 5", "somefile2.txt"]);
    // Filters the tree.
    t.keys(&["C-f", "s", "a", "v", "e", "d", "Enter"]);
    let s = t.wait_for("Filter: saved");
    assert!(!s.contains("busybox"), "{s}");
    // Help opens and closes.
    t.keys(&["?"]);
    t.wait_for("this help");
    t.keys(&["Escape"]);
    // Closed before `q` goes: an Escape read together with the `q` after it
    // is Alt+q, which closes the help and does not quit.
    t.wait_for_none("this help");
    // Quits with exit 0 and a restored terminal.
    quits_cleanly(&t);
}

#[test]
fn load_error_restores_the_terminal() {
    if !tmux_available("load_error_restores_the_terminal") {
        return;
    }
    let bad = format!("{}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
    let t = start("err", &format!("'{bad}'"));
    let s = t.wait_for("exit=");
    assert!(s.contains("exit=2"), "{s}");
    assert!(s.contains("imgscope: ") && s.contains("Cargo.toml"), "{s}");
    let s = t.wait_for("icanon");
    assert!(!s.contains("-icanon") && !s.contains("-echo "), "{s}");
}

/// The findings of `imgscope --format json IMAGE` run in `dir`, each as
/// `(path, stored_in_layer)`.
fn json_findings(dir: &std::path::Path, image: &str) -> Vec<(String, u64)> {
    let r = crate::common::Exec::new(["--format", "json", image])
        .dir(dir)
        .run();
    assert_eq!(r.code, 0, "{}", r.stderr);
    crate::common::json_findings(&r.json())
        .into_iter()
        .map(|f| (f.0, f.3 as u64))
        .collect()
}

/// The TUI and the text report apply the same `.imgscope.toml` ignores: the
/// Waste tab lists exactly the findings of the report run in the same
/// directory (each by path and storing layer), and none of those ignored.
#[test]
fn tui_applies_the_config_files_ignores() {
    if !tmux_available("tui_applies_the_config_files_ignores") {
        return;
    }
    let image = format!(
        "{}/tests/images/dive-steps.docker.tar.zst",
        env!("CARGO_MANIFEST_DIR")
    );
    let dir = tempfile::tempdir().unwrap();
    let all = json_findings(dir.path(), &image);
    std::fs::write(
        dir.path().join(".imgscope.toml"),
        "ignore = [\"/root/example/**\"]\n",
    )
    .unwrap();
    let kept = json_findings(dir.path(), &image);
    let ignored: Vec<_> = all.iter().filter(|f| !kept.contains(f)).collect();
    assert!(
        !kept.is_empty() && !ignored.is_empty(),
        "the config must drop some findings and keep some: {all:?} -> {kept:?}"
    );
    let t = start_in("ignores", dir.path(), &format!("'{image}'"));
    t.wait_for("Layers (14)");
    t.keys(&["3"]);
    let row = |(path, layer): &(String, u64)| format!("{path}  stored in layer {layer}");
    let mut want: Vec<String> = kept.iter().map(row).collect();
    want.push(format!(" 3 Waste {} ", kept.len()));
    want.push(format!("in {} findings", kept.len()));
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    let s = t.wait_for_all(&want);
    for f in ignored {
        assert!(!s.contains(&row(f)), "{} is ignored:\n{s}", row(f));
    }
    quits_cleanly(&t);
}

/// issue 25: open a file, search in it, open its history, open a hidden
/// version, diff two versions, quit; on a real image where one text file
/// has three versions (tests/images/versions.tar.zst).
#[test]
fn viewer_history_and_diff_in_tmux() {
    if !tmux_available("viewer_history_and_diff_in_tmux") {
        return;
    }
    let image = format!(
        "{}/tests/images/versions.tar.zst",
        env!("CARGO_MANIFEST_DIR")
    );
    let t = start("viewer", &format!("'{image}'"));
    t.wait_for_all(&["Layers (5)", "Efficiency"]);
    // The file, found with the filter, opened with Enter.
    t.keys(&["2", "C-f", "a", "p", "p", ".", "c", "o", "n", "f", "Enter"]);
    t.wait_for_all(&["Filter: app.conf", "app.conf → app/app.conf"]);
    t.keys(&["Home", "Down", "Down", "Enter"]);
    t.wait_for_all(&[
        "/etc/app/app.conf · as of layer 4 · 270 B · text",
        " 5 port = 9090",
        "21 workers = 4",
    ]);
    // Searched: the first match, then the next.
    t.keys(&["/", "l", "o", "g"]);
    t.wait_for("/log");
    t.keys(&["Enter"]);
    t.wait_for("line 8: 4 matches");
    t.keys(&["n"]);
    t.wait_for("line 9: 4 matches");
    // Its history: three versions, how each was hidden, the one shown.
    t.keys(&["H"]);
    t.wait_for_all(&[
        "History of /etc/app/app.conf · 3 versions",
        "layer 2: overwritten",
        "layer 3: metadata only",
        "(the version the image shows)",
    ]);
    // The first version, hidden by layer 2, in the viewer.
    t.keys(&["Up", "Up", "Enter"]);
    t.wait_for_all(&["the version of layer 1 · 257 B", " 5 port = 8080"]);
    t.keys(&["Escape"]);
    // Each Escape is seen before the next key (else Alt+key).
    t.wait_for_none("the version of layer 1");
    // Layer 1's version marked, diffed with layer 2's.
    t.keys(&["d"]);
    t.wait_for("layer 1's version marked");
    t.keys(&["Down", "d"]);
    t.wait_for_all(&[
        "Diff of /etc/app/app.conf: layer 1 (257 B) → layer 2 (270 B)",
        "-port = 8080",
        "+port = 9090",
        "-log_level = info",
        "+log_level = debug",
        "+workers = 4",
    ]);
    t.keys(&["Escape"]);
    t.wait_for_none("Diff of");
    // Back: the history, the viewer it was opened from, the files.
    t.keys(&["Escape"]);
    t.wait_for_none("History of");
    t.wait_for("/etc/app/app.conf · as of layer 4");
    t.keys(&["Escape"]);
    t.wait_for("Files at layer 4");
    quits_cleanly(&t);
}
