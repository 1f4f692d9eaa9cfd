#!/usr/bin/env bash
# Regenerates js-npm-eresolve-001: react-dom 18 needs react ^18, the project pins react 17.
source "$(dirname "$0")/../common.sh"
SRC="$(cd "$(dirname "$0")" && pwd)"
P="$WORK/js-eresolve" && rm -rf "$P" && mkdir -p "$P" && cp "$SRC/package.json" "$P/" && cd "$P" || exit 1
O="$WORK/js-eresolve-out" && rm -rf "$O" && mkdir -p "$O"
node --version > "$O/node.txt" 2>&1 && npm --version >> "$O/node.txt" 2>&1
run "$O/npm.txt" npm install --loglevel verbose
frame js-npm-eresolve-001 --shape github_actions --job "build (20.x)" \
    --before "$O/node.txt" --before-command "node --version && npm --version" \
    --command "npm install --loglevel verbose" --exit-code "$RC" --output "$O/npm.txt"
