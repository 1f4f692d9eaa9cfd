package com.acme.billing;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

public class Invoice {
    private final List<LineItem> items = new ArrayList<>();

    public void add(LineItem item) {
        items.add(item);
    }

    public BigDecimal total() {
        BigDecimal sum = BigDecimal.ZERO;
        for (LineItem item : items) {
            sum = sum.add(item.subtotal());
        }
        return sum;
    }

    public int count() {
        long n = items.stream().filter(i -> i.quantity() > 0).count();
        return n;
    }

    public String customer() {
        return customerName;
    }
}
