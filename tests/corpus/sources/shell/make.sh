#!/usr/bin/env bash
# Regenerates shell-shellcheck-001 and shell-sete-001.
source "$(dirname "$0")/../common.sh"
SRC="$(cd "$(dirname "$0")" && pwd)"
P="$WORK/shell" && rm -rf "$P" && cp -r "$SRC" "$P" && cd "$P" || exit 1
O="$WORK/shell-out" && rm -rf "$O" && mkdir -p "$O"
shellcheck --version > "$O/version.txt" 2>&1
run "$O/shellcheck.txt" shellcheck scripts/deploy.sh scripts/rotate_logs.sh scripts/render_config.sh
frame shell-shellcheck-001 --shape gitlab --job "shellcheck" \
    --before "$O/version.txt" --before-command "shellcheck --version" \
    --command "shellcheck scripts/deploy.sh scripts/rotate_logs.sh scripts/render_config.sh" \
    --exit-code "$RC" --output "$O/shellcheck.txt"
run "$O/golden.txt" bash ./run_golden.sh
frame shell-sete-001 --shape github_actions --job "golden configs" \
    --command "./run_golden.sh" --exit-code "$RC" --output "$O/golden.txt"
