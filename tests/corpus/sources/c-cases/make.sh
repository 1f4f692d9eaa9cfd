#!/usr/bin/env bash
# C/C++ cases:
#   c-compile-001  compile/ make with colour forced: two missing semicolons in parse.c
#   c-link-002     link/    undefined reference to image_blur at link time
#   cpp-cmake-003  cmake/   CMake configure fails: find_package(PahoMqttCpp) not found
#   cpp-ctest-004  ctest/   ctest: one CHECK failure, one SegFault (pop() never wraps)
#   c-segv-005     ctest/   the drain test binary run directly: Segmentation fault, exit 139
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
source ../native-lib/lib.sh

in_checkout() { # SUBDIR DEST
    rm -rf "$2" && mkdir -p "$2" && cp -a "$HERE/$1/." "$2/" && cd "$2"
}

(
    in_checkout compile /home/runner/work/mathd/mathd
    capture "$WORK/c-apt.txt" apt-get install -y build-essential libc6-dev
    capture "$WORK/c-ver.txt" bash -c 'gcc --version && make --version'
    export CFLAGS="-O2 -g -Wall -Wextra -std=c11 -D_GNU_SOURCE -fdiagnostics-color=always"
    capture "$WORK/c-make.txt" make -j1 V=1
    frame_case c-compile-001 --shape github_actions --job "build (gcc)" --literal-escapes \
        --before "$WORK/c-apt.txt" --before-command "sudo apt-get install -y build-essential libc6-dev" \
        --before "$WORK/c-ver.txt" --before-command "gcc --version && make --version" \
        --command "make -j1 V=1" --exit-code "$rc" --output "$WORK/c-make.txt"
    rm -rf /home/runner/work/mathd
)
(
    in_checkout link /builds/media/imgtool
    capture "$WORK/l-make.txt" make V=1
    frame_case c-link-002 --shape gitlab --job "build" \
        --command "make V=1" --exit-code "$rc" --output "$WORK/l-make.txt"
    rm -rf /builds/media
)
(
    in_checkout cmake /var/lib/jenkins/workspace/sensorhub_main
    capture "$WORK/k-ver.txt" cmake --version
    capture "$WORK/k-cfg.txt" cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
    frame_case cpp-cmake-003 --shape jenkins --job "Configure" \
        --before "$WORK/k-ver.txt" --before-command "cmake --version" \
        --command "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release" --exit-code "$rc" --output "$WORK/k-cfg.txt"
    rm -rf /var/lib/jenkins/workspace/sensorhub_main
)
(
    in_checkout ctest /var/lib/buildkite-agent/builds/agent-1/org/ringbuf
    capture "$WORK/t-cfg.txt" cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug
    capture "$WORK/t-build.txt" cmake --build build -j1 --verbose
    capture "$WORK/t-test.txt" ctest --test-dir build --output-on-failure
    frame_case cpp-ctest-004 --shape buildkite --job "ctest" \
        --before "$WORK/t-cfg.txt" --before-command "cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug" \
        --before "$WORK/t-build.txt" --before-command "cmake --build build -j1 --verbose" \
        --command "ctest --test-dir build --output-on-failure" --exit-code "$rc" --output "$WORK/t-test.txt"
    rm -rf /var/lib/buildkite-agent/builds/agent-1/org/ringbuf
)
(
    in_checkout ctest /home/circleci/project
    capture "$WORK/s-build.txt" bash -c 'cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug && cmake --build build -j1 --target test_drain'
    capture "$WORK/s-run.txt" bash -c './build/test_drain; exit $?'
    frame_case c-segv-005 --shape circleci --job "soak" \
        --before "$WORK/s-build.txt" --before-command "cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug && cmake --build build --target test_drain" \
        --command "./build/test_drain" --exit-code "$rc" --output "$WORK/s-run.txt"
    rm -rf /home/circleci/project
)
