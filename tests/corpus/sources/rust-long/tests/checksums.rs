use tariff::check_digit;

macro_rules! check_cases {
    ($($name:ident: $n:expr;)*) => {$(
        #[test]
        fn $name() {
            let d = check_digit($n);
            assert!(d == 'X' || d.is_ascii_digit(), "check_digit({}) = {:?}", $n, d);
        }
    )*};
}

include!(concat!(env!("OUT_DIR"), "/check_cases.rs"));
