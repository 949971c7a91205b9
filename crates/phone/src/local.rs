//! The agent's default area code for local numbers (opt-in, NANP only).
//!
//! In the US and the other +1 countries people often write a local number without its area code
//! (`555-0100`). libphonenumber cannot call that valid on its own, so the matcher skips it. When
//! the agent set an area code, this finds such a number and dials it with that area code.
//!
//! It applies only when all of these hold, to keep it from turning other 7-digit things into
//! calls:
//! - the default region is a NANP region (country code 1) and the area code is exactly 3 digits;
//! - the text is exactly 3 digits, then one `-` (or non-breaking hyphen), space or no-break
//!   space, then 4 digits: `555-0100`, `555 0100` (not `555.0100`, which reads as a decimal, nor
//!   `5550100`, which reads as any 7-digit id);
//! - it is not glued to a letter, digit or number punctuation on either side, and the text
//!   before it (spaces skipped) does not end in a digit, `+`, `(`, `)`, `-`, `.`, `/` or `#`, so
//!   `+1 555-0100`, `(999) 555-0100`, `12 555 0100`, `ID #555-0100` stay alone;
//! - it does not overlap a number the matcher found;
//! - area code + local number is a valid number for the region per metadata.

use rlibphonenumber::{PhoneNumber, Region, PHONE_NUMBER_UTIL};

/// Adds the local numbers of `text` to `hits`, which must be the matcher's (sorted by start,
/// disjoint) and stay sorted.
pub(crate) fn find(
    text: &str,
    region: Region,
    area_code: &str,
    hits: &mut Vec<(usize, usize, PhoneNumber)>,
) {
    if PHONE_NUMBER_UTIL.get_country_code_for_region(region) != Some(1) {
        return;
    }
    let area_code = area_code.trim();
    if area_code.len() != 3 || !area_code.bytes().all(|b| b.is_ascii_digit()) {
        return;
    }
    let bytes = text.as_bytes();
    let mut locals = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let Some((end, digits)) = local_at(text, i) else {
            i += 1;
            continue;
        };
        // The matcher's hits are sorted and disjoint, so their ends are sorted too: the only
        // one that can overlap `i..end` is the first that ends after `i`.
        let next_hit = hits.partition_point(|(_, e, _)| *e <= i);
        let overlaps = hits.get(next_hit).is_some_and(|(s, _, _)| *s < end);
        if !overlaps && is_free(text, i, end) {
            let national = format!("{area_code}{digits}");
            if let Ok(number) = PHONE_NUMBER_UTIL.parse(&national, Some(region)) {
                if PHONE_NUMBER_UTIL.is_valid_number_for_region(&number, region) {
                    locals.push((i, end, number));
                }
            }
        }
        i = end;
    }
    if !locals.is_empty() {
        hits.append(&mut locals);
        hits.sort_by_key(|(s, _, _)| *s);
    }
}

/// If `text[i..]` starts with `ddd<sep>dddd`, its end and the 7 digits.
fn local_at(text: &str, i: usize) -> Option<(usize, String)> {
    let rest = text.get(i..)?;
    let mut chars = rest.char_indices();
    let mut digits = String::with_capacity(7);
    for _ in 0..3 {
        let (_, c) = chars.next()?;
        if !c.is_ascii_digit() {
            return None;
        }
        digits.push(c);
    }
    let (_, sep) = chars.next()?;
    if !matches!(sep, '-' | '\u{2011}' | ' ' | '\u{00A0}') {
        return None;
    }
    let mut end = 0;
    for _ in 0..4 {
        let (at, c) = chars.next()?;
        if !c.is_ascii_digit() {
            return None;
        }
        digits.push(c);
        end = at + c.len_utf8();
    }
    Some((i + end, digits))
}

/// Whether `text[start..end]` stands on its own (see the module docs).
fn is_free(text: &str, start: usize, end: usize) -> bool {
    let before = text.get(..start).unwrap_or_default();
    let after = text.get(end..).unwrap_or_default();
    if let Some(c) = before.chars().next_back() {
        if c.is_alphanumeric() || is_number_punct(c) {
            return false;
        }
    }
    if let Some(c) = before.trim_end().chars().next_back() {
        if c.is_ascii_digit() || is_number_punct(c) || matches!(c, '(' | ')' | '#') {
            return false;
        }
    }
    let mut next = after.chars();
    match next.next() {
        None => true,
        Some(c) if c.is_alphanumeric() || c == '%' => false,
        // `555-0100-12`, `555-0100/1`: part of a longer code.
        Some(c) if is_number_punct(c) => !next.next().is_some_and(|d| d.is_ascii_digit()),
        Some(_) => true,
    }
}

fn is_number_punct(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}' | '\u{2011}' | '\u{2013}' | '.' | '/' | '+'
    )
}
