//! The labelled snippets of `snippets.json`, shared by the accuracy suite and the candidate
//! tests.

// Each test crate uses part of this (the candidate tests read no labels).
#![allow(dead_code)]

use serde::Deserialize;

#[derive(Deserialize)]
pub struct Snippet {
    pub region: String,
    #[serde(default)]
    pub area_code: Option<String>,
    pub text: String,
    pub expect: Vec<Expected>,
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize, Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Expected {
    pub e164: String,
    #[serde(default)]
    pub ext: Option<String>,
}

/// The file: a sentence saying what it is, then the snippets.
#[derive(Deserialize)]
struct SnippetsFile {
    about: String,
    snippets: Vec<Snippet>,
}

pub fn snippets() -> Vec<Snippet> {
    let json = include_str!("../snippets.json");
    match serde_json::from_str::<SnippetsFile>(json) {
        Ok(file) => file.snippets,
        Err(e) => panic!("snippets.json does not parse: {e}"),
    }
}
