//! UTF-8 byte offsets → UTF-16 code-unit offsets.
//!
//! The matcher reports byte offsets into the Rust string; the DOM (`Text.splitText`,
//! `Range.setStart`) counts UTF-16 code units. They differ as soon as an accented letter (2 bytes,
//! 1 unit) or an emoji (4 bytes, 2 units) precedes the number.

/// Converts increasing byte offsets in one pass over the text; a smaller offset than the last
/// one restarts from the beginning, so any order is correct, sorted order is linear.
pub(crate) struct Converter<'a> {
    text: &'a str,
    byte: usize,
    unit: usize,
}

impl<'a> Converter<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            byte: 0,
            unit: 0,
        }
    }

    /// The UTF-16 offset of byte offset `byte`. An offset inside a character counts that
    /// character as not yet reached; one past the end is clamped to the end.
    pub(crate) fn units_at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            self.byte = 0;
            self.unit = 0;
        }
        let rest = self.text.get(self.byte..).unwrap_or_default();
        for c in rest.chars() {
            if self.byte + c.len_utf8() > byte {
                break;
            }
            self.byte += c.len_utf8();
            self.unit += c.len_utf16();
        }
        self.unit
    }
}
