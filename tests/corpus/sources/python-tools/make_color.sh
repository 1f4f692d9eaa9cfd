#!/usr/bin/env bash
# Regenerates python-mypy-color-002: mypy with colour forced on, copied with literal escapes.
source "$(dirname "$0")/../common.sh"
SRC="$(cd "$(dirname "$0")" && pwd)"
P="$WORK/python-tools-color"
rm -rf "$P" && cp -r "$SRC" "$P" || exit 1
find "$P" -name '*.in' -exec sh -c 'mv "$1" "${1%.in}"' _ {} \;
O="$WORK/python-tools-color-out" && rm -rf "$O" && mkdir -p "$O"
(cd "$P/typed" && run "$O/mypy.txt" env MYPY_FORCE_COLOR=1 TERM=xterm-256color mypy --pretty billing \
    && echo "$RC" > "$O/rc")
frame python-mypy-color-002 --shape github_actions --job "typecheck (3.11)" --literal-escapes \
    --command "mypy --pretty billing" --exit-code "$(cat "$O/rc")" --output "$O/mypy.txt"
