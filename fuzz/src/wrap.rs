//! How the fuzz targets turn one input into an image archive; shared with
//! tests/fuzz_regressions.rs (`#[path]`), which replays the inputs kept from
//! the fuzzers through the binary. Only `std` and the `tar` crate.

/// Separates the parts of one input (configs, manifests, layers).
pub const SEP: &[u8] = b"@@@@";

/// `data` cut at every [`SEP`], at most `max` parts (the last keeps the rest).
pub fn split(data: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < max {
        match rest.windows(SEP.len()).position(|w| w == SEP) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + SEP.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

/// A plain tar holding `members` (regular files, GNU headers).
pub fn tar_of(members: &[(String, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, body) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        if b.append_data(&mut h, name, *body).is_err() {
            continue;
        }
    }
    b.into_inner().unwrap_or_default()
}

/// A docker-archive of `layers` (member `N.tar`) with `config` as its
/// config (`config.json`).
pub fn docker_archive(config: &[u8], layers: &[&[u8]]) -> Vec<u8> {
    let names: Vec<String> = (0..layers.len()).map(|i| format!("{i}.tar")).collect();
    let list: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let manifest = format!(
        "[{{\"Config\":\"config.json\",\"RepoTags\":[\"fuzz:latest\"],\"Layers\":[{}]}}]",
        list.join(",")
    );
    let mut members: Vec<(String, &[u8])> = Vec::new();
    for (n, l) in names.iter().zip(layers) {
        members.push((n.clone(), l));
    }
    members.push(("config.json".into(), config));
    members.push(("manifest.json".into(), manifest.as_bytes()));
    tar_of(&members)
}

pub fn layer0() -> Vec<u8> {
    tar_of(&[
        ("etc/os-release".into(), &b"ID=fuzz\n"[..]),
        (
            "usr/bin/tool".into(),
            &[0x7f, b'E', b'L', b'F', 2, 1, 1, 0][..],
        ),
        ("var/cache/apt/x.bin".into(), &[7u8; 300][..]),
    ])
}

pub fn layer1() -> Vec<u8> {
    tar_of(&[
        ("var/cache/apt/.wh.x.bin".into(), &b""[..]),
        ("etc/os-release".into(), &b"ID=fuzz2\n"[..]),
    ])
}

/// The metadata target's image: parts cut at [`SEP`], the first is
/// `manifest.json` (docker-archive, when it starts with `[`) or `index.json`
/// (OCI layout); part N (1..=14) is stored as `N.json` and as the OCI blob
/// `sha256:NNNN…` (its hex digit 64 times); two fixed layers are there to
/// be named: `l0.tar` / `sha256:ffff…` and `l1.tar` / `sha256:0000…`.
pub fn metadata_archive(data: &[u8]) -> Vec<u8> {
    let parts = split(data, 15);
    let (l0, l1) = (layer0(), layer1());
    let mut members: Vec<(String, &[u8])> = Vec::new();
    let docker = parts[0].trim_ascii_start().starts_with(b"[");
    if docker {
        members.push(("manifest.json".into(), parts[0]));
        for (i, p) in parts.iter().enumerate().skip(1) {
            members.push((format!("{i}.json"), p));
        }
        members.push(("l0.tar".into(), &l0));
        members.push(("l1.tar".into(), &l1));
    } else {
        members.push((
            "oci-layout".into(),
            &b"{\"imageLayoutVersion\":\"1.0.0\"}"[..],
        ));
        members.push(("index.json".into(), parts[0]));
        for (i, p) in parts.iter().enumerate().skip(1) {
            let hex = format!("{i:x}").repeat(64);
            members.push((format!("blobs/sha256/{hex}"), p));
        }
        members.push((format!("blobs/sha256/{}", "f".repeat(64)), &l0));
        members.push((format!("blobs/sha256/{}", "0".repeat(64)), &l1));
    }
    tar_of(&members)
}

/// The analysis target's image: an image config, then up to 12 layer
/// blobs, cut at [`SEP`]; `None` without a layer.
pub fn analysis_archive(data: &[u8]) -> Option<Vec<u8>> {
    let parts = split(data, 13);
    if parts.len() < 2 {
        return None;
    }
    Some(docker_archive(parts[0], &parts[1..]))
}

/// Where the packages target stores its input: the package databases and
/// manifests the readers capture, chosen by the input's first byte.
pub const PACKAGE_FILES: [&str; 8] = [
    "var/lib/dpkg/status",
    "var/lib/dpkg/info/a.list",
    "lib/apk/db/installed",
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/python3/dist-packages/a-1.0.dist-info/RECORD",
    "app/node_modules/a/package.json",
    "etc/ld.so.conf",
    "usr/bin/a",
];

/// The packages target's image: one layer holding the input (after its
/// first byte) at [`PACKAGE_FILES`]`[first byte % 8]`, beside files such a
/// database names, on top of [`layer0`].
pub fn packages_archive(data: &[u8]) -> Vec<u8> {
    let (sel, body) = data.split_first().unwrap_or((&0, &[]));
    let at = PACKAGE_FILES[*sel as usize % PACKAGE_FILES.len()];
    let layer = tar_of(&[
        (at.into(), body),
        (
            "usr/bin/a".into(),
            &[0x7f, b'E', b'L', b'F', 2, 1, 1, 0][..],
        ),
        (
            "usr/lib/python3/dist-packages/a/__init__.py".into(),
            &b"x = 1\n"[..],
        ),
        (
            "app/node_modules/a/index.js".into(),
            &b"module.exports = 1\n"[..],
        ),
    ]);
    docker_archive(b"{}", &[&layer0(), &layer])
}
