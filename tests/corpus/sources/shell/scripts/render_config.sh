#!/usr/bin/env bash
# Renders nginx upstream config from the list of backends.
set -euo pipefail

backends="${1:-backends.txt}"
echo "upstream app {"
while read -r host port weight; do
    [[ -z "$host" || "$host" == \#* ]] && continue
    echo "    server ${host}:${port} weight=${weight:-1};"
done < "$backends"
echo "}"
