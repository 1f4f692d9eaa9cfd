#!/usr/bin/env bash
# js-jest-long-010: jest --verbose -i over 13 suites (~3,100 tests; 12 of them written by
# gen_suites.js into the scratch copy); currency.test.js runs first and fails one test.
source "$(dirname "$0")/../common.sh"
SRC="$(cd "$(dirname "$0")" && pwd)"
P="$WORK/js-long" && rm -rf "$P" && cp -r "$SRC" "$P" && rm -rf "$P/node_modules" && cd "$P" || exit 1
O="$WORK/js-long-out" && rm -rf "$O" && mkdir -p "$O"
run "$O/install.txt" npm install --loglevel verbose
node gen_suites.js __tests__ 12
export CI=true
run "$O/jest.txt" npx jest --ci --verbose -i
frame js-jest-long-010 --shape github_actions_plain --job "test (20.x)" \
    --before "$O/install.txt" --before-command "npm install --loglevel verbose" \
    --command "npx jest --ci --verbose -i" --exit-code "$RC" --output "$O/jest.txt"
