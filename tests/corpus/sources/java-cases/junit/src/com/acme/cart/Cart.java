package com.acme.cart;

import java.util.LinkedHashMap;
import java.util.Map;

public class Cart {
    private final Map<String, Integer> lines = new LinkedHashMap<>();
    private final Map<String, Long> prices;

    public Cart(Map<String, Long> prices) {
        this.prices = prices;
    }

    public void add(String sku, int qty) {
        if (!prices.containsKey(sku)) {
            throw new IllegalArgumentException("unknown sku " + sku);
        }
        lines.merge(sku, qty, Integer::sum);
    }

    public void remove(String sku) {
        lines.remove(sku);
    }

    public int itemCount() {
        return lines.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Total in cents; orders of 10000 cents or more get 10% off. */
    public long total() {
        long sum = 0;
        for (Map.Entry<String, Integer> e : lines.entrySet()) {
            sum += prices.get(e.getKey()) * e.getValue();
        }
        if (sum > 10000) {
            sum = sum * 9 / 10;
        }
        return sum;
    }

    public String summary() {
        StringBuilder b = new StringBuilder();
        lines.forEach((sku, qty) -> b.append(sku).append(" x").append(qty).append(", "));
        return b.toString();
    }
}
