const TABLE: [(u32, &str); 13] = [
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
];

pub fn to_roman(mut n: u32) -> String {
    let mut out = String::new();
    for (value, glyph) in TABLE.iter() {
        while n >= *value {
            out.push_str(glyph);
            n -= value;
        }
    }
    out
}

pub fn from_roman(s: &str) -> Option<u32> {
    let mut total = 0u32;
    let mut rest = s;
    for (value, glyph) in TABLE.iter() {
        while rest.starts_with(glyph) {
            total += value;
            rest = &rest[glyph.len()..];
        }
    }
    if rest.is_empty() && !s.is_empty() { Some(total) } else { None }
}
