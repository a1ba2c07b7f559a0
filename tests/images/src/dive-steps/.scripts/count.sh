#!/bin/sh
# Added to /root/.data/ by the dive-steps image: counts the regular files
# under a directory (default: the current one) and prints their total size.
dir=${1:-.}
n=0
total=0
for f in $(find "$dir" -type f); do
    n=$((n + 1))
    total=$((total + $(wc -c < "$f")))
done
echo "$n files, $total bytes under $dir"
