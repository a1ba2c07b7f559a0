#!/usr/bin/env bash
# Build a large, realistic, deliberately wasteful container image for benchmarking
# imgscope against dive. Everything is written OUTSIDE the repository, under $BENCH_DIR.
#
# Usage:
#   scripts/build-bench-image.sh            # build + export + print stats
#   FORCE_ROOTFS=1 scripts/build-bench-image.sh   # re-run mmdebstrap even if rootfs.tar exists
#
# Environment:
#   BENCH_DIR       output directory                 (default /work/bench)
#   IMAGE_NAME      image name in buildah storage    (default imgscope-bench)
#   STORAGE_DRIVER  buildah/skopeo storage driver    (default overlay; vfs also works)
#   MIRROR          Debian mirror URI                (default: first URIs: line of
#                                                     /etc/apt/sources.list.d/debian.sources)
#   SKIP_STATS=1    do not count files/bytes at the end (that reads every layer once)
#
# Needs (as root): mmdebstrap buildah skopeo jq tar gzip
#   apt-get install -y buildah skopeo mmdebstrap jq
#
# Produces:
#   $BENCH_DIR/rootfs.tar          Debian bookworm minbase rootfs (mmdebstrap)
#   $BENCH_DIR/ctx/Dockerfile      the build recipe (8 layers, see below)
#   $BENCH_DIR/big.docker.tar      docker-archive, uncompressed layers
#   $BENCH_DIR/big.oci.tar         oci-archive, gzip layers
#   $BENCH_DIR/storage, runroot    buildah storage (can be deleted afterwards)
#   $BENCH_DIR/build.log           step timings
#
# Waste built into the image (what imgscope must find):
#   * apt lists + downloaded .debs left by the install RUNs, deleted in a later RUN  -> removed
#   * chmod -R of the JDK and the boost headers in a separate RUN                   -> metadata_only
#   * mv of the Python HTML docs to /opt in a separate RUN                           -> moved
#   * a copy of perl's docs left in /tmp                                              -> cache (tmp)
#   * apt's pkgcache.bin/srcpkgcache.bin rewritten by every install RUN              -> overwritten
#   * toolchains (gcc, JDK, Go, -dev headers) in the final image                     -> multi-stage
set -euo pipefail

BENCH_DIR=${BENCH_DIR:-/work/bench}
IMAGE_NAME=${IMAGE_NAME:-imgscope-bench}
STORAGE_DRIVER=${STORAGE_DRIVER:-overlay}
ROOT="$BENCH_DIR/storage"
RUNROOT="$BENCH_DIR/runroot"
LOG="$BENCH_DIR/build.log"

die() { echo "build-bench-image: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap and buildah --isolation chroot need it)"
for c in mmdebstrap buildah skopeo jq tar gzip; do
  command -v "$c" >/dev/null || die "missing command: $c (apt-get install -y buildah skopeo mmdebstrap jq)"
done

case "$(realpath -m "$BENCH_DIR")/" in
  "$(realpath -m "$(dirname "$0")/..")"/*) die "BENCH_DIR must be outside the repository" ;;
esac

if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi

mkdir -p "$BENCH_DIR/ctx"
: >"$LOG"
T_ALL=$(date +%s)
step() { # step NAME CMD...
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  echo "== $name" | tee -a "$LOG"
  "$@"
  local t1; t1=$(date +%s.%N)
  printf '   %s took %.1f s\n' "$name" "$(echo "$t1 - $t0" | bc -l)" | tee -a "$LOG"
}
command -v bc >/dev/null || die "missing command: bc (apt-get install -y bc)"

# --- 1. base rootfs --------------------------------------------------------------------------
make_rootfs() {
  if [ -s "$BENCH_DIR/rootfs.tar" ] && [ -z "${FORCE_ROOTFS:-}" ]; then
    echo "   reusing $BENCH_DIR/rootfs.tar (FORCE_ROOTFS=1 to rebuild)"
    return
  fi
  mmdebstrap --variant=minbase --format=tar bookworm "$BENCH_DIR/rootfs.tmp.tar" "$MIRROR"
  mv "$BENCH_DIR/rootfs.tmp.tar" "$BENCH_DIR/rootfs.tar"
}
step "mmdebstrap minbase bookworm ($MIRROR)" make_rootfs
ln -f "$BENCH_DIR/rootfs.tar" "$BENCH_DIR/ctx/rootfs.tar" 2>/dev/null || cp -f "$BENCH_DIR/rootfs.tar" "$BENCH_DIR/ctx/rootfs.tar"

# --- 2. Dockerfile ---------------------------------------------------------------------------
# Each RUN below is one layer. The anti-patterns are intentional.
cat >"$BENCH_DIR/ctx/Dockerfile" <<'EOF'
FROM scratch
ADD rootfs.tar /
ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
# layer 1: C/C++/Python toolchain; apt lists and .debs are left behind
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential gcc g++ make python3 python3-pip python3-dev python3-venv perl git
# layer 2: a JDK
RUN apt-get install -y --no-install-recommends openjdk-17-jdk-headless
# layer 3: Go toolchain + boost headers
RUN apt-get install -y --no-install-recommends golang-go libboost-dev
# layer 4: documentation
RUN apt-get install -y --no-install-recommends python3-doc perl-doc openjdk-17-doc
# layer 5: permission fix in a separate layer (duplicates every byte)
RUN chmod -R go-w,a+rX /usr/lib/jvm /usr/include/boost
# layer 6: moving files in a separate layer stores them twice; a leftover in /tmp
RUN mkdir -p /opt/docs && mv /usr/share/doc/python3.11 /opt/docs/python3.11 \
 && cp -a /usr/share/doc/perl /tmp/perl-doc-copy
# layer 7: cleanup too late: lists and .debs are still in layers 1-4
RUN rm -rf /var/lib/apt/lists/* && apt-get clean
WORKDIR /src
CMD ["/bin/bash"]
EOF

# --- 3. build --------------------------------------------------------------------------------
BUILDAH=(buildah --root "$ROOT" --runroot "$RUNROOT" --storage-driver "$STORAGE_DRIVER")
step "buildah bud --layers ($STORAGE_DRIVER)" \
  "${BUILDAH[@]}" bud --layers --isolation chroot -t "$IMAGE_NAME:latest" "$BENCH_DIR/ctx"

# --- 4. export -------------------------------------------------------------------------------
SRC="containers-storage:[$STORAGE_DRIVER@$ROOT+$RUNROOT]localhost/$IMAGE_NAME:latest"
rm -f "$BENCH_DIR/big.docker.tar" "$BENCH_DIR/big.oci.tar"
step "skopeo -> docker-archive (uncompressed)" \
  skopeo copy -q "$SRC" "docker-archive:$BENCH_DIR/big.docker.tar:$IMAGE_NAME:latest"
step "skopeo -> oci-archive (gzip)" \
  skopeo copy -q "$SRC" "oci-archive:$BENCH_DIR/big.oci.tar:$IMAGE_NAME:latest"
printf 'total build time: %d s\n' "$(( $(date +%s) - T_ALL ))" | tee -a "$LOG"

# --- 5. stats --------------------------------------------------------------------------------
stats() {
  local img=$BENCH_DIR/big.docker.tar layers n=0 files=0 bytes=0 whs=0 l f b w
  layers=$(tar -xOf "$img" manifest.json | jq -r '.[0].Layers[]')
  for l in $layers; do
    # regular files only ('-' in tar tv), whiteout markers (.wh.*) excluded and counted apart;
    # hard links ('h'), dirs, symlinks count 0 bytes
    read -r f b w < <(tar -xOf "$img" "$l" | tar -tvf - | awk '
      /^-/ { if ($0 ~ /(^| |\/)\.wh\./) wh++; else { n++; s += $3 } }
      END  { printf "%d %d %d\n", n, s, wh }')
    printf '   layer %d  %s  files=%-6d bytes=%-10d whiteouts=%d\n' "$n" "${l:0:19}" "$f" "$b" "$w"
    n=$((n + 1)); files=$((files + f)); bytes=$((bytes + b)); whs=$((whs + w))
  done
  echo "   layers=$n regular_files=$files content_bytes=$bytes ($(numfmt --to=iec-i --suffix=B "$bytes")) whiteouts=$whs"
  ls -l "$BENCH_DIR/big.docker.tar" "$BENCH_DIR/big.oci.tar"
}
stats_logged() { stats 2>&1 | tee -a "$LOG"; }
if [ -z "${SKIP_STATS:-}" ]; then
  step "stats (tar tv over every layer)" stats_logged
fi
