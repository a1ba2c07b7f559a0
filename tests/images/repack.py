#!/usr/bin/env python3
"""Repack a skopeo docker-archive into the layouts other tools write.

    repack.py legacy IN.tar OUT.tar   # `docker save` before Docker 25
    repack.py kaniko IN.tar OUT.tar   # kaniko --tarPath (go-containerregistry's tarball)

skopeo writes layers as `<diff_id hex>.tar` at the root plus `<id>/layer.tar`
entries that are *symlinks* to them. The layouts made here:

legacy  `docker save` (Docker < 25): each layer is a real file `<id>/layer.tar`
        beside `<id>/VERSION` and `<id>/json`; no layer at the archive root;
        `<config hex>.json`, `manifest.json` (Layers: `<id>/layer.tar`) and
        `repositories`. Layer bytes are unchanged (same diff_ids).
kaniko  the config as a file named `sha256:<hex>`, every layer gzip-compressed
        as `<sha256 of the gzip blob>.tar.gz`, then `manifest.json` (Config,
        RepoTags, Layers) last; no `<id>/` folders and no `repositories`.

The output is deterministic: entries in a fixed order, mode 0644, owner 0:0,
mtime 0, gzip without a name or time in its header.
"""
import gzip
import hashlib
import io
import json
import sys
import tarfile


def read(path):
    """Members of the archive as {name: bytes}, symlinks resolved."""
    out = {}
    links = {}
    with tarfile.open(path) as t:
        for m in t.getmembers():
            if m.issym():
                links[m.name] = m.linkname
            elif m.isfile():
                out[m.name] = t.extractfile(m).read()
    for name, target in links.items():
        # `<id>/layer.tar -> ../<hex>.tar`
        base = name.rsplit("/", 1)[0]
        resolved = target[3:] if target.startswith("../") else f"{base}/{target}"
        out[name] = out[resolved]
    return out


def add(t, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    t.addfile(info, io.BytesIO(data))


def add_dir(t, name):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = 0
    t.addfile(info)


def legacy(src, dst):
    files = read(src)
    manifest = json.loads(files["manifest.json"])
    [entry] = manifest
    layers = []
    with tarfile.open(dst, "w", format=tarfile.USTAR_FORMAT) as t:
        for name in entry["Layers"]:
            # skopeo lists the root `<hex>.tar`; its `<id>/` folder holds the link.
            ids = [k.split("/")[0] for k in files
                   if k.endswith("/layer.tar") and files[k] is files[name]]
            if len(ids) != 1:
                sys.exit(f"cannot find the <id>/ folder of {name}")
            lid = ids[0]
            add_dir(t, f"{lid}/")
            add(t, f"{lid}/VERSION", files[f"{lid}/VERSION"])
            add(t, f"{lid}/json", files[f"{lid}/json"])
            add(t, f"{lid}/layer.tar", files[name])
            layers.append(f"{lid}/layer.tar")
        add(t, entry["Config"], files[entry["Config"]])
        entry["Layers"] = layers
        add(t, "manifest.json", json.dumps(manifest, separators=(",", ":")).encode())
        add(t, "repositories", files["repositories"])


def kaniko(src, dst):
    files = read(src)
    [entry] = json.loads(files["manifest.json"])
    config = files[entry["Config"]]
    config_name = "sha256:" + hashlib.sha256(config).hexdigest()
    blobs = []
    for name in entry["Layers"]:
        gz = gzip.compress(files[name], compresslevel=9, mtime=0)
        blobs.append((hashlib.sha256(gz).hexdigest() + ".tar.gz", gz))
    manifest = [{
        "Config": config_name,
        "RepoTags": entry["RepoTags"],
        "Layers": [n for n, _ in blobs],
    }]
    with tarfile.open(dst, "w", format=tarfile.USTAR_FORMAT) as t:
        add(t, config_name, config)
        for n, gz in blobs:
            add(t, n, gz)
        add(t, "manifest.json", json.dumps(manifest, separators=(",", ":")).encode())


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("legacy", "kaniko"):
        sys.exit(__doc__)
    {"legacy": legacy, "kaniko": kaniko}[sys.argv[1]](sys.argv[2], sys.argv[3])
