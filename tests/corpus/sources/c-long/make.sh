#!/usr/bin/env bash
# c-build-long-010: make V=1 -k over 3,000 generated table modules; src/frame_parser.c (built
# second) fails to compile and -k carries on through the other 3,000 compile lines.
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /var/lib/jenkins/workspace/codec_main
bash gen_modules.sh . 3000
capture "$WORK/cc.txt" gcc --version
capture "$WORK/make.txt" make V=1 -k -j2 CC=gcc
frame_case c-build-long-010 --shape jenkins --job "Build" \
    --before "$WORK/cc.txt" --before-command "gcc --version" \
    --command "make V=1 -k -j2 CC=gcc" --exit-code "$rc" --output "$WORK/make.txt"
