//! `containers-storage:IMAGE` read straight from a podman/buildah store.
//! tests/images/build-cstorage.sh builds src/cstorage-base and
//! src/cstorage-app with buildah into private stores (vfs always, overlay
//! where the kernel allows it; built once, under target/) and exports the
//! app with `skopeo copy` to a docker-archive. The store read must give the
//! report of that archive exactly (source and format aside), must not
//! change the store, and must fail cleanly on a damaged store or a name it
//! does not hold. Skipped, by name, without buildah, skopeo, busybox-static,
//! python3 or root.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value;

const APP: &str = "localhost/cstorage-app:latest";

/// The stores, or why they cannot be built here.
fn stores() -> Result<PathBuf, String> {
    common::built_on_demand(
        "build-cstorage.sh",
        "cstorage-stores",
        &["drivers", "vfs.tar"],
        &["buildah", "skopeo", "python3"],
        "IMGSCOPE_CSTORAGE_STORES",
        None,
    )
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

/// Every file under `dir`: (size, modification time, change time).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime, i64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.path().symlink_metadata().unwrap();
            if m.is_dir() {
                todo.push(e.path());
            }
            out.insert(e.path(), (m.len(), m.modified().unwrap(), m.ctime()));
        }
    }
    out
}

#[test]
fn the_store_read_equals_skopeos_docker_archive() {
    let dir = stores_or_skip!("the_store_read_equals_skopeos_docker_archive");
    for d in drivers(&dir) {
        let before = snapshot(&dir.join(&d));
        let src = reference(&dir, &d, APP);
        let mut store = report(&[&src]);
        let archive = dir.join(format!("{d}.tar"));
        let mut file = report(&[archive.to_str().unwrap()]);
        assert_eq!(store["image"]["source"], src.as_str());
        assert_eq!(store["image"]["format"], "containers-storage");
        assert_eq!(file["image"]["format"], "docker-archive");
        for r in [&mut store, &mut file] {
            r["image"]["source"] = Value::Null;
            r["image"]["format"] = Value::Null;
        }
        assert_eq!(store, file, "{d}: the store read differs from skopeo's export");
        // What the image holds, so that equal reports mean something.
        let layers = store["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 5, "{d}");
        assert!(layers
            .iter()
            .all(|l| l["digest"].as_str().unwrap().starts_with("sha256:")));
        let waste = store["waste"].to_string();
        for p in ["/gone.txt", "/srv/dir/one.txt", "/srv/dir/sub/two.txt", "/opt/base/blob"] {
            assert!(waste.contains(p), "{d}: {p} not found wasted: {waste}");
        }
        // The digests the store rebuilds are the layers' diff_ids.
        let r = common::exec(&["--no-ci", "--verify", "--format", "json", &src]);
        assert_eq!(r.code, 0, "{d}: {}", r.stderr);
        // A short name and an ID prefix find the same image.
        let short = reference(&dir, &d, "cstorage-app");
        assert_eq!(report(&[&short])["summary"], store["summary"]);
        // Nothing in the store changed (no lock taken, no file written).
        assert_eq!(before, snapshot(&dir.join(&d)), "{d}: the store changed");
    }
}

/// `ls` over the store lists what it lists over the archive.
#[test]
fn ls_over_the_store_equals_ls_over_the_archive() {
    let dir = stores_or_skip!("ls_over_the_store_equals_ls_over_the_archive");
    for d in drivers(&dir) {
        let src = reference(&dir, &d, APP);
        let a = common::exec(&["ls", "--format", "json", &src]);
        let b = common::exec(&["ls", "--format", "json", dir.join(format!("{d}.tar")).to_str().unwrap()]);
        assert_eq!(a.code, 0, "{}", a.stderr);
        assert_eq!(a.stdout, b.stdout, "{d}");
        for p in ["\"/l3\"", "\"/x/attr.txt\"", "\"/h/c\"", "\"/srv/dir/new.txt\""] {
            assert!(a.stdout.contains(p), "{d}: {p} missing from ls");
        }
    }
}

/// A copy of the vfs store to damage.
fn copy_store(dir: &Path) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new("cp")
        .arg("-a")
        .arg(dir.join("vfs"))
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
    let t = copy_store(&dir);
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
    let t = copy_store(&dir);
    let root = t.path().join("vfs/root");
    let src = reference(t.path(), "vfs", APP);
    let (_, layers) = layers_json(&root);
    let top = top_layer(&layers);
    std::fs::remove_file(root.join(format!("vfs-layers/{top}.tar-split.gz"))).unwrap();
    let e = fails(&["--no-ci", &src]);
    assert!(e.contains(&top) && e.contains("tar-split"), "{e}");
    let t = copy_store(&dir);
    let root = t.path().join("vfs/root");
    let src = reference(t.path(), "vfs", APP);
    std::fs::remove_dir_all(root.join(format!("vfs/dir/{top}"))).unwrap();
    let e = fails(&["--no-ci", &src]);
    assert!(e.contains(&top) && e.contains("directory"), "{e}");

    // A file of the layer cut short (the tar-split says more).
    let t = copy_store(&dir);
    let root = t.path().join("vfs/root");
    let src = reference(t.path(), "vfs", APP);
    let f = root.join(format!("vfs/dir/{top}/h/c"));
    let len = std::fs::metadata(&f).unwrap().len();
    std::fs::write(&f, vec![b'x'; len as usize - 1]).unwrap();
    let e = fails(&["--no-ci", &src]);
    assert!(e.contains(&top) && e.contains("h/c"), "{e}");
}

/// A store held locked (as by a running build) is read without waiting.
#[test]
fn a_locked_store_is_read_without_waiting() {
    let dir = stores_or_skip!("a_locked_store_is_read_without_waiting");
    let root = dir.join("vfs/root");
    let mut held = Vec::new();
    for lock in ["storage.lock", "vfs-layers/layers.lock", "vfs-images/images.lock"] {
        let p = root.join(lock);
        if !p.exists() {
            continue;
        }
        let f = std::fs::OpenOptions::new().read(true).write(true).open(&p).unwrap();
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
    let r = common::exec(&["--no-ci", "--format", "json", &reference(&dir, "vfs", APP)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
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
        std::fs::write(&p, "#!/bin/sh\necho \"Error: podman was run: $*\" >&2\nexit 125\n").unwrap();
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
