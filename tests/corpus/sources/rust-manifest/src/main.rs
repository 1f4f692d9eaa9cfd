fn main() { println!("metrics-agent"); }
