//! Parcel tariffs: weight bands, zone surcharges and label checksums.

/// Price in cents for a parcel of `grams` in `zone` (1..=9).
pub fn price(grams: u32, zone: u32) -> u32 {
    let band = match grams {
        0..=499 => 390,
        500..=1999 => 590,
        2000..=4999 => 890,
        5000..=9999 => 1290,
        _ => 1890 + (grams - 10000) / 1000 * 100,
    };
    band + zone.saturating_sub(1) * 150
}

/// Mod-11 check digit of a tracking number (10 = 'X').
pub fn check_digit(number: u64) -> char {
    let mut sum = 0u64;
    let mut weight = 2u64;
    let mut n = number;
    while n > 0 {
        sum += (n % 10) * weight;
        weight = if weight == 7 { 2 } else { weight + 1 };
        n /= 10;
    }
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d as u32, 10).unwrap(),
    }
}

/// Parses "12.5kg" or "800g" into grams.
pub fn parse_weight(text: &str) -> Result<u32, String> {
    if let Some(kg) = text.strip_suffix("kg") {
        let value: f64 = kg.parse().map_err(|e| format!("bad weight {text:?}: {e}"))?;
        Ok((value * 1000.0) as u32)
    } else if let Some(g) = text.strip_suffix('g') {
        g.parse().map_err(|e| format!("bad weight {text:?}: {e}"))
    } else {
        Err(format!("bad weight {text:?}: no unit"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_weight_in_grams() {
        assert_eq!(parse_weight("800g"), Ok(800));
    }

    #[test]
    fn parse_weight_decimal_kg() {
        assert_eq!(parse_weight("1.005kg"), Ok(1005));
    }

    #[test]
    fn parse_weight_rejects_negative() {
        assert!(parse_weight("-1kg").is_err());
    }

    #[test]
    fn parse_weight_needs_unit() {
        assert!(parse_weight("12").is_err());
    }

    #[test]
    fn price_of_heavy_parcel() {
        assert_eq!(price(12_000, 1), 2090);
    }
}
