//! Where a containers-storage store is and which driver wrote it: the
//! reference's own `[driver@root+runroot]`, else `storage.conf`
//! (`CONTAINERS_STORAGE_CONF`, the user's file when rootless,
//! `/etc/containers/storage.conf`, `/usr/share/containers/storage.conf`),
//! else the defaults podman uses (`/var/lib/containers/storage` for root,
//! `$XDG_DATA_HOME/containers/storage` or `~/.local/share/containers/storage`
//! rootless). Nothing here writes or locks anything.

use std::path::{Path, PathBuf};

/// The two drivers whose layers are read (their layer directories differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    Overlay,
    Vfs,
}

impl Driver {
    pub fn name(self) -> &'static str {
        match self {
            Driver::Overlay => "overlay",
            Driver::Vfs => "vfs",
        }
    }

    fn parse(s: &str) -> Result<Driver, String> {
        match s {
            "overlay" | "overlay2" => Ok(Driver::Overlay),
            "vfs" => Ok(Driver::Vfs),
            other => Err(format!(
                "the {other:?} storage driver is not supported (overlay and vfs are)"
            )),
        }
    }
}

/// `[driver@root+runroot:options]` of a `containers-storage:` reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spec {
    pub driver: Option<String>,
    pub root: Option<PathBuf>,
    pub runroot: Option<PathBuf>,
}

/// A located store.
#[derive(Debug, Clone)]
pub struct Store {
    pub driver: Driver,
    pub root: PathBuf,
    /// Where the root and driver came from, for messages.
    pub how: String,
}

impl Store {
    /// `<root>/<driver>-images`, `…-layers`.
    pub fn meta_dir(&self, kind: &str) -> PathBuf {
        self.root.join(format!("{}-{kind}", self.driver.name()))
    }

    /// The directory holding the files of layer `id`.
    pub fn layer_dir(&self, id: &str) -> PathBuf {
        match self.driver {
            Driver::Overlay => self.root.join("overlay").join(id).join("diff"),
            Driver::Vfs => self.root.join("vfs").join("dir").join(id),
        }
    }

    /// `<root>/<driver>-layers/<id>.tar-split.gz`.
    pub fn tar_split(&self, id: &str) -> PathBuf {
        self.meta_dir("layers").join(format!("{id}.tar-split.gz"))
    }

    /// `driver@root`, as a reference would name it.
    pub fn describe(&self) -> String {
        format!("{}@{}", self.driver.name(), self.root.display())
    }
}

/// What the environment says (read once by the caller; tests give their own).
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub uid: u32,
    pub home: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub xdg_data_home: Option<PathBuf>,
    pub storage_conf: Option<PathBuf>,
    pub storage_driver: Option<String>,
    pub user: Option<String>,
}

impl Env {
    pub fn current() -> Env {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        Env {
            uid: current_uid(),
            home: var("HOME").map(PathBuf::from),
            xdg_config_home: var("XDG_CONFIG_HOME").map(PathBuf::from),
            xdg_data_home: var("XDG_DATA_HOME").map(PathBuf::from),
            storage_conf: var("CONTAINERS_STORAGE_CONF").map(PathBuf::from),
            storage_driver: std::env::var("STORAGE_DRIVER")
                .ok()
                .filter(|v| !v.is_empty()),
            user: std::env::var("USER").ok(),
        }
    }
}

#[cfg(unix)]
fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file this process creates would need a write; the
    // owner of /proc/self is the process's (real) user on Linux.
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

#[cfg(not(unix))]
fn current_uid() -> u32 {
    u32::MAX
}

/// The `[storage]` settings of a storage.conf.
#[derive(Debug, Default)]
struct Conf {
    driver: Option<String>,
    graphroot: Option<String>,
    rootless_storage_path: Option<String>,
}

fn read_conf(path: &Path) -> Result<Conf, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the storage configuration {}: {e}",
            path.display()
        )
    })?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: not valid TOML: {e}", path.display()))?;
    let storage = table.get("storage").and_then(|s| s.as_table());
    let get = |k: &str| {
        storage
            .and_then(|s| s.get(k))
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    Ok(Conf {
        driver: get("driver"),
        graphroot: get("graphroot"),
        rootless_storage_path: get("rootless_storage_path"),
    })
}

/// `$HOME`, `$UID` and `$USER` in `rootless_storage_path`.
fn expand(s: &str, env: &Env) -> String {
    let home = env
        .home
        .as_ref()
        .map(|h| h.display().to_string())
        .unwrap_or_default();
    s.replace("$HOME", &home)
        .replace("$UID", &env.uid.to_string())
        .replace("$USER", env.user.as_deref().unwrap_or(""))
}

const SYSTEM_CONFS: [&str; 2] = [
    "/etc/containers/storage.conf",
    "/usr/share/containers/storage.conf",
];

/// Find the store `spec` and the environment name.
pub fn locate(spec: &Spec, env: &Env) -> Result<Store, String> {
    let (root, conf_driver, how) = match &spec.root {
        Some(r) => (r.clone(), None, "the reference".to_string()),
        None => from_config(env)?,
    };
    let driver = match spec
        .driver
        .clone()
        .or_else(|| env.storage_driver.clone())
        .or(conf_driver)
    {
        Some(d) => Driver::parse(&d)?,
        None => detect_driver(&root)?,
    };
    Ok(Store { driver, root, how })
}

fn from_config(env: &Env) -> Result<(PathBuf, Option<String>, String), String> {
    let rootless = env.uid != 0;
    let user_conf = env
        .xdg_config_home
        .clone()
        .or_else(|| env.home.as_ref().map(|h| h.join(".config")))
        .map(|c| c.join("containers/storage.conf"));
    // The file read: the variable's (which must exist), else the user's
    // (rootless), else the system's.
    let (conf, from) = if let Some(p) = &env.storage_conf {
        (read_conf(p)?, Some(p.clone()))
    } else if let Some(p) = user_conf.filter(|p| rootless && p.is_file()) {
        (read_conf(&p)?, Some(p))
    } else {
        match SYSTEM_CONFS.iter().map(Path::new).find(|p| p.is_file()) {
            Some(p) => (read_conf(p)?, Some(p.to_path_buf())),
            None => (Conf::default(), None),
        }
    };
    let system = from
        .as_ref()
        .is_some_and(|p| SYSTEM_CONFS.iter().any(|s| Path::new(s) == p));
    let how = match &from {
        Some(p) => p.display().to_string(),
        None => "the default location".to_string(),
    };
    let root = if !rootless || (!system && conf.graphroot.is_some()) {
        // Root reads graphroot; a rootless user's own file may set it too
        // (the system file's graphroot is root's, not theirs).
        match &conf.graphroot {
            Some(g) => PathBuf::from(g),
            None => PathBuf::from("/var/lib/containers/storage"),
        }
    } else if let Some(p) = &conf.rootless_storage_path {
        PathBuf::from(expand(p, env))
    } else {
        let data = env
            .xdg_data_home
            .clone()
            .or_else(|| env.home.as_ref().map(|h| h.join(".local/share")))
            .ok_or("no HOME or XDG_DATA_HOME to find the rootless store in")?;
        data.join("containers/storage")
    };
    Ok((root, conf.driver, how))
}

/// The driver whose image list exists in `root` (overlay first, as podman
/// prefers it).
fn detect_driver(root: &Path) -> Result<Driver, String> {
    for d in [Driver::Overlay, Driver::Vfs] {
        if root
            .join(format!("{}-images", d.name()))
            .join("images.json")
            .exists()
        {
            return Ok(d);
        }
    }
    for other in ["btrfs", "zfs", "aufs", "devmapper"] {
        if root.join(format!("{other}-images")).exists() {
            return Err(Driver::parse(other).unwrap_err());
        }
    }
    Err(format!(
        "no image store at {} (neither overlay-images/images.json nor vfs-images/images.json)",
        root.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(uid: u32) -> Env {
        Env {
            uid,
            home: Some("/home/u".into()),
            user: Some("u".into()),
            ..Env::default()
        }
    }

    #[test]
    fn rootless_default_and_explicit_conf() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("s");
        std::fs::create_dir_all(root.join("vfs-images")).unwrap();
        std::fs::write(root.join("vfs-images/images.json"), "[]").unwrap();
        let conf = dir.path().join("storage.conf");
        std::fs::write(
            &conf,
            format!("[storage]\ngraphroot = \"{}\"\n", root.display()),
        )
        .unwrap();
        let mut e = env(1000);
        e.storage_conf = Some(conf.clone());
        let s = locate(&Spec::default(), &e).unwrap();
        assert_eq!(s.root, root);
        assert_eq!(s.driver, Driver::Vfs);
        assert_eq!(s.how, conf.display().to_string());
        // Rootless with a file that sets no graphroot: the data home.
        let bare = dir.path().join("bare.conf");
        std::fs::write(&bare, "[storage]\ndriver = \"overlay\"\n").unwrap();
        let mut e = env(1000);
        e.storage_conf = Some(bare.clone());
        e.xdg_data_home = Some("/data".into());
        let (r, d, _) = from_config(&e).unwrap();
        assert_eq!(r, Path::new("/data/containers/storage"));
        assert_eq!(d.as_deref(), Some("overlay"));
        e.xdg_data_home = None;
        assert_eq!(
            from_config(&e).unwrap().0,
            Path::new("/home/u/.local/share/containers/storage")
        );
        // Root with the same file: the default graphroot.
        let mut e = env(0);
        e.storage_conf = Some(bare);
        assert_eq!(
            from_config(&e).unwrap().0,
            Path::new("/var/lib/containers/storage")
        );
        // rootless_storage_path, expanded.
        let rl = dir.path().join("rl.conf");
        std::fs::write(
            &rl,
            "[storage]\ngraphroot = \"/g\"\nrootless_storage_path = \"$HOME/st/$UID\"\n",
        )
        .unwrap();
        let mut e = env(1000);
        e.storage_conf = Some(rl);
        // A rootless user's own file (not the system's) may set graphroot.
        assert_eq!(from_config(&e).unwrap().0, Path::new("/g"));
        assert_eq!(
            expand("$HOME/x/$UID/$USER", &env(7)),
            "/home/u/x/7/u".to_string()
        );
        assert!(Driver::parse("btrfs")
            .unwrap_err()
            .contains("not supported"));
    }
}
