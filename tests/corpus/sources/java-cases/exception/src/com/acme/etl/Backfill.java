package com.acme.etl;

import java.util.ArrayList;
import java.util.List;

/** Backfill job: materialises every synthetic event for the period before writing any. */
public class Backfill {
    public static void main(String[] args) {
        int days = args.length > 0 ? Integer.parseInt(args[0]) : 365;
        List<String> events = new ArrayList<>();
        for (int d = 0; d < days; d++) {
            for (int i = 0; i < 100_000; i++) {
                events.add("day=" + d + " seq=" + i + " type=page_view user=u" + (i % 9973));
            }
            if (d % 10 == 0) {
                System.out.println("backfill: generated day " + d + " (" + events.size() + " events)");
            }
        }
        System.out.println("writing " + events.size() + " events");
    }
}
