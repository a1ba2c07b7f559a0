#!/usr/bin/env bash
# Generate the benchmark images of issue 14 from a fresh clone and run scripts/bench.sh on
# them (imgscope, dive, the shell baseline and the floor programs, in alternation), then the
# streamed-memory check and the TUI latency bench. Nothing is written inside the repository.
#
# Usage:
#   scripts/bench-generated.sh DIR [IMAGE_SET...]
#
# DIR receives the images (several GB: delete it afterwards). IMAGE_SET (default: all):
#   million    1,000,000 files in 10 layers (~1 GB of content, 1.9 GB tar)        target 2
#   big        105,000 files, ~2.1 GB, uncompressed layers                         target 1
#   whiteouts  100,000 files without / with 2,000 whiteouts                        target 6
#   gzip,zstd  the `big` shape with gzip / zstd layers (half the files)            target 3
#   dominant   one gzip layer holding 90% of the files                             target 4
#   whole      the `big` image gzip-compressed as a whole, read from stdin         target 5
#   stream     ~2 GB and ~20 GB images of the same 21,000 files generated on the fly into
#              `imgscope -` (never stored): peak RSS must not grow with content bytes  target 2
#   tui        scripts/tui-bench.sh on the million image                           target 7
#   ls         `imgscope ls --format json` on the million image: peak RSS (target
#              <= 200 MB, issue 25); the rows checked against the layer tars
#              (scripts/check-ls.py: count, path set, a sample of rows)
#
# Environment: BENCH_RUNS (default 3) and everything scripts/bench.sh reads.
# Builds: cargo build --release (imgscope, examples gen_image and floor).
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
DIR=$1; shift
SETS=${*:-million big whiteouts gzip zstd dominant whole stream tui ls}
REPO=$(cd "$(dirname "$0")/.." && pwd)
case "$(realpath -m "$DIR")/" in "$REPO"/*) echo "bench-generated: DIR must be outside the repository" >&2; exit 2 ;; esac
mkdir -p "$DIR"
(cd "$REPO" && cargo build --release --bin imgscope --example gen_image --example floor >&2)
GEN=$REPO/target/release/examples/gen_image
export IMGSCOPE=${IMGSCOPE:-$REPO/target/release/imgscope}
export FLOOR=${FLOOR:-$REPO/target/release/examples/floor}
export BENCH_SUMMARY=${BENCH_SUMMARY:-$DIR/summary.txt}
: >"$BENCH_SUMMARY"

gen() { # gen FILE ARGS...: generate once (kept between runs of this script)
  local f=$DIR/$1; shift
  [ -s "$f" ] || { echo "generating $f ($*)" >&2; "$GEN" "$@" "$f.tmp" && mv "$f.tmp" "$f"; }
  echo "$f"
}
BIG=(--files 105000 --layers 8 --max-size 260000)
imgs=()
for s in $SETS; do
  case $s in
    million)   imgs+=("$(gen million.tar --files 1000000 --layers 10)") ;;
    big)       imgs+=("$(gen big.tar "${BIG[@]}")") ;;
    whiteouts) imgs+=("$(gen wh0.tar --files 100000 --layers 10)" "$(gen wh2000.tar --files 100000 --layers 10 --whiteouts 2000)") ;;
    gzip)      imgs+=("$(gen big-gzip.tar --files 52000 --layers 8 --max-size 260000 --compress gzip)") ;;
    zstd)      imgs+=("$(gen big-zstd.tar --files 52000 --layers 8 --max-size 260000 --compress zstd)") ;;
    dominant)  imgs+=("$(gen dominant-gzip.tar --files 52000 --layers 8 --max-size 260000 --compress gzip --dominant)") ;;
    whole)
      b=$(gen big.tar "${BIG[@]}")
      [ -s "$DIR/big.tar.gz" ] || { echo "compressing $b" >&2; gzip -1 <"$b" >"$DIR/big.tar.gz.tmp" && mv "$DIR/big.tar.gz.tmp" "$DIR/big.tar.gz"; }
      imgs+=("$DIR/big.tar.gz") ;;
    stream|tui|ls) ;;
    *) echo "bench-generated: unknown image set '$s'" >&2; exit 2 ;;
  esac
done
[ ${#imgs[@]} -eq 0 ] || "$REPO/scripts/bench.sh" "${imgs[@]}" || true

if [[ " $SETS " == *" stream "* ]]; then
  echo
  echo "=== streamed: generated on the fly into 'imgscope -' (never stored)"
  # the same 21,000 files, log-uniform sizes up to 1.3 MB (~2 GB) or 16 MB (~20 GB): only the
  # content bytes differ, so peak RSS must stay the same
  for spec in "2 1300000" "20 16000000"; do
    set -- $spec
    /usr/bin/time -f "%e %M" -o "$DIR/stream.time" sh -c \
      '"$1" --files 21000 --layers 8 --max-size "$2" - | "$3" --format json - >/dev/null' \
      sh "$GEN" "$2" "$IMGSCOPE" || true
    read -r wall rss <"$DIR/stream.time" || true
    printf '  ~%2d GB streamed (21,000 files): %s s, peak RSS %.1f MiB\n' "$1" "$wall" "$(echo "$rss / 1024" | bc -l)"
    echo "stream-${1}GB imgscope $wall $(echo "$rss / 1024" | bc -l)" >>"$BENCH_SUMMARY"
  done
fi

if [[ " $SETS " == *" ls "* ]]; then
  echo
  echo "=== imgscope ls --format json on the million image (issue 25: <= 200 MB)"
  m=$(gen million.tar --files 1000000 --layers 10)
  /usr/bin/time -f "%e %M" -o "$DIR/ls.time" sh -c '"$1" ls --format json "$2" | wc -l >"$3"' \
    sh "$IMGSCOPE" "$m" "$DIR/ls.rows" || true
  read -r wall rss <"$DIR/ls.time" || true
  printf '  ls --format json: %s rows, %s s, peak RSS %.1f MiB\n' "$(cat "$DIR/ls.rows")" "$wall" "$(echo "$rss / 1024" | bc -l)"
  echo "ls-json-million imgscope $wall $(echo "$rss / 1024" | bc -l)" >>"$BENCH_SUMMARY"
  # exactly the entries the tars hold: count, set and a sample of rows (scripts/check-ls.py
  # merges the layer tars itself with Python's tarfile)
  "$IMGSCOPE" ls --format json "$m" | python3 "$REPO/scripts/check-ls.py" "$m" || true
fi

if [[ " $SETS " == *" tui "* ]]; then
  echo
  echo "=== TUI latency (scripts/tui-bench.sh)"
  "$REPO/scripts/tui-bench.sh" "$(gen million.tar --files 1000000 --layers 10)" || true
fi
echo
echo "summary (image contender median_wall_s median_rss_MiB median_cpu_s) in $BENCH_SUMMARY"
