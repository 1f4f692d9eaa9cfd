package com.acme;

public class Rates {
    public static long rate(int grams) { return 450 + grams / 100 * 12; }
}
