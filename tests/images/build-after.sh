#!/usr/bin/env bash
# Build a Dockerfile imgscope suggested, on a base image given as a
# docker-archive, and export the result (tests/base_gcc.rs):
#     tests/images/build-after.sh BASE.tar BASENAME CONTEXT OUT.tar
# BASE.tar is loaded as localhost/BASENAME:latest into private storage;
# CONTEXT holds the Containerfile and the files it copies. Needs root,
# buildah, skopeo (and whatever the Containerfile's RUN steps fetch).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASE=${1:?usage: build-after.sh BASE.tar BASENAME CONTEXT OUT.tar}
NAME=${2:?}
CTX=${3:?}
OUT=${4:?}
# shellcheck source=lib.sh
source "$HERE/lib.sh"
[[ $(id -u) == 0 ]] || { echo "run as root (buildah --isolation chroot needs it)" >&2; exit 1; }
img_init
IMG_SCOPE=after
skopeo copy --quiet "docker-archive:$BASE" "$(img_ref overlay "$NAME")" >>"$IMG_LOG" 2>&1
img_bud overlay after "$CTX"
img_docker_archive overlay after "$OUT"
echo "built $OUT" >&2
