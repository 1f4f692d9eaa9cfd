#!/usr/bin/env bash
# gen_classes.sh DIR COUNT: write COUNT small rate-table classes into DIR/com/example/rates
set -eu
mkdir -p "$1/com/example/rates"
for i in $(seq -f '%03g' 1 "$2"); do
    cat > "$1/com/example/rates/Zone$i.java" <<J
package com.example.rates;

import java.util.Map;
import java.util.TreeMap;

public final class Zone$i {
    private static final Map<Integer, Integer> BANDS = new TreeMap<>();

    static {
        BANDS.put(500, $((10#$i * 3 + 390)));
        BANDS.put(2000, $((10#$i * 3 + 590)));
        BANDS.put(10000, $((10#$i * 3 + 1290)));
    }

    private Zone$i() {}

    public static int price(int grams) {
        for (Map.Entry<Integer, Integer> band : BANDS.entrySet()) {
            if (grams <= band.getKey()) {
                return band.getValue();
            }
        }
        return $((10#$i * 3 + 1890));
    }
}
J
done
