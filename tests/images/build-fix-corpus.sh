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

if [[ -s $OUT/debian-base.tar ]]; then
    skopeo copy --quiet "docker-archive:$OUT/debian-base.tar" "$(img_ref overlay debian-base)" >>"$IMG_LOG" 2>&1
else
    mkdir -p "$IMG_WORK/ctx/debian-base"
    img_debian_rootfs "$IMG_WORK/ctx/debian-base/rootfs.tar"
    cp "$HERE/src/debian-base/Containerfile" "$IMG_WORK/ctx/debian-base/"
    img_bud overlay debian-base "$IMG_WORK/ctx/debian-base"
    img_docker_archive overlay debian-base "$OUT/debian-base.tar"
fi

for c in "${todo[@]}"; do
    [[ $c == debian-base ]] && continue
    ctx=$IMG_WORK/ctx/$c
    mkdir -p "$ctx"
    cp -a "$CORPUS/$c/." "$ctx/"
    cp "$ctx/Dockerfile" "$ctx/Containerfile"
    img_bud overlay "fix-$c" "$ctx"
    img_docker_archive overlay "fix-$c" "$OUT/$c.tar"
    cp "$CORPUS/$c/Dockerfile" "$OUT/$c.Dockerfile"
done
echo "built in $OUT: ${todo[*]}" >&2
