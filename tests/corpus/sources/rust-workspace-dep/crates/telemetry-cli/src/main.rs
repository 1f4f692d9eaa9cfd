fn main() { println!("{}", telemetry_core::sample_rate()); }
