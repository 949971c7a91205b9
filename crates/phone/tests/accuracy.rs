//! Accuracy suite: runs `find_numbers` over the labelled snippets in `snippets.json` and checks
//! precision and recall against human labels (what an agent wants clickable and what it should
//! dial), not against what any matcher says.
//!
//! Each snippet has a region, an optional area code, the text, and the expected numbers as E.164
//! plus extension. A found number counts as a true positive only if both its E.164 and its
//! extension match a label; so a wrong extension is one false positive and one false negative.
//! Run with `cargo test -p phone --test accuracy -- --nocapture` to see the figures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use phone::{find_numbers, Options};
use rlibphonenumber::PHONE_NUMBER_UTIL;

const MIN_PRECISION: f64 = 0.99;
const MIN_RECALL: f64 = 0.98;

mod common;

use common::{snippets, Expected};

#[derive(Default)]
struct Score {
    tp: usize,
    fp: usize,
    fn_: usize,
}

impl Score {
    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

#[test]
fn labels_are_valid_numbers() {
    // A typo in a label would make the suite measure the labels, not the detector.
    for s in snippets() {
        for e in &s.expect {
            let ok = PHONE_NUMBER_UTIL
                .parse(&e.e164, None)
                .map(|n| PHONE_NUMBER_UTIL.is_valid_number(&n) && e.e164.starts_with('+'))
                .unwrap_or(false);
            assert!(
                ok,
                "label {} of {:?} is not a valid E.164 number",
                e.e164, s.text
            );
        }
    }
}

#[test]
fn precision_and_recall() {
    let snippets = snippets();
    let regions: BTreeSet<&str> = snippets.iter().map(|s| s.region.as_str()).collect();
    assert!(snippets.len() >= 300, "only {} snippets", snippets.len());
    assert!(regions.len() >= 10, "only {} regions", regions.len());

    let mut total = Score::default();
    let mut per_region: BTreeMap<&str, Score> = BTreeMap::new();
    let mut misses = Vec::new();
    for s in &snippets {
        let opts = Options {
            region: s.region.clone(),
            area_code: s.area_code.clone(),
        };
        let found = find_numbers(&s.text, &opts);
        let mut expected = s.expect.clone();
        let score = per_region.entry(s.region.as_str()).or_default();
        for f in &found {
            let got = Expected {
                e164: f.e164.clone(),
                ext: f.extension.clone(),
            };
            if let Some(i) = expected.iter().position(|e| *e == got) {
                expected.swap_remove(i);
                score.tp += 1;
                total.tp += 1;
            } else {
                score.fp += 1;
                total.fp += 1;
                misses.push(format!(
                    "FP [{}] {:?} in {:?} ({})",
                    s.region, f.raw, s.text, s.note
                ));
            }
        }
        for e in expected {
            score.fn_ += 1;
            total.fn_ += 1;
            misses.push(format!(
                "FN [{}] {:?} in {:?} ({})",
                s.region, e, s.text, s.note
            ));
        }
    }

    println!("region   TP  FP  FN  precision  recall");
    for (region, s) in &per_region {
        println!(
            "{region:<6} {:>4} {:>3} {:>3}  {:>8.2}%  {:>5.1}%",
            s.tp,
            s.fp,
            s.fn_,
            100.0 * s.precision(),
            100.0 * s.recall()
        );
    }
    println!(
        "all    {:>4} {:>3} {:>3}  {:>8.2}%  {:>5.1}%   ({} snippets, {} regions)",
        total.tp,
        total.fp,
        total.fn_,
        100.0 * total.precision(),
        100.0 * total.recall(),
        snippets.len(),
        regions.len()
    );
    for m in &misses {
        println!("{m}");
    }
    assert!(
        total.precision() >= MIN_PRECISION,
        "precision {:.4} below {MIN_PRECISION}",
        total.precision()
    );
    assert!(
        total.recall() >= MIN_RECALL,
        "recall {:.4} below {MIN_RECALL}",
        total.recall()
    );
}
