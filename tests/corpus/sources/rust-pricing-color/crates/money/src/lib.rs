/// Amounts in minor units (cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(pub i64);

impl Money {
    pub fn from_str(s: &str) -> Option<Money> {
        let neg = s.starts_with('-');
        let s = s.trim_start_matches('-');
        let (u, c) = s.split_once('.').unwrap_or((s, "00"));
        if c.len() != 2 { return None; }
        let v = u.parse::<i64>().ok()? * 100 + c.parse::<i64>().ok()?;
        Some(Money(if neg { -v } else { v }))
    }
    pub fn to_string(&self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        format!("{}{}.{:02}", sign, self.0.abs() / 100, self.0.abs() % 100)
    }
    /// Split into `n` parts that add up to the whole; the remainder goes to the first parts.
    pub fn split(&self, n: i64) -> Vec<Money> {
        let base = self.0 / n;
        let rem = self.0 % n;
        (0..n).map(|i| Money(base + if i < rem { 1 } else { 0 })).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    macro_rules! cases { ($($name:ident: $body:expr;)*) => { $( #[test] fn $name() { $body } )* }; }
    cases! {
        roundtrip_000: { assert_eq!(Money::from_str("-20152.33"), Some(Money(-2015233))); assert_eq!(Money(-2015233).to_string(), "-20152.33"); };
        roundtrip_001: { assert_eq!(Money::from_str("98857.29"), Some(Money(9885729))); assert_eq!(Money(9885729).to_string(), "98857.29"); };
        roundtrip_002: { assert_eq!(Money::from_str("82613.02"), Some(Money(8261302))); assert_eq!(Money(8261302).to_string(), "82613.02"); };
        roundtrip_003: { assert_eq!(Money::from_str("-56237.38"), Some(Money(-5623738))); assert_eq!(Money(-5623738).to_string(), "-56237.38"); };
        roundtrip_004: { assert_eq!(Money::from_str("24136.35"), Some(Money(2413635))); assert_eq!(Money(2413635).to_string(), "24136.35"); };
        roundtrip_005: { assert_eq!(Money::from_str("59065.97"), Some(Money(5906597))); assert_eq!(Money(5906597).to_string(), "59065.97"); };
        roundtrip_006: { assert_eq!(Money::from_str("94901.61"), Some(Money(9490161))); assert_eq!(Money(9490161).to_string(), "94901.61"); };
        roundtrip_007: { assert_eq!(Money::from_str("-78012.17"), Some(Money(-7801217))); assert_eq!(Money(-7801217).to_string(), "-78012.17"); };
        roundtrip_008: { assert_eq!(Money::from_str("-95581.56"), Some(Money(-9558156))); assert_eq!(Money(-9558156).to_string(), "-95581.56"); };
        roundtrip_009: { assert_eq!(Money::from_str("57448.24"), Some(Money(5744824))); assert_eq!(Money(5744824).to_string(), "57448.24"); };
        roundtrip_010: { assert_eq!(Money::from_str("-12975.24"), Some(Money(-1297524))); assert_eq!(Money(-1297524).to_string(), "-12975.24"); };
        roundtrip_011: { assert_eq!(Money::from_str("84812.65"), Some(Money(8481265))); assert_eq!(Money(8481265).to_string(), "84812.65"); };
        roundtrip_012: { assert_eq!(Money::from_str("-21371.58"), Some(Money(-2137158))); assert_eq!(Money(-2137158).to_string(), "-21371.58"); };
        roundtrip_013: { assert_eq!(Money::from_str("-35661.36"), Some(Money(-3566136))); assert_eq!(Money(-3566136).to_string(), "-35661.36"); };
        roundtrip_014: { assert_eq!(Money::from_str("57794.24"), Some(Money(5779424))); assert_eq!(Money(5779424).to_string(), "57794.24"); };
        roundtrip_015: { assert_eq!(Money::from_str("81520.71"), Some(Money(8152071))); assert_eq!(Money(8152071).to_string(), "81520.71"); };
        roundtrip_016: { assert_eq!(Money::from_str("84425.61"), Some(Money(8442561))); assert_eq!(Money(8442561).to_string(), "84425.61"); };
        roundtrip_017: { assert_eq!(Money::from_str("59837.61"), Some(Money(5983761))); assert_eq!(Money(5983761).to_string(), "59837.61"); };
        roundtrip_018: { assert_eq!(Money::from_str("33256.25"), Some(Money(3325625))); assert_eq!(Money(3325625).to_string(), "33256.25"); };
        roundtrip_019: { assert_eq!(Money::from_str("-49461.52"), Some(Money(-4946152))); assert_eq!(Money(-4946152).to_string(), "-49461.52"); };
        roundtrip_020: { assert_eq!(Money::from_str("-22179.89"), Some(Money(-2217989))); assert_eq!(Money(-2217989).to_string(), "-22179.89"); };
        roundtrip_021: { assert_eq!(Money::from_str("-49123.98"), Some(Money(-4912398))); assert_eq!(Money(-4912398).to_string(), "-49123.98"); };
        roundtrip_022: { assert_eq!(Money::from_str("75550.48"), Some(Money(7555048))); assert_eq!(Money(7555048).to_string(), "75550.48"); };
        roundtrip_023: { assert_eq!(Money::from_str("30841.05"), Some(Money(3084105))); assert_eq!(Money(3084105).to_string(), "30841.05"); };
        roundtrip_024: { assert_eq!(Money::from_str("-94917.60"), Some(Money(-9491760))); assert_eq!(Money(-9491760).to_string(), "-94917.60"); };
        roundtrip_025: { assert_eq!(Money::from_str("-78514.62"), Some(Money(-7851462))); assert_eq!(Money(-7851462).to_string(), "-78514.62"); };
        roundtrip_026: { assert_eq!(Money::from_str("-46514.26"), Some(Money(-4651426))); assert_eq!(Money(-4651426).to_string(), "-46514.26"); };
        roundtrip_027: { assert_eq!(Money::from_str("98340.10"), Some(Money(9834010))); assert_eq!(Money(9834010).to_string(), "98340.10"); };
        roundtrip_028: { assert_eq!(Money::from_str("-85642.39"), Some(Money(-8564239))); assert_eq!(Money(-8564239).to_string(), "-85642.39"); };
        roundtrip_029: { assert_eq!(Money::from_str("1088.65"), Some(Money(108865))); assert_eq!(Money(108865).to_string(), "1088.65"); };
        roundtrip_030: { assert_eq!(Money::from_str("-89594.19"), Some(Money(-8959419))); assert_eq!(Money(-8959419).to_string(), "-89594.19"); };
        roundtrip_031: { assert_eq!(Money::from_str("-9593.74"), Some(Money(-959374))); assert_eq!(Money(-959374).to_string(), "-9593.74"); };
        roundtrip_032: { assert_eq!(Money::from_str("58628.27"), Some(Money(5862827))); assert_eq!(Money(5862827).to_string(), "58628.27"); };
        roundtrip_033: { assert_eq!(Money::from_str("99564.82"), Some(Money(9956482))); assert_eq!(Money(9956482).to_string(), "99564.82"); };
        roundtrip_034: { assert_eq!(Money::from_str("30059.85"), Some(Money(3005985))); assert_eq!(Money(3005985).to_string(), "30059.85"); };
        roundtrip_035: { assert_eq!(Money::from_str("43255.57"), Some(Money(4325557))); assert_eq!(Money(4325557).to_string(), "43255.57"); };
        roundtrip_036: { assert_eq!(Money::from_str("32527.72"), Some(Money(3252772))); assert_eq!(Money(3252772).to_string(), "32527.72"); };
        roundtrip_037: { assert_eq!(Money::from_str("93578.76"), Some(Money(9357876))); assert_eq!(Money(9357876).to_string(), "93578.76"); };
        roundtrip_038: { assert_eq!(Money::from_str("49190.06"), Some(Money(4919006))); assert_eq!(Money(4919006).to_string(), "49190.06"); };
        roundtrip_039: { assert_eq!(Money::from_str("-54987.03"), Some(Money(-5498703))); assert_eq!(Money(-5498703).to_string(), "-54987.03"); };
        roundtrip_040: { assert_eq!(Money::from_str("22648.04"), Some(Money(2264804))); assert_eq!(Money(2264804).to_string(), "22648.04"); };
        roundtrip_041: { assert_eq!(Money::from_str("-67299.76"), Some(Money(-6729976))); assert_eq!(Money(-6729976).to_string(), "-67299.76"); };
        roundtrip_042: { assert_eq!(Money::from_str("-87958.45"), Some(Money(-8795845))); assert_eq!(Money(-8795845).to_string(), "-87958.45"); };
        roundtrip_043: { assert_eq!(Money::from_str("-54376.43"), Some(Money(-5437643))); assert_eq!(Money(-5437643).to_string(), "-54376.43"); };
        roundtrip_044: { assert_eq!(Money::from_str("66055.31"), Some(Money(6605531))); assert_eq!(Money(6605531).to_string(), "66055.31"); };
        roundtrip_045: { assert_eq!(Money::from_str("-27191.27"), Some(Money(-2719127))); assert_eq!(Money(-2719127).to_string(), "-27191.27"); };
        roundtrip_046: { assert_eq!(Money::from_str("-13435.87"), Some(Money(-1343587))); assert_eq!(Money(-1343587).to_string(), "-13435.87"); };
        roundtrip_047: { assert_eq!(Money::from_str("46351.63"), Some(Money(4635163))); assert_eq!(Money(4635163).to_string(), "46351.63"); };
        roundtrip_048: { assert_eq!(Money::from_str("1007.63"), Some(Money(100763))); assert_eq!(Money(100763).to_string(), "1007.63"); };
        roundtrip_049: { assert_eq!(Money::from_str("41313.99"), Some(Money(4131399))); assert_eq!(Money(4131399).to_string(), "41313.99"); };
        roundtrip_050: { assert_eq!(Money::from_str("70202.50"), Some(Money(7020250))); assert_eq!(Money(7020250).to_string(), "70202.50"); };
        roundtrip_051: { assert_eq!(Money::from_str("29475.23"), Some(Money(2947523))); assert_eq!(Money(2947523).to_string(), "29475.23"); };
        roundtrip_052: { assert_eq!(Money::from_str("92610.06"), Some(Money(9261006))); assert_eq!(Money(9261006).to_string(), "92610.06"); };
        roundtrip_053: { assert_eq!(Money::from_str("17746.02"), Some(Money(1774602))); assert_eq!(Money(1774602).to_string(), "17746.02"); };
        roundtrip_054: { assert_eq!(Money::from_str("79215.25"), Some(Money(7921525))); assert_eq!(Money(7921525).to_string(), "79215.25"); };
        roundtrip_055: { assert_eq!(Money::from_str("96318.29"), Some(Money(9631829))); assert_eq!(Money(9631829).to_string(), "96318.29"); };
        roundtrip_056: { assert_eq!(Money::from_str("36759.76"), Some(Money(3675976))); assert_eq!(Money(3675976).to_string(), "36759.76"); };
        roundtrip_057: { assert_eq!(Money::from_str("96042.37"), Some(Money(9604237))); assert_eq!(Money(9604237).to_string(), "96042.37"); };
        roundtrip_058: { assert_eq!(Money::from_str("-22024.04"), Some(Money(-2202404))); assert_eq!(Money(-2202404).to_string(), "-22024.04"); };
        roundtrip_059: { assert_eq!(Money::from_str("12999.58"), Some(Money(1299958))); assert_eq!(Money(1299958).to_string(), "12999.58"); };
        roundtrip_060: { assert_eq!(Money::from_str("-90383.18"), Some(Money(-9038318))); assert_eq!(Money(-9038318).to_string(), "-90383.18"); };
        roundtrip_061: { assert_eq!(Money::from_str("-6153.06"), Some(Money(-615306))); assert_eq!(Money(-615306).to_string(), "-6153.06"); };
        roundtrip_062: { assert_eq!(Money::from_str("-45272.85"), Some(Money(-4527285))); assert_eq!(Money(-4527285).to_string(), "-45272.85"); };
        roundtrip_063: { assert_eq!(Money::from_str("9518.40"), Some(Money(951840))); assert_eq!(Money(951840).to_string(), "9518.40"); };
        roundtrip_064: { assert_eq!(Money::from_str("81786.48"), Some(Money(8178648))); assert_eq!(Money(8178648).to_string(), "81786.48"); };
        roundtrip_065: { assert_eq!(Money::from_str("91916.45"), Some(Money(9191645))); assert_eq!(Money(9191645).to_string(), "91916.45"); };
        roundtrip_066: { assert_eq!(Money::from_str("90960.79"), Some(Money(9096079))); assert_eq!(Money(9096079).to_string(), "90960.79"); };
        roundtrip_067: { assert_eq!(Money::from_str("-65077.96"), Some(Money(-6507796))); assert_eq!(Money(-6507796).to_string(), "-65077.96"); };
        roundtrip_068: { assert_eq!(Money::from_str("-29158.22"), Some(Money(-2915822))); assert_eq!(Money(-2915822).to_string(), "-29158.22"); };
        roundtrip_069: { assert_eq!(Money::from_str("92445.52"), Some(Money(9244552))); assert_eq!(Money(9244552).to_string(), "92445.52"); };
        roundtrip_070: { assert_eq!(Money::from_str("-10381.18"), Some(Money(-1038118))); assert_eq!(Money(-1038118).to_string(), "-10381.18"); };
        roundtrip_071: { assert_eq!(Money::from_str("-4384.15"), Some(Money(-438415))); assert_eq!(Money(-438415).to_string(), "-4384.15"); };
        roundtrip_072: { assert_eq!(Money::from_str("-58246.60"), Some(Money(-5824660))); assert_eq!(Money(-5824660).to_string(), "-58246.60"); };
        roundtrip_073: { assert_eq!(Money::from_str("-78706.17"), Some(Money(-7870617))); assert_eq!(Money(-7870617).to_string(), "-78706.17"); };
        roundtrip_074: { assert_eq!(Money::from_str("61732.83"), Some(Money(6173283))); assert_eq!(Money(6173283).to_string(), "61732.83"); };
        roundtrip_075: { assert_eq!(Money::from_str("62238.61"), Some(Money(6223861))); assert_eq!(Money(6223861).to_string(), "62238.61"); };
        roundtrip_076: { assert_eq!(Money::from_str("-70298.26"), Some(Money(-7029826))); assert_eq!(Money(-7029826).to_string(), "-70298.26"); };
        roundtrip_077: { assert_eq!(Money::from_str("15454.15"), Some(Money(1545415))); assert_eq!(Money(1545415).to_string(), "15454.15"); };
        roundtrip_078: { assert_eq!(Money::from_str("-77648.72"), Some(Money(-7764872))); assert_eq!(Money(-7764872).to_string(), "-77648.72"); };
        roundtrip_079: { assert_eq!(Money::from_str("37728.13"), Some(Money(3772813))); assert_eq!(Money(3772813).to_string(), "37728.13"); };
        roundtrip_080: { assert_eq!(Money::from_str("-49411.54"), Some(Money(-4941154))); assert_eq!(Money(-4941154).to_string(), "-49411.54"); };
        roundtrip_081: { assert_eq!(Money::from_str("-93247.06"), Some(Money(-9324706))); assert_eq!(Money(-9324706).to_string(), "-93247.06"); };
        roundtrip_082: { assert_eq!(Money::from_str("-1386.47"), Some(Money(-138647))); assert_eq!(Money(-138647).to_string(), "-1386.47"); };
        roundtrip_083: { assert_eq!(Money::from_str("43324.99"), Some(Money(4332499))); assert_eq!(Money(4332499).to_string(), "43324.99"); };
        roundtrip_084: { assert_eq!(Money::from_str("39317.09"), Some(Money(3931709))); assert_eq!(Money(3931709).to_string(), "39317.09"); };
        roundtrip_085: { assert_eq!(Money::from_str("-60098.00"), Some(Money(-6009800))); assert_eq!(Money(-6009800).to_string(), "-60098.00"); };
        roundtrip_086: { assert_eq!(Money::from_str("-85172.28"), Some(Money(-8517228))); assert_eq!(Money(-8517228).to_string(), "-85172.28"); };
        roundtrip_087: { assert_eq!(Money::from_str("-84920.56"), Some(Money(-8492056))); assert_eq!(Money(-8492056).to_string(), "-84920.56"); };
        roundtrip_088: { assert_eq!(Money::from_str("26770.24"), Some(Money(2677024))); assert_eq!(Money(2677024).to_string(), "26770.24"); };
        roundtrip_089: { assert_eq!(Money::from_str("96754.83"), Some(Money(9675483))); assert_eq!(Money(9675483).to_string(), "96754.83"); };
        roundtrip_090: { assert_eq!(Money::from_str("11049.78"), Some(Money(1104978))); assert_eq!(Money(1104978).to_string(), "11049.78"); };
        roundtrip_091: { assert_eq!(Money::from_str("84835.07"), Some(Money(8483507))); assert_eq!(Money(8483507).to_string(), "84835.07"); };
        roundtrip_092: { assert_eq!(Money::from_str("-6358.48"), Some(Money(-635848))); assert_eq!(Money(-635848).to_string(), "-6358.48"); };
        roundtrip_093: { assert_eq!(Money::from_str("69590.93"), Some(Money(6959093))); assert_eq!(Money(6959093).to_string(), "69590.93"); };
        roundtrip_094: { assert_eq!(Money::from_str("-20827.80"), Some(Money(-2082780))); assert_eq!(Money(-2082780).to_string(), "-20827.80"); };
        roundtrip_095: { assert_eq!(Money::from_str("-87916.10"), Some(Money(-8791610))); assert_eq!(Money(-8791610).to_string(), "-87916.10"); };
        roundtrip_096: { assert_eq!(Money::from_str("3908.02"), Some(Money(390802))); assert_eq!(Money(390802).to_string(), "3908.02"); };
        roundtrip_097: { assert_eq!(Money::from_str("-97573.10"), Some(Money(-9757310))); assert_eq!(Money(-9757310).to_string(), "-97573.10"); };
        roundtrip_098: { assert_eq!(Money::from_str("-74172.92"), Some(Money(-7417292))); assert_eq!(Money(-7417292).to_string(), "-74172.92"); };
        roundtrip_099: { assert_eq!(Money::from_str("-63721.19"), Some(Money(-6372119))); assert_eq!(Money(-6372119).to_string(), "-63721.19"); };
        roundtrip_100: { assert_eq!(Money::from_str("79710.21"), Some(Money(7971021))); assert_eq!(Money(7971021).to_string(), "79710.21"); };
        roundtrip_101: { assert_eq!(Money::from_str("-89471.38"), Some(Money(-8947138))); assert_eq!(Money(-8947138).to_string(), "-89471.38"); };
        roundtrip_102: { assert_eq!(Money::from_str("-33768.64"), Some(Money(-3376864))); assert_eq!(Money(-3376864).to_string(), "-33768.64"); };
        roundtrip_103: { assert_eq!(Money::from_str("36880.65"), Some(Money(3688065))); assert_eq!(Money(3688065).to_string(), "36880.65"); };
        roundtrip_104: { assert_eq!(Money::from_str("-2151.12"), Some(Money(-215112))); assert_eq!(Money(-215112).to_string(), "-2151.12"); };
        roundtrip_105: { assert_eq!(Money::from_str("-11626.62"), Some(Money(-1162662))); assert_eq!(Money(-1162662).to_string(), "-11626.62"); };
        roundtrip_106: { assert_eq!(Money::from_str("-47588.32"), Some(Money(-4758832))); assert_eq!(Money(-4758832).to_string(), "-47588.32"); };
        roundtrip_107: { assert_eq!(Money::from_str("-85760.91"), Some(Money(-8576091))); assert_eq!(Money(-8576091).to_string(), "-85760.91"); };
        roundtrip_108: { assert_eq!(Money::from_str("14022.59"), Some(Money(1402259))); assert_eq!(Money(1402259).to_string(), "14022.59"); };
        roundtrip_109: { assert_eq!(Money::from_str("5304.04"), Some(Money(530404))); assert_eq!(Money(530404).to_string(), "5304.04"); };
        roundtrip_110: { assert_eq!(Money::from_str("20861.91"), Some(Money(2086191))); assert_eq!(Money(2086191).to_string(), "20861.91"); };
        roundtrip_111: { assert_eq!(Money::from_str("-53585.49"), Some(Money(-5358549))); assert_eq!(Money(-5358549).to_string(), "-53585.49"); };
        roundtrip_112: { assert_eq!(Money::from_str("26765.03"), Some(Money(2676503))); assert_eq!(Money(2676503).to_string(), "26765.03"); };
        roundtrip_113: { assert_eq!(Money::from_str("26416.73"), Some(Money(2641673))); assert_eq!(Money(2641673).to_string(), "26416.73"); };
        roundtrip_114: { assert_eq!(Money::from_str("54487.83"), Some(Money(5448783))); assert_eq!(Money(5448783).to_string(), "54487.83"); };
        roundtrip_115: { assert_eq!(Money::from_str("74507.53"), Some(Money(7450753))); assert_eq!(Money(7450753).to_string(), "74507.53"); };
        roundtrip_116: { assert_eq!(Money::from_str("29584.84"), Some(Money(2958484))); assert_eq!(Money(2958484).to_string(), "29584.84"); };
        roundtrip_117: { assert_eq!(Money::from_str("99867.05"), Some(Money(9986705))); assert_eq!(Money(9986705).to_string(), "99867.05"); };
        roundtrip_118: { assert_eq!(Money::from_str("87656.87"), Some(Money(8765687))); assert_eq!(Money(8765687).to_string(), "87656.87"); };
        roundtrip_119: { assert_eq!(Money::from_str("-65582.28"), Some(Money(-6558228))); assert_eq!(Money(-6558228).to_string(), "-65582.28"); };
        roundtrip_120: { assert_eq!(Money::from_str("70129.96"), Some(Money(7012996))); assert_eq!(Money(7012996).to_string(), "70129.96"); };
        roundtrip_121: { assert_eq!(Money::from_str("-8966.62"), Some(Money(-896662))); assert_eq!(Money(-896662).to_string(), "-8966.62"); };
        roundtrip_122: { assert_eq!(Money::from_str("44683.87"), Some(Money(4468387))); assert_eq!(Money(4468387).to_string(), "44683.87"); };
        roundtrip_123: { assert_eq!(Money::from_str("-20262.72"), Some(Money(-2026272))); assert_eq!(Money(-2026272).to_string(), "-20262.72"); };
        roundtrip_124: { assert_eq!(Money::from_str("1027.98"), Some(Money(102798))); assert_eq!(Money(102798).to_string(), "1027.98"); };
        roundtrip_125: { assert_eq!(Money::from_str("46782.43"), Some(Money(4678243))); assert_eq!(Money(4678243).to_string(), "46782.43"); };
        roundtrip_126: { assert_eq!(Money::from_str("-13351.43"), Some(Money(-1335143))); assert_eq!(Money(-1335143).to_string(), "-13351.43"); };
        roundtrip_127: { assert_eq!(Money::from_str("74861.30"), Some(Money(7486130))); assert_eq!(Money(7486130).to_string(), "74861.30"); };
        roundtrip_128: { assert_eq!(Money::from_str("1667.62"), Some(Money(166762))); assert_eq!(Money(166762).to_string(), "1667.62"); };
        roundtrip_129: { assert_eq!(Money::from_str("84022.72"), Some(Money(8402272))); assert_eq!(Money(8402272).to_string(), "84022.72"); };
        roundtrip_130: { assert_eq!(Money::from_str("13718.67"), Some(Money(1371867))); assert_eq!(Money(1371867).to_string(), "13718.67"); };
        roundtrip_131: { assert_eq!(Money::from_str("-96155.51"), Some(Money(-9615551))); assert_eq!(Money(-9615551).to_string(), "-96155.51"); };
        roundtrip_132: { assert_eq!(Money::from_str("39321.47"), Some(Money(3932147))); assert_eq!(Money(3932147).to_string(), "39321.47"); };
        roundtrip_133: { assert_eq!(Money::from_str("94604.03"), Some(Money(9460403))); assert_eq!(Money(9460403).to_string(), "94604.03"); };
        roundtrip_134: { assert_eq!(Money::from_str("5654.98"), Some(Money(565498))); assert_eq!(Money(565498).to_string(), "5654.98"); };
        roundtrip_135: { assert_eq!(Money::from_str("-93271.37"), Some(Money(-9327137))); assert_eq!(Money(-9327137).to_string(), "-93271.37"); };
        roundtrip_136: { assert_eq!(Money::from_str("26337.99"), Some(Money(2633799))); assert_eq!(Money(2633799).to_string(), "26337.99"); };
        roundtrip_137: { assert_eq!(Money::from_str("97703.76"), Some(Money(9770376))); assert_eq!(Money(9770376).to_string(), "97703.76"); };
        roundtrip_138: { assert_eq!(Money::from_str("-55282.54"), Some(Money(-5528254))); assert_eq!(Money(-5528254).to_string(), "-55282.54"); };
        roundtrip_139: { assert_eq!(Money::from_str("-79840.33"), Some(Money(-7984033))); assert_eq!(Money(-7984033).to_string(), "-79840.33"); };
        split_000: { let parts = Money(664308).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 664308); };
        split_001: { let parts = Money(488900).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 488900); };
        split_002: { let parts = Money(712279).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 712279); };
        split_003: { let parts = Money(638441).split(6); assert_eq!(parts.len(), 6); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 638441); };
        split_004: { let parts = Money(773886).split(9); assert_eq!(parts.len(), 9); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 773886); };
        split_005: { let parts = Money(23261).split(2); assert_eq!(parts.len(), 2); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 23261); };
        split_006: { let parts = Money(708859).split(2); assert_eq!(parts.len(), 2); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 708859); };
        split_007: { let parts = Money(387098).split(6); assert_eq!(parts.len(), 6); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 387098); };
        split_008: { let parts = Money(658474).split(9); assert_eq!(parts.len(), 9); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 658474); };
        split_009: { let parts = Money(313143).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 313143); };
        split_010: { let parts = Money(186040).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 186040); };
        split_011: { let parts = Money(194245).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 194245); };
        split_012: { let parts = Money(794933).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 794933); };
        split_013: { let parts = Money(884832).split(6); assert_eq!(parts.len(), 6); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 884832); };
        split_014: { let parts = Money(314997).split(8); assert_eq!(parts.len(), 8); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 314997); };
        split_015: { let parts = Money(109966).split(2); assert_eq!(parts.len(), 2); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 109966); };
        split_016: { let parts = Money(596911).split(4); assert_eq!(parts.len(), 4); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 596911); };
        split_017: { let parts = Money(325077).split(5); assert_eq!(parts.len(), 5); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 325077); };
        split_018: { let parts = Money(685479).split(6); assert_eq!(parts.len(), 6); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 685479); };
        split_019: { let parts = Money(250291).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 250291); };
        split_020: { let parts = Money(196498).split(8); assert_eq!(parts.len(), 8); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 196498); };
        split_021: { let parts = Money(681091).split(3); assert_eq!(parts.len(), 3); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 681091); };
        split_022: { let parts = Money(106789).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 106789); };
        split_023: { let parts = Money(995255).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 995255); };
        split_024: { let parts = Money(707713).split(5); assert_eq!(parts.len(), 5); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 707713); };
        split_025: { let parts = Money(459728).split(4); assert_eq!(parts.len(), 4); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 459728); };
        split_026: { let parts = Money(83832).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 83832); };
        split_027: { let parts = Money(778117).split(5); assert_eq!(parts.len(), 5); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 778117); };
        split_028: { let parts = Money(927884).split(9); assert_eq!(parts.len(), 9); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 927884); };
        split_029: { let parts = Money(283745).split(5); assert_eq!(parts.len(), 5); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 283745); };
        split_030: { let parts = Money(825237).split(3); assert_eq!(parts.len(), 3); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 825237); };
        split_031: { let parts = Money(35557).split(5); assert_eq!(parts.len(), 5); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 35557); };
        split_032: { let parts = Money(330450).split(4); assert_eq!(parts.len(), 4); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 330450); };
        split_033: { let parts = Money(905685).split(6); assert_eq!(parts.len(), 6); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 905685); };
        split_034: { let parts = Money(356631).split(3); assert_eq!(parts.len(), 3); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 356631); };
        split_035: { let parts = Money(845423).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 845423); };
        split_036: { let parts = Money(618116).split(4); assert_eq!(parts.len(), 4); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 618116); };
        split_037: { let parts = Money(441737).split(6); assert_eq!(parts.len(), 6); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 441737); };
        split_038: { let parts = Money(543580).split(6); assert_eq!(parts.len(), 6); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 543580); };
        split_039: { let parts = Money(487296).split(7); assert_eq!(parts.len(), 7); assert_eq!(parts.iter().map(|p| p.0).sum::<i64>(), 487296); };
    }
}
