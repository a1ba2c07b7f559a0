#!/usr/bin/env bash
# Benchmark (not a test): three ways to analyse an image kept in a podman/buildah
# store (containers-storage), time and peak memory:
#   store   imgscope containers-storage:[driver@root+runroot]NAME   (read in place)
#   save    podman save NAME | imgscope -                           (the engine's stream)
#   skopeo  skopeo copy containers-storage:… docker-archive:FILE, then imgscope FILE
#
# Usage:
#   scripts/bench-cstorage.sh [NAME]    (default localhost/imgscope-bench:latest, built by
#                                        scripts/build-bench-image.sh into $BENCH_DIR/storage)
# Environment:
#   BENCH_DIR      scratch files and the default store (default /work/bench)
#   STORE_ROOT     the store's graphroot   (default $BENCH_DIR/storage)
#   STORE_RUNROOT  the store's runroot     (default $BENCH_DIR/runroot)
#   STORE_DRIVER   overlay or vfs          (default overlay)
#   IMGSCOPE       imgscope binary (default <repo>/target/release/imgscope)
#   BENCH_RUNS     timed runs per way (default 3; the median is reported)
#
# Reported per way: median wall seconds and median peak RSS in MiB (/usr/bin/time's %M: for a
# pipe, the larger of its two processes; for skopeo + file the larger of the two, the wall time
# their sum). Each way's JSON report is kept and the three are compared (source, format and the
# base's digest and evidence aside: see docs/containers-storage.md), so a benchmark of a wrong
# answer does not go unnoticed. Figures depend on the machine.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/work/bench}
NAME=${1:-localhost/imgscope-bench:latest}
STORE_ROOT=${STORE_ROOT:-$BENCH_DIR/storage}
STORE_RUNROOT=${STORE_RUNROOT:-$BENCH_DIR/runroot}
STORE_DRIVER=${STORE_DRIVER:-overlay}
IMGSCOPE=${IMGSCOPE:-$REPO/target/release/imgscope}
BENCH_RUNS=${BENCH_RUNS:-3}
TIME=/usr/bin/time

die() { echo "bench-cstorage: $*" >&2; exit 2; }
for c in podman skopeo python3 "$TIME"; do
  command -v "$c" >/dev/null || die "$c is missing (apt-get install -y podman skopeo time)"
done
[ -x "$IMGSCOPE" ] || die "$IMGSCOPE: build it with cargo build --release"
[ -d "$STORE_ROOT" ] || die "$STORE_ROOT: no store there (scripts/build-bench-image.sh builds one)"

REF="containers-storage:[$STORE_DRIVER@$STORE_ROOT+$STORE_RUNROOT]$NAME"
PODMAN=(podman --root "$STORE_ROOT" --runroot "$STORE_RUNROOT" --storage-driver "$STORE_DRIVER")
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/cstorage-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# run WAY I: one timed run; appends "seconds KiB" to $WORK/WAY.times, the report to $WORK/WAY.json.
run() {
  local way=$1 i=$2 t1 t2
  case $way in
    store)
      "$TIME" -f '%e %M' -o "$WORK/t" "$IMGSCOPE" --no-ci --format json "$REF" >"$WORK/$way.json" || return 1
      cat "$WORK/t" >>"$WORK/$way.times" ;;
    save)
      "$TIME" -f '%e %M' -o "$WORK/t" sh -c '"$@" | "$0" --no-ci --format json -' \
        "$IMGSCOPE" "${PODMAN[@]}" save "$NAME" >"$WORK/$way.json" || return 1
      cat "$WORK/t" >>"$WORK/$way.times" ;;
    skopeo)
      rm -f "$WORK/image.tar"
      "$TIME" -f '%e %M' -o "$WORK/t1" skopeo copy --quiet "$REF" "docker-archive:$WORK/image.tar:$NAME" || return 1
      "$TIME" -f '%e %M' -o "$WORK/t2" "$IMGSCOPE" --no-ci --format json "$WORK/image.tar" >"$WORK/$way.json" || return 1
      read -r s1 m1 <"$WORK/t1"
      read -r s2 m2 <"$WORK/t2"
      python3 -c 'import sys; a=sys.argv; print(float(a[1])+float(a[3]), max(int(a[2]), int(a[4])))' \
        "$s1" "$m1" "$s2" "$m2" >>"$WORK/$way.times"
      rm -f "$WORK/image.tar" ;;
  esac
  : "$i"
}

echo "image $NAME in $STORE_DRIVER@$STORE_ROOT, $BENCH_RUNS runs each, imgscope $("$IMGSCOPE" --version)"
printf '%-8s %10s %10s\n' way seconds 'peak MiB'
for way in store save skopeo; do
  : >"$WORK/$way.times"
  ok=1
  for i in $(seq "$BENCH_RUNS"); do
    sync
    run "$way" "$i" || { ok=0; break; }
  done
  if ((ok == 0)); then
    printf '%-8s %10s\n' "$way" failed
    continue
  fi
  python3 - "$way" "$WORK/$way.times" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[2]) if l.strip()]
s = statistics.median(float(r[0]) for r in rows)
m = statistics.median(int(r[1]) for r in rows) / 1024
print(f"{sys.argv[1]:<8} {s:10.2f} {m:10.1f}")
PY
done

# The three reports must agree (the image's source and format aside).
python3 - "$WORK" <<'PY'
import json, os, sys
w = sys.argv[1]
reps = {}
for way in ("store", "save", "skopeo"):
    p = os.path.join(w, way + ".json")
    if os.path.getsize(p) if os.path.exists(p) else 0:
        r = json.load(open(p))
        r["image"].pop("source", None)
        r["image"].pop("format", None)
        # The store keeps the manifest's base annotations (a docker-archive
        # cannot): the base's digest and evidence may differ, its name and
        # layer count may not.
        b = r["image"].get("base") or {}
        r["image"]["base"] = {k: b.get(k) for k in ("name", "layers")}
        reps[way] = r
ways = list(reps)
same = all(reps[w2] == reps[ways[0]] for w2 in ways[1:])
print("reports:", "identical" if same else "DIFFER", "(" + ", ".join(ways) + ")")
sys.exit(0 if same else 1)
PY
