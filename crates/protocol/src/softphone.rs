//! One softphone across all tabs: who hosts it, and whether it is in a conversation.
//!
//! The worker keeps [`Ownership`] in `storage.session` (key [`STORAGE_KEY`]) so that a stopped
//! worker recovers it; tab ids only mean something within one browser session, which is exactly
//! that area's lifetime. The rules, pure and tested here:
//! - the first tab that wants a softphone gets it; later tabs show a bar naming the owner;
//! - the owner keeps it until its tab closes or stops wanting it (navigates to a site without the
//!   panel); then the most recent other tab that wants one gets it ([`Ownership::hand_over`]);
//! - the agent can move it to another tab ("Open here"), except while a conversation is active
//!   ([`Ownership::take`]);
//! - a conversation is active from the moment one loads or is accepted until every one the
//!   driver reported is closed, wrapped up or rejected ([`Conversations`]).

use crate::driver::{ConversationStatus, DriverEvent};
use crate::json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// The `storage.session` key of the record.
pub const STORAGE_KEY: &str = "softphone";
/// Longest tab title kept (the bar shows it).
pub const MAX_TITLE: usize = 80;

/// Who hosts the softphone (schema version 1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ownership {
    pub v: u32,
    pub owner: Option<i32>,
    #[serde(default)]
    pub title: String,
    /// A conversation is active in the owner's widget.
    #[serde(default)]
    pub busy: bool,
}

/// Why the softphone did not move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A conversation is active in the owner tab, titled so.
    Busy(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Busy(title) => write!(
                f,
                "The softphone stays in \u{201c}{title}\u{201d} while a conversation is active there. Move it when the conversation ends."
            ),
        }
    }
}

impl Ownership {
    pub fn to_text(&self) -> String {
        let mut me = self.clone();
        me.v = 1;
        serde_json::to_string(&me).unwrap_or_default()
    }

    /// Reads the stored text; anything unusable is refused with a reason (the caller logs it and
    /// starts with no owner, which the next tab that wants a softphone fixes).
    pub fn from_stored(text: &str) -> Result<Ownership, String> {
        if text.trim().is_empty() {
            return Ok(Ownership::default());
        }
        let value = json::parse_bounded(text).map_err(|e| format!("not readable: {e}"))?;
        match value.get("v").and_then(Value::as_u64) {
            Some(1) => {}
            Some(n) => return Err(format!("unsupported schema version {n}")),
            None => return Err("not readable: no schema version".to_owned()),
        }
        let mut me: Ownership =
            serde_json::from_value(value).map_err(|e| format!("not readable: {e}"))?;
        me.title = clean_title(&me.title);
        Ok(me)
    }

    /// Tab `tab` wants a softphone; `owner_alive` says whether the current owner (if any) is
    /// still there. Returns true when ownership changed (every tab must be told).
    pub fn want(&mut self, tab: i32, title: &str, owner_alive: bool) -> bool {
        match self.owner {
            Some(o) if o == tab => {
                self.title = clean_title(title);
                false
            }
            Some(_) if owner_alive => false,
            _ => {
                self.set_owner(tab, title);
                true
            }
        }
    }

    /// The agent asked to move the softphone to `tab`.
    pub fn take(&mut self, tab: i32, title: &str) -> Result<bool, Refusal> {
        if self.owner == Some(tab) {
            return Ok(false);
        }
        if self.busy && self.owner.is_some() {
            return Err(Refusal::Busy(self.title.clone()));
        }
        self.set_owner(tab, title);
        Ok(true)
    }

    /// The owner `gone` left (tab closed, or no longer wants a softphone): the softphone goes to
    /// the first of `candidates` (most recent first; `(tab, title)`), or to no one. Returns true
    /// when ownership changed.
    pub fn hand_over(&mut self, gone: i32, candidates: &[(i32, String)]) -> bool {
        if self.owner != Some(gone) {
            return false;
        }
        match candidates.iter().find(|(t, _)| *t != gone) {
            Some((t, title)) => self.set_owner(*t, title),
            None => *self = Ownership::default(),
        }
        true
    }

    fn set_owner(&mut self, tab: i32, title: &str) {
        self.v = 1;
        self.owner = Some(tab);
        self.title = clean_title(title);
        // A new widget starts without a conversation.
        self.busy = false;
    }
}

/// A tab title as shown in the bar: trimmed, one line, at most [`MAX_TITLE`] characters.
pub fn clean_title(title: &str) -> String {
    let one_line: String = title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let mut out: String = one_line.chars().take(MAX_TITLE).collect();
    if one_line.chars().count() > MAX_TITLE {
        out.push('\u{2026}');
    }
    if out.is_empty() {
        "another tab".to_owned()
    } else {
        out
    }
}

/// Which conversations the widget has open, from the extended driver's events. The stock driver
/// reports only loads and never an end, so it is not followed: with it nothing counts as active.
#[derive(Clone, Debug, Default)]
pub struct Conversations {
    open: BTreeSet<String>,
}

/// Most conversations followed at once (more is a driver bug; the oldest are forgotten).
const MAX_OPEN: usize = 32;

impl Conversations {
    pub fn active(&self) -> bool {
        !self.open.is_empty()
    }

    /// Follows one event; returns `Some(active)` when "a conversation is active" changed.
    pub fn apply(&mut self, event: &DriverEvent) -> Option<bool> {
        let before = self.active();
        match event {
            DriverEvent::ConversationLoaded(c) => self.open_one(&c.live_work_item_id),
            DriverEvent::ConversationAccepted(w) => self.open_one(&w.live_work_item_id),
            DriverEvent::ConversationRejected(w) => {
                self.open.remove(&w.live_work_item_id);
            }
            DriverEvent::StatusChanged(s) => match ConversationStatus::from_code(s.status_code) {
                ConversationStatus::Closed | ConversationStatus::WrapUp => {
                    self.open.remove(&s.live_work_item_id);
                }
                ConversationStatus::Active => self.open_one(&s.live_work_item_id),
                ConversationStatus::Other(_) => {}
            },
            _ => {}
        }
        (self.active() != before).then_some(self.active())
    }

    /// The widget reloaded: what it had open is gone with it.
    pub fn clear(&mut self) -> Option<bool> {
        let before = self.active();
        self.open.clear();
        before.then_some(false)
    }

    fn open_one(&mut self, id: &str) {
        if id.is_empty() {
            return;
        }
        if self.open.len() >= MAX_OPEN {
            let first = self.open.iter().next().cloned();
            if let Some(first) = first {
                self.open.remove(&first);
            }
        }
        self.open.insert(id.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{StatusChange, WorkItem};

    #[test]
    fn first_tab_owns_and_others_wait() {
        let mut o = Ownership::default();
        assert!(o.want(1, "CRM one", false));
        assert_eq!(o.owner, Some(1));
        assert!(!o.want(2, "CRM two", true));
        assert_eq!(o.owner, Some(1));
        // An owner that is gone (e.g. after a worker restart, its tab closed) is replaced.
        assert!(o.want(2, "CRM two", false));
        assert_eq!((o.owner, o.title.as_str()), (Some(2), "CRM two"));
    }

    #[test]
    fn hand_over_picks_the_first_other_candidate_or_no_one() {
        let mut o = Ownership::default();
        o.want(1, "a", false);
        assert!(
            !o.hand_over(7, &[(2, "b".into())]),
            "not the owner: no change"
        );
        assert!(o.hand_over(1, &[(1, "a".into()), (3, "c".into()), (2, "b".into())]));
        assert_eq!(o.owner, Some(3));
        assert!(o.hand_over(3, &[]));
        assert_eq!(o, Ownership::default());
    }

    #[test]
    fn a_move_is_refused_while_busy() {
        let mut o = Ownership::default();
        o.want(1, "Contacts", false);
        o.busy = true;
        let e = o.take(2, "Cases").map_err(|e| e.to_string());
        assert!(e.as_ref().is_err_and(|e| e.contains("Contacts")), "{e:?}");
        assert_eq!(o.owner, Some(1));
        o.busy = false;
        assert_eq!(o.take(2, "Cases"), Ok(true));
        assert_eq!(o.take(2, "Cases"), Ok(false));
    }

    #[test]
    fn stored_records_round_trip_and_bad_ones_are_refused() {
        let mut o = Ownership::default();
        o.want(5, "  Accounts\n list ", false);
        o.busy = true;
        let back = Ownership::from_stored(&o.to_text());
        assert_eq!(back, Ok(o.clone()));
        assert_eq!(o.title, "Accounts list");
        assert_eq!(Ownership::from_stored(""), Ok(Ownership::default()));
        for bad in [
            "{",
            "[]",
            r#"{"owner":1}"#,
            r#"{"v":2,"owner":1}"#,
            r#"{"v":1,"owner":"x"}"#,
        ] {
            assert!(Ownership::from_stored(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn titles_are_cut_and_never_empty() {
        assert_eq!(clean_title(""), "another tab");
        let long = "x".repeat(200);
        assert_eq!(clean_title(&long).chars().count(), MAX_TITLE + 1);
    }

    fn status(id: &str, code: i64) -> DriverEvent {
        DriverEvent::StatusChanged(StatusChange {
            live_work_item_id: id.into(),
            status_code: code,
        })
    }

    #[test]
    fn conversations_open_and_close() {
        let mut c = Conversations::default();
        let acc = |id: &str| {
            DriverEvent::ConversationAccepted(WorkItem {
                live_work_item_id: id.into(),
            })
        };
        assert_eq!(c.apply(&acc("a")), Some(true));
        assert_eq!(c.apply(&acc("b")), None);
        assert_eq!(c.apply(&status("a", 4)), None);
        assert_eq!(c.apply(&status("b", 5)), Some(false));
        assert_eq!(c.apply(&status("c", 2)), Some(true));
        assert_eq!(c.clear(), Some(false));
        assert_eq!(c.clear(), None);
        for i in 0..100 {
            c.apply(&acc(&format!("x{i}")));
        }
        assert!(c.open.len() <= MAX_OPEN);
    }
}
