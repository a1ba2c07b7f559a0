#!/usr/bin/env bash
# Build the Debian test images on demand (too big to commit: a minbase rootfs
# is ~30 MB compressed) into OUTDIR, for tests/packages_debian.rs and
# tests/packages_apps.rs:
#     tests/images/build-debian.sh OUTDIR [NAME...]     (default: all)
# Needs root, mmdebstrap, buildah, skopeo and access to a Debian mirror. One
# minbase rootfs (mmdebstrap) is shared by every image; an image already in
# OUTDIR is kept.
#   debian-rec.tar      minbase + `apt-get install -y openssh-client procps`
#   debian-norec.tar    the same with --no-install-recommends
#   debian-apps.tar     minbase + gcc, libc6-dev, python3-pip, npm
#                       (--no-install-recommends, apt-get clean), then a pip
#                       install, an npm install (local tarball), a Go binary
#                       (built with golang-go in a first stage) and gcc builds
#                       (-g unstripped; -static -s), one step each
#   debian-apps.strip   bytes `strip` (the image's own binutils) removes from
#                       the unstripped gcc build: its size minus strip's output
#   scratch-static.tar  FROM scratch + the static binary
#   scratch-dynamic.tar FROM scratch + the dynamic gcc build (no loader, no libc)
#   debian-base.tar     FROM scratch + the rootfs + CMD: a one-layer base
#   debian-gcc.tar      FROM localhost/debian-base: gcc and libc6-dev installed,
#                       a C program built with them (tests/base_gcc.rs)
# All are docker-archives with uncompressed layers.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
img_debian_out "${1:?usage: build-debian.sh OUTDIR [NAME...]}"
shift

ALL=(debian-rec debian-norec debian-apps scratch-static scratch-dynamic debian-base debian-gcc)
if (($#)); then WANT=("$@"); else WANT=("${ALL[@]}"); fi
todo=()
for v in "${WANT[@]}"; do
    if [[ -s $OUT/$v.tar ]]; then echo "  keep $OUT/$v.tar" >&2; else todo+=("$v"); fi
done
((${#todo[@]})) || exit 0
img_init

img_debian_rootfs "$IMG_WORK/rootfs.tar"

# apps_ctx DIR: the apps sources, the npm package as the tarball `npm pack`
# makes, and a C program big enough (300 functions with debug info) that 1%
# of strip's saving is a meaningful bound.
apps_ctx() {
    local c=$1 i
    cp -a "$HERE/src/debian-apps/app" "$c/app"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
        -C "$HERE/src/debian-apps/dep" -czf "$c/app/js/imgscope-dep-1.0.0.tgz" package
    {
        echo '#include <stdio.h>'
        for ((i = 0; i < 300; i++)); do
            echo "struct s$i { int a; double b[$i]; };"
            echo "int f$i(int x) { struct s$i v = {x}; return v.a * $i + x; }"
        done
        echo 'int main(int c, char **v) { int s = 0;'
        for ((i = 0; i < 300; i++)); do echo "s += f$i(c);"; done
        echo 'printf("%d %s\n", s, v[0]); return 0; }'
    } >"$c/app/c/m.c"
}

# Every image in one storage: the scratch images copy from debian-apps.
IMG_SCOPE=debian
for v in "${ALL[@]}"; do
    [[ " ${todo[*]} " == *" $v "* ]] || continue
    c=$IMG_WORK/ctx/$v
    mkdir -p "$c"
    case $v in
        debian-rec | debian-norec)
            cp "$IMG_WORK/rootfs.tar" "$c/rootfs.tar"
            flag=""
            [[ $v == debian-norec ]] && flag="--no-install-recommends "
            sed "s/@FLAG@/$flag/" "$HERE/src/debian-apt/Containerfile" >"$c/Containerfile"
            ;;
        debian-apps)
            cp "$IMG_WORK/rootfs.tar" "$c/rootfs.tar"
            cp "$HERE/src/debian-apps/Containerfile" "$c/"
            apps_ctx "$c"
            ;;
        debian-base)
            cp "$IMG_WORK/rootfs.tar" "$HERE/src/debian-base/Containerfile" "$c/"
            ;;
        debian-gcc)
            if ! img_buildah overlay inspect localhost/debian-base >/dev/null 2>&1; then
                # debian-base was kept from an earlier run: load it (same layer).
                skopeo copy --quiet "docker-archive:$OUT/debian-base.tar" \
                    "$(img_ref overlay debian-base)" >>"$IMG_LOG" 2>&1
            fi
            cp -a "$HERE/src/debian-gcc/." "$c/"
            ;;
        scratch-*)
            if ! img_buildah overlay inspect localhost/debian-apps >/dev/null 2>&1; then
                # debian-apps was kept from an earlier run: build it again here.
                mkdir -p "$IMG_WORK/ctx/apps-again"
                cp "$IMG_WORK/rootfs.tar" "$HERE/src/debian-apps/Containerfile" "$IMG_WORK/ctx/apps-again/"
                apps_ctx "$IMG_WORK/ctx/apps-again"
                img_bud overlay debian-apps "$IMG_WORK/ctx/apps-again"
            fi
            cp "$HERE/src/$v/Containerfile" "$c/"
            ;;
    esac
    img_bud overlay "$v" "$c"
    img_docker_archive overlay "$v" "$OUT/$v.tar"
    if [[ $v == debian-apps ]]; then
        ctr=$(img_buildah overlay from --pull-never localhost/debian-apps)
        img_buildah overlay run --isolation chroot "$ctr" -- sh -c \
            'strip -o /tmp/stripped /usr/local/bin/hello-c && echo $(( $(stat -c %s /usr/local/bin/hello-c) - $(stat -c %s /tmp/stripped) ))' \
            >"$OUT/debian-apps.strip" 2>>"$IMG_LOG"
        img_buildah overlay rm "$ctr" >/dev/null
    fi
done
echo "$(date +%T) built in $OUT: ${todo[*]}" >&2
