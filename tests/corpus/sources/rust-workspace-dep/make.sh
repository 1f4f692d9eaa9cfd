#!/usr/bin/env bash
# rust-dep-006: telemetry-cli asks for telemetry-core ^2.0 but the workspace has 1.4.0.
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /home/circleci/project
capture "$WORK/toolchain.txt" rustup show
capture "$WORK/build.txt" cargo build --offline --workspace
frame_case rust-dep-006 --shape circleci --job "build" \
    --before "$WORK/toolchain.txt" --before-command "rustup show" \
    --command "cargo build --offline --workspace" --exit-code "$rc" --output "$WORK/build.txt"
