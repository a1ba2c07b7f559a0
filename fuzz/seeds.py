#!/usr/bin/env python3
"""Write the fuzz corpora's seeds into OUT/{archive,metadata,layer,analysis,packages}
from the committed test images (tests/images), decompressed and shrunk
(layers keep their entries, up to 120 of them, with file contents cut to
512 bytes and recompressed as they were), plus small synthetic hostile
cases. Usage: fuzz/seeds.py OUT (run by fuzz/run.sh; nothing is written
inside the repository)."""
import gzip, io, json, os, re, sqlite3, struct, subprocess, sys, tarfile, tempfile, hashlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(ROOT, "tests", "images")
OUT = sys.argv[1]
SEP = b"@@@@"
for t in ("archive", "metadata", "layer", "analysis", "packages"):
    os.makedirs(os.path.join(OUT, t), exist_ok=True)
count = {}

def put(target, name, data):
    count[target] = count.get(target, 0) + 1
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)

def zstd(b, d=False):
    return subprocess.run(["zstd", "-dc" if d else "-c", "-q"], input=b,
                          stdout=subprocess.PIPE, check=True).stdout

def decompress(b):
    if b[:2] == b"\x1f\x8b":
        return gzip.decompress(b), "gz"
    if b[:4] == b"\x28\xb5\x2f\xfd":
        return zstd(b, True), "zst"
    return b, ""

def compress(b, kind):
    if kind == "gz":
        return gzip.compress(b, 6, mtime=0)
    if kind == "zst":
        return zstd(b)
    return b

def shrink_layer(raw):
    """The layer with at most 120 entries and contents cut to 512 bytes."""
    plain, kind = decompress(raw)
    try:
        src = tarfile.open(fileobj=io.BytesIO(plain))
        out = io.BytesIO()
        dst = tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT)
        for i, m in enumerate(src):
            if i >= 120:
                break
            data = src.extractfile(m).read()[:512] if m.isfile() else None
            if data is not None:
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
        dst.close()
        return compress(out.getvalue(), kind)
    except tarfile.TarError:
        return raw

def tar_bytes(members):
    out = io.BytesIO()
    t = tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT)
    for m, data in members:
        t.addfile(m, io.BytesIO(data) if data is not None else None)
    t.close()
    return out.getvalue()

def is_layer(name, data):
    return len(data) > 4096 or name.endswith((".tar", ".tar.gz", ".tar.zst"))

def image_members(path):
    """(TarInfo, bytes|None) of an image archive or OCI directory."""
    if os.path.isdir(path):
        res = []
        for dirpath, _, files in sorted(os.walk(path)):
            for fn in sorted(files):
                p = os.path.join(dirpath, fn)
                rel = os.path.relpath(p, path)
                data = open(p, "rb").read()
                m = tarfile.TarInfo(rel); m.size = len(data)
                res.append((m, data))
        return res
    raw = open(path, "rb").read()
    plain, _ = decompress(raw)
    t = tarfile.open(fileobj=io.BytesIO(plain))
    return [(m, t.extractfile(m).read() if m.isfile() else None) for m in t]

def json_ok(b):
    try:
        json.loads(b); return True
    except Exception:
        return False

images = sorted(f for f in os.listdir(IMAGES)
                if f.endswith((".tar", ".tar.zst", ".tar.gz", ".ocidir")))
for img in images:
    stem = re.sub(r"\.(tar\.zst|tar\.gz|tar|ocidir)$", "", img)
    members = image_members(os.path.join(IMAGES, img))
    shrunk, layers, metas = [], [], {}
    for m, data in members:
        if data is not None and m.size > 0 and not json_ok(data) and m.name != "oci-layout" and not m.name.endswith("VERSION"):
            data = shrink_layer(data)
            m.size = len(data)
            if len(data) < 200_000:
                layers.append(data)
        elif data is not None and json_ok(data):
            metas[m.name] = data
        shrunk.append((m, data))
    archive = tar_bytes(shrunk)
    put("archive", stem + ".tar", archive)
    put("archive", stem + ".tar.gz", gzip.compress(archive, 6, mtime=0))
    for i, l in enumerate(layers):
        put("layer", f"{stem}-{i}", l)
    # metadata: names rewritten to the target's fixed blobs.
    if "manifest.json" in metas:
        man = json.loads(metas["manifest.json"])
        cfg = metas.get(man[0]["Config"], b"{}")
        man[0]["Config"] = "1.json"
        man[0]["Layers"] = [f"l{i % 2}.tar" for i in range(len(man[0]["Layers"]))]
        put("metadata", stem + "-docker", json.dumps(man).encode() + SEP + cfg)
        put("analysis", stem, cfg + SEP + SEP.join(layers[:12]))
    elif "index.json" in metas:
        parts = [metas["index.json"]]
        order = [n for n in sorted(metas) if n.startswith("blobs/")]
        fixed = {}
        for n in order:
            fixed[n.rsplit("/", 1)[1]] = format(len(fixed) + 1, "x") * 64
            if len(fixed) == 14:
                break
        text = lambda b: b.decode()
        def rename(s):
            for old, new in fixed.items():
                s = s.replace(old, new)
            # layer blobs: alternately the two fixed layers
            hexes = re.findall(r"sha256:([0-9a-f]{64})", s)
            n = 0
            for h in hexes:
                if h not in fixed.values():
                    s = s.replace(h, "f" * 64 if n % 2 == 0 else "0" * 64, 1); n += 1
            return s
        parts = [rename(text(metas["index.json"]))]
        for n in order[:14]:
            parts.append(rename(text(metas[n])))
        put("metadata", stem + "-oci", SEP.join(p.encode() for p in parts))
        cfgs = [metas[n] for n in order if b'"rootfs"' in metas[n]]
        if cfgs:
            put("analysis", stem, cfgs[0] + SEP + SEP.join(layers[:12]))

# Synthetic hostile cases, small.
def entry(name, typ=tarfile.REGTYPE, data=b"", link=""):
    m = tarfile.TarInfo(name); m.type = typ; m.size = len(data) if typ == tarfile.REGTYPE else 0
    m.linkname = link; m.mode = 0o755 if typ == tarfile.DIRTYPE else 0o644
    return (m, data if typ == tarfile.REGTYPE else None)

synthetic = {
    "dup-path": [entry("a/f", data=b"one"), entry("a/f", data=b"two!")],
    "link-over-file": [entry("f", data=b"x" * 40), entry("f", tarfile.LNKTYPE, link="g"), entry("g", data=b"y" * 9)],
    "link-loop": [entry("x", tarfile.LNKTYPE, link="y"), entry("y", tarfile.LNKTYPE, link="x"), entry("z", tarfile.LNKTYPE, link="z")],
    "whiteouts": [entry("d/.wh.nothing"), entry("d/.wh..wh..opq"), entry("d/f", data=b"k"), entry(".wh.d")],
    "dir-file-dir": [entry("p", tarfile.DIRTYPE), entry("p/q", data=b"1"), entry("p", data=b"now a file"), entry("p", tarfile.DIRTYPE)],
    "symlinks": [entry("l", tarfile.SYMTYPE, link="../../etc/passwd"), entry("m", tarfile.SYMTYPE, link="l"), entry("l/x", data=b"z")],
    "escapes": [entry("esc\x1b[31mred\x07", data=b"e"), entry("nl\nname", data=b"n")],
    "dotdot": [entry("../evil", data=b"e"), entry("./a/../../b", data=b"b")],
    "caches": [entry("var/lib/apt/lists/x_Packages", data=b"P" * 100), entry("root/.cache/pip/http/a", data=b"c" * 50),
               entry("tmp/build.o", data=b"o" * 70), entry("usr/share/doc/pkg/README", data=b"d" * 30)],
    "dpkg": [entry("var/lib/dpkg/status", data=b"Package: a\nStatus: install ok installed\nInstalled-Size: 10\nVersion: 1\n\n"),
             entry("var/lib/dpkg/info/a.list", data=b"/usr/bin/a\n"), entry("usr/bin/a", data=b"\x7fELF\x02\x01\x01" + b"\0" * 57)],
}
layer_set = []
for name, ents in synthetic.items():
    l = tar_bytes(ents)
    if name != "dotdot":  # refused: it would stop the whole-image seeds
        layer_set.append(l)
    put("layer", "syn-" + name, l)
    put("layer", "syn-" + name + ".gz", gzip.compress(l, 6, mtime=0))
    put("layer", "syn-" + name + ".zst", zstd(l))
# PAX and sparse headers
pax = io.BytesIO(); t = tarfile.open(fileobj=pax, mode="w", format=tarfile.PAX_FORMAT)
m = tarfile.TarInfo("p" * 150); m.size = 3; m.pax_headers = {"path": "long/" + "q" * 200, "uid": "7"}
t.addfile(m, io.BytesIO(b"abc")); t.close()
put("layer", "syn-pax", pax.getvalue()); layer_set.append(pax.getvalue())
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": []},
                  "history": [{"created_by": f"/bin/sh -c apt-get update && apt-get install -y x{i}"} for i in range(len(layer_set))]}).encode()
put("analysis", "synthetic-all", cfg + SEP + SEP.join(layer_set[:12]))
for i in range(0, len(layer_set) - 1):
    put("analysis", f"synthetic-pair{i}", cfg + SEP + layer_set[i] + SEP + layer_set[i + 1])
# docker-archive built here: the analysis target's shape, for the archive target
def docker(cfgb, ls):
    ms = [entry(f"{i}.tar", data=l) for i, l in enumerate(ls)]
    man = json.dumps([{"Config": "c.json", "Layers": [f"{i}.tar" for i in range(len(ls))]}]).encode()
    return tar_bytes(ms + [entry("c.json", data=cfgb), entry("manifest.json", data=man)])
put("archive", "synthetic.tar", docker(cfg, layer_set))
put("archive", "synthetic-symlinked.tar", tar_bytes([entry("a/layer.tar", data=layer_set[0]), entry("b/layer.tar", tarfile.SYMTYPE, link="../a/layer.tar"),
    entry("c.json", data=cfg), entry("manifest.json", data=b'[{"Config":"c.json","Layers":["a/layer.tar","b/layer.tar"]}]')]))
# nested indexes
idx = lambda ds: json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + d * 64, "size": 1} for d in ds]}).encode()
man = json.dumps({"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "4" * 64, "size": 1},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + "f" * 64, "size": 1},
                             {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + "0" * 64, "size": 1}]}).encode()
put("metadata", "nested-index", SEP.join([idx("1"), idx("22"), idx("33"), json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "5" * 64, "size": 1}]}).encode(), cfg, man]))
# packages: first byte picks the file (fuzz/src/wrap.rs PACKAGE_FILES), the rest is its body
def rpm_header(tags):
    """An rpm header blob as the database stores it: (tag, type, value) with
    type 4 (int32 list), 6 (string) or 8 (string list)."""
    index, store = b"", b""
    for tag, typ, val in tags:
        if typ == 4:
            while len(store) % 4:
                store += b"\0"
            off, count = len(store), len(val)
            store += b"".join(struct.pack(">I", v) for v in val)
        else:
            vals = [val] if typ == 6 else val
            off, count = len(store), len(vals)
            store += b"".join(v.encode() + b"\0" for v in vals)
        index += struct.pack(">IIII", tag, typ, off, count)
    return struct.pack(">II", len(tags), len(store)) + index + store
def rpm_db(headers):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "rpmdb.sqlite")
        c = sqlite3.connect(p)
        c.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
        for h in headers:
            c.execute("INSERT INTO Packages (blob) VALUES (?)", (h,))
        c.commit(); c.close()
        return open(p, "rb").read()
hdr = rpm_header([(1000, 6, "a"), (1001, 6, "1.0"), (1002, 6, "3.fc40"), (1003, 4, [2]), (1022, 6, "x86_64"),
                  (1116, 4, [0, 1]), (1117, 8, ["a", "__init__.py"]), (1118, 8, ["/usr/bin/", "/usr/lib/python3/dist-packages/a/"])])
old = rpm_header([(1000, 6, "b"), (1001, 6, "2"), (1027, 8, ["/app/node_modules/a/index.js"])])
packages = {
    "dpkg-status": (0, b"Package: a\nStatus: install ok installed\nArchitecture: amd64\nInstalled-Size: 10\nVersion: 1:2.3-4\nSource: b (2.3)\nDepends: libc6\n\nPackage: gcc-12\nStatus: deinstall ok config-files\nVersion: 12\n\n"),
    "dpkg-list": (1, b"/.\n/usr\n/usr/bin\n/usr/bin/a\n"),
    "apk": (2, b"C:Q1abc=\nP:a\nV:1.0-r0\nA:x86_64\nI:4096\nF:usr/bin\nR:a\nF:usr/lib/python3/dist-packages/a\nR:__init__.py\n\n"),
    "rpm-db": (3, rpm_db([hdr, old])),
    "rpm-header": (3, hdr),
    "python-record": (4, b"a/__init__.py,sha256=abc,6\na-1.0.dist-info/RECORD,,\n../../../bin/a,,\n"),
    "npm": (5, b'{"name": "a", "version": "1.2.3", "dependencies": {"b": "^1"}}'),
    "ld-so-conf": (6, b"include /etc/ld.so.conf.d/*.conf\n/usr/local/lib\n"),
}
for name, (sel, body) in packages.items():
    put("packages", name, bytes([sel]) + body)
print(" ".join(f"{k}={v}" for k, v in sorted(count.items())))
