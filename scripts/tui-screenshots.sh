#!/usr/bin/env bash
# Real captures of the running TUI: the release binary in tmux (120x40),
# `capture-pane -e` (text + colours) → HTML (aha) → PNG (headless chromium).
#
#   scripts/tui-screenshots.sh [IMAGE] [BIG_IMAGE]
#
# IMAGE defaults to the bundled demo image (assets/demo/demo.tar.zst), else the 14-layer test image
# (tests/images/dive-steps.docker.tar.zst);
# BIG_IMAGE (for the progress gauge) to /work/bench/million.tar if present.
# The viewer, history and diff captures use tests/images/versions.tar.zst.
# ONLY=viewer takes only those; IMGSCOPE_BIN=PATH uses that binary instead
# of building the release one.
# Needs: tmux, aha, chromium, a monospace font (fonts-dejavu-core).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
img=${1:-}
if [ -z "$img" ]; then
  if [ -e assets/demo/demo.tar.zst ]; then img=assets/demo/demo.tar.zst; else img=tests/images/dive-steps.docker.tar.zst; fi
fi
big=${2:-/work/bench/million.tar}
for t in tmux aha chromium; do command -v $t >/dev/null || { echo "missing: $t" >&2; exit 2; }; done
bin=${IMGSCOPE_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release >&2
  bin=$root/target/release/imgscope
fi
only=${ONLY:-}
out=$root/screenshots
mkdir -p "$out"
work=$(mktemp -d)
sock=imgscope-shots-$$
trap 'tmux -L $sock kill-server 2>/dev/null || true; rm -rf "$work"' EXIT

tm() { tmux -L "$sock" "$@"; }
keys() { for k in "$@"; do tm send-keys -t shots "$k"; sleep 0.15; done; sleep 0.4; }

shot() { # name
  local name=$1
  tm capture-pane -e -p -t shots > "$work/$name.ansi"
  {
    echo '<!DOCTYPE html><html><head><meta charset="utf-8"><style>'
    echo 'body{margin:0;background:#1d1f21;} pre{margin:8px;font-family:"DejaVu Sans Mono",monospace;font-size:14px;line-height:17px;color:#d0d0d0;white-space:pre;}'
    echo '</style></head><body><pre>'
    aha --no-header --black < "$work/$name.ansi"
    echo '</pre></body></html>'
  } > "$work/$name.html"
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1030,700 --screenshot="$out/$name.png" "file://$work/$name.html" >/dev/null 2>&1
  echo "screenshots/$name.png"
}

start() { # image
  tm kill-session -t shots 2>/dev/null || true
  tm new-session -d -s shots -x 120 -y 40 "'$bin' '$1'; sleep 30"
}

if [ -z "$only" ] && [ -e "$big" ]; then
  start "$big"
  sleep 0.6
  shot loading
fi

if [ -z "$only" ]; then
start "$img"
sleep 1.5
shot layers
keys Home Down Down Down C-l
shot layer-changes
keys End
shot whiteouts
keys 3
shot waste
keys Down Enter
shot jump-to-file
keys 4
shot fixes
keys C-f a p p Enter C-o
shot filter
keys '?'
shot help
keys Escape q
fi

# The viewer, a search, the history of a path, a hidden version, a diff.
start tests/images/versions.tar.zst
sleep 1.5
keys 2 C-f a p p . c o n f Enter Home Down Down Enter
shot viewer
keys / l o g Enter n
shot viewer-search
keys H
shot history
keys Up Up d Down d
shot diff
keys Escape Escape Escape Escape
keys C-f C-u b l o b Enter Home Down Down v
shot viewer-hex
keys Escape q
