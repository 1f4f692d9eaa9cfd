package com.example.shipping;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

public final class Manifest {
    private final List<Parcel> parcels = new ArrayList<>();

    public void add(Parcel parcel) {
        parcels.add(parcel);
    }

    public int totalGrams() {
        int total = 0;
        for (Parcel parcel : parcels) {
            total += parcel.grams();
        }
        return total;
    }

    public Optional<Parcel> heaviest() {
        return parcels.stream().max((a, b) -> Integer.compare(a.grams(), b.grams()));
    }

    public String heaviestLabel() {
        Parcel parcel = heaviest();
        return parcel.label();
    }

    public long countOver(int grams) {
        return parcels.stream().filter(p -> p.grams() > grams).count;
    }
}
