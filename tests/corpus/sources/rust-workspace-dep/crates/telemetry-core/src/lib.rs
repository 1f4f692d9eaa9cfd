pub fn sample_rate() -> f64 { 0.1 }
