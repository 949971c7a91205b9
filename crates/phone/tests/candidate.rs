//! The content script's first test of page text (`protocol::candidate`) against the matcher it
//! stands in front of: its per-region figures must be the ones libphonenumber's metadata gives,
//! and no text in which `find_numbers` finds a number may fail it. A text that fails it never
//! leaves the page, so a wrong figure here would be a number nobody can click.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use phone::{find_numbers, Options};
use protocol::candidate::{pattern, shape, Shape, MIN_INTERNATIONAL_DIGITS};
use protocol::regions::REGIONS;
use regex::Regex;
use regex_automata::dfa::{dense, Automaton};
use regex_automata::{Anchored, Input};
use rlibphonenumber::interfaces::AsOriginal;
use rlibphonenumber::{
    NumberLengthType, PhoneNumber, PhoneNumberFormat, PhoneNumberType, PhoneNumberUtil, Region,
    ValidationError, PHONE_NUMBER_UTIL,
};
use std::collections::{BTreeMap, BTreeSet};

mod common;

/// The shortest national number of country code `cc` by its main region's metadata (the one
/// libphonenumber checks possible lengths against): the shortest length not too short (local-only
/// lengths are not valid numbers).
fn national_min(cc: i32) -> u8 {
    for len in 1..=17u8 {
        let n = PhoneNumber {
            country_code: cc,
            national_number: "2".repeat(len.into()).parse().unwrap(),
            ..Default::default()
        };
        match PHONE_NUMBER_UTIL.is_possible_number_with_reason(&n) {
            Err(ValidationError::TooShort) | Ok(NumberLengthType::IsPossibleLocalOnly) => {}
            _ => return len,
        }
    }
    panic!("no national length for +{cc}");
}

/// Every length of a valid national number of country code `cc`, over all the regions that
/// share it, with the patterns of the number types that have that length.
fn national_lengths(cc: i32) -> BTreeMap<u8, Vec<String>> {
    let util: &PhoneNumberUtil = &PHONE_NUMBER_UTIL;
    let mut out: BTreeMap<u8, Vec<String>> = BTreeMap::new();
    let Some(regions) = util.get_regions_for_country_calling_code(cc) else {
        return out;
    };
    for r in regions {
        let Some(m) = util.as_original().get_metadata_for_region(r) else {
            continue;
        };
        let general = &m.general_desc.original.possible_length;
        for d in [
            &m.fixed_line,
            &m.mobile,
            &m.toll_free,
            &m.premium_rate,
            &m.shared_cost,
            &m.personal_number,
            &m.voip,
            &m.pager,
            &m.uan,
            &m.voicemail,
        ] {
            let Some(pattern) = d.national_number_pattern().pattern_base.clone() else {
                continue;
            };
            let own = &d.original.possible_length;
            let lengths = if own.is_empty() { general } else { own };
            for &len in lengths.iter().filter(|&&l| l > 0) {
                out.entry(len as u8).or_default().push(pattern.clone());
            }
        }
    }
    out
}

/// The first three digits of the numbers of length `len` that `pattern` matches.
fn prefixes(pattern: &str, len: u8) -> BTreeSet<String> {
    let dfa = dense::DFA::new(pattern).unwrap();
    let start = dfa
        .start_state_forward(&Input::new("").anchored(Anchored::Yes))
        .unwrap();
    let mut states = BTreeSet::from([(String::new(), start)]);
    for _ in 0..len {
        states = states
            .iter()
            .flat_map(|(p, s)| (b'0'..=b'9').map(move |d| (p, *s, d)))
            .map(|(p, s, d)| {
                let mut p = p.clone();
                if p.len() < 3 {
                    p.push(char::from(d));
                }
                (p, dfa.next_state(s, d))
            })
            .filter(|(_, s)| !dfa.is_dead_state(*s))
            .collect();
    }
    states
        .into_iter()
        .filter(|(_, s)| dfa.is_match_state(dfa.next_eoi_state(*s)))
        .map(|(p, _)| p)
        .collect()
}

/// The shortest national numbers of `cc`: the main region's shortest length, and the shorter
/// ones of the regions sharing the code as (first three digits, length) when there are few of
/// them; otherwise the shortest length there is.
fn national_shape(cc: i32) -> (u8, Vec<(String, u8)>) {
    let main = national_min(cc);
    let mut short = Vec::new();
    for (len, patterns) in national_lengths(cc).range(..main) {
        for p in patterns {
            short.extend(prefixes(p, *len).into_iter().map(|p| (p, *len)));
        }
    }
    short.sort();
    short.dedup();
    if short.len() > 4 {
        let shortest = short.iter().map(|s| s.1).min().unwrap_or(main);
        return (shortest, Vec::new());
    }
    (main, short)
}

/// The region's international prefix from its metadata: the digits it can start with, and its
/// shortest length (walked on the pattern's DFA, digit by digit).
fn idd(region: Region) -> (String, u8) {
    let util: &PhoneNumberUtil = &PHONE_NUMBER_UTIL;
    let meta = util.as_original().get_metadata_for_region(region).unwrap();
    let pattern = meta.international_prefix().pattern_base.clone().unwrap();
    let dfa = dense::DFA::new(&pattern).unwrap();
    let start = dfa
        .start_state_forward(&Input::new("").anchored(Anchored::Yes))
        .unwrap();
    let first: String = (b'0'..=b'9')
        .filter(|&d| !dfa.is_dead_state(dfa.next_state(start, d)))
        .map(char::from)
        .collect();
    let mut states = vec![start];
    for len in 1..=8u8 {
        states = states
            .iter()
            .flat_map(|&s| (b'0'..=b'9').map(move |d| (s, d)))
            .map(|(s, d)| dfa.next_state(s, d))
            .filter(|&s| !dfa.is_dead_state(s))
            .collect();
        states.sort_unstable();
        states.dedup();
        if states
            .iter()
            .any(|&s| dfa.is_match_state(dfa.next_eoi_state(s)))
        {
            return (first, len);
        }
    }
    panic!("no international prefix of up to 8 digits matches {pattern}");
}

fn region(code: &str) -> Region {
    Region::from_code(code).unwrap()
}

#[test]
fn the_region_table_holds_what_the_metadata_says() {
    let mut wrong = Vec::new();
    for r in REGIONS {
        let reg = region(r.code);
        let cc = PHONE_NUMBER_UTIL.get_country_code_for_region(reg).unwrap();
        assert_eq!(i32::from(r.calling_code), cc, "{}", r.code);
        let (idd_first, idd_len) = idd(reg);
        let (national, short) = national_shape(cc);
        let s = r.shape;
        let table_short: Vec<(String, u8)> =
            s.short.iter().map(|&(p, l)| (p.to_owned(), l)).collect();
        if (s.national, &table_short, s.idd_first, s.idd_len)
            != (national, &short, idd_first.as_str(), idd_len)
        {
            wrong.push(format!(
                "{}: ({national}, {short:?}, \"{idd_first}\", {idd_len})",
                r.code
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "shapes in regions.rs to fix:\n{}",
        wrong.join("\n")
    );

    let shortest = PHONE_NUMBER_UTIL
        .get_supported_calling_codes()
        .map(|cc| {
            let shortest = national_lengths(cc).into_keys().next().unwrap_or(u8::MAX);
            cc.to_string().len() as u8 + national_min(cc).min(shortest)
        })
        .min();
    assert_eq!(shortest, Some(MIN_INTERNATIONAL_DIGITS));
}

const TYPES: &[PhoneNumberType] = &[
    PhoneNumberType::FixedLine,
    PhoneNumberType::Mobile,
    PhoneNumberType::TollFree,
    PhoneNumberType::PremiumRate,
    PhoneNumberType::SharedCost,
    PhoneNumberType::VoIP,
    PhoneNumberType::PersonalNumber,
    PhoneNumberType::Pager,
    PhoneNumberType::UAN,
    PhoneNumberType::VoiceMail,
];

/// Every way libphonenumber writes the example numbers of `of` (each type), as seen from
/// `from`: national, international, E.164, RFC 3966, and dialled from `from` (with its
/// international prefix when the countries differ).
fn written_examples(of: Region, from: Region) -> Vec<String> {
    let mut out = Vec::new();
    for &t in TYPES {
        let Ok(n) = PHONE_NUMBER_UTIL.get_example_number_for_type_and_region(of, t) else {
            continue;
        };
        for f in [
            PhoneNumberFormat::National,
            PhoneNumberFormat::International,
            PhoneNumberFormat::E164,
            PhoneNumberFormat::RFC3966,
        ] {
            out.push(PHONE_NUMBER_UTIL.format(&n, f).into_owned());
        }
        out.push(n.format_out_of_country_calling_number(from).into_owned());
    }
    out
}

/// The test for `opts`.
fn test_for(opts: &Options) -> Regex {
    Regex::new(&pattern(shape(&opts.region, opts.area_code.is_some()))).unwrap()
}

/// Checks that `text` passes `test` (made for `opts`) whenever the matcher finds a number in
/// it; true if it did.
fn check(text: &str, opts: &Options, test: &Regex, failures: &mut Vec<String>) -> bool {
    let found = find_numbers(text, opts);
    if found.is_empty() {
        return false;
    }
    if !test.is_match(text) {
        failures.push(format!(
            "{} {:?}: {text:?} holds {}",
            opts.region, opts.area_code, found[0].raw
        ));
    }
    true
}

#[test]
fn no_text_with_a_number_fails_the_test() {
    let mut failures = Vec::new();
    let mut checked = 0;

    for s in &common::snippets() {
        let opts = Options {
            region: s.region.clone(),
            area_code: s.area_code.clone(),
        };
        checked += usize::from(check(&s.text, &opts, &test_for(&opts), &mut failures));
    }

    // Every configurable region's own numbers, and those of a few others dialled from it, bare
    // and in a sentence.
    let others = ["US", "GB", "DE", "AT", "IN", "AU", "BR", "JP", "SG", "NU"];
    for r in REGIONS {
        let from = region(r.code);
        let area = (r.calling_code == 1).then(|| "425".to_owned());
        for opts in [
            Options::region(r.code),
            Options {
                region: r.code.to_owned(),
                area_code: area,
            },
        ] {
            let test = test_for(&opts);
            for of in std::iter::once(r.code).chain(others) {
                for written in written_examples(region(of), from) {
                    checked += usize::from(check(&written, &opts, &test, &mut failures));
                    let sentence = format!("Call {written} today");
                    checked += usize::from(check(&sentence, &opts, &test, &mut failures));
                }
            }
        }
    }
    // Local numbers the area-code rule finds.
    for text in ["555-0100", "Call 555 0100 now"] {
        let opts = Options {
            region: "US".into(),
            area_code: Some("425".into()),
        };
        checked += usize::from(check(text, &opts, &test_for(&opts), &mut failures));
    }

    assert!(
        failures.is_empty(),
        "texts with a number that fail the test:\n{}",
        failures.join("\n")
    );
    assert!(checked > 5_000, "only {checked} texts held a number");
}

#[test]
fn most_decoys_of_a_crm_list_fail_the_test() {
    let us = Regex::new(&pattern(shape("US", false))).unwrap();
    for decoy in [
        "98052-6399",
        "05/10/1986",
        "2024-05-03",
        "05.10.1986",
        "$123,456.78",
        "€1.234.567,89",
        "SO-123456",
        "#123456789",
        "PO 2020/1234",
        "Login from 192.168.10.1",
    ] {
        assert!(!us.is_match(decoy), "{decoy}");
    }
    for number in [
        "(425) 555-0100",
        "425.555.0100",
        "+44 20 7946 0123",
        "+43 1 2345",
        "011 44 20 7946 0123",
        "٤٢٥٥٥٥٠١٠٠",
    ] {
        assert!(us.is_match(number), "{number}");
    }
    // A looser shape finds more.
    let de: Shape = shape("DE", false);
    assert!(Regex::new(&pattern(de)).unwrap().is_match("030 1234"));
}
