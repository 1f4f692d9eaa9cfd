#!/usr/bin/env bash
# Regenerates js-jest-assert-001, js-jest-snapshot-001, js-eslint-001, js-eslint-config-001,
#   js-prettier-001, ts-tsc-type-001, ts-tsc-syntax-001 (node_modules only in the scratch copy)
source "$(dirname "$0")/../common.sh"
SRC="$(cd "$(dirname "$0")" && pwd)"
P="$WORK/js-app" && rm -rf "$P" && cp -r "$SRC" "$P" && rm -rf "$P/node_modules" && cd "$P" || exit 1
O="$WORK/js-app-out" && rm -rf "$O" && mkdir -p "$O"
run "$O/install.txt" npm install --loglevel verbose
export CI=true

run "$O/jest.txt" npx jest --ci --verbose
frame js-jest-assert-001 --shape github_actions --job "test (20.x)" \
    --before "$O/install.txt" --before-command "npm install --loglevel verbose" \
    --command "npx jest --ci --verbose" --exit-code "$RC" --output "$O/jest.txt"

run "$O/snap.txt" env FORCE_COLOR=1 npx jest --ci __tests__/order.test.js
frame js-jest-snapshot-001 --shape buildkite --job "jest" --literal-escapes \
    --command "FORCE_COLOR=1 npx jest --ci __tests__/order.test.js" --exit-code "$RC" \
    --output "$O/snap.txt"

run "$O/eslint.txt" npx eslint src lib
frame js-eslint-001 --shape github_actions_plain --job "lint" \
    --before "$O/install.txt" --before-command "npm install --loglevel verbose" \
    --command "npx eslint src lib" --exit-code "$RC" --output "$O/eslint.txt"

run "$O/eslintcfg.txt" npx eslint -c eslint.bad.config.mjs src
frame js-eslint-config-001 --shape plain --job "lint" \
    --command "npx eslint -c eslint.bad.config.mjs src" --exit-code "$RC" --output "$O/eslintcfg.txt"

run "$O/prettier.txt" npx prettier --check src lib __tests__
frame js-prettier-001 --shape gitlab --job "format" \
    --before "$O/install.txt" --before-command "npm install --loglevel verbose" \
    --command "npx prettier --check src lib __tests__" --exit-code "$RC" --output "$O/prettier.txt"

run "$O/tsc.txt" npx tsc -p ts
frame ts-tsc-type-001 --shape jenkins --job "Typecheck" \
    --before "$O/install.txt" --before-command "npm install --loglevel verbose" \
    --command "npx tsc -p ts" --exit-code "$RC" --output "$O/tsc.txt"

run "$O/tscsyn.txt" npx tsc -p ts-syntax --pretty
frame ts-tsc-syntax-001 --shape circleci --job "build" \
    --command "npx tsc -p ts-syntax --pretty" --exit-code "$RC" --output "$O/tscsyn.txt"
