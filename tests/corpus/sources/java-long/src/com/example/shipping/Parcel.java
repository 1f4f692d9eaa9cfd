package com.example.shipping;

public record Parcel(String label, int grams) {}
