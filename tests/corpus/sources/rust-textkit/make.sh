#!/usr/bin/env bash
# rust-test-001: cargo test with 538 table tests, two assertion failures and one unwrap panic.
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /home/runner/work/textkit/textkit
export RUST_BACKTRACE=1
capture "$WORK/toolchain.txt" rustup show
capture "$WORK/build.txt" cargo build -j1 --all-targets -vv
capture "$WORK/test.txt" cargo test -j1 --no-fail-fast -- --test-threads=1
frame_case rust-test-001 --shape github_actions --job "test (stable, ubuntu-latest)" \
    --before "$WORK/toolchain.txt" --before-command "rustup show" \
    --before "$WORK/build.txt" --before-command "cargo build --all-targets -vv" \
    --command "cargo test --no-fail-fast -- --test-threads=1" --exit-code "$rc" \
    --output "$WORK/test.txt"
