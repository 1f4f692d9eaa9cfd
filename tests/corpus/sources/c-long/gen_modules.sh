#!/usr/bin/env bash
# gen_modules.sh DIR COUNT: write COUNT small, clean codec table modules (src/table_NNNN.c)
set -eu
for i in $(seq -f '%04g' 1 "$2"); do
    cat > "$1/src/table_$i.c" <<C
#include "codec.h"

static const uint8_t table_$i[16] = {$((10#$i % 251)), 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 121, 98, 219};

uint32_t table_${i}_mix(const uint8_t *buf, size_t len)
{
    uint32_t h = 2166136261u ^ $((10#$i));
    for (size_t k = 0; k < len; k++)
        h = (h ^ (buf[k] + table_$i[k & 15])) * 16777619u;
    return h;
}
C
done
