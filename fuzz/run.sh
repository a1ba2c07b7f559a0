#!/usr/bin/env bash
# Fuzz imgscope: build the cargo-fuzz targets (no sanitizer, debug assertions
# and overflow checks on), seed the corpora from the committed test images
# (fuzz/seeds.py), then run one target at a time, niced, rotating over the
# targets for ROUNDS rounds of SECONDS each. Everything lands in $FUZZ_WORK
# (default /tmp/imgscope-fuzz): corpus/, artifacts/ (crashes, timeouts,
# out-of-memory inputs), logs/ and stats.tsv (target, wall seconds, CPU seconds, executions,
# exit status per run).
#
#   cargo install cargo-fuzz
#   fuzz/run.sh [SECONDS] [ROUNDS] [TARGET...]
# (FUZZ_NO_BUILD=1: use the targets already built in $FUZZ_WORK/target.)
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
rounds=${2:-1}
shift $(( $# > 2 ? 2 : $# ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(archive metadata layer analysis packages)
work=${FUZZ_WORK:-/tmp/imgscope-fuzz}
mkdir -p "$work"/{corpus,artifacts,logs}
# The stable toolchain builds cargo-fuzz's instrumented targets with
# RUSTC_BOOTSTRAP=1 (sancov needs -Z flags).
[ -n "${FUZZ_NO_BUILD:-}" ] || RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz build -s none --target-dir "$work/target" >"$work/logs/build.log" 2>&1 \
    || { tail -20 "$work/logs/build.log"; exit 1; }
bin=$work/target/x86_64-unknown-linux-gnu/release
[ -d "$work/seeds" ] || python3 seeds.py "$work/seeds" >/dev/null
# The runs read their own copy of the dictionary (a checkout may change under them).
cp imgscope.dict "$work/imgscope.dict"
for r in $(seq 1 "$rounds"); do
    for t in "${targets[@]}"; do
        mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
        log=$work/logs/$t-$(date +%H%M%S).log
        set +e
        start=$(date +%s)
        /usr/bin/time -o "$log.cpu" -f '%U %S' nice -n 19 "$bin/$t" "$work/corpus/$t" "$work/seeds/$t" \
            -dict="$work/imgscope.dict" -max_len=262144 -rss_limit_mb=500 -malloc_limit_mb=500 \
            -timeout=10 -max_total_time="$secs" -print_final_stats=1 \
            -artifact_prefix="$work/artifacts/$t/" >"$log" 2>&1
        rc=$?
        set -e
        wall=$(( $(date +%s) - start ))
        cpu=$(tail -1 "$log.cpu" | awk '{printf "%.0f", $1 + $2}')
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$wall" "${cpu:-0}" "${execs:-0}" "$rc" >>"$work/stats.tsv"
        echo "$(date +%T) $t: ${execs:-0} executions in ${wall} s (${cpu:-0} CPU s), exit $rc ($log)"
    done
done
