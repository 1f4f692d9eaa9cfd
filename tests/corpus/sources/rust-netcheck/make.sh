#!/usr/bin/env bash
# rust-flaky-008: a test probes a sidecar on 127.0.0.1:9464 that is not up: connection refused.
# rust-timeout-009: a test waits forever on a flag that its worker never sets; `timeout 75` ends it.
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /home/dev/src/netcheck
export RUST_BACKTRACE=1
capture "$WORK/build.txt" cargo build -j1 --all-targets
capture "$WORK/client.txt" cargo test -j1 --test client
frame_case rust-flaky-008 --shape plain --job "test" \
    --before "$WORK/build.txt" --before-command "cargo build --all-targets" \
    --command "cargo test --test client" --exit-code "$rc" --output "$WORK/client.txt"
capture "$WORK/startup.txt" timeout 75 cargo test -j1 --test startup
frame_case rust-timeout-009 --shape gitlab --job "test" \
    --before "$WORK/build.txt" --before-command "cargo build --all-targets" \
    --command "timeout 75 cargo test --test startup" --exit-code "$rc" --output "$WORK/startup.txt"
