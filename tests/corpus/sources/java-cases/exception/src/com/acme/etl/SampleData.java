package com.acme.etl;

import java.util.List;

final class SampleData {
    static List<String> rows() {
        return List.of(
            "emea,A-100,1250", "amer,A-101, 990", "apac,B-200,15000", "emea,B-201,300",
            "amer,C-300,4500", ",C-301,120", "apac,D-400,800");
    }
}
