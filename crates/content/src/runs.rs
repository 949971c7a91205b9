//! Pure bookkeeping for number detection: which text goes into a run, and where a number the
//! matcher found in a run falls in the run's text nodes. No DOM here, so it is unit-tested
//! natively.

/// A run holds at most this many text nodes, and this many UTF-16 units; a bigger container
/// (a whole page of text directly under `<body>`, say) is scanned one text node at a time, which
/// only loses numbers split across inline elements there.
pub const MAX_RUN_PIECES: usize = 64;
pub const MAX_RUN_UNITS: usize = 4_096;

/// UTF-16 length, the DOM's unit.
pub fn units(s: &str) -> u32 {
    u32::try_from(s.encode_utf16().count()).unwrap_or(u32::MAX)
}

/// The longest prefix of `s` with at most `max` UTF-16 units, cut at a char boundary.
pub fn head(s: &str, max: usize) -> &str {
    let mut n = 0;
    for (i, c) in s.char_indices() {
        n += c.len_utf16();
        if n > max {
            return s.get(..i).unwrap_or_default();
        }
    }
    s
}

/// Builds the text of a run from its pieces, and the offset where each piece starts in it.
/// `breaks[i]` says a line break (a `<br>`, a nested block, a skipped element) lies before
/// piece `i`: it becomes one `\n`, so two lines never read as one number and a number at the
/// end of a line is not glued to a word on the next.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunText {
    pub text: String,
    pub starts: Vec<u32>,
    pub lens: Vec<u32>,
}

impl RunText {
    pub fn push(&mut self, piece: &str, break_before: bool) {
        if break_before && !self.text.is_empty() {
            self.text.push('\n');
        }
        self.starts.push(units(&self.text));
        self.lens.push(units(piece));
        self.text.push_str(piece);
    }

    pub fn len_units(&self) -> usize {
        self.starts
            .last()
            .zip(self.lens.last())
            .map_or(0, |(s, l)| (*s as usize) + (*l as usize))
    }
}

/// Where the run range `start..end` falls in the pieces: `(piece, from, to)` with offsets inside
/// that piece, in piece order; separators between pieces are left out. An empty or inverted
/// range, or one past the end, gives nothing.
pub fn split_range(starts: &[u32], lens: &[u32], start: u32, end: u32) -> Vec<(usize, u32, u32)> {
    let mut out = Vec::new();
    if start >= end {
        return out;
    }
    for (i, (&s, &l)) in starts.iter().zip(lens).enumerate() {
        let e = s.saturating_add(l);
        let from = start.max(s);
        let to = end.min(e);
        if from < to {
            out.push((i, from - s, to - s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_split_across_inline_elements_maps_back_to_each_piece() {
        let mut r = RunText::default();
        r.push("Tel: (425) ", false);
        r.push("555", false);
        r.push("-0100 ok", false);
        assert_eq!(r.text, "Tel: (425) 555-0100 ok");
        // "(425) 555-0100" is 5..19
        assert_eq!(
            split_range(&r.starts, &r.lens, 5, 19),
            vec![(0, 5, 11), (1, 0, 3), (2, 0, 5)]
        );
    }

    #[test]
    fn breaks_become_one_newline_and_are_never_part_of_a_piece() {
        let mut r = RunText::default();
        r.push("425-555-0100", true);
        r.push("Fax", true);
        assert_eq!(r.text, "425-555-0100\nFax");
        assert_eq!(r.starts, vec![0, 13]);
        assert_eq!(
            split_range(&r.starts, &r.lens, 10, 14),
            vec![(0, 10, 12), (1, 0, 1)]
        );
        assert_eq!(r.len_units(), 16);
    }

    #[test]
    fn utf16_offsets_count_surrogate_pairs_twice() {
        let mut r = RunText::default();
        r.push("😀 ", false);
        r.push("x", false);
        assert_eq!(r.starts, vec![0, 3]);
    }

    #[test]
    fn bad_ranges_give_nothing() {
        assert!(split_range(&[0], &[5], 3, 3).is_empty());
        assert!(split_range(&[0], &[5], 4, 2).is_empty());
        assert!(split_range(&[0], &[5], 9, 12).is_empty());
    }

    #[test]
    fn heads_cut_at_char_boundaries() {
        assert_eq!(head("abc", 5), "abc");
        assert_eq!(head("a😀b", 2), "a");
        assert_eq!(head("a😀b", 3), "a😀");
    }
}
