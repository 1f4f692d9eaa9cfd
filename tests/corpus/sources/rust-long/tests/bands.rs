use tariff::price;

macro_rules! band_cases {
    ($($name:ident: $grams:expr, $zone:expr;)*) => {$(
        #[test]
        fn $name() {
            let p = price($grams, $zone);
            assert!(p >= 390 + ($zone - 1) * 150, "price({}, {}) = {}", $grams, $zone, p);
        }
    )*};
}

include!(concat!(env!("OUT_DIR"), "/band_cases.rs"));
