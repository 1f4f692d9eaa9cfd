use tariff::parse_weight;

macro_rules! weight_cases {
    ($($name:ident: $grams:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(parse_weight(&format!("{}g", $grams)), Ok($grams));
        }
    )*};
}

include!(concat!(env!("OUT_DIR"), "/weight_cases.rs"));
