#!/usr/bin/env bash
# Build the image pairs of `imgscope diff`'s tests that tests/images/build.sh
# does not make: chmod-run (chmod in its own RUN) and chmod-copy (COPY --chmod).
# The other pairs the diff tests use are build.sh's cleanup-later /
# cleanup-chained and toolchain-single / toolchain-multistage.
#
#     apt-get install -y buildah skopeo busybox-static zstd
#     tests/images/build-pairs.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

[[ $(id -u) == 0 ]] || { echo "run as root (buildah --isolation chroot needs it)" >&2; exit 1; }
img_init
img_rootfs "$IMG_WORK/rootfs"
img_pack "$IMG_WORK/rootfs" "$IMG_WORK/rootfs.tar"

for name in chmod-run chmod-copy; do
    IMG_SCOPE=$name
    c=$IMG_WORK/ctx/$name
    mkdir -p "$c"
    cp -a "$HERE/src/$name/." "$c/"
    cp "$IMG_WORK/rootfs.tar" "$c/rootfs.tar"
    head -c 200000 "$BUSYBOX" >"$c/app.bin"
    chmod 644 "$c/app.bin"
    touch -d @0 "$c/app.bin"
    img_bud overlay "$name" "$c"
    img_docker_archive overlay "$name" "$IMG_WORK/$name.tar"
    img_zstd "$IMG_WORK/$name.tar" "$HERE/$name.tar.zst"
done
ls -l "$HERE"/chmod-run.tar.zst "$HERE"/chmod-copy.tar.zst >&2
