//! Phone numbers in text: finds them, parses a selected one, and formats one for a label.
//!
//! The detection is Google's libphonenumber matcher (the `rlibphonenumber` port with Google's
//! metadata) at its default `VALID` leniency, for the default region the agent set. On top of it
//! this crate adds only what the accuracy suite (`tests/accuracy.rs`) showed to be needed, each
//! rule in [`guard`] with its reason, plus the opt-in area-code rule in [`local`]. Offsets are
//! UTF-16 code units, because the DOM's `Text`/`Range` offsets are, while the matcher's are UTF-8
//! bytes. Nothing here panics on any input, and the work per call is bounded by
//! [`MAX_TEXT_BYTES`].

mod guard;
mod local;
mod utf16;

use std::fmt;

use rlibphonenumber::phonenumber_matcher::{Leniency, PHONE_MATCHER_FACTORY};
use rlibphonenumber::{PhoneNumber, PhoneNumberFormat, Region, PHONE_NUMBER_UTIL};

/// The most bytes of one text that [`find_numbers`] scans. A DOM text node, a CRM list row or a
/// signature is far below this; a longer text is scanned up to the last whitespace before the cap
/// (so no number is cut in half) and the rest is ignored. The caller splits bigger texts.
pub const MAX_TEXT_BYTES: usize = 100 * 1024;

/// The most bytes of a selection [`parse_selection`] looks at: one number with its punctuation
/// and an extension fits easily; a longer selection is not "a number".
pub const MAX_SELECTION_BYTES: usize = 128;

/// How many candidate substrings the matcher may try and reject per call. The matcher's own
/// default is unbounded; this keeps a pathological text (thousands of digit runs) cheap, and it
/// is well above what [`MAX_TEXT_BYTES`] of ordinary text needs.
const MAX_TRIES: u64 = 20_000;

/// What the agent configured for detection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// ISO 3166-1 alpha-2 code of the default region for numbers written without a country code,
    /// e.g. `"US"`. Case-insensitive. An empty or unknown code means only international numbers
    /// (`+44 …`) are found.
    pub region: String,
    /// Area code to prefix to a local number; only used as described in [`local`] (NANP regions,
    /// 7-digit numbers written `555-0100` or `555 0100`). `None` disables it.
    pub area_code: Option<String>,
}

impl Options {
    /// Options for a region without an area code.
    pub fn region(region: &str) -> Self {
        Self {
            region: region.to_owned(),
            area_code: None,
        }
    }
}

/// One phone number found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Start of the match in UTF-16 code units of the input (the DOM's offsets).
    pub start: usize,
    /// End (exclusive) of the match in UTF-16 code units of the input.
    pub end: usize,
    /// The number to dial, E.164 (`+14255550100`), without the extension.
    pub e164: String,
    /// The extension's digits, if the text gave one (`x123`, `ext. 123`, `#123`).
    pub extension: Option<String>,
    /// The matched text as it appears in the input.
    pub raw: String,
}

/// Why a selection is not one phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotANumber {
    /// Nothing but whitespace and punctuation was selected.
    Empty,
    /// The selection is longer than [`MAX_SELECTION_BYTES`].
    TooLong,
    /// No valid number for the region was found in it.
    NoNumber,
    /// It holds more than one number.
    Several,
    /// It holds a number and also letters or digits that are not part of it.
    ExtraText,
}

impl fmt::Display for NotANumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "the selection is empty",
            Self::TooLong => "the selection is too long to be a phone number",
            Self::NoNumber => "the selection is not a valid phone number",
            Self::Several => "the selection holds more than one phone number",
            Self::ExtraText => "the selection holds text besides the phone number",
        })
    }
}

impl std::error::Error for NotANumber {}

/// Finds the phone numbers in `text`, in order, without overlaps.
///
/// A number counts if libphonenumber's matcher finds it at `VALID` leniency for
/// `opts.region` (valid per metadata, not glued to Latin letters, not a slash date, time stamp or
/// citation page range) and [`guard`] does not reject it; plus the local numbers [`local`] finds
/// when `opts.area_code` is set.
pub fn find_numbers(text: &str, opts: &Options) -> Vec<Found> {
    let text = bounded(text);
    let region = region_of(&opts.region);

    // (byte start, byte end, number) of each accepted match, in text order.
    let mut hits: Vec<(usize, usize, PhoneNumber)> = Vec::new();
    let matcher = PHONE_MATCHER_FACTORY
        .matcher_builder(text)
        .leniency(Leniency::Valid)
        .max_tries(MAX_TRIES)
        .preferred_region(region)
        .build_fallible();
    // The fallible iterator reports broken metadata as an error instead of panicking; with the
    // built-in metadata that cannot happen, and if it did we keep what was found so far.
    for m in matcher.map_while(Result::ok) {
        let end = m.end();
        if guard::rejects(text, m.start, end) {
            continue;
        }
        hits.push((m.start, end, m.number));
    }

    if let (Some(region), Some(area_code)) = (region, opts.area_code.as_deref()) {
        local::find(text, region, area_code, &mut hits);
    }

    let mut offsets = utf16::Converter::new(text);
    hits.into_iter()
        .filter_map(|(start, end, number)| {
            let raw = text.get(start..end)?;
            Some(Found {
                start: offsets.units_at(start),
                end: offsets.units_at(end),
                e164: e164_of(&number),
                extension: number.extension.clone().filter(|e| !e.is_empty()),
                raw: raw.to_owned(),
            })
        })
        .collect()
}

/// Parses a right-click selection as one phone number and returns it as E.164 (without any
/// extension, which the caller cannot dial as part of the number).
///
/// The selection may have whitespace and punctuation around the number (`" (425) 555-0100. "`),
/// but no other letters or digits: "Call me at 425-555-0100" is [`NotANumber::ExtraText`], so a
/// careless selection does not dial something the agent did not mean.
pub fn parse_selection(text: &str, opts: &Options) -> Result<String, NotANumber> {
    if text.len() > MAX_SELECTION_BYTES {
        return Err(NotANumber::TooLong);
    }
    if !text.chars().any(char::is_alphanumeric) {
        return Err(NotANumber::Empty);
    }
    let found = find_numbers(text, opts);
    let mut it = found.iter();
    let (Some(one), None) = (it.next(), it.next()) else {
        return Err(if found.is_empty() {
            NotANumber::NoNumber
        } else {
            NotANumber::Several
        });
    };
    // Everything outside the match must be filler: no letters, no digits.
    let mut utf16_pos = 0;
    for c in text.chars() {
        let inside = utf16_pos >= one.start && utf16_pos < one.end;
        if !inside && c.is_alphanumeric() {
            return Err(NotANumber::ExtraText);
        }
        utf16_pos += c.len_utf16();
    }
    Ok(one.e164.clone())
}

/// Formats an E.164 number for people, in libphonenumber's INTERNATIONAL format
/// (`+14255550100` → `+1 425-555-0100`), e.g. for the accessible name "Call +1 425-555-0100".
/// Input that does not parse is returned unchanged, so a label always shows something.
pub fn format_for_label(e164: &str) -> String {
    if e164.len() > MAX_SELECTION_BYTES {
        return e164.to_owned();
    }
    match PHONE_NUMBER_UTIL.parse(e164, None) {
        Ok(number) => PHONE_NUMBER_UTIL
            .format(&number, PhoneNumberFormat::International)
            .into_owned(),
        Err(_) => e164.to_owned(),
    }
}

/// The region for `code` if libphonenumber has metadata for it. Any two letters make a `Region`
/// value, so the metadata lookup is what tells a real region from a typo.
fn region_of(code: &str) -> Option<Region> {
    let region = Region::from_code(code.trim()).ok()?;
    PHONE_NUMBER_UTIL
        .get_country_code_for_region(region)
        .map(|_| region)
}

/// E.164 of a parsed number. libphonenumber's E164 format never includes the extension.
fn e164_of(number: &PhoneNumber) -> String {
    PHONE_NUMBER_UTIL
        .format(number, PhoneNumberFormat::E164)
        .into_owned()
}

/// `text` cut to at most [`MAX_TEXT_BYTES`], at the last whitespace before the cap so that no
/// number is cut in half (and to a char boundary if there is no whitespace at all).
fn bounded(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut cut = MAX_TEXT_BYTES;
    while cut > 0 && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = text.get(..cut).unwrap_or_default();
    match head.rfind(char::is_whitespace) {
        Some(ws) => head.get(..ws).unwrap_or_default(),
        None => head,
    }
}
