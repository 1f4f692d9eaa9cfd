#!/usr/bin/env bash
# rust-fmt-004: cargo fmt --check with colour forced finds four files needing reformatting.
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /var/lib/buildkite-agent/builds/agent-1/org/geo
capture "$WORK/versions.txt" bash -c 'cargo --version && rustfmt --version'
capture "$WORK/fmt.txt" cargo fmt --all -- --check --color always
frame_case rust-fmt-004 --shape buildkite --job "rustfmt" --literal-escapes \
    --before "$WORK/versions.txt" --before-command "cargo --version && rustfmt --version" \
    --command "cargo fmt --all -- --check --color always" --exit-code "$rc" \
    --output "$WORK/fmt.txt"
