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
     hardlinks pip-cache download-extract toolchain-single toolchain-multistage
     dive-steps not-images python-optional base-boundary versions)
if (($#)); then WANT=("$@"); else WANT=("${ALL[@]}"); fi

[[ $(id -u) == 0 ]] || { echo "run as root (buildah --isolation chroot needs it)" >&2; exit 1; }
img_init

echo "work dir $IMG_WORK" >&2
img_rootfs "$IMG_WORK/rootfs"
img_pack "$IMG_WORK/rootfs" "$IMG_WORK/rootfs.tar"
# dive-steps' base: busybox applets as hard links (like busybox:latest).
img_rootfs "$IMG_WORK/rootfs-hard" hard
img_pack "$IMG_WORK/rootfs-hard" "$IMG_WORK/rootfs-hard.tar"

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

# python_optional_ctx DIR: real files from the host for the python-optional
# scenario: the stdlib's json package compiled by the host's python3
# (compileall: __pycache__ + one legacy .pyc beside its source), a sourceless
# .pyc, and a few docs, man pages and message catalogues of host packages.
python_optional_ctx() {
    local c=$1 py
    img_need python3
    py=$(python3 -c 'import json, os; print(os.path.dirname(json.__file__))')
    mkdir -p "$c/dist-packages/json" "$c/app" "$c/share/doc/busybox" "$c/share/man/man1" \
        "$c/share/locale/de/LC_MESSAGES" "$c/share/info"
    cp "$py"/*.py "$c/dist-packages/json/"
    python3 -m compileall -q "$c/dist-packages/json"
    # A legacy .pyc beside its source (compileall -b writes it next to the .py).
    python3 -m compileall -q -b "$c/dist-packages/json/tool.py"
    # A sourceless .pyc: the image's only copy of that code.
    printf 'print("hello")\n' >"$c/app/main.py"
    python3 -m compileall -q -b "$c/app/main.py"
    rm "$c/app/main.py"
    cp /usr/share/doc/busybox-static/copyright "$c/share/doc/busybox/copyright"
    cp /usr/share/doc/busybox-static/changelog.Debian.gz "$c/share/doc/busybox/changelog.Debian.gz"
    cp /usr/share/man/man1/busybox.1.gz "$c/share/man/man1/"
    cp /usr/share/locale/de/LC_MESSAGES/apt.mo "$c/share/locale/de/LC_MESSAGES/"
    cp /usr/share/info/autosprintf.info.gz "$c/share/info/"
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
    python-optional)
        c=$(ctx "$name")
        python_optional_ctx "$c"
        img_bud overlay "$name" "$c"
        docker_zst overlay "$name" "$name"
        ;;
    toolchain-single | toolchain-multistage)
        c=$(toolchain_ctx "$name")
        img_bud overlay "$name" "$c"
        docker_zst overlay "$name" "$name"
        ;;
    dive-steps)
        # dive's 14-step scenario in every layout dive's own test data had:
        c=$(ctx "$name")
        cp "$IMG_WORK/rootfs-hard.tar" "$c/rootfs.tar"
        head -c 10000 < <(yes 'somefile: copied, chmod-ed, moved and removed by the layers above.') \
            >"$c/somefile.txt"
        img_bud overlay "$name" "$c"
        img_docker_archive overlay "$name" "$IMG_WORK/$name.skopeo.tar"
        # `docker save` (Docker < 25): skopeo's archive repacked so every
        # <id>/layer.tar is a real file, not a symlink (repack.py); zstd as a whole.
        python3 "$HERE/repack.py" legacy "$IMG_WORK/$name.skopeo.tar" "$IMG_WORK/$name.docker.tar"
        img_zstd "$IMG_WORK/$name.docker.tar" "$OUT/$name.docker.tar.zst"
        # kaniko --tarPath: gzip layers named <sha256>.tar.gz (repack.py); small enough as is.
        python3 "$HERE/repack.py" kaniko "$IMG_WORK/$name.skopeo.tar" "$OUT/$name.kaniko.tar"
        # OCI archives with gzip and zstd layers, and with uncompressed layers
        # (2.2 MB, so that one is zstd-compressed as a whole).
        local f
        for f in gzip zstd; do
            rm -f "$OUT/$name.oci-$f.tar"
            skopeo copy --quiet --dest-compress-format "$f" "$(img_ref overlay "$name")" \
                "oci-archive:$OUT/$name.oci-$f.tar:$name:latest" >>"$IMG_LOG" 2>&1
        done
        rm -f "$IMG_WORK/$name.oci-uncompressed.tar"
        skopeo copy --quiet --dest-oci-accept-uncompressed-layers "$(img_ref overlay "$name")" \
            "oci-archive:$IMG_WORK/$name.oci-uncompressed.tar:$name:latest" >>"$IMG_LOG" 2>&1
        img_zstd "$IMG_WORK/$name.oci-uncompressed.tar" "$OUT/$name.oci-uncompressed.tar.zst"
        ;;
    base-boundary)
        # A base of several layers built first, then two apps FROM it in the
        # same storage (buildah records the base's name in the first entry's
        # comment and, in OCI manifests, in the base.name/base.digest
        # annotations). The app also as an OCI archive (uncompressed layers,
        # zstd as a whole) for the annotations.
        c=$(ctx base-multi)
        img_bud overlay base-multi "$c"
        docker_zst overlay base-multi base-multi
        local app
        for app in app-on-base app-wasteful; do
            c=$(ctx "$app")
            img_bud overlay "$app" "$c"
            docker_zst overlay "$app" "$app"
        done
        rm -f "$IMG_WORK/app-on-base.oci.tar"
        skopeo copy --quiet --dest-oci-accept-uncompressed-layers "$(img_ref overlay app-on-base)" \
            "oci-archive:$IMG_WORK/app-on-base.oci.tar:app-on-base:latest" >>"$IMG_LOG" 2>&1
        img_zstd "$IMG_WORK/app-on-base.oci.tar" "$OUT/app-on-base.oci.tar.zst"
        ;;
    not-images)
        # Plain tars holding one text file: inputs that must be rejected (exit 2).
        mkdir -p "$OUT/not-images"
        img_pack "$HERE/src/not-images" "$OUT/not-images/plain.tar"
        gzip -9 -n -c "$OUT/not-images/plain.tar" >"$OUT/not-images/plain.tar.gz"
        zstd -19 -q -f -o "$OUT/not-images/plain.tar.zst" "$OUT/not-images/plain.tar"
        ;;
    cleanup-chained | mv-across | hardlinks | download-extract | versions)
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
