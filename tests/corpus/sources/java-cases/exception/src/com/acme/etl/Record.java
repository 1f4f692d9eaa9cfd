package com.acme.etl;

public record Record(String region, String sku, long cents) {
    static Record parse(String row) {
        String[] f = row.split(",");
        return new Record(f[0].isEmpty() ? null : f[0], f[1], Long.parseLong(f[2].trim()));
    }
}
