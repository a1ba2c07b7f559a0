#!/usr/bin/env bash
# Build the fix corpus (tests/fix-corpus/<case>/Dockerfile and its context)
# into OUTDIR, for tests/fix_corpus.rs:
#     tests/images/build-fix-corpus.sh OUTDIR [CASE...]
# (default: the cases named in $IMGSCOPE_FIX_CASES, comma- or space-separated,
# as tests/fix_corpus.rs takes them; else all)
# Needs root, mmdebstrap, buildah, skopeo and access to a Debian mirror. One
# minbase bookworm rootfs (mmdebstrap) makes one base image, shared by every
# case (each case is `FROM localhost/debian-base`):
#   debian-base.tar   FROM scratch + the rootfs + CMD (a one-layer base)
#   CASE.tar          each case's image, built with buildah from its Dockerfile
# All are docker-archives with uncompressed layers. A case already in OUTDIR
# is kept when its Dockerfile has not changed (OUTDIR/CASE.Dockerfile).
# The cases are built in one overlay store, OUTDIR/store (made afresh when a
# case is built, the base loaded into it from debian-base.tar), which is kept:
# tests/fix_corpus.rs rebuilds each case's patched Dockerfile there
# (`imgscope fix --build --buildah-store`), where buildah's layer cache makes
# the steps the fixes left unchanged free, as on the machine that built the
# original; the test removes the store when it is done
# (`run-in-image.sh --remove-store`).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CORPUS=$(cd "$HERE/../fix-corpus" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
img_debian_out "${1:?usage: build-fix-corpus.sh OUTDIR [CASE...]}"
shift

if (($#)); then WANT=("$@"); elif [[ -n ${IMGSCOPE_FIX_CASES:-} ]]; then
    read -ra WANT <<<"${IMGSCOPE_FIX_CASES//,/ }"
    for c in "${WANT[@]}"; do
        [[ -f $CORPUS/$c/Dockerfile ]] || { echo "IMGSCOPE_FIX_CASES: no case $c in $CORPUS" >&2; exit 1; }
    done
else
    WANT=()
    for d in "$CORPUS"/*/; do WANT+=("$(basename "$d")"); done
fi
todo=()
for c in "${WANT[@]}"; do
    if [[ -s $OUT/$c.tar ]] && cmp -s "$CORPUS/$c/Dockerfile" "$OUT/$c.Dockerfile"; then
        echo "  keep $OUT/$c.tar" >&2
    else
        todo+=("$c")
    fi
done
[[ -s $OUT/debian-base.tar ]] || todo+=(debian-base)
((${#todo[@]})) || exit 0
img_init
IMG_SCOPE=fix

if [[ ! -s $OUT/debian-base.tar ]]; then
    mkdir -p "$IMG_WORK/ctx/debian-base"
    img_debian_rootfs "$IMG_WORK/ctx/debian-base/rootfs.tar"
    cp "$HERE/src/debian-base/Containerfile" "$IMG_WORK/ctx/debian-base/"
    img_bud overlay debian-base "$IMG_WORK/ctx/debian-base"
    img_docker_archive overlay debian-base "$OUT/debian-base.tar"
fi

cases=()
for c in "${todo[@]}"; do [[ $c == debian-base ]] || cases+=("$c"); done

# The cases' store: a fresh one (no cache of older builds), the base loaded
# from its archive as `fix --build --base-archive` loads it (the same image
# and layer ids, so the test's rebuilds find the cases' cached steps).
IMG_KEPT_STORE=$OUT/store
if ((${#cases[@]})); then
    img_remove_store "$IMG_KEPT_STORE"
    skopeo copy --quiet "docker-archive:$OUT/debian-base.tar" "$(img_ref overlay debian-base)" >>"$IMG_LOG" 2>&1
fi

# build_case CASE: build it in the cases' store and export it.
build_case() {
    local c=$1 ctx=$IMG_WORK/ctx/$1
    mkdir -p "$ctx"
    cp -a "$CORPUS/$c/." "$ctx/"
    cp "$ctx/Dockerfile" "$ctx/Containerfile"
    img_bud overlay "fix-$c" "$ctx"
    img_docker_archive overlay "fix-$c" "$OUT/$c.tar"
    cp "$CORPUS/$c/Dockerfile" "$OUT/$c.Dockerfile"
}

# $IMGSCOPE_BUILD_JOBS (default 2) cases are built at once, the workers
# sharing the store (containers/storage locks it) and taking the next case
# from a queue: much of a build is one single-threaded process (dpkg
# unpacking, buildah committing a layer, the export).
jobs=${IMGSCOPE_BUILD_JOBS:-2}
((jobs > ${#cases[@]})) && jobs=${#cases[@]}
if ((jobs <= 1)); then
    for c in "${cases[@]}"; do build_case "$c"; done
else
    echo 0 >"$IMG_WORK/next"
    worker() {
        local i
        while :; do
            i=$(flock "$IMG_WORK/next" sh -c 'i=$(cat "$1"); echo $((i + 1)) >"$1"; echo "$i"' sh "$IMG_WORK/next")
            ((i < ${#cases[@]})) || return 0
            build_case "${cases[i]}"
        done
    }
    pids=()
    for ((w = 0; w < jobs; w++)); do
        worker "$w" &
        pids+=($!)
    done
    failed=0
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    ((failed == 0)) || { echo "build-fix-corpus.sh: a case failed to build" >&2; exit 1; }
fi
echo "$(date +%T) built in $OUT: ${todo[*]}" >&2
