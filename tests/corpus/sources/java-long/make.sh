#!/usr/bin/env bash
# java-javac-long-010: javac -verbose over 1,102 files (1,100 rate tables written by
# gen_classes.sh); Manifest.java is checked first and has two errors, then 1,100 [checking]
# lines follow.
set -euo pipefail
cd "$(dirname "$0")"
source ../native-lib/lib.sh
stage /home/runner/work/shipping/shipping
bash gen_classes.sh src 1100
{ find src/com/example/shipping -name '*.java' | sort; find src/com/example/rates -name '*.java' | sort; } > sources.txt
capture "$WORK/version.txt" bash -c 'java -version && javac -version'
capture "$WORK/javac.txt" javac -verbose -d build/classes @sources.txt
frame_case java-javac-long-010 --shape github_actions --job "compile (temurin 17)" \
    --before "$WORK/version.txt" --before-command "java -version && javac -version" \
    --command "javac -verbose -d build/classes @sources.txt" --exit-code "$rc" \
    --output "$WORK/javac.txt"
