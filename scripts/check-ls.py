#!/usr/bin/env python3
"""Check `imgscope ls --format json` rows against the image's own layer tars.

Usage: imgscope ls --format json IMAGE | scripts/check-ls.py IMAGE [SAMPLE]

IMAGE is a docker-archive (manifest.json; layers plain, gzip or zstd-less tars).
The script merges the layers itself with Python's tarfile (OCI whiteouts
`.wh.NAME` and opaque markers `.wh..wh..opq` applied, parent directories a layer
does not list implied), then checks that the listing holds exactly the merged
paths (same count, same set) and that SAMPLE rows (default 2000, spread over the
listing) have the type, size (a hard link's: the shared file's), mode and link target
(a hard link's as an absolute path) their last tar entry says.
Exit 0 when all agree, 1 with the first differences otherwise. Used by
scripts/bench-generated.sh (the `ls` set, issue 25).
"""
import io, json, sys, tarfile

def layers(path):
    outer = tarfile.open(path)
    manifest = json.load(outer.extractfile("manifest.json"))
    for name in manifest[0]["Layers"]:
        yield tarfile.open(fileobj=outer.extractfile(name), mode="r:*")

def norm(name):
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)

KIND = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "directory",
        tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink", tarfile.CHRTYPE: "character device",
        tarfile.BLKTYPE: "block device", tarfile.FIFOTYPE: "fifo"}

def merge(path):
    tree = {}  # path -> (type, size, mode, link)
    for t in layers(path):
        for m in t:
            p = norm(m.name)
            if p == "/":
                continue
            d, _, base = p.rpartition("/")
            d = d or "/"
            if base == ".wh..wh..opq":
                pre = d.rstrip("/") + "/"
                for k in [k for k in tree if k.startswith(pre)]:
                    del tree[k]
                continue
            if base.startswith(".wh."):
                gone = (d.rstrip("/") + "/" + base[4:])
                tree.pop(gone, None)
                for k in [k for k in tree if k.startswith(gone + "/")]:
                    del tree[k]
                continue
            q = d
            while q != "/" and q not in tree:
                tree[q] = ("directory", 0, None, None)
                q = q.rpartition("/")[0] or "/"
            kind = KIND.get(m.type, "file")
            if kind != "directory" and tree.get(p, ("",))[0] == "directory":
                for k in [k for k in tree if k.startswith(p + "/")]:
                    del tree[k]
            link = m.linkname if kind == "symlink" else (norm(m.linkname) if kind == "hardlink" else None)
            size = m.size if kind == "file" else 0
            if kind == "hardlink":  # the shared file's size
                size = tree.get(link, ("file", 0))[1]
            tree[p] = (kind, size, m.mode & 0o7777, link)
    return tree

def main():
    image = sys.argv[1]
    sample = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    rows = {}
    for line in sys.stdin:
        r = json.loads(line)
        rows[r["path"]] = r
    tree = merge(image)
    bad = []
    if len(rows) != len(tree):
        bad.append(f"count: ls lists {len(rows)} paths, the tars merge to {len(tree)}")
    missing = [p for p in tree if p not in rows][:5]
    extra = [p for p in rows if p not in tree][:5]
    if missing: bad.append(f"in the tars, not listed: {missing}")
    if extra: bad.append(f"listed, not in the tars: {extra}")
    paths = sorted(tree)
    step = max(1, len(paths) // sample)
    checked = 0
    for p in paths[::step]:
        r = rows.get(p)
        if r is None:
            continue
        kind, size, mode, link = tree[p]
        if r["type"] != kind or (kind in ("file", "hardlink") and r["size"] != size) or \
           (mode is not None and int(r["mode"], 8) != mode) or \
           (kind in ("symlink", "hardlink") and r["link"] != link):
            bad.append(f"{p}: ls {r} vs tar {tree[p]}")
        checked += 1
    print(f"check-ls: {len(rows)} rows, {len(tree)} merged tar paths, {checked} sampled rows checked, "
          + ("all agree" if not bad else f"{len(bad)} differences"))
    for b in bad[:10]:
        print("  " + b)
    sys.exit(1 if bad else 0)

main()
