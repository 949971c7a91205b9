//! Regions the agent can choose as the default for national numbers: ISO code, English name,
//! country calling code, and whether local numbers there are commonly written without an area
//! code (so that a default area code is worth setting).

use crate::candidate::Shape;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub code: &'static str,
    pub name: &'static str,
    pub calling_code: u16,
    pub uses_area_code: bool,
    /// How numbers written without `+` look there, for [`crate::candidate`]; derived from
    /// libphonenumber's metadata and checked against it by the `phone` crate's tests.
    pub shape: Shape,
}

const fn r(
    code: &'static str,
    name: &'static str,
    calling_code: u16,
    uses_area_code: bool,
    shape: Shape,
) -> Region {
    Region {
        code,
        name,
        calling_code,
        uses_area_code,
        shape,
    }
}

/// A [`Shape`] without short numbers: (fewest national digits, first digits of the
/// international prefix, its fewest digits).
const fn s(national: u8, idd_first: &'static str, idd_len: u8) -> Shape {
    Shape {
        national,
        short: &[],
        idd_first,
        idd_len,
    }
}

/// The NANP regions: ten digits, except Canada's seven-digit `310` numbers (valid from all of
/// them), and `011` for calls abroad.
const NANP: Shape = Shape {
    national: 10,
    short: &[("310", 7)],
    idd_first: "0",
    idd_len: 3,
};

/// Sorted by name, as the options page lists them.
pub const REGIONS: &[Region] = &[
    r("AR", "Argentina", 54, true, s(10, "0", 2)),
    r("AU", "Australia", 61, true, s(5, "01", 4)),
    r("AT", "Austria", 43, false, s(4, "0", 2)),
    r("BE", "Belgium", 32, false, s(8, "0", 2)),
    r("BR", "Brazil", 55, true, s(8, "0", 4)),
    r("CA", "Canada", 1, true, NANP),
    r("CL", "Chile", 56, false, s(9, "01", 2)),
    r("CN", "China", 86, true, s(7, "01", 2)),
    r("CO", "Colombia", 57, false, s(8, "0", 3)),
    r("CZ", "Czechia", 420, false, s(9, "0", 2)),
    r("DK", "Denmark", 45, false, s(8, "0", 2)),
    r("EG", "Egypt", 20, false, s(8, "0", 2)),
    r("FI", "Finland", 358, false, s(5, "09", 2)),
    r("FR", "France", 33, false, s(9, "0", 2)),
    r("DE", "Germany", 49, false, s(4, "0", 2)),
    r("GR", "Greece", 30, false, s(10, "0", 2)),
    r("HK", "Hong Kong", 852, false, s(5, "0", 2)),
    r("HU", "Hungary", 36, false, s(8, "0", 2)),
    r("IN", "India", 91, false, s(8, "0", 2)),
    r("ID", "Indonesia", 62, false, s(7, "0", 3)),
    r("IE", "Ireland", 353, false, s(7, "0", 2)),
    r("IL", "Israel", 972, false, s(7, "0", 2)),
    r("IT", "Italy", 39, false, s(6, "0", 2)),
    r("JP", "Japan", 81, false, s(8, "0", 3)),
    r("KE", "Kenya", 254, false, s(7, "0", 3)),
    r("MY", "Malaysia", 60, false, s(8, "0", 2)),
    r("MX", "Mexico", 52, false, s(10, "0", 2)),
    r("NL", "Netherlands", 31, false, s(5, "0", 2)),
    r("NZ", "New Zealand", 64, true, s(5, "0", 2)),
    r("NG", "Nigeria", 234, false, s(10, "0", 3)),
    r("NO", "Norway", 47, false, s(5, "0", 2)),
    r("PK", "Pakistan", 92, false, s(8, "0", 2)),
    r("PE", "Peru", 51, false, s(8, "01", 2)),
    r("PH", "Philippines", 63, false, s(6, "0", 2)),
    r("PL", "Poland", 48, false, s(6, "0", 2)),
    r("PT", "Portugal", 351, false, s(9, "0", 2)),
    r("PR", "Puerto Rico", 1, true, NANP),
    r("RO", "Romania", 40, false, s(6, "0", 2)),
    r("SA", "Saudi Arabia", 966, false, s(9, "0", 2)),
    r("SG", "Singapore", 65, false, s(8, "0", 3)),
    r("ZA", "South Africa", 27, false, s(5, "0", 2)),
    r("KR", "South Korea", 82, false, s(5, "0", 3)),
    r("ES", "Spain", 34, false, s(9, "0", 2)),
    r("SE", "Sweden", 46, false, s(6, "0", 2)),
    r("CH", "Switzerland", 41, false, s(9, "0", 2)),
    r("TW", "Taiwan", 886, false, s(7, "0", 3)),
    r("TH", "Thailand", 66, false, s(8, "0", 3)),
    r("TR", "Türkiye", 90, false, s(7, "0", 2)),
    r("AE", "United Arab Emirates", 971, false, s(5, "0", 2)),
    r("GB", "United Kingdom", 44, false, s(7, "0", 2)),
    r("US", "United States", 1, true, NANP),
    r("VN", "Vietnam", 84, false, s(7, "0", 2)),
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
