#!/usr/bin/env bash
# Rebuild the real test images in tests/images/ from tests/images/src/*/Containerfile.
#
# Needs root, buildah, skopeo, busybox-static, zstd, gcc (toolchain scenarios) and
# pip with network access to PyPI (pip-cache scenario):
#     apt-get install -y buildah skopeo busybox-static zstd
#     tests/images/build.sh            # all images
#     tests/images/build.sh NAME...    # only these scenarios
#
# No Docker engine: `buildah bud --layers --isolation chroot` with private storage
# (--root/--runroot in a temp dir), exported with skopeo. Layers inside a
# docker-archive are uncompressed and the busybox base alone is ~2 MB, so every
# docker-archive is compressed as a whole (zstd -19, one with gzip -9) to stay
# under 2 MB. See README.md for what each image holds.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE
# shellcheck source=lib.sh
source "$HERE/lib.sh"

ALL=(single-layer cleanup-later cleanup-chained chmod-chown mv-across dir-replaced
     hardlinks pip-cache download-extract toolchain-single toolchain-multistage)
if (($#)); then WANT=("$@"); else WANT=("${ALL[@]}"); fi

[[ $(id -u) == 0 ]] || { echo "run as root (buildah --isolation chroot needs it)" >&2; exit 1; }
img_init

echo "work dir $IMG_WORK" >&2
img_rootfs "$IMG_WORK/rootfs"
img_pack "$IMG_WORK/rootfs" "$IMG_WORK/rootfs.tar"

# ctx NAME: a fresh build context = src/NAME + the base rootfs.tar.
ctx() {
    local c=$IMG_WORK/ctx/$1
    rm -rf "$c"
    mkdir -p "$c"
    cp -a "$HERE/src/$1/." "$c/"
    cp "$IMG_WORK/rootfs.tar" "$c/rootfs.tar"
    echo "$c"
}

# docker_zst DRIVER IMAGE OUTNAME: docker-archive compressed with zstd as a whole.
docker_zst() {
    img_docker_archive "$1" "$2" "$IMG_WORK/$3.tar"
    img_zstd "$IMG_WORK/$3.tar" "$OUT/$3.tar.zst"
}

# toolchain_ctx NAME: adds usr/ (the host's real gcc-12 driver and a few real
# headers) and hello (a static binary compiled here from hello.c).
toolchain_ctx() {
    local c
    c=$(ctx "$1")
    img_need gcc
    local gcc
    gcc=$(command -v x86_64-linux-gnu-gcc-12 || command -v gcc-12 || true)
    [[ -n "$gcc" ]] || { echo "need gcc-12 on the host" >&2; exit 1; }
    mkdir -p "$c/usr/bin" "$c/usr/include" "$c/usr/lib/gcc/x86_64-linux-gnu/12/include"
    cp "$(readlink -f "$gcc")" "$c/usr/bin/gcc"
    local h
    for h in features.h stdio.h stdlib.h string.h unistd.h; do
        cp "/usr/include/$h" "$c/usr/include/$h"
    done
    cp /usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h "$c/usr/lib/gcc/x86_64-linux-gnu/12/include/"
    gcc -Os -static -s -o "$c/hello" "$c/hello.c"
    echo "$c"
}

build_one() {
    local name=$1 c
    IMG_SCOPE=$name
    case $name in
    single-layer)
        c=$(ctx "$name")
        img_bud overlay "$name" "$c"
        # gzip for this one, so a whole-archive gzip is covered by a real file too.
        img_docker_archive overlay "$name" "$IMG_WORK/$name.tar"
        img_gzip "$IMG_WORK/$name.tar" "$OUT/$name.tar.gz"
        ;;
    cleanup-later)
        c=$(ctx "$name")
        img_bud overlay "$name" "$c"
        docker_zst overlay "$name" "$name"
        # Also as an OCI image-layout directory (gzip layers).
        rm -rf "$OUT/$name.ocidir"
        skopeo copy --quiet --dest-compress-format gzip "$(img_ref overlay "$name")" \
            "oci:$OUT/$name.ocidir:$name:latest" >>"$IMG_LOG" 2>&1
        ;;
    chmod-chown)
        c=$(ctx "$name")
        img_bud overlay "$name" "$c"
        docker_zst overlay "$name" "$name"
        # Also as an OCI archive with zstd-compressed layers (the tar itself is not compressed).
        rm -f "$OUT/$name.oci-zstd.tar"
        skopeo copy --quiet --dest-compress-format zstd "$(img_ref overlay "$name")" \
            "oci-archive:$OUT/$name.oci-zstd.tar:$name:latest" >>"$IMG_LOG" 2>&1
        ;;
    dir-replaced)
        c=$(ctx "$name")
        img_bud overlay "$name" "$c"
        docker_zst overlay "$name" "$name-overlay"
        img_bud vfs "$name" "$c"
        docker_zst vfs "$name" "$name-vfs"
        ;;
    pip-cache)
        c=$(ctx "$name")
        local reqs=()
        mapfile -t reqs < <(grep -v '^#' "$c/requirements.txt" | grep .)
        img_pip_cache "$c/pip-cache" "${reqs[@]}"
        img_bud overlay "$name" "$c"
        docker_zst overlay "$name" "$name"
        ;;
    toolchain-single | toolchain-multistage)
        c=$(toolchain_ctx "$name")
        img_bud overlay "$name" "$c"
        docker_zst overlay "$name" "$name"
        ;;
    cleanup-chained | mv-across | hardlinks | download-extract)
        c=$(ctx "$name")
        img_bud overlay "$name" "$c"
        docker_zst overlay "$name" "$name"
        ;;
    *)
        echo "unknown scenario: $name (known: ${ALL[*]})" >&2
        exit 2
        ;;
    esac
}

for n in "${WANT[@]}"; do
    build_one "$n"
done

echo "done:" >&2
ls -l "$OUT" | grep -v -e ' src$' -e '\.sh$' -e '\.md$' -e '\.py$' >&2
