#!/usr/bin/env bash
# rust-manifest-005: Cargo.toml gives codegen-units as a string, cargo refuses the manifest.
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /var/lib/jenkins/workspace/metrics-agent_main
capture "$WORK/versions.txt" bash -c 'rustc -V && cargo -V'
capture "$WORK/build.txt" cargo build --release
frame_case rust-manifest-005 --shape jenkins --job "Build release" \
    --before "$WORK/versions.txt" --before-command "rustc -V && cargo -V" \
    --command "cargo build --release" --exit-code "$rc" --output "$WORK/build.txt"
