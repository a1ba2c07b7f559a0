# Shared helpers for tests/images/build.sh and assets/demo/build.sh.
# Source it from bash after `set -euo pipefail`; call img_init first.
#
# Everything happens under one temp dir ($IMG_WORK): buildah/skopeo storage (one
# --root/--runroot pair per scenario and storage driver, so no image's metadata
# depends on what else was built: buildah's layer cache would otherwise record
# another scenario's image as the FROM of a shared base layer), the base rootfs
# and the build contexts. Nothing touches the global container storage.

img_need() {
    local t missing=()
    for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
    if ((${#missing[@]})); then
        echo "missing tools: ${missing[*]} (apt-get install -y buildah skopeo busybox-static zstd; pip for the pip cache)" >&2
        exit 1
    fi
}

# img_debian_out DIR: for the scripts that build from a Debian rootfs: OUT is DIR (created,
# made absolute); mmdebstrap must be there and we must be root.
img_debian_out() {
    mkdir -p "$1"
    OUT=$(cd "$1" && pwd)
    img_need mmdebstrap
    [[ $(id -u) == 0 ]] || { echo "run as root (buildah --isolation chroot needs it)" >&2; exit 1; }
}

# img_debian_rootfs FILE: a minbase bookworm rootfs tarball, from $DEBIAN_MIRROR.
# With $IMGSCOPE_DEBIAN_ROOTFS (a .tar path; .ci/run sets one per run), the
# rootfs is made there once and copied to FILE by every script that asks
# (they may run at once: the first makes it under a lock, the others wait).
img_debian_rootfs() {
    local mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    local keep=${IMGSCOPE_DEBIAN_ROOTFS:-}
    if [[ -z $keep ]]; then
        echo "  $(date +%T) mmdebstrap minbase bookworm ($mirror)" >&2
        mmdebstrap --quiet --variant=minbase bookworm "$1" "$mirror" >>"$IMG_LOG" 2>&1
        return
    fi
    mkdir -p "$(dirname "$keep")"
    (
        flock 9
        if [[ -s $keep ]]; then
            echo "  $(date +%T) minbase bookworm rootfs: $keep" >&2
        else
            echo "  $(date +%T) mmdebstrap minbase bookworm ($mirror) into $keep" >&2
            rm -f "${keep%.tar}.part.tar"
            mmdebstrap --quiet --variant=minbase bookworm "${keep%.tar}.part.tar" "$mirror" >>"$IMG_LOG" 2>&1
            mv "${keep%.tar}.part.tar" "$keep"
        fi
    ) 9>"$keep.lock"
    cp "$keep" "$1"
}

img_init() {
    img_need buildah skopeo zstd gzip tar chroot
    # A static busybox (busybox-static): it must run inside an empty chroot.
    BUSYBOX=${BUSYBOX:-/bin/busybox}
    [[ -x "$BUSYBOX" ]] || { echo "need a static busybox at $BUSYBOX (apt-get install -y busybox-static)" >&2; exit 1; }
    IMG_WORK=$(mktemp -d /tmp/imgscope-images.XXXXXX)
    trap img_cleanup EXIT
    IMG_LOG=$IMG_WORK/build.log
    : >"$IMG_LOG"
}

img_cleanup() {
    local rc=$?
    [[ -n "${IMG_WORK:-}" && -d "$IMG_WORK" ]] || return 0
    local s d
    for s in "$IMG_WORK"/store/*/*/; do
        [[ -d "$s/root" ]] || continue
        d=$(basename "$s")
        buildah --root "$s/root" --runroot "$s/run" --storage-driver "$d" rm -a >/dev/null 2>&1 || true
        buildah --root "$s/root" --runroot "$s/run" --storage-driver "$d" rmi -a -f >/dev/null 2>&1 || true
    done
    # The overlay driver bind-mounts its own home (private propagation); undo the
    # mounts made under our temp dir, deepest first.
    local m
    while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(awk -v w="$IMG_WORK" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r)
    if ((rc != 0)) && [[ -s "$IMG_LOG" ]]; then
        echo "---- last lines of the build log ----" >&2
        tail -n 40 "$IMG_LOG" >&2
    fi
    rm -rf "$IMG_WORK"
}

# Private storage of driver $1 (overlay|vfs) for the current scenario ($IMG_SCOPE),
# or $IMG_KEPT_STORE when set: a store outside $IMG_WORK that img_cleanup
# leaves in place (the fix corpus keeps its builds' layer cache for the test;
# img_remove_store removes it).
img_store() {
    if [[ -n ${IMG_KEPT_STORE:-} ]]; then
        echo "$IMG_KEPT_STORE"
    else
        echo "$IMG_WORK/store/${IMG_SCOPE:-main}/$1"
    fi
}

# img_remove_store DIR: remove a kept overlay store (DIR/root, DIR/run):
# undo the mounts under it, deepest first (containers the overlay driver
# left mounted, its bind mount of its own home), then the files.
img_remove_store() {
    local m
    [[ -d $1 ]] || return 0
    while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(awk -v w="$1/" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r)
    rm -rf "$1"
}

# buildah with the private storage of driver $1.
img_buildah() {
    local d=$1 s
    shift
    s=$(img_store "$d")
    buildah --root "$s/root" --runroot "$s/run" --storage-driver "$d" "$@"
}

# The skopeo source reference of image $2 in the private storage of driver $1.
img_ref() {
    local s
    s=$(img_store "$1")
    echo "containers-storage:[$1@$s/root+$s/run]localhost/$2:latest"
}

# img_rootfs DIR [hard]: a tiny busybox rootfs (bin/busybox and its applet
# symlinks, installed by `busybox --install -s` run inside the rootfs itself so
# the links point at /bin/busybox). With `hard`, the applets are hard links to
# /bin/busybox instead (`busybox --install`), as in the busybox image on Docker Hub.
img_rootfs() {
    local r=$1 how=${2:-}
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var}
    cp "$BUSYBOX" "$r/bin/busybox"
    chmod 755 "$r/bin/busybox"
    if [[ $how == hard ]]; then
        chroot "$r" /bin/busybox --install
    else
        chroot "$r" /bin/busybox --install -s
    fi
    chmod 1777 "$r/tmp"
    chmod 700 "$r/root"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
}

# img_pack DIR OUT.tar: a reproducible tar of DIR (sorted, mtime 0, root-owned).
img_pack() {
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
        -C "$1" -cf "$2" .
    touch -d @0 "$2"
}

# img_pip_cache DIR REQ...: a real pip cache in DIR. `pip wheel --no-binary`
# downloads the sdists from PyPI and builds wheels, which pip stores in its
# cache (wheels/…/*.whl + origin.json) exactly as `pip install` without
# --no-cache-dir would. SOURCE_DATE_EPOCH keeps the wheels reproducible.
img_pip_cache() {
    local dir=$1
    shift
    img_need pip
    local names="" r
    for r in "$@"; do names+="${names:+,}${r%%[=<>]*}"; done
    mkdir -p "$dir"
    SOURCE_DATE_EPOCH=315532800 PIP_CACHE_DIR="$dir" PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
        pip wheel --quiet --no-deps --no-binary "$names" -w "$IMG_WORK/wheels" "$@" >>"$IMG_LOG" 2>&1
    # pip may create empty http/ or selfcheck dirs; drop empty dirs for a tidy layer.
    find "$dir" -depth -type d -empty -delete
    [[ -n "$(find "$dir" -type f -name '*.whl')" ]] || { echo "pip left no wheel in $dir" >&2; exit 1; }
}

# img_bud DRIVER NAME CONTEXT [extra buildah bud args]
img_bud() {
    local d=$1 name=$2 ctx=$3
    shift 3
    echo "  $(date +%T) build $name ($d)" >&2
    img_buildah "$d" bud --layers --isolation chroot --pull=never "$@" \
        -t "localhost/$name:latest" -f "$ctx/Containerfile" "$ctx" >>"$IMG_LOG" 2>&1
}

# img_docker_archive DRIVER NAME OUT.tar: export as a docker-archive (uncompressed layers).
img_docker_archive() {
    rm -f "$3"
    skopeo copy --quiet "$(img_ref "$1" "$2")" "docker-archive:$3:$2:latest" >>"$IMG_LOG" 2>&1
}

# img_zstd IN OUT: compress a whole archive with zstd -19 and drop IN.
img_zstd() {
    zstd -19 -q -f -o "$2" "$1"
    rm -f "$1"
}

# img_gzip IN OUT: compress a whole archive with gzip -9 (no name/time in the header) and drop IN.
img_gzip() {
    gzip -9 -n -c "$1" >"$2"
    rm -f "$1"
}
