#!/usr/bin/env bash
# rust-clippy-003: cargo clippy -D warnings fails on four lints (first three labelled).
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /home/runner/work/inventory/inventory
capture "$WORK/component.txt" rustup component add clippy
capture "$WORK/build.txt" cargo build -j1 --all-targets -v
capture "$WORK/clippy.txt" cargo clippy -j1 --all-targets -- -D warnings
frame_case rust-clippy-003 --shape github_actions_plain --job "lint" \
    --before "$WORK/component.txt" --before-command "rustup component add clippy" \
    --before "$WORK/build.txt" --before-command "cargo build --all-targets -v" \
    --command "cargo clippy --all-targets -- -D warnings" --exit-code "$rc" \
    --output "$WORK/clippy.txt"
