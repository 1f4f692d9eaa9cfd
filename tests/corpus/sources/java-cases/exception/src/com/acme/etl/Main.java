package com.acme.etl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Smoke test run in CI: load the sample export and print per-region totals. */
public class Main {
    public static void main(String[] args) {
        List<String> rows = SampleData.rows();
        System.out.println("loaded " + rows.size() + " rows");
        Map<String, Long> totals = new Aggregator().byRegion(parse(rows));
        totals.forEach((region, cents) -> System.out.printf("%-8s %10.2f%n", region, cents / 100.0));
    }

    static List<Record> parse(List<String> rows) {
        List<Record> out = new ArrayList<>();
        for (String row : rows) {
            try {
                out.add(Record.parse(row));
            } catch (NumberFormatException e) {
                throw new IllegalStateException("bad row: " + row, e);
            }
        }
        return out;
    }
}
