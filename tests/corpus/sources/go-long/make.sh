#!/usr/bin/env bash
# Regenerates the long go cases:
#   go-test-long-010     go test -v ./... over 8 packages (~1,700 subtests); the first package,
#                        accounts, fails two tests and 3,000 lines of passing packages follow
#   go-timeout-long-011  the soak test deadlocks (wg.Wait before draining an unbuffered channel);
#                        -timeout ends it and the runtime dumps 500 blocked goroutines
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /home/runner/work/fleet/fleet
export GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$WORK/gocache"
capture "$WORK/env.txt" bash -c 'go version && go env'
capture "$WORK/build.txt" go build -v ./...
capture "$WORK/test.txt" go test -count=1 -v ./...
frame_case go-test-long-010 --shape github_actions --job "go test (ubuntu-latest)" \
    --before "$WORK/env.txt" --before-command "go version && go env" \
    --before "$WORK/build.txt" --before-command "go build -v ./..." \
    --command "go test -count=1 -v ./..." --exit-code "$rc" --output "$WORK/test.txt"

capture "$WORK/soak.txt" go test -count=1 -tags soak -run TestSoak -timeout 10s -v ./...
frame_case go-timeout-long-011 --shape circleci --job "soak" \
    --before "$WORK/env.txt" --before-command "go version && go env" \
    --command "go test -count=1 -tags soak -run TestSoak -timeout 10s -v ./..." \
    --exit-code "$rc" --output "$WORK/soak.txt"
