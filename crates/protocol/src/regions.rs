//! Regions the agent can choose as the default for national numbers: ISO code, English name,
//! country calling code, and whether local numbers there are commonly written without an area
//! code (so that a default area code is worth setting).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub code: &'static str,
    pub name: &'static str,
    pub calling_code: u16,
    pub uses_area_code: bool,
}

const fn r(
    code: &'static str,
    name: &'static str,
    calling_code: u16,
    uses_area_code: bool,
) -> Region {
    Region {
        code,
        name,
        calling_code,
        uses_area_code,
    }
}

/// Sorted by name, as the options page lists them.
pub const REGIONS: &[Region] = &[
    r("AR", "Argentina", 54, true),
    r("AU", "Australia", 61, true),
    r("AT", "Austria", 43, false),
    r("BE", "Belgium", 32, false),
    r("BR", "Brazil", 55, true),
    r("CA", "Canada", 1, true),
    r("CL", "Chile", 56, false),
    r("CN", "China", 86, true),
    r("CO", "Colombia", 57, false),
    r("CZ", "Czechia", 420, false),
    r("DK", "Denmark", 45, false),
    r("EG", "Egypt", 20, false),
    r("FI", "Finland", 358, false),
    r("FR", "France", 33, false),
    r("DE", "Germany", 49, false),
    r("GR", "Greece", 30, false),
    r("HK", "Hong Kong", 852, false),
    r("HU", "Hungary", 36, false),
    r("IN", "India", 91, false),
    r("ID", "Indonesia", 62, false),
    r("IE", "Ireland", 353, false),
    r("IL", "Israel", 972, false),
    r("IT", "Italy", 39, false),
    r("JP", "Japan", 81, false),
    r("KE", "Kenya", 254, false),
    r("MY", "Malaysia", 60, false),
    r("MX", "Mexico", 52, false),
    r("NL", "Netherlands", 31, false),
    r("NZ", "New Zealand", 64, true),
    r("NG", "Nigeria", 234, false),
    r("NO", "Norway", 47, false),
    r("PK", "Pakistan", 92, false),
    r("PE", "Peru", 51, false),
    r("PH", "Philippines", 63, false),
    r("PL", "Poland", 48, false),
    r("PT", "Portugal", 351, false),
    r("PR", "Puerto Rico", 1, true),
    r("RO", "Romania", 40, false),
    r("SA", "Saudi Arabia", 966, false),
    r("SG", "Singapore", 65, false),
    r("ZA", "South Africa", 27, false),
    r("KR", "South Korea", 82, false),
    r("ES", "Spain", 34, false),
    r("SE", "Sweden", 46, false),
    r("CH", "Switzerland", 41, false),
    r("TW", "Taiwan", 886, false),
    r("TH", "Thailand", 66, false),
    r("TR", "Türkiye", 90, false),
    r("AE", "United Arab Emirates", 971, false),
    r("GB", "United Kingdom", 44, false),
    r("US", "United States", 1, true),
    r("VN", "Vietnam", 84, false),
];

pub fn find(code: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        for (i, a) in REGIONS.iter().enumerate() {
            assert!(
                a.code.len() == 2 && a.code.bytes().all(|b| b.is_ascii_uppercase()),
                "{}",
                a.code
            );
            assert!(
                REGIONS[i + 1..].iter().all(|b| b.code != a.code),
                "{}",
                a.code
            );
        }
        assert_eq!(find("GB").map(|r| r.calling_code), Some(44));
    }
}
