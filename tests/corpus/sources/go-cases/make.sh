#!/usr/bin/env bash
# Go cases, one small module each:
#   go-vet-002     vet/     go vet: copylocks and two printf mismatches
#   go-build-003   compile/  go build: undefined writeError, int + string
#   go-timeout-004 timeout/ go test -timeout 2s: Pop waits forever (missing cond.Signal)
#   go-gofmt-005   gofmt/   check-format.sh fails on two unformatted files
#   go-race-006    race/    go test -race: unsynchronised counter
#   go-oom-007     oom/     go test under ulimit -v: an in-memory index outgrows the limit
#   go-flaky-008   flaky/   a test posts to a receiver container that is not up: connection refused
#   go-dep-009     gosum/   missing go.sum entry for a required module
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
source ../native-lib/lib.sh
export GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local GOCACHE="$WORK/gocache"

in_checkout() { # SUBDIR DEST
    rm -rf "$2" && mkdir -p "$2" && cp -a "$HERE/$1/." "$2/" && cd "$2"
}

(
    in_checkout vet /builds/platform/vetdemo
    capture "$WORK/v-ver.txt" go version
    capture "$WORK/v-build.txt" go build -v ./...
    capture "$WORK/v-vet.txt" go vet ./...
    frame_case go-vet-002 --shape gitlab --job "vet" \
        --before "$WORK/v-ver.txt" --before-command "go version" \
        --before "$WORK/v-build.txt" --before-command "go build -v ./..." \
        --command "go vet ./..." --exit-code "$rc" --output "$WORK/v-vet.txt"
    rm -rf /builds/platform/vetdemo
)
(
    in_checkout compile /var/lib/jenkins/workspace/apisrv_main
    capture "$WORK/b-env.txt" bash -c 'go version && go env GOPATH GOOS GOARCH GOFLAGS'
    capture "$WORK/b-build.txt" go build -v -o bin/ ./...
    frame_case go-build-003 --shape jenkins --job "Build" \
        --before "$WORK/b-env.txt" --before-command "go version && go env GOPATH GOOS GOARCH GOFLAGS" \
        --command "go build -v -o bin/ ./..." --exit-code "$rc" --output "$WORK/b-build.txt"
    rm -rf /var/lib/jenkins/workspace/apisrv_main
)
(
    in_checkout timeout /home/runner/work/jobqueue/jobqueue
    capture "$WORK/t-test.txt" go test -count=1 -v -timeout 2s ./...
    frame_case go-timeout-004 --shape github_actions_plain --job "unit tests" \
        --command "go test -count=1 -v -timeout 2s ./..." --exit-code "$rc" --output "$WORK/t-test.txt"
    rm -rf /home/runner/work/jobqueue
)
(
    in_checkout gofmt /var/lib/buildkite-agent/builds/agent-1/org/kvserver
    capture "$WORK/f-test.txt" go test -count=1 ./...
    capture "$WORK/f-fmt.txt" ./check-format.sh
    frame_case go-gofmt-005 --shape buildkite --job "format" \
        --before "$WORK/f-test.txt" --before-command "go test ./..." \
        --command "./check-format.sh" --exit-code "$rc" --output "$WORK/f-fmt.txt"
    rm -rf /var/lib/buildkite-agent/builds/agent-1/org/kvserver
)
(
    in_checkout race /home/circleci/project
    capture "$WORK/r-test.txt" go test -race -count=1 -v ./...
    frame_case go-race-006 --shape circleci --job "test-race" \
        --command "go test -race -count=1 -v ./..." --exit-code "$rc" --output "$WORK/r-test.txt"
    rm -rf /home/circleci/project
)
(
    in_checkout oom /home/dev/src/logindex
    capture "$WORK/o-test.txt" bash -c 'ulimit -v 2000000 && go test -count=1 -v ./...'
    frame_case go-oom-007 --shape plain --job "test" \
        --command "ulimit -v 2000000 && go test -count=1 -v ./..." --exit-code "$rc" --output "$WORK/o-test.txt"
    rm -rf /home/dev/src/logindex
)
(
    in_checkout flaky /home/runner/work/webhook/webhook
    capture "$WORK/w-dl.txt" go mod download -x
    capture "$WORK/w-test.txt" go test -count=1 -v ./...
    frame_case go-flaky-008 --shape github_actions --job "integration (ubuntu-latest)" \
        --before "$WORK/w-dl.txt" --before-command "go mod download -x" \
        --command "go test -count=1 -v ./..." --exit-code "$rc" --output "$WORK/w-test.txt"
    rm -rf /home/runner/work/webhook
)
(
    in_checkout gosum /builds/platform/notifier
    capture "$WORK/s-build.txt" env GOFLAGS=-mod=readonly go build -v ./...
    frame_case go-dep-009 --shape gitlab --job "build" \
        --command "go build -v ./..." --exit-code "$rc" --output "$WORK/s-build.txt"
    rm -rf /builds/platform/notifier
)
