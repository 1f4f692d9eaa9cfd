package com.acme.etl;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

public class Aggregator {
    public Map<String, Long> byRegion(List<Record> records) {
        Map<String, Long> totals = new TreeMap<>();
        for (Record r : records) {
            totals.merge(normalise(r.region()), r.cents(), Long::sum);
        }
        return totals;
    }

    private static String normalise(String region) {
        return region.trim().toUpperCase();
    }
}
