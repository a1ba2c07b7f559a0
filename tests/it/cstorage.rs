//! `containers-storage:IMAGE` read straight from a podman/buildah store.
//! tests/images/build-cstorage.sh builds src/cstorage-base and
//! src/cstorage-app with buildah into private stores (vfs always, overlay
//! where the kernel allows it; built once, under target/) and exports the
//! app with `skopeo copy` to a docker-archive. The store read must give the
//! report of that archive exactly (source and format aside), must not
//! change the store, and must fail cleanly on a damaged store or a name it
//! does not hold. Skipped, by name, without buildah, skopeo, busybox-static,
//! python3 or root.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value;

const APP: &str = "localhost/cstorage-app:latest";

/// The stores, or why they cannot be built here (built once for all the
/// tests of this file, which run at the same time).
fn stores() -> Result<PathBuf, String> {
    static STORES: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    STORES
        .get_or_init(|| {
            common::built_on_demand(
                "build-cstorage.sh",
                "cstorage-stores",
                &["drivers", "vfs.tar"],
                &["buildah", "skopeo", "python3"],
                "IMGSCOPE_CSTORAGE_STORES",
                None,
            )
        })
        .clone()
}

macro_rules! stores_or_skip {
    ($name:expr) => {
        match stores() {
            Ok(d) => d,
            Err(why) => {
                eprintln!("skipped: {} (containers-storage stores): {why}", $name);
                return;
            }
        }
    };
}

fn drivers(dir: &Path) -> Vec<String> {
    let list = std::fs::read_to_string(dir.join("drivers")).unwrap();
    if !list.contains("overlay") {
        eprintln!(
            "skipped: the overlay store (buildah could not use overlay here: {})",
            std::fs::read_to_string(dir.join("overlay.skipped"))
                .unwrap_or_default()
                .trim()
        );
    }
    list.lines().map(String::from).collect()
}

fn reference(dir: &Path, driver: &str, name: &str) -> String {
    let s = dir.join(driver);
    format!(
        "containers-storage:[{driver}@{}+{}]{name}",
        s.join("root").display(),
        s.join("run").display()
    )
}

fn report(args: &[&str]) -> Value {
    let r = common::exec(&[&["--no-ci", "--format", "json"], args].concat());
    r.report()
}

/// Every file under `dir`: size, modification time, change time, and for
/// regular files the access time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.path().symlink_metadata().unwrap();
            if m.is_dir() {
                todo.push(e.path());
            }
            let atime = if m.is_file() { m.atime() } else { 0 };
            out.insert(e.path(), (m.len(), m.modified().unwrap(), m.ctime(), atime));
        }
    }
    out
}

/// The manifest digests of the images in the store of `driver`.
fn store_digests(dir: &Path, driver: &str) -> Vec<String> {
    let p = dir.join(format!("{driver}/root/{driver}-images/images.json"));
    let images: Vec<Value> = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    images
        .iter()
        .filter_map(|i| i["digest"].as_str().map(String::from))
        .collect()
}

#[test]
fn the_store_read_equals_skopeos_docker_archive() {
    let dir = stores_or_skip!("the_store_read_equals_skopeos_docker_archive");
    for d in drivers(&dir) {
        // A copy whose files were last read long before they were written:
        // a read that is not O_NOATIME would move their access times
        // (relatime), and the snapshot would see it.
        let t = copy_store(&dir, &d);
        let ok = std::process::Command::new("find")
            .arg(t.path())
            .args(["-type", "f", "-exec", "touch", "-a", "-d", "@1", "{}", "+"])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let before = snapshot(&t.path().join(&d));
        let src = reference(t.path(), &d, APP);
        let mut store = report(&[&src]);
        let archive = dir.join(format!("{d}.tar"));
        let mut file = report(&[archive.to_str().unwrap()]);
        assert_eq!(store["image"]["source"], src.as_str());
        assert_eq!(store["image"]["format"], "containers-storage");
        assert_eq!(file["image"]["format"], "docker-archive");
        // The store keeps the image's own manifest, whose annotations name
        // the base image and its digest; a docker-archive has no place for
        // them, so there the boundary comes from the history alone. The
        // same boundary, with the digest and one more piece of evidence.
        let (sb, fb) = (&store["image"]["base"], &file["image"]["base"]);
        assert_eq!(sb["name"], "localhost/cstorage-base:latest", "{d}: {sb}");
        assert_eq!(sb["name"], fb["name"], "{d}");
        assert_eq!(sb["layers"], 2, "{d}: {sb}");
        assert_eq!(sb["layers"], fb["layers"], "{d}");
        assert_eq!(sb["source"], "annotation", "{d}: {sb}");
        assert_eq!(fb["source"], "history", "{d}: {fb}");
        // (buildah's annotation names the image of the build's last cached
        // step before this one, an image of the store.)
        let digest = sb["digest"].as_str().unwrap_or_default();
        assert!(
            store_digests(&dir, &d).iter().any(|s| s == digest),
            "{d}: {sb}"
        );
        assert!(fb["digest"].is_null());
        let (se, fe) = (
            sb["evidence"].as_array().unwrap(),
            fb["evidence"].as_array().unwrap(),
        );
        assert_eq!(&se[1..], &fe[..], "{d}");
        for r in [&mut store, &mut file] {
            r["image"]["source"] = Value::Null;
            r["image"]["format"] = Value::Null;
            r["image"]["base"] = Value::Null;
        }
        assert_eq!(
            store, file,
            "{d}: the store read differs from skopeo's export"
        );
        // What the image holds, so that equal reports mean something.
        let layers = store["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 5, "{d}");
        assert!(layers
            .iter()
            .all(|l| l["digest"].as_str().unwrap().starts_with("sha256:")));
        let waste = store["waste"].to_string();
        for p in [
            "/gone.txt",
            "/srv/dir/one.txt",
            "/srv/dir/sub/two.txt",
            "/opt/base/blob",
        ] {
            assert!(waste.contains(p), "{d}: {p} not found wasted: {waste}");
        }
        // The digests the store rebuilds are the layers' diff_ids.
        let r = common::exec(&["--no-ci", "--verify", "--format", "json", &src]);
        assert_eq!(r.code, 0, "{d}: {}", r.stderr);
        // A short name and an ID prefix find the same image.
        let short = reference(t.path(), &d, "cstorage-app");
        assert_eq!(report(&[&short])["summary"], store["summary"]);
        // Nothing in the store changed (no lock taken, no file written).
        let after = snapshot(&t.path().join(&d));
        let changed: Vec<_> = after
            .iter()
            .filter(|(p, m)| before.get(*p) != Some(m))
            .map(|(p, m)| (p, before.get(p), m))
            .collect();
        assert!(changed.is_empty(), "{d}: the store changed: {changed:?}");
        assert_eq!(before.len(), after.len(), "{d}");
    }
}

/// A copy of the store of `driver` (to damage, or to read with known
/// access times), in `T/driver`.
fn copy_store(dir: &Path, driver: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new("cp")
        .arg("-a")
        .arg(dir.join(driver))
        .arg(t.path())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    t
}

fn fails(args: &[&str]) -> String {
    let r = common::exec(args);
    assert_eq!(r.code, 2, "{args:?}: {} {}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty());
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    r.stderr
}

fn layers_json(root: &Path) -> (PathBuf, Vec<Value>) {
    let p = root.join("vfs-layers/layers.json");
    let v: Vec<Value> = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    (p, v)
}

/// The app's top layer (the one no other layer names as parent).
fn top_layer(layers: &[Value]) -> String {
    let parents: Vec<&str> = layers.iter().filter_map(|l| l["parent"].as_str()).collect();
    let tops: Vec<&Value> = layers
        .iter()
        .filter(|l| !parents.contains(&l["id"].as_str().unwrap()))
        .collect();
    assert_eq!(tops.len(), 1);
    tops[0]["id"].as_str().unwrap().to_string()
}

#[test]
fn bad_names_and_damaged_stores_exit_2_naming_what_is_wrong() {
    let dir = stores_or_skip!("bad_names_and_damaged_stores_exit_2_naming_what_is_wrong");
    // A name the store does not hold: the nearest names.
    let e = fails(&["--no-ci", &reference(&dir, "vfs", "cstorage-ap")]);
    assert!(
        e.contains("nearest names: localhost/cstorage-app:latest"),
        "{e}"
    );
    assert!(fails(&["containers-storage:"]).contains("give an image name"));

    // An interrupted pull: the top layer flagged incomplete.
    let t = copy_store(&dir, "vfs");
    let root = t.path().join("vfs");
    let src = reference(t.path(), "vfs", APP);
    let (p, mut layers) = layers_json(&root.join("root"));
    let top = top_layer(&layers);
    for l in layers.iter_mut() {
        if l["id"] == top.as_str() {
            l["flags"] = serde_json::json!({"incomplete": true});
        }
    }
    std::fs::write(&p, serde_json::to_vec(&layers).unwrap()).unwrap();
    let e = fails(&["--no-ci", &src]);
    assert!(e.contains(&top) && e.contains("incomplete"), "{e}");

    // A missing tar-split file, then a missing layer directory.
    let t = copy_store(&dir, "vfs");
    let root = t.path().join("vfs/root");
    let src = reference(t.path(), "vfs", APP);
    let (_, layers) = layers_json(&root);
    let top = top_layer(&layers);
    std::fs::remove_file(root.join(format!("vfs-layers/{top}.tar-split.gz"))).unwrap();
    let e = fails(&["--no-ci", &src]);
    assert!(e.contains(&top) && e.contains("tar-split"), "{e}");
    let t = copy_store(&dir, "vfs");
    let root = t.path().join("vfs/root");
    let src = reference(t.path(), "vfs", APP);
    std::fs::remove_dir_all(root.join(format!("vfs/dir/{top}"))).unwrap();
    let e = fails(&["--no-ci", &src]);
    assert!(e.contains(&top) && e.contains("directory"), "{e}");

    // A file of the layer cut short (the tar-split says more): h/c, whose
    // contents the tar-split reads under its first name, h/b (a hard link).
    let t = copy_store(&dir, "vfs");
    let root = t.path().join("vfs/root");
    let src = reference(t.path(), "vfs", APP);
    let f = root.join(format!("vfs/dir/{top}/h/c"));
    let len = std::fs::metadata(&f).unwrap().len();
    std::fs::write(&f, vec![b'x'; len as usize - 1]).unwrap();
    let e = fails(&["--no-ci", &src]);
    assert!(
        e.contains(&top) && e.contains("h/b: the tar-split records 5005 bytes"),
        "{e}"
    );
}

/// A store held locked (as by a running build) is read without waiting.
#[test]
fn a_locked_store_is_read_without_waiting() {
    let dir = stores_or_skip!("a_locked_store_is_read_without_waiting");
    let root = dir.join("vfs/root");
    let mut held = Vec::new();
    for lock in [
        "storage.lock",
        "vfs-layers/layers.lock",
        "vfs-images/images.lock",
    ] {
        let p = root.join(lock);
        if !p.exists() {
            continue;
        }
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        // The write lock containers/storage itself takes (fcntl, whole file).
        let fl = libc::flock {
            l_type: libc::F_WRLCK as i16,
            l_whence: libc::SEEK_SET as i16,
            l_start: 0,
            l_len: 0,
            l_pid: 0,
        };
        let rc = unsafe {
            use std::os::fd::AsRawFd;
            libc::fcntl(f.as_raw_fd(), libc::F_SETLK, &fl)
        };
        assert_eq!(rc, 0, "cannot lock {}", p.display());
        held.push(f);
    }
    assert!(!held.is_empty());
    // Had imgscope waited for a lock it would wait for ever: a deadline
    // turns that into a failure.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("imgscope"))
        .args(["--no-ci", "--format", "json", &reference(&dir, "vfs", APP)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("imgscope did not finish within 120 s with the store locked");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success());
    drop(held);
}

/// `podman://NAME` reads the local store when it holds NAME (the `podman`
/// on PATH here fails if it is run at all), and asks `podman save` when
/// the store does not.
#[test]
fn podman_uris_read_the_store_when_it_holds_the_image() {
    let dir = stores_or_skip!("podman_uris_read_the_store_when_it_holds_the_image");
    let t = tempfile::tempdir().unwrap();
    let conf = t.path().join("storage.conf");
    std::fs::write(
        &conf,
        format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
            dir.join("vfs/root").display(),
            dir.join("vfs/run").display()
        ),
    )
    .unwrap();
    let bin = t.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let p = bin.join("podman");
        std::fs::write(
            &p,
            "#!/bin/sh\necho \"Error: podman was run: $*\" >&2\nexit 125\n",
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = |name: &str| {
        let out = common::imgscope()
            .current_dir(t.path())
            .env("CONTAINERS_STORAGE_CONF", &conf)
            .env_remove("CONTAINER_HOST")
            .env_remove("CONTAINER_CONNECTION")
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .args(["--no-ci", "--format", "json", name])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, out, err) = run("podman://cstorage-app");
    assert_eq!(code, 0, "{err}");
    let mut v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["image"]["source"], "podman://cstorage-app");
    assert_eq!(v["image"]["format"], "containers-storage");
    let mut direct = report(&[&reference(&dir, "vfs", APP)]);
    v["image"]["source"] = Value::Null;
    direct["image"]["source"] = Value::Null;
    assert_eq!(v, direct);
    // Not in the store: `podman save` is asked (and here fails).
    let (code, out, err) = run("podman://not-there:1");
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("podman was run: save not-there:1"), "{err}");
}

/// A rootless user's store, found with no reference part and no
/// CONTAINERS_STORAGE_CONF: the user's storage.conf (driver only), then
/// the default `$XDG_DATA_HOME/containers/storage`, read by a user that
/// is not root (`setpriv`, uid 65534) and owns the store.
#[test]
fn a_rootless_users_store_is_found_where_podman_looks() {
    let dir = stores_or_skip!("a_rootless_users_store_is_found_where_podman_looks");
    if !common::have("setpriv") {
        eprintln!("skipped: a_rootless_users_store_is_found_where_podman_looks (no setpriv)");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let data = home.join("data/containers");
    std::fs::create_dir_all(&data).unwrap();
    let ok = std::process::Command::new("cp")
        .arg("-a")
        .arg(dir.join("vfs/root"))
        .arg(data.join("storage"))
        .status()
        .unwrap()
        .success();
    assert!(ok);
    std::fs::create_dir_all(home.join("config/containers")).unwrap();
    std::fs::write(
        home.join("config/containers/storage.conf"),
        "[storage]\ndriver = \"vfs\"\n",
    )
    .unwrap();
    let ok = std::process::Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(home)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(assert_cmd::cargo::cargo_bin("imgscope"))
        .args([
            "--no-ci",
            "--format",
            "json",
            "containers-storage:cstorage-app",
        ])
        .current_dir(home)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut root = report(&[&reference(&dir, "vfs", APP)]);
    assert_eq!(v["image"]["format"], "containers-storage");
    v["image"]["source"] = Value::Null;
    root["image"]["source"] = Value::Null;
    assert_eq!(v, root);
}
