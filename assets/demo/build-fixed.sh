#!/usr/bin/env bash
# Build assets/demo/demo-fixed.tar.zst: the demo image after its fixes
# (Containerfile.fixed), for the worked example of `imgscope diff` (docs/diff.md).
#
# The base is the demo's own first layer, taken from demo.tar.zst, so both
# images are built on byte-identical roots and the diff shows layer 0 `same`.
# Needs root, buildah, skopeo, busybox-static, zstd, python3; no network.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../tests/images/lib.sh
source "$HERE/../../tests/images/lib.sh"

[[ $(id -u) == 0 ]] || { echo "run as root (buildah --isolation chroot needs it)" >&2; exit 1; }
img_need python3
img_init
IMG_SCOPE=demo-fixed

ctx=$IMG_WORK/ctx
mkdir -p "$ctx"
# The first layer of the demo image, as a plain tar: the rootfs it was built from.
python3 - "$HERE/demo.tar.zst" "$ctx/rootfs.tar" <<'PY'
import io, json, subprocess, sys, tarfile
raw = subprocess.run(["zstd", "-dc", sys.argv[1]], check=True, capture_output=True).stdout
outer = tarfile.open(fileobj=io.BytesIO(raw))
manifest = json.load(outer.extractfile("manifest.json"))
first = outer.extractfile(manifest[0]["Layers"][0]).read()
open(sys.argv[2], "wb").write(first)
PY
touch -d @0 "$ctx/rootfs.tar"
cp "$HERE/Containerfile.fixed" "$ctx/Containerfile"
cp "$HERE/requirements.txt" "$ctx/"

img_bud overlay demo-fixed "$ctx"
img_docker_archive overlay demo-fixed "$IMG_WORK/demo-fixed.tar"
img_zstd "$IMG_WORK/demo-fixed.tar" "$HERE/demo-fixed.tar.zst"
ls -l "$HERE/demo-fixed.tar.zst" >&2
