#!/usr/bin/env python3
"""List what each layer of an image archive stores, straight from the tar headers.

    tests/images/list-layers.py IMAGE [--all]

IMAGE: a docker-archive or OCI archive (.tar, .tar.gz, .tar.zst) or an OCI
image-layout directory. For each layer (0-based, base = 0) prints its
created_by, diff_id, the layer bytes (sum of regular-file sizes), and every
regular file, hard link and whiteout (with --all also directories and
symlinks). Used to write README.md; needs python3 and the zstd CLI only.
Not part of the test suite.
"""
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile


def decompress(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
    return data


class Archive:
    def __init__(self, path):
        self.dir = path if os.path.isdir(path) else None
        if not self.dir:
            with open(path, "rb") as f:
                raw = decompress(f.read())
            self.tar = tarfile.open(fileobj=io.BytesIO(raw))

    def read(self, name):
        if self.dir:
            with open(os.path.join(self.dir, name), "rb") as f:
                return f.read()
        m = self.tar.getmember(name)
        while m.issym():  # skopeo's legacy <id>/layer.tar entries are symlinks
            m = self.tar.getmember(os.path.normpath(os.path.join(os.path.dirname(m.name), m.linkname)))
        return self.tar.extractfile(m).read()

    def exists(self, name):
        if self.dir:
            return os.path.exists(os.path.join(self.dir, name))
        try:
            self.tar.getmember(name)
            return True
        except KeyError:
            return False


def blob(d):
    algo, hexd = d.split(":", 1)
    return f"blobs/{algo}/{hexd}"


def load(path):
    a = Archive(path)
    if a.exists("manifest.json"):
        m = json.loads(a.read("manifest.json"))[0]
        config = json.loads(a.read(m["Config"]))
        layers = [(n, None) for n in m["Layers"]]
        fmt = "docker-archive"
    else:
        idx = json.loads(a.read("index.json"))
        man = json.loads(a.read(blob(idx["manifests"][0]["digest"])))
        config = json.loads(a.read(blob(man["config"]["digest"])))
        layers = [(blob(l["digest"]), l) for l in man["layers"]]
        fmt = "oci-layout"
    hist = [h for h in config.get("history", []) if not h.get("empty_layer")]
    return a, fmt, config, layers, hist


def main():
    path = sys.argv[1]
    show_all = "--all" in sys.argv
    a, fmt, config, layers, hist = load(path)
    print(f"# {path}: {fmt}, {len(layers)} layers")
    total = 0
    for i, (name, desc) in enumerate(layers):
        raw = a.read(name)
        data = decompress(raw)
        t = tarfile.open(fileobj=io.BytesIO(data))
        created = hist[i].get("created_by", "") if i < len(hist) else "?"
        rows, nbytes, counts = [], 0, {"file": 0, "dir": 0, "symlink": 0, "hardlink": 0, "whiteout": 0}
        for m in t.getmembers():
            base = os.path.basename(m.name.rstrip("/"))
            if base.startswith(".wh."):
                counts["whiteout"] += 1
                rows.append(f"    whiteout  {m.name}  (type {m.type.decode() if isinstance(m.type, bytes) else m.type}, mode {m.mode:o})")
            elif m.islnk():
                counts["hardlink"] += 1
                rows.append(f"    hardlink  {m.name} -> {m.linkname}")
            elif m.isreg():
                counts["file"] += 1
                nbytes += m.size
                rows.append(f"    file {m.size:>9}  {m.name}  (mode {m.mode:o}, uid {m.uid}:{m.gid})")
            elif m.isdir():
                counts["dir"] += 1
                if show_all:
                    rows.append(f"    dir       {m.name}")
            elif m.issym():
                counts["symlink"] += 1
                if show_all:
                    rows.append(f"    symlink   {m.name} -> {m.linkname}")
            else:
                rows.append(f"    other     {m.name} (type {m.type})")
        total += nbytes
        comp = f", compressed {len(raw)}" if len(raw) != len(data) else ""
        print(f"layer {i}: bytes {nbytes}, tar {len(data)}{comp}, {counts}")
        print(f"  name: {name}")
        print(f"  created_by: {created}")
        if desc:
            print(f"  mediaType: {desc.get('mediaType')}")
        for r in rows:
            print(r)
    print(f"total_bytes {total}")


if __name__ == "__main__":
    main()
