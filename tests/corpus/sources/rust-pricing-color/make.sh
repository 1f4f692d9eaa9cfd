#!/usr/bin/env bash
# rust-test-007: colour forced; a unit test and a doc-test in crates/tax fail late in the run
# because vat() truncates instead of rounding half up.
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /home/runner/work/pricing/pricing
export RUST_BACKTRACE=1
capture "$WORK/build.txt" cargo --color always build -j1 --workspace --all-targets -vv
capture "$WORK/test.txt" cargo --color always test -j1 --workspace --no-fail-fast -- --color always --test-threads=2
frame_case rust-test-007 --shape github_actions --job "test workspace (ubuntu-latest)" --literal-escapes \
    --before "$WORK/build.txt" --before-command "cargo --color always build --workspace --all-targets -vv" \
    --command "cargo --color always test --workspace --no-fail-fast -- --color always --test-threads=2" \
    --exit-code "$rc" --output "$WORK/test.txt"
