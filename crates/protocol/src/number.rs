//! E.164 phone numbers: the only form a number takes once it is past a boundary.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A phone number in E.164 form: `+`, a country code not starting with 0, 7 to 15 digits in all.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct E164(String);

/// Why a string is not an E.164 number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberError {
    Empty,
    MissingPlus,
    BadCharacter,
    TooShort,
    TooLong,
    LeadingZero,
}

impl NumberError {
    pub fn as_str(self) -> &'static str {
        match self {
            NumberError::Empty => "the number is empty",
            NumberError::MissingPlus => {
                "the number must be in international form, starting with + and the country code"
            }
            NumberError::BadCharacter => {
                "the number may hold only digits, spaces, dashes, dots and parentheses"
            }
            NumberError::TooShort => "the number has fewer than 7 digits",
            NumberError::TooLong => "the number has more than 15 digits",
            NumberError::LeadingZero => "a country code never starts with 0",
        }
    }
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest input looked at; anything longer cannot be a phone number and is refused unread.
const MAX_INPUT_CHARS: usize = 64;

impl E164 {
    /// Parses an international number, tolerating the separators people type
    /// (`+1 (425) 555-0100`, `+44 20 7946.0018`), and returns its canonical form.
    pub fn parse(input: &str) -> Result<E164, NumberError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(NumberError::Empty);
        }
        if s.len() > MAX_INPUT_CHARS {
            return Err(NumberError::TooLong);
        }
        let rest = s.strip_prefix('+').ok_or(NumberError::MissingPlus)?;
        let mut out = String::with_capacity(16);
        out.push('+');
        let mut digits = 0usize;
        for c in rest.chars() {
            match c {
                '0'..='9' => {
                    if digits == 0 && c == '0' {
                        return Err(NumberError::LeadingZero);
                    }
                    digits += 1;
                    if digits > 15 {
                        return Err(NumberError::TooLong);
                    }
                    out.push(c);
                }
                ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
                _ => return Err(NumberError::BadCharacter),
            }
        }
        if digits < 7 {
            return Err(NumberError::TooShort);
        }
        Ok(E164(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for E164 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        E164::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(
            E164::parse("+14255550100").map(|n| n.0),
            Ok("+14255550100".into())
        );
        assert_eq!(
            E164::parse(" +1 (425) 555-0100 ").map(|n| n.0),
            Ok("+14255550100".into())
        );
        assert_eq!(
            E164::parse("+44 20 7946.0018").map(|n| n.0),
            Ok("+442079460018".into())
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(E164::parse(""), Err(NumberError::Empty));
        assert_eq!(E164::parse("4255550100"), Err(NumberError::MissingPlus));
        assert_eq!(E164::parse("+1425555010x"), Err(NumberError::BadCharacter));
        assert_eq!(E164::parse("+<img src=x>"), Err(NumberError::BadCharacter));
        assert_eq!(E164::parse("+123456"), Err(NumberError::TooShort));
        assert_eq!(E164::parse("+1234567890123456"), Err(NumberError::TooLong));
        assert_eq!(E164::parse("+0123456789"), Err(NumberError::LeadingZero));
        assert_eq!(E164::parse(&"+1".repeat(100)), Err(NumberError::TooLong));
    }
}
