//! A real rpm database: two packages built with rpmbuild and installed with
//! Debian's rpm (sqlite backend) into a Fedora-style root, one layer each,
//! packed into an image with buildah (tests/images/build-rpm.sh, built into
//! target/rpm-images at test time, ~3 s). What rpm itself says of the final
//! database (`rpm -qa`, written by the script) is the reference: names,
//! versions and file lists; the sizes come from the layer tars.

use crate::common;

use std::collections::BTreeMap;

use common::{merged, real_report};

#[test]
fn rpm_sqlite_database_names_packages_files_and_layers() {
    let dir = match common::built_on_demand(
        "build-rpm.sh",
        "rpm-images",
        &["rpm.tar", "rpm-qa.txt"],
        &["rpm", "rpmbuild", "buildah", "skopeo"],
        "IMGSCOPE_RPM_IMAGES",
        None,
    ) {
        Ok(d) => d,
        Err(why) => {
            eprintln!("skipped: rpm_sqlite_database_names_packages_files_and_layers: {why}");
            return;
        }
    };
    let image = dir.join("rpm.tar");
    let r = real_report(&image);
    let m = merged(&image);
    // rpm's answer: name → (version, files).
    let qa = std::fs::read_to_string(dir.join("rpm-qa.txt")).unwrap();
    let mut want: BTreeMap<&str, (&str, Vec<&str>)> = BTreeMap::new();
    for l in qa.lines() {
        let mut f = l.split('\t');
        let (name, version, path) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let e = want.entry(name).or_insert((version, Vec::new()));
        e.1.push(path);
    }
    assert_eq!(
        want.keys().copied().collect::<Vec<_>>(),
        ["imgscope-hello", "imgscope-tools"]
    );
    let rpms: Vec<_> = r.packages.iter().filter(|p| p.manager == "rpm").collect();
    assert_eq!(rpms.len(), want.len(), "{rpms:?}");
    for (name, (version, files)) in &want {
        let p = rpms.iter().find(|p| p.name == *name).unwrap();
        // rpm prints the epoch even when it is 0; imgscope only when set.
        let v = version.strip_prefix("0:").unwrap_or(version);
        assert_eq!(p.version, v, "{name}");
        assert!(p.installed);
        let bytes: u64 = files.iter().filter_map(|f| m.files.get(*f)).sum();
        let count = files.iter().filter(|f| m.files.contains_key(**f)).count() as u64;
        assert!(bytes > 0, "{name}");
        assert_eq!((p.visible_bytes, p.files), (bytes, count), "{name}");
    }
    // The Python module imgscope-tools ships with its dist-info is rpm's.
    assert!(
        !r.packages.iter().any(|p| p.manager == "python"),
        "{:?}",
        r.packages
    );
    assert!(want["imgscope-tools"]
        .1
        .iter()
        .any(|f| f.ends_with(".dist-info/RECORD")));
    // Each package from the layer that installed it.
    let layer = |n: &str| rpms.iter().find(|p| p.name == n).unwrap().layer;
    assert_eq!(layer("imgscope-hello"), Some(0));
    assert_eq!(layer("imgscope-tools"), Some(1));
    assert_eq!(
        r.packages
            .iter()
            .find(|p| p.name == "imgscope-tools")
            .unwrap()
            .version,
        "2:0.9-1"
    );
    // The database itself belongs to no package: the rest of the image.
    let owned: u64 = rpms.iter().map(|p| p.visible_bytes).sum();
    let total: u64 = m.files.values().sum();
    assert_eq!(r.package_summary.visible_bytes, owned);
    assert_eq!(r.package_summary.no_package_visible_bytes, total - owned);
    assert_eq!(
        total - owned,
        m.files["/usr/lib/sysimage/rpm/rpmdb.sqlite"],
        "only the database is unowned"
    );
}
