#!/usr/bin/env bash
# Rebuild assets/demo/demo.tar.zst, the image behind `imgscope --demo`.
#
# A docker-archive (skopeo) of assets/demo/Containerfile built with
# `buildah bud --layers --isolation chroot`, compressed as a whole with zstd -19
# (the uncompressed archive is ~5.6 MB; the compressed one is < 2 MB).
# Base: a busybox rootfs plus offline stand-ins for apt-get, curl and pip
# (shims/) and a real pip cache made on this host by `pip wheel --no-binary`.
# Needs root, buildah, skopeo, busybox-static, zstd, pip with access to PyPI.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../tests/images/lib.sh
source "$HERE/../../tests/images/lib.sh"

[[ $(id -u) == 0 ]] || { echo "run as root (buildah --isolation chroot needs it)" >&2; exit 1; }
img_init
IMG_SCOPE=demo

ctx=$IMG_WORK/ctx
mkdir -p "$ctx"
img_rootfs "$IMG_WORK/rootfs"
mkdir -p "$IMG_WORK/rootfs/usr/local/bin"
install -m 755 "$HERE"/shims/* "$IMG_WORK/rootfs/usr/local/bin/"
mapfile -t reqs < <(grep -v '^#' "$HERE/requirements.txt" | grep .)
img_pip_cache "$IMG_WORK/rootfs/usr/local/share/demo-pypi/cache" "${reqs[@]}"
img_pack "$IMG_WORK/rootfs" "$ctx/rootfs.tar"
cp "$HERE/Containerfile" "$HERE/requirements.txt" "$ctx/"

img_bud overlay demo "$ctx"
img_docker_archive overlay demo "$IMG_WORK/demo.tar"
rm -f "$HERE/demo.tar"
img_zstd "$IMG_WORK/demo.tar" "$HERE/demo.tar.zst"
ls -l "$HERE/demo.tar.zst" >&2
