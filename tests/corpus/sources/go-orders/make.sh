#!/usr/bin/env bash
# go-test-001: go test -v ./... with ~230 passing subtests; inventory accepts negative takes and
# invoice.Number pads to 5 digits instead of 6.
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /home/runner/work/orders/orders
export GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$WORK/gocache"
capture "$WORK/apt.txt" apt-get install -y golang-go
capture "$WORK/env.txt" bash -c 'go version && go env'
capture "$WORK/build.txt" go build -v ./...
capture "$WORK/test.txt" go test -count=1 -v ./...
frame_case go-test-001 --shape github_actions --job "go test (ubuntu-latest)" \
    --before "$WORK/apt.txt" --before-command "sudo apt-get install -y golang-go" \
    --before "$WORK/env.txt" --before-command "go version && go env" \
    --before "$WORK/build.txt" --before-command "go build -v ./..." \
    --command "go test -count=1 -v ./..." --exit-code "$rc" --output "$WORK/test.txt"
