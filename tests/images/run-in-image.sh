#!/usr/bin/env bash
# Run a shell command in an image (a docker-archive), with buildah in a
# private store under a temp dir (the shared helpers of lib.sh):
#     tests/images/run-in-image.sh ARCHIVE 'COMMAND'
# Exit code: the command's. For the smoke commands of tests/fix_corpus.rs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ARCHIVE=${1:?usage: run-in-image.sh ARCHIVE COMMAND}
CMD=${2:?usage: run-in-image.sh ARCHIVE COMMAND}
# shellcheck source=lib.sh
source "$HERE/lib.sh"
img_init
IMG_SCOPE=smoke
ctr=$(img_buildah overlay from --quiet --pull-never "docker-archive:$ARCHIVE")
rc=0
img_buildah overlay run --isolation chroot "$ctr" -- sh -c "$CMD" || rc=$?
img_buildah overlay rm "$ctr" >/dev/null 2>&1 || true
exit $rc
