//! Tests of the public API beyond detection quality: UTF-16 offsets, extensions, the area-code
//! rule, `parse_selection`, `format_for_label`, the size cap, and that no input panics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use phone::{
    find_numbers, format_for_label, parse_selection, Found, NotANumber, Options, MAX_TEXT_BYTES,
};

fn us() -> Options {
    Options::region("US")
}

fn one(text: &str, opts: &Options) -> Found {
    let found = find_numbers(text, opts);
    assert_eq!(found.len(), 1, "{text:?} → {found:?}");
    found.into_iter().next().unwrap()
}

/// The slice of `text` between UTF-16 offsets, as the DOM would cut it.
fn utf16_slice(text: &str, start: usize, end: usize) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    String::from_utf16(&units[start..end]).unwrap()
}

#[test]
fn offsets_are_utf16_after_emoji_and_accents() {
    for text in [
        "Call 425-555-0100 now",
        "Café Zoë ☕ 425-555-0100 now",
        "😀😀 425-555-0100 now",
        "Grüße 👋🏽, Frédéric: 425-555-0100",
        "425-555-0100",
    ] {
        let f = one(text, &us());
        assert_eq!(
            utf16_slice(text, f.start, f.end),
            "425-555-0100",
            "{text:?}"
        );
        assert_eq!(f.raw, "425-555-0100");
        assert_eq!(f.e164, "+14255550100");
    }
    let f = one("😀 +44 20 7946 0018", &us());
    assert_eq!((f.start, f.end), (3, 19));
}

#[test]
fn second_number_offsets_after_multibyte_text() {
    let text = "é 425-555-0100 / 😀 206-555-0187";
    let found = find_numbers(text, &us());
    assert_eq!(found.len(), 2);
    for f in &found {
        assert_eq!(utf16_slice(text, f.start, f.end), f.raw);
    }
    assert_eq!(found[1].e164, "+12065550187");
}

#[test]
fn extensions_in_three_forms() {
    for (text, ext) in [
        ("425-555-0100 x123", "123"),
        ("425-555-0100 ext. 123", "123"),
        ("425-555-0100 #123", "123"),
        ("+44 20 7946 0018 ext 45", "45"),
    ] {
        let f = one(text, &us());
        assert_eq!(f.extension.as_deref(), Some(ext), "{text:?}");
        assert!(!f.e164.contains(ext), "E.164 has no extension: {}", f.e164);
        assert_eq!(f.raw, text);
    }
    assert_eq!(one("425-555-0100", &us()).extension, None);
}

#[test]
fn area_code_completes_nanp_local_numbers_only() {
    let with = Options {
        region: "US".into(),
        area_code: Some("425".into()),
    };
    let f = one("Desk 555-0100.", &with);
    assert_eq!(f.e164, "+14255550100");
    assert_eq!(f.raw, "555-0100");
    assert_eq!((f.start, f.end), (5, 13));
    assert_eq!(one("é 555 0100", &with).start, 2);
    // Without the option, or outside NANP, or with a malformed area code: nothing.
    assert!(find_numbers("Desk 555-0100", &us()).is_empty());
    let gb = Options {
        region: "GB".into(),
        area_code: Some("425".into()),
    };
    assert!(find_numbers("Desk 555-0100", &gb).is_empty());
    let bad = Options {
        region: "US".into(),
        area_code: Some("42".into()),
    };
    assert!(find_numbers("Desk 555-0100", &bad).is_empty());
    // Not a local number: glued, part of longer codes, decimal, prefixed by + or a code.
    for text in [
        "555-0100B",
        "A555-0100",
        "2024-555-0100",
        "555-0100-12",
        "$555.0100",
        "555.0100",
        "5550100",
        "+1 555-0100",
        "(999) 555-0100",
        "#555-0100",
        "12 555 0100",
        "55 5-0100",
    ] {
        assert!(find_numbers(text, &with).is_empty(), "{text:?}");
    }
    // A full number is found once, not again as a local one.
    let found = find_numbers("206-555-0187 and 555-0188", &with);
    let e164: Vec<&str> = found.iter().map(|f| f.e164.as_str()).collect();
    assert_eq!(e164, ["+12065550187", "+14255550188"]);
    // An invalid exchange stays unfound (NANP exchanges do not start with 0 or 1).
    assert!(find_numbers("Desk 055-0100", &with).is_empty());
}

#[test]
fn parse_selection_accepts_one_number_with_filler() {
    for sel in [
        "425-555-0100",
        "  (425) 555-0100. ",
        "\u{a0}+1 425 555 0100,",
        "[425.555.0100]",
        "425-555-0100 x12",
        "4255550100",
    ] {
        assert_eq!(
            parse_selection(sel, &us()),
            Ok("+14255550100".into()),
            "{sel:?}"
        );
    }
    assert_eq!(
        parse_selection("+44 20 7946 0018", &us()),
        Ok("+442079460018".into())
    );
    assert_eq!(
        parse_selection("020 7946 0018", &Options::region("gb")),
        Ok("+442079460018".into())
    );
    let local = Options {
        region: "US".into(),
        area_code: Some("425".into()),
    };
    assert_eq!(
        parse_selection("555-0100", &local),
        Ok("+14255550100".into())
    );
}

#[test]
fn parse_selection_refuses_everything_else() {
    let cases = [
        ("", NotANumber::Empty),
        ("  -- ", NotANumber::Empty),
        ("hello", NotANumber::NoNumber),
        ("123", NotANumber::NoNumber),
        ("03/27/2011", NotANumber::NoNumber),
        ("$1,234.56", NotANumber::NoNumber),
        ("192.168.100.200", NotANumber::NoNumber),
        ("425-555-0100 or 206-555-0187", NotANumber::Several),
        ("Call me at 425-555-0100", NotANumber::ExtraText),
        ("425-555-0100 7", NotANumber::ExtraText),
    ];
    for (sel, err) in cases {
        assert_eq!(parse_selection(sel, &us()), Err(err), "{sel:?}");
    }
    let long = format!("425-555-0100{}", " ".repeat(200));
    assert_eq!(parse_selection(&long, &us()), Err(NotANumber::TooLong));
    // An unknown region finds only international numbers.
    let zz = Options::region("ZZ");
    assert_eq!(
        parse_selection("425-555-0100", &zz),
        Err(NotANumber::NoNumber)
    );
    assert_eq!(
        parse_selection("+1 425-555-0100", &zz),
        Ok("+14255550100".into())
    );
}

#[test]
fn format_for_label_is_international() {
    assert_eq!(format_for_label("+14255550100"), "+1 425-555-0100");
    assert_eq!(format_for_label("+442079460018"), "+44 20 7946 0018");
    assert_eq!(format_for_label("+493012345678"), "+49 30 12345678");
    assert_eq!(format_for_label("not a number"), "not a number");
    assert_eq!(format_for_label(""), "");
}

#[test]
fn dotted_dates_are_not_numbers() {
    let de = Options::region("DE");
    assert!(find_numbers("Geboren am 05.10.1986 in Köln", &de).is_empty());
    assert!(find_numbers("5.10.86", &de).is_empty());
    // The same digits with phone grouping are a number.
    assert_eq!(one("Tel. 05101 986", &de).e164, "+495101986");
}

#[test]
fn long_text_is_cut_at_whitespace_before_the_cap() {
    let filler = "word ".repeat(MAX_TEXT_BYTES / 5 - 3);
    let text = format!("425-555-0100 {filler}206-555-0187 and more");
    assert!(text.len() > MAX_TEXT_BYTES);
    let found = find_numbers(&text, &us());
    assert_eq!(found.len(), 1, "only the first number is inside the cap");
    // A number straddling the cap is dropped whole, not cut.
    let pad = "a ".repeat((MAX_TEXT_BYTES - 5) / 2);
    let text = format!("{pad}425-555-0100");
    assert!(find_numbers(&text, &us())
        .iter()
        .all(|f| f.e164 == "+14255550100" || f.raw.len() < 10));
    // One huge token without whitespace does not panic either.
    let blob = "9".repeat(MAX_TEXT_BYTES * 2);
    let _ = find_numbers(&blob, &us());
}

/// splitmix64: a tiny deterministic generator, so the crate needs no `rand`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Iterations of the generated-input loop: 5 000 by default (about 20 s in a debug build;
/// the matcher costs 10–100 µs per short text even optimised), more with `PHONE_FUZZ_ITERS`, e.g.
/// `PHONE_FUZZ_ITERS=100000 cargo test -p phone --release --test api generated`.
fn iterations() -> usize {
    std::env::var("PHONE_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000)
}

#[test]
fn generated_inputs_do_not_panic_and_offsets_are_consistent() {
    // Pieces that make the matcher, the guards and the area-code rule work hard.
    const PIECES: &[&str] = &[
        "0",
        "1",
        "4",
        "5",
        "9",
        "425",
        "555",
        "0100",
        "+",
        "+1",
        "+44",
        "00",
        "(",
        ")",
        "[",
        "]",
        "-",
        ".",
        "/",
        " ",
        "\u{a0}",
        "\u{2011}",
        "x",
        "ext.",
        "#",
        ";",
        ":",
        "%",
        "$",
        "€",
        "é",
        "😀",
        "\u{301}",
        "٣",
        "１",
        "Tel",
        "Order",
        "no.",
        "\n",
        "\t",
        "05.10.1986",
        "03/27/2011",
        "2024-03-05 14:30",
        "ABC",
        "ext",
        "*",
        "~",
        "０",
        "\u{200b}",
        "\u{feff}",
    ];
    let regions = [
        "US", "GB", "DE", "FR", "IN", "BR", "JP", "", "ZZ", "us", "X", "ÅÅ",
    ];
    let mut rng = Rng(0x5eed);
    let mut found_total = 0usize;
    let n = iterations();
    for i in 0..n {
        let mut text = String::new();
        for _ in 0..rng.below(24) {
            text.push_str(PIECES[rng.below(PIECES.len())]);
        }
        let opts = Options {
            region: regions[i % regions.len()].into(),
            area_code: if i % 3 == 0 { Some("425".into()) } else { None },
        };
        let found = find_numbers(&text, &opts);
        let units = text.encode_utf16().count();
        let mut last_end = 0;
        for f in &found {
            assert!(
                f.start >= last_end && f.start < f.end && f.end <= units,
                "{text:?} {f:?}"
            );
            assert_eq!(utf16_slice(&text, f.start, f.end), f.raw, "{text:?}");
            assert!(f.e164.starts_with('+'), "{f:?}");
            last_end = f.end;
        }
        found_total += found.len();
        let _ = parse_selection(&text, &opts);
        if let Some(f) = found.first() {
            let _ = format_for_label(&f.e164);
        }
        let _ = format_for_label(&text);
    }
    println!("generated inputs: {n}, numbers found: {found_total}");
    assert!(found_total > 0, "the generator should produce some numbers");
}
