#!/usr/bin/env bash
# Stores for tests/cstorage.rs: build src/cstorage-base and src/cstorage-app
# with buildah into private containers-storage stores under OUT (one per
# driver: OUT/vfs/{root,run} always, OUT/overlay/{root,run} where the kernel
# lets buildah use overlay), and export each app image with skopeo to
# OUT/<driver>.tar (docker-archive), the reference the store read must equal.
# OUT/drivers lists the drivers built; OUT/overlay.skipped says why overlay
# was not, when it was not.
#
#     tests/images/build-cstorage.sh OUT      # needs root, buildah, skopeo,
#                                             # busybox-static, python3
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: build-cstorage.sh OUT}
# shellcheck source=lib.sh
source "$HERE/lib.sh"
[[ $(id -u) == 0 ]] || { echo "run as root (buildah --isolation chroot needs it)" >&2; exit 1; }
img_need python3
img_init
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

img_rootfs "$IMG_WORK/rootfs"
img_pack "$IMG_WORK/rootfs" "$IMG_WORK/rootfs.tar"
# A tar whose file carries a user.* extended attribute (PAX SCHILY.xattr).
mkdir -p "$IMG_WORK/xattr"
echo 'has an attribute' >"$IMG_WORK/xattr/attr.txt"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.imgscope", b"yes")' "$IMG_WORK/xattr/attr.txt"
tar --xattrs --xattrs-include='user.*' --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --format=pax -C "$IMG_WORK/xattr" -cf "$IMG_WORK/xattr.tar" .

ctx() {
    local c=$IMG_WORK/ctx/$1
    rm -rf "$c"
    mkdir -p "$c"
    cp -a "$HERE/src/$1/." "$c/"
    cp "$IMG_WORK/rootfs.tar" "$IMG_WORK/xattr.tar" "$c/"
    echo "$c"
}

# bud DRIVER NAME: build src/NAME into OUT/DRIVER.
bud() {
    local d=$1 name=$2 c
    c=$(ctx "$name")
    buildah --root "$OUT/$d/root" --runroot "$OUT/$d/run" --storage-driver "$d" \
        bud --layers --isolation chroot --pull=never -t "localhost/$name:latest" \
        -f "$c/Containerfile" "$c" >>"$IMG_LOG" 2>&1
}

unmount_out() {
    local m
    while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(awk -v w="$OUT" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r)
}

: >"$OUT/drivers"
for d in vfs overlay; do
    echo "  build cstorage-base, cstorage-app ($d)" >&2
    if bud "$d" cstorage-base && bud "$d" cstorage-app; then
        skopeo copy --quiet \
            "containers-storage:[$d@$OUT/$d/root+$OUT/$d/run]localhost/cstorage-app:latest" \
            "docker-archive:$OUT/$d.tar:localhost/cstorage-app:latest" >>"$IMG_LOG" 2>&1
        echo "$d" >>"$OUT/drivers"
    elif [[ $d == overlay ]]; then
        # The kernel or the file system under OUT may not allow overlay.
        tail -n 3 "$IMG_LOG" >"$OUT/overlay.skipped"
        rm -rf "$OUT/overlay"
    else
        exit 1
    fi
    unmount_out
done
