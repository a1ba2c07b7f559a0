#!/bin/sh
# Added to /root/.data/ by the dive-steps image: a file that stays visible.
name=${1:-world}
echo "hello, $name"
