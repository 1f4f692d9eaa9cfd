// Generates the table-driven integration tests (one #[test] per row) into OUT_DIR.
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn main() {
    let out = env::var("OUT_DIR").unwrap();
    let mut bands = String::from("band_cases! {\n");
    for grams in (0..40_000u32).step_by(25) {
        let zone = 1 + grams % 9;
        writeln!(bands, "    band_{grams}_z{zone}: {grams}, {zone};").unwrap();
    }
    bands.push_str("}\n");
    fs::write(Path::new(&out).join("band_cases.rs"), bands).unwrap();

    let mut checks = String::from("check_cases! {\n");
    for n in (100_000u64..900_000).step_by(997) {
        writeln!(checks, "    check_{n}: {n};").unwrap();
    }
    checks.push_str("}\n");
    fs::write(Path::new(&out).join("check_cases.rs"), checks).unwrap();

    let mut weights = String::from("weight_cases! {\n");
    for grams in (1..20_000u32).step_by(23) {
        writeln!(weights, "    weight_{grams}g: {grams};").unwrap();
    }
    weights.push_str("}\n");
    fs::write(Path::new(&out).join("weight_cases.rs"), weights).unwrap();
    println!("cargo:rerun-if-changed=build.rs");
}
