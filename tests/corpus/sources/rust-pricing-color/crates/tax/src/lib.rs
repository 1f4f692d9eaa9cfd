use money::Money;

/// VAT rates in basis points by country code.
pub fn rate_bp(country: &str) -> Option<i64> {
    match country {
        "DE" => Some(1900), "FR" => Some(2000), "NL" => Some(2100), "IE" => Some(2300),
        "SE" => Some(2500), "HU" => Some(2700), "LU" => Some(1700), "ES" => Some(2100),
        _ => None,
    }
}

/// VAT on a net amount, rounded half up to the cent.
///
/// ```
/// use money::Money;
/// assert_eq!(tax::vat(Money(1999), "DE"), Some(Money(380)));
/// ```
pub fn vat(net: Money, country: &str) -> Option<Money> {
    let bp = rate_bp(country)?;
    Some(Money(net.0 * bp / 10_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    macro_rules! cases { ($($name:ident: $body:expr;)*) => { $( #[test] fn $name() { $body } )* }; }
    cases! {
        vat_lu_000: assert_eq!(vat(Money(30450600), "LU"), Some(Money(5176602)));
        vat_lu_001: assert_eq!(vat(Money(59594000), "LU"), Some(Money(10130980)));
        vat_lu_002: assert_eq!(vat(Money(3727100), "LU"), Some(Money(633607)));
        vat_lu_003: assert_eq!(vat(Money(16357600), "LU"), Some(Money(2780792)));
        vat_ie_004: assert_eq!(vat(Money(488900), "IE"), Some(Money(112447)));
        vat_es_005: assert_eq!(vat(Money(98908900), "ES"), Some(Money(20770869)));
        vat_lu_006: assert_eq!(vat(Money(58602000), "LU"), Some(Money(9962340)));
        vat_ie_007: assert_eq!(vat(Money(3388900), "IE"), Some(Money(779447)));
        vat_es_008: assert_eq!(vat(Money(87734300), "ES"), Some(Money(18424203)));
        vat_se_009: assert_eq!(vat(Money(57028000), "SE"), Some(Money(14257000)));
        vat_hu_010: assert_eq!(vat(Money(93292300), "HU"), Some(Money(25188921)));
        vat_ie_011: assert_eq!(vat(Money(90338100), "IE"), Some(Money(20777763)));
        vat_fr_012: assert_eq!(vat(Money(89965900), "FR"), Some(Money(17993180)));
        vat_se_013: assert_eq!(vat(Money(12582600), "SE"), Some(Money(3145650)));
        vat_ie_014: assert_eq!(vat(Money(4726700), "IE"), Some(Money(1087141)));
        vat_de_015: assert_eq!(vat(Money(94750400), "DE"), Some(Money(18002576)));
        vat_ie_016: assert_eq!(vat(Money(94011900), "IE"), Some(Money(21622737)));
        vat_lu_017: assert_eq!(vat(Money(60498000), "LU"), Some(Money(10284660)));
        vat_de_018: assert_eq!(vat(Money(1378400), "DE"), Some(Money(261896)));
        vat_es_019: assert_eq!(vat(Money(78150200), "ES"), Some(Money(16411542)));
        vat_fr_020: assert_eq!(vat(Money(18016800), "FR"), Some(Money(3603360)));
        vat_se_021: assert_eq!(vat(Money(25065900), "SE"), Some(Money(6266475)));
        vat_de_022: assert_eq!(vat(Money(55046500), "DE"), Some(Money(10458835)));
        vat_lu_023: assert_eq!(vat(Money(5583400), "LU"), Some(Money(949178)));
        vat_fr_024: assert_eq!(vat(Money(35793500), "FR"), Some(Money(7158700)));
        vat_nl_025: assert_eq!(vat(Money(26474000), "NL"), Some(Money(5559540)));
        vat_es_026: assert_eq!(vat(Money(85097400), "ES"), Some(Money(17870454)));
        vat_de_027: assert_eq!(vat(Money(36893300), "DE"), Some(Money(7009727)));
        vat_ie_028: assert_eq!(vat(Money(20692000), "IE"), Some(Money(4759160)));
        vat_fr_029: assert_eq!(vat(Money(56060800), "FR"), Some(Money(11212160)));
        vat_fr_030: assert_eq!(vat(Money(17962400), "FR"), Some(Money(3592480)));
        vat_ie_031: assert_eq!(vat(Money(83012900), "IE"), Some(Money(19092967)));
        vat_se_032: assert_eq!(vat(Money(96654300), "SE"), Some(Money(24163575)));
        vat_nl_033: assert_eq!(vat(Money(86350200), "NL"), Some(Money(18133542)));
        vat_de_034: assert_eq!(vat(Money(51118300), "DE"), Some(Money(9712477)));
        vat_lu_035: assert_eq!(vat(Money(5235800), "LU"), Some(Money(890086)));
        vat_se_036: assert_eq!(vat(Money(26031900), "SE"), Some(Money(6507975)));
        vat_se_037: assert_eq!(vat(Money(64811400), "SE"), Some(Money(16202850)));
        vat_lu_038: assert_eq!(vat(Money(5344900), "LU"), Some(Money(908633)));
        vat_es_039: assert_eq!(vat(Money(33881200), "ES"), Some(Money(7115052)));
        vat_de_040: assert_eq!(vat(Money(89865400), "DE"), Some(Money(17074426)));
        vat_de_041: assert_eq!(vat(Money(81290400), "DE"), Some(Money(15445176)));
        vat_nl_042: assert_eq!(vat(Money(4842900), "NL"), Some(Money(1017009)));
        vat_fr_043: assert_eq!(vat(Money(5225500), "FR"), Some(Money(1045100)));
        vat_fr_044: assert_eq!(vat(Money(50626700), "FR"), Some(Money(10125340)));
        vat_de_045: assert_eq!(vat(Money(89595500), "DE"), Some(Money(17023145)));
        vat_fr_046: assert_eq!(vat(Money(54044100), "FR"), Some(Money(10808820)));
        vat_es_047: assert_eq!(vat(Money(33124200), "ES"), Some(Money(6956082)));
        vat_nl_048: assert_eq!(vat(Money(32986100), "NL"), Some(Money(6927081)));
        vat_fr_049: assert_eq!(vat(Money(36835400), "FR"), Some(Money(7367080)));
        vat_lu_050: assert_eq!(vat(Money(67833900), "LU"), Some(Money(11531763)));
        vat_lu_051: assert_eq!(vat(Money(61510900), "LU"), Some(Money(10456853)));
        vat_se_052: assert_eq!(vat(Money(37836300), "SE"), Some(Money(9459075)));
        vat_se_053: assert_eq!(vat(Money(20036400), "SE"), Some(Money(5009100)));
        vat_hu_054: assert_eq!(vat(Money(44952500), "HU"), Some(Money(12137175)));
        vat_fr_055: assert_eq!(vat(Money(13380900), "FR"), Some(Money(2676180)));
        vat_de_056: assert_eq!(vat(Money(75082600), "DE"), Some(Money(14265694)));
        vat_lu_057: assert_eq!(vat(Money(83392500), "LU"), Some(Money(14176725)));
        vat_fr_058: assert_eq!(vat(Money(59426400), "FR"), Some(Money(11885280)));
        vat_nl_059: assert_eq!(vat(Money(4504900), "NL"), Some(Money(946029)));
        vat_hu_060: assert_eq!(vat(Money(48320300), "HU"), Some(Money(13046481)));
        vat_lu_061: assert_eq!(vat(Money(66760400), "LU"), Some(Money(11349268)));
        vat_de_062: assert_eq!(vat(Money(65318600), "DE"), Some(Money(12410534)));
        vat_lu_063: assert_eq!(vat(Money(5564300), "LU"), Some(Money(945931)));
        vat_hu_064: assert_eq!(vat(Money(65792400), "HU"), Some(Money(17763948)));
        vat_es_065: assert_eq!(vat(Money(79696400), "ES"), Some(Money(16736244)));
        vat_hu_066: assert_eq!(vat(Money(44094100), "HU"), Some(Money(11905407)));
        vat_lu_067: assert_eq!(vat(Money(48322600), "LU"), Some(Money(8214842)));
        vat_de_068: assert_eq!(vat(Money(25698900), "DE"), Some(Money(4882791)));
        vat_ie_069: assert_eq!(vat(Money(56186700), "IE"), Some(Money(12922941)));
        vat_se_070: assert_eq!(vat(Money(72893800), "SE"), Some(Money(18223450)));
        vat_fr_071: assert_eq!(vat(Money(84215100), "FR"), Some(Money(16843020)));
        vat_lu_072: assert_eq!(vat(Money(23534400), "LU"), Some(Money(4000848)));
        vat_lu_073: assert_eq!(vat(Money(13669900), "LU"), Some(Money(2323883)));
        vat_de_074: assert_eq!(vat(Money(98197500), "DE"), Some(Money(18657525)));
        vat_hu_075: assert_eq!(vat(Money(39241500), "HU"), Some(Money(10595205)));
        vat_se_076: assert_eq!(vat(Money(12735100), "SE"), Some(Money(3183775)));
        vat_es_077: assert_eq!(vat(Money(72410000), "ES"), Some(Money(15206100)));
        vat_fr_078: assert_eq!(vat(Money(98467800), "FR"), Some(Money(19693560)));
        vat_lu_079: assert_eq!(vat(Money(69999000), "LU"), Some(Money(11899830)));
        vat_fr_080: assert_eq!(vat(Money(76937800), "FR"), Some(Money(15387560)));
        vat_hu_081: assert_eq!(vat(Money(59123400), "HU"), Some(Money(15963318)));
        vat_fr_082: assert_eq!(vat(Money(85104700), "FR"), Some(Money(17020940)));
        vat_de_083: assert_eq!(vat(Money(49655100), "DE"), Some(Money(9434469)));
        vat_nl_084: assert_eq!(vat(Money(24743300), "NL"), Some(Money(5196093)));
        vat_lu_085: assert_eq!(vat(Money(4646600), "LU"), Some(Money(789922)));
        vat_fr_086: assert_eq!(vat(Money(59173500), "FR"), Some(Money(11834700)));
        vat_fr_087: assert_eq!(vat(Money(69122900), "FR"), Some(Money(13824580)));
        vat_lu_088: assert_eq!(vat(Money(18785700), "LU"), Some(Money(3193569)));
        vat_de_089: assert_eq!(vat(Money(35807200), "DE"), Some(Money(6803368)));
        vat_rounds_half_up: { let got = vat(Money(250), "DE").unwrap(); assert!(got == Money(48), "VAT on 2.50 at 19% should round 47.5 cents up to 0.48, got {}", got.to_string()); };
        vat_unknown_country: assert_eq!(vat(Money(100), "US"), None);
    }
}
