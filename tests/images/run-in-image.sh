#!/usr/bin/env bash
# Run a shell command in an image (a docker-archive) with buildah (the shared
# helpers of lib.sh):
#     tests/images/run-in-image.sh [--store DIR] ARCHIVE 'COMMAND'
#     tests/images/run-in-image.sh --remove-store DIR
# Exit code: the command's. For the smoke commands of tests/fix_corpus.rs.
# Without --store, in a private store under a temp dir, removed afterwards.
# With --store, in the overlay store at DIR (DIR/root, DIR/run), kept: the
# image is copied into it from ARCHIVE under a name of this run's own (other
# runs may share the store at once, and every image `fix --save-image`
# writes has the same tag), and a layer already there (the same
# uncompressed digest on the same parent: the shared base of the fix corpus,
# whose cases are built in that store) is not imported again; the container
# is removed afterwards, the image stays until the store goes.
# --remove-store removes such a store.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
if [[ ${1:-} == --remove-store ]]; then
    img_remove_store "${2:?usage: run-in-image.sh --remove-store DIR}"
    exit 0
fi
store=
if [[ ${1:-} == --store ]]; then
    store=${2:?usage: run-in-image.sh --store DIR ARCHIVE COMMAND}
    shift 2
fi
ARCHIVE=${1:?usage: run-in-image.sh [--store DIR] ARCHIVE COMMAND}
CMD=${2:?usage: run-in-image.sh [--store DIR] ARCHIVE COMMAND}
img_init
IMG_SCOPE=smoke
IMG_KEPT_STORE=$store
if [[ -n $store ]]; then
    name=imgscope-smoke-$$
    skopeo copy --quiet "docker-archive:$ARCHIVE" "$(img_ref overlay "$name")"
    ctr=$(img_buildah overlay from --quiet --pull-never "localhost/$name:latest")
else
    ctr=$(img_buildah overlay from --quiet --pull-never "docker-archive:$ARCHIVE")
fi
rc=0
img_buildah overlay run --isolation chroot "$ctr" -- sh -c "$CMD" || rc=$?
img_buildah overlay rm "$ctr" >/dev/null 2>&1 || true
exit $rc
