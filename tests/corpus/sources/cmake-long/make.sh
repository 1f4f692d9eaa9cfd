#!/usr/bin/env bash
# cmake-config-long-010: CI passes -DCODEC_BACKEND=avx512, which CMakeLists.txt rejects after
# ~120 platform probes; the on-failure step then prints CMakeOutput.log, CMakeError.log (with
# the expected compile errors of failed probes) and CMakeCache.txt (~3,000 lines).
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /home/circleci/project
capture "$WORK/configure.txt" cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCODEC_BACKEND=avx512
configure_rc=$rc
capture "$WORK/after.txt" bash -xc 'cat build/CMakeFiles/CMakeOutput.log build/CMakeFiles/CMakeError.log build/CMakeCache.txt'
frame_case cmake-config-long-010 --shape circleci --job "configure" \
    --command "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCODEC_BACKEND=avx512" \
    --exit-code "$configure_rc" --output "$WORK/configure.txt" --after "$WORK/after.txt"
