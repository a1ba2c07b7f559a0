#!/usr/bin/env bash
# Build the Debian package images on demand (too big to commit: a minbase
# rootfs is ~30 MB compressed) into OUTDIR, for tests/packages_debian.rs:
#     tests/images/build-debian.sh OUTDIR
# Needs root, mmdebstrap, buildah, skopeo and access to a Debian mirror.
#   debian-rec.tar    minbase + `apt-get install -y openssh-client procps`
#   debian-norec.tar  the same with --no-install-recommends
# Both are docker-archives with uncompressed layers (base, then one RUN).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: build-debian.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
img_need mmdebstrap
[[ $(id -u) == 0 ]] || { echo "run as root (buildah --isolation chroot needs it)" >&2; exit 1; }
img_init

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
echo "  mmdebstrap minbase bookworm ($MIRROR)" >&2
mmdebstrap --quiet --variant=minbase bookworm "$IMG_WORK/rootfs.tar" "$MIRROR" >>"$IMG_LOG" 2>&1

for v in rec norec; do
    if [[ -s $OUT/debian-$v.tar ]]; then
        echo "  keep $OUT/debian-$v.tar" >&2
        continue
    fi
    IMG_SCOPE=debian-$v
    c=$IMG_WORK/ctx/$v
    mkdir -p "$c"
    cp "$IMG_WORK/rootfs.tar" "$c/rootfs.tar"
    flag=""
    [[ $v == norec ]] && flag="--no-install-recommends "
    sed "s/@FLAG@/$flag/" "$HERE/src/debian-apt/Containerfile" >"$c/Containerfile"
    img_bud overlay "debian-$v" "$c"
    img_docker_archive overlay "debian-$v" "$OUT/debian-$v.tar"
done
echo "built $OUT/debian-rec.tar $OUT/debian-norec.tar" >&2
