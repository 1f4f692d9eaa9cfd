#!/usr/bin/env bash
# rust-compile-002: cargo build -vv refused by rustc: E0425 (typo) and E0308 (i64 vs u32).
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /builds/finance/ledger
capture "$WORK/versions.txt" bash -c 'rustc --version --verbose && cargo --version'
capture "$WORK/build.txt" cargo build -j1 --locked -vv
frame_case rust-compile-002 --shape gitlab --job "build" \
    --before "$WORK/versions.txt" --before-command "rustc --version --verbose && cargo --version" \
    --command "cargo build --locked -vv" --exit-code "$rc" --output "$WORK/build.txt"
