//! Which page text can hold a phone number at all: a test the content script makes before a text
//! leaves the page, so that dates, amounts, ZIP codes and order numbers (most of the digits on a
//! CRM list) never cost a copy, a message or a matcher run.
//!
//! The test is a *necessary* condition for libphonenumber's matcher (at `VALID` leniency, as the
//! `phone` crate runs it) to find a number, derived from how the matcher works:
//! - a match is made of digit blocks with at most four characters of the matcher's punctuation
//!   ([`PUNCTUATION`]) between them, optionally led by `+` or an opening bracket;
//! - a valid number written without `+` is either national, with at least as many digits as the
//!   shortest national number of its country code, or starts with the region's international
//!   prefix (`011` in the US), followed by a country code and a national number;
//! - a number written with `+` has at least [`MIN_INTERNATIONAL_DIGITS`] digits (country code
//!   and national number).
//!
//! The per-region figures live in [`crate::regions::REGIONS`]; the `phone` crate's tests derive
//! them from the metadata and check that no text in which the matcher finds a number fails the
//! test. The pattern is written for both engines that run it: JavaScript's `RegExp` with the `u`
//! flag in the page, the `regex` crate in those tests.

use crate::regions;

/// libphonenumber's `VALID_PUNCTUATION` (what its matcher allows between digit blocks), as the
/// body of a character class: `-` first so it is literal, brackets escaped.
const PUNCTUATION: &str = "-x\u{2010}-\u{2015}\u{2212}\u{30FC}\u{FF0D}-\u{FF0F} \u{00A0}\u{00AD}\
\u{200B}\u{2060}\u{3000}()\u{FF08}\u{FF09}\u{FF3B}\u{FF3D}.\\[\\]/~\u{2053}\u{223C}";

/// What may stand between a leading `+` and the first digit: the matcher's lead characters
/// (opening brackets, plus signs) and punctuation.
const LEAD: &str = "(\\[\u{FF08}\u{FF3B}+\u{FF0B}";

/// The fewest digits of any valid number written with `+`: country code and national number
/// (Austria, `+43` and four digits).
pub const MIN_INTERNATIONAL_DIGITS: u8 = 6;

/// The shape of a number written without `+` in one region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The fewest digits a national number has, apart from [`Shape::short`].
    pub national: u8,
    /// Shorter national numbers, as (the digits they start with, their length): Canada's
    /// `310-xxxx` numbers, valid for every NANP region.
    pub short: &'static [(&'static str, u8)],
    /// The digits the region's international prefix can start with (`"0"` for `011`).
    pub idd_first: &'static str,
    /// The fewest digits of the region's international prefix.
    pub idd_len: u8,
}

/// The shape used when the region is unknown: no national number is shorter than 4 digits, and
/// any digit may start an international prefix.
pub(crate) const ANY: Shape = Shape {
    national: 4,
    short: &[],
    idd_first: "0123456789",
    idd_len: 1,
};

/// The shape of numbers for `region` (an ISO code from [`regions::REGIONS`]); with
/// `area_code` set, a NANP region also finds 7-digit local numbers (see the `phone` crate's
/// `local` module).
pub fn shape(region: &str, area_code: bool) -> Shape {
    let Some(r) = regions::find(region) else {
        return ANY;
    };
    let mut s = r.shape;
    if area_code && r.calling_code == 1 {
        s.national = s.national.min(7);
    }
    s
}

/// The regular expression (JavaScript with the `u` flag, or the `regex` crate) that finds the
/// start of every number the matcher can find in a text for `shape`, and more: a text it does
/// not match holds no number.
pub fn pattern(shape: Shape) -> String {
    // `first`, then more digits up to `digits` in all, with punctuation between blocks.
    let run = |first: &str, digits: usize| {
        format!(
            "{first}(?:[{PUNCTUATION}]{{0,4}}\\p{{Nd}}){{{}}}",
            digits.saturating_sub(1).max(1)
        )
    };
    // One of the ASCII digits `of`, or any non-ASCII character: a digit of another script is
    // normalized before prefixes are compared.
    let one_of = |of: &str| format!("(?:[{of}]|[^\\x00-\\x7F])");
    let mut branches = vec![
        run("\\p{Nd}", shape.national.into()),
        run(
            &one_of(shape.idd_first),
            shape
                .idd_len
                .saturating_add(MIN_INTERNATIONAL_DIGITS)
                .into(),
        ),
        format!(
            "[+\u{FF0B}][{PUNCTUATION}{LEAD}]{{0,10}}{}",
            run("\\p{Nd}", MIN_INTERNATIONAL_DIGITS.into())
        ),
    ];
    for &(prefix, len) in shape.short {
        let mut lead = String::new();
        for (i, d) in prefix.chars().enumerate() {
            if i > 0 {
                lead.push_str(&format!("[{PUNCTUATION}]{{0,4}}"));
            }
            lead.push_str(&one_of(&d.to_string()));
        }
        branches.push(run(
            &lead,
            usize::from(len).saturating_sub(prefix.len()) + 1,
        ));
    }
    branches.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_codes_only_lower_nanp_regions() {
        assert_eq!(shape("US", false).national, 10);
        assert_eq!(shape("US", true).national, 7);
        assert_eq!(shape("GB", true), shape("GB", false));
        assert_eq!(shape("??", false), ANY);
    }

    #[test]
    fn the_pattern_spells_out_each_branch() {
        let p = pattern(shape("US", false));
        // ten national digits | 011 and six more | + and six | 310 and four more
        assert!(p.starts_with("\\p{Nd}(?:[-x"), "{p}");
        assert!(p.contains("){9}|(?:[0]|[^\\x00-\\x7F])(?:[-x"), "{p}");
        assert!(p.contains("){8}|[+\u{FF0B}][-x"), "{p}");
        assert!(p.contains("){5}|(?:[3]|[^\\x00-\\x7F])[-x"), "{p}");
        assert!(p.ends_with("){4}"), "{p}");
        assert!(pattern(shape("GB", false)).ends_with("){5}"));
    }
}
