//! Why a message was dropped. Every boundary drops bad input with one of these, logs one
//! debug-level line and counts it; the counters are what the tests read.

use crate::number::NumberError;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Larger than [`crate::MAX_MESSAGE_BYTES`].
    TooLarge,
    /// Not JSON, or a JSON value the boundary cannot take (a cycle, a BigInt...).
    NotJson,
    /// JSON, but not the shape of any message this boundary accepts.
    WrongShape(String),
    /// A well-formed envelope of a type this version does not know.
    UnknownType(String),
    UnsupportedVersion(u64),
    /// A `__proto__`, `constructor` or `prototype` key anywhere in the message.
    ForbiddenKey,
    /// Nesting deeper than any real message.
    TooDeep,
    BadNumber(NumberError),
    /// The sender's origin is not the one this boundary trusts.
    WrongOrigin,
    /// The sending window is not the one this boundary trusts.
    WrongSource,
    /// The page's origin is not a site the agent enabled.
    SiteNotEnabled,
}

impl DropReason {
    /// A stable short code, used as the counter's key and in replies.
    pub fn code(&self) -> &'static str {
        match self {
            DropReason::TooLarge => "tooLarge",
            DropReason::NotJson => "notJson",
            DropReason::WrongShape(_) => "wrongShape",
            DropReason::UnknownType(_) => "unknownType",
            DropReason::UnsupportedVersion(_) => "unsupportedVersion",
            DropReason::ForbiddenKey => "forbiddenKey",
            DropReason::TooDeep => "tooDeep",
            DropReason::BadNumber(_) => "badNumber",
            DropReason::WrongOrigin => "wrongOrigin",
            DropReason::WrongSource => "wrongSource",
            DropReason::SiteNotEnabled => "siteNotEnabled",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::TooLarge => {
                write!(f, "message larger than {} bytes", crate::MAX_MESSAGE_BYTES)
            }
            DropReason::NotJson => f.write_str("message is not JSON"),
            DropReason::WrongShape(why) => write!(f, "message has the wrong shape: {why}"),
            DropReason::UnknownType(t) => write!(f, "unknown message type {t:?}"),
            DropReason::UnsupportedVersion(v) => {
                write!(
                    f,
                    "protocol version {v} is not supported (this bridge speaks {})",
                    crate::PROTOCOL_VERSION
                )
            }
            DropReason::ForbiddenKey => {
                f.write_str("message holds a __proto__/constructor/prototype key")
            }
            DropReason::TooDeep => f.write_str("message is nested too deeply"),
            DropReason::BadNumber(e) => write!(f, "not a phone number: {e}"),
            DropReason::WrongOrigin => f.write_str("sender origin is not trusted here"),
            DropReason::WrongSource => f.write_str("sender window is not trusted here"),
            DropReason::SiteNotEnabled => f.write_str("this site is not enabled for the bridge"),
        }
    }
}

/// Counts drops by reason code. Plain data so every context can keep one and expose it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DropCounters {
    counts: Vec<(&'static str, u64)>,
}

impl DropCounters {
    pub fn record(&mut self, reason: &DropReason) {
        let code = reason.code();
        match self.counts.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((code, 1)),
        }
    }

    pub fn get(&self, code: &str) -> u64 {
        self.counts
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(0, |(_, n)| *n)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.counts.iter().copied()
    }
}
