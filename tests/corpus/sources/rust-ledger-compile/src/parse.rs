pub struct Entry {
    pub account: String,
    pub amount_cents: i64,
}

/// Parse "2024-01-31  groceries  -12.50".
pub fn entry(line: &str) -> Result<Entry, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() != 3 {
        return Err(format!("expected 3 fields, got {}", fields.len()));
    }
    let amount_cents: i64 = parse_amount(fields[2])?;
    Ok(Entry { account: fields[1].to_string(), amount_cents: amount_cents as u32 })
}

fn parse_amount(text: &str) -> Result<i64, String> {
    let (units, cents) = text.split_once('.').unwrap_or((text, "0"));
    let units: i64 = units.parse().map_err(|_| format!("bad amount {:?}", text))?;
    let cents: i64 = cents.parse().map_err(|_| format!("bad amount {:?}", text))?;
    Ok(units * 100 + units.signum() * cent)
}
