#!/usr/bin/env bash
# CI format gate: fail when gofmt would change any file.
set -euo pipefail
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
    echo "The following files are not gofmt-formatted:"
    echo "$unformatted"
    echo
    gofmt -d $unformatted
    echo "Run 'gofmt -w .' and commit the result."
    exit 1
fi
echo "gofmt: all files formatted"
