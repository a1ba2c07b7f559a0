#!/usr/bin/env bash
# Keystroke-to-frame latency of the TUI (update + full redraw on a 120x40
# TestBackend, per key), on the largest images available.
#
#   scripts/tui-bench.sh [IMAGE...]
#
# Default images: /work/bench/gen/million.tar (1M files), /work/bench/big.docker.tar,
# and the 14-layer test image tests/images/dive-steps.docker.tar.zst, whichever exist.
set -euo pipefail
cd "$(dirname "$0")/.."
imgs=("$@")
if [ ${#imgs[@]} -eq 0 ]; then
  for f in /work/bench/gen/million.tar /work/bench/big.docker.tar tests/images/dive-steps.docker.tar.zst; do
    [ -e "$f" ] && imgs+=("$f")
  done
fi
cargo build --release --example tui_latency >&2
exec target/release/examples/tui_latency "${imgs[@]}"
