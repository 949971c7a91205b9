//! The agent's presence as the extension keeps it: one record, `presence` in `storage.local`
//! (JSON text), written by the panel frame on every presence change the driver reports and read
//! by the worker for the toolbar badge.
//!
//! **The newest choice wins.** Every record carries the time (ms since the epoch) the choice was
//! made; a record replaces the stored one only if it is not older ([`PresenceRecord::newer`]).
//!
//! Schema: version 1 is [`PresenceRecord`]. A record without `v` (version 0: the Embed SDK's own
//! presence object, `presenceId`/`presenceText`/`basePresenceStatus`/`presenceColor`, with an
//! optional `time`) is migrated; any other version, corrupted JSON or a field of the wrong type
//! is refused with a message for the caller to log. Nothing here panics.

use crate::driver::{BaseStatus, Presence, PresenceChange};
use crate::json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `storage.local` key of the record.
pub const STORAGE_KEY: &str = "presence";
/// The schema version [`PresenceRecord::to_text`] writes.
pub const SCHEMA_VERSION: u32 = 1;
/// Longest presence id, text and colour kept.
pub const MAX_ID: usize = 128;
pub const MAX_TEXT: usize = 128;
pub const MAX_COLOR: usize = 16;
/// Most presence options kept.
pub const MAX_OPTIONS: usize = 64;

/// One presence the agent can be in (the record's own and each of its options).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceOption {
    pub id: String,
    pub text: String,
    pub base_status: BaseStatus,
    /// `#rgb` or `#rrggbb`: the SDK's colour when it gave a valid one, else [`status_color`].
    pub color: String,
}

/// The stored record (schema [`SCHEMA_VERSION`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceRecord {
    pub v: u32,
    pub presence_id: String,
    pub text: String,
    pub base_status: BaseStatus,
    pub color: String,
    #[serde(default)]
    pub options: Vec<PresenceOption>,
    /// When the agent chose it, ms since the epoch.
    pub chosen_at: u64,
}

impl PresenceOption {
    /// From the SDK's presence object: the text falls back to the name, then the id, and is cut
    /// to [`MAX_TEXT`]; the colour falls back to the base status's. The id is kept as it is (it
    /// is what `setPresence` needs), so an overlong one fails [`PresenceRecord::validate`].
    pub fn from_sdk(p: &Presence) -> PresenceOption {
        let text = [&p.presence_text, &p.presence_name, &p.presence_id]
            .into_iter()
            .find(|s| !s.trim().is_empty())
            .map_or(String::new(), |s| truncate(s, MAX_TEXT));
        PresenceOption {
            id: p.presence_id.clone(),
            text,
            base_status: p.base_presence_status,
            color: color_or_default(p.presence_color.as_deref(), p.base_presence_status),
        }
    }
}

impl PresenceRecord {
    /// The record for a change the driver reported at `now_ms`. Options with an empty or
    /// overlong id are left out; the first [`MAX_OPTIONS`] are kept.
    pub fn from_change(change: &PresenceChange, now_ms: u64) -> PresenceRecord {
        let me = PresenceOption::from_sdk(&change.presence);
        let options = change
            .options
            .iter()
            .flatten()
            .filter(|o| valid_id(&o.presence_id))
            .take(MAX_OPTIONS)
            .map(PresenceOption::from_sdk)
            .collect();
        PresenceRecord {
            v: SCHEMA_VERSION,
            presence_id: me.id,
            text: me.text,
            base_status: me.base_status,
            color: me.color,
            options,
            chosen_at: now_ms,
        }
    }

    /// "The newest choice wins": true when `self` was chosen strictly later than `other`. A
    /// record at the same time as the stored one does not count as older and replaces it.
    pub fn newer(&self, other: &PresenceRecord) -> bool {
        self.chosen_at > other.chosen_at
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored text: `Ok(None)` for an empty value (`""` or `null`, a cleared record),
    /// `Err` with a readable reason for anything unusable; an older version is migrated.
    pub fn from_stored(text: &str) -> Result<Option<PresenceRecord>, String> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let value = json::parse_bounded(text).map_err(|e| format!("not readable: {e}"))?;
        let obj = match &value {
            Value::Null => return Ok(None),
            Value::Object(o) => o,
            _ => return Err("not readable: not an object".to_owned()),
        };
        let record = match obj.get("v") {
            None => migrate_v0(&value)?,
            Some(v) => match v.as_u64() {
                Some(1) => serde_json::from_value::<PresenceRecord>(value.clone())
                    .map_err(|e| format!("not readable: {e}"))?,
                Some(n) => return Err(format!("unsupported schema version {n}")),
                None => return Err("not readable: `v` must be a number".to_owned()),
            },
        };
        record.validate()?;
        Ok(Some(record))
    }

    /// Checks ids, lengths and colours (a record the SDK gave an empty id is not stored).
    pub fn validate(&self) -> Result<(), String> {
        let all = std::iter::once((&self.presence_id, &self.text, &self.color))
            .chain(self.options.iter().map(|o| (&o.id, &o.text, &o.color)));
        for (id, text, color) in all {
            if !valid_id(id) {
                return Err("not readable: a presence id is empty or too long".to_owned());
            }
            if text.chars().count() > MAX_TEXT {
                return Err("not readable: a presence text is too long".to_owned());
            }
            if !is_hex_color(color) {
                return Err(format!("not readable: {color:?} is not a colour"));
            }
        }
        if self.options.len() > MAX_OPTIONS {
            return Err("not readable: too many presence options".to_owned());
        }
        Ok(())
    }
}

/// The id prefix of a presence chosen by base status alone (when no option list is known, e.g.
/// with the stock driver): `base:AVAILABLE`. Restoring one asks the driver by base status.
pub const BASE_ID_PREFIX: &str = "base:";

/// One option per base status, for when the driver reported no list.
pub fn base_options() -> Vec<PresenceOption> {
    [
        BaseStatus::Available,
        BaseStatus::Busy,
        BaseStatus::BusyDoNotDisturb,
        BaseStatus::Away,
        BaseStatus::Offline,
    ]
    .into_iter()
    .map(|b| PresenceOption {
        id: format!("{BASE_ID_PREFIX}{}", base_name(b)),
        text: base_text(b).to_owned(),
        base_status: b,
        color: status_color(b).to_owned(),
    })
    .collect()
}

fn base_name(b: BaseStatus) -> &'static str {
    match b {
        BaseStatus::Available => "AVAILABLE",
        BaseStatus::Away => "AWAY",
        BaseStatus::Busy => "BUSY",
        BaseStatus::BusyDoNotDisturb => "BUSY_DO_NOT_DISTURB",
        BaseStatus::Offline => "OFFLINE",
    }
}

/// A base status as the agent reads it.
pub fn base_text(b: BaseStatus) -> &'static str {
    match b {
        BaseStatus::Available => "Available",
        BaseStatus::Away => "Away",
        BaseStatus::Busy => "Busy",
        BaseStatus::BusyDoNotDisturb => "Do not disturb",
        BaseStatus::Offline => "Offline",
    }
}

impl PresenceRecord {
    /// The options to offer: the driver's list, or one per base status.
    pub fn offered(record: Option<&PresenceRecord>) -> Vec<PresenceOption> {
        match record {
            Some(r) if !r.options.is_empty() => r.options.clone(),
            _ => base_options(),
        }
    }

    /// The record for a choice the agent made outside the widget (the popup), by id or by base
    /// status, among [`Self::offered`]; chosen at `now_ms`.
    pub fn choose(
        stored: Option<&PresenceRecord>,
        id: Option<&str>,
        base: Option<BaseStatus>,
        now_ms: u64,
    ) -> Result<PresenceRecord, String> {
        let offered = Self::offered(stored);
        let found = match (id, base) {
            (Some(id), _) => offered.iter().find(|o| o.id == id).cloned(),
            (None, Some(b)) => offered.iter().find(|o| o.base_status == b).cloned(),
            (None, None) => None,
        };
        let chosen = found
            .or_else(|| base.and_then(|b| base_options().into_iter().find(|o| o.base_status == b)))
            .ok_or_else(|| "not one of the presence options".to_owned())?;
        Ok(PresenceRecord {
            v: SCHEMA_VERSION,
            presence_id: chosen.id,
            text: chosen.text,
            base_status: chosen.base_status,
            color: chosen.color,
            options: stored.map(|r| r.options.clone()).unwrap_or_default(),
            chosen_at: now_ms,
        })
    }

    /// How to ask the driver for this presence: `(id, None)`, or `(None, base)` for a choice made
    /// by base status alone.
    pub fn restore_request(&self) -> (Option<String>, Option<BaseStatus>) {
        if self.presence_id.starts_with(BASE_ID_PREFIX) {
            (None, Some(self.base_status))
        } else {
            (Some(self.presence_id.clone()), None)
        }
    }
}

/// Version 0: the SDK's presence object as it came, optionally with `time`.
fn migrate_v0(value: &Value) -> Result<PresenceRecord, String> {
    let p: Presence = serde_json::from_value(value.clone())
        .map_err(|e| format!("not readable as an unversioned record: {e}"))?;
    let chosen_at = match value.get("time") {
        None | Some(Value::Null) => 0,
        Some(t) => t
            .as_u64()
            .ok_or("not readable: `time` must be a whole number")?,
    };
    Ok(PresenceRecord::from_change(
        &PresenceChange {
            presence: p,
            options: None,
        },
        chosen_at,
    ))
}

/// The badge's short label for a base status.
pub fn badge_label(status: BaseStatus) -> &'static str {
    match status {
        BaseStatus::Available => "ON",
        BaseStatus::Busy => "BSY",
        BaseStatus::BusyDoNotDisturb => "DND",
        BaseStatus::Away => "AWY",
        BaseStatus::Offline => "OFF",
    }
}

/// The colour of a base status when the SDK gives none (the Teams palette the widget uses).
pub fn status_color(status: BaseStatus) -> &'static str {
    match status {
        BaseStatus::Available => "#92C353",
        BaseStatus::Busy => "#C4314B",
        BaseStatus::BusyDoNotDisturb => "#8B1A2B",
        BaseStatus::Away => "#FFAA44",
        BaseStatus::Offline => "#8A8886",
    }
}

fn color_or_default(given: Option<&str>, status: BaseStatus) -> String {
    match given.map(str::trim) {
        Some(c) if is_hex_color(c) => c.to_owned(),
        _ => status_color(status).to_owned(),
    }
}

/// `#rgb` or `#rrggbb` (the forms `chrome.action.setBadgeBackgroundColor` takes as a string).
pub fn is_hex_color(c: &str) -> bool {
    let Some(hex) = c.strip_prefix('#') else {
        return false;
    };
    c.len() <= MAX_COLOR
        && matches!(hex.len(), 3 | 6)
        && hex.chars().all(|ch| ch.is_ascii_hexdigit())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= MAX_ID
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdk(id: &str, base: BaseStatus, color: Option<&str>) -> Presence {
        Presence {
            presence_id: id.into(),
            presence_name: format!("{id} name"),
            presence_text: format!("{id} text"),
            base_presence_status: base,
            presence_color: color.map(str::to_owned),
            can_user_set: true,
        }
    }

    fn record(at: u64) -> PresenceRecord {
        PresenceRecord::from_change(
            &PresenceChange {
                presence: sdk("busy", BaseStatus::Busy, Some("#C4314B")),
                options: Some(vec![
                    sdk("on", BaseStatus::Available, None),
                    sdk("busy", BaseStatus::Busy, Some("#C4314B")),
                ]),
            },
            at,
        )
    }

    #[test]
    fn round_trips_and_derives_colours() {
        let r = record(1_700_000_000_000);
        assert_eq!(r.v, SCHEMA_VERSION);
        assert_eq!(r.text, "busy text");
        assert_eq!(r.color, "#C4314B");
        assert_eq!(r.options[0].color, status_color(BaseStatus::Available));
        assert_eq!(PresenceRecord::from_stored(&r.to_text()), Ok(Some(r)));
        let odd = PresenceOption::from_sdk(&sdk("x", BaseStatus::Away, Some("red; x")));
        assert_eq!(odd.color, "#FFAA44");
        let mut blank = sdk("only-id", BaseStatus::Offline, None);
        blank.presence_text.clear();
        blank.presence_name.clear();
        assert_eq!(PresenceOption::from_sdk(&blank).text, "only-id");
    }

    #[test]
    fn empty_values_mean_no_record() {
        assert_eq!(PresenceRecord::from_stored(""), Ok(None));
        assert_eq!(PresenceRecord::from_stored("null"), Ok(None));
    }

    #[test]
    fn corrupted_and_wrong_types_are_refused() {
        for bad in [
            "{not json",
            "[1,2]",
            "\"text\"",
            r##"{"v":"1"}"##,
            r##"{"v":1,"presenceId":"p","text":"t","baseStatus":"ON_FIRE","color":"#fff","chosenAt":1}"##,
            r##"{"v":1,"presenceId":7,"text":"t","baseStatus":"AWAY","color":"#fff","chosenAt":1}"##,
            r##"{"v":1,"presenceId":"p","text":"t","baseStatus":"AWAY","color":"#fff","chosenAt":-1}"##,
            r##"{"v":1,"presenceId":"p","text":"t","baseStatus":"AWAY","color":"url(x)","chosenAt":1}"##,
            r##"{"v":1,"presenceId":"","text":"t","baseStatus":"AWAY","color":"#fff","chosenAt":1}"##,
            r##"{"v":1,"presenceId":"p","text":"t","baseStatus":"AWAY","color":"#fff","chosenAt":1,"options":{}}"##,
            r##"{"v":1,"presenceId":"p","text":"t","baseStatus":"AWAY","color":"#fff","chosenAt":1,"__proto__":{}}"##,
            r##"{"presenceId":"p","basePresenceStatus":"AWAY","time":"soon"}"##,
            r##"{"presenceText":"no id"}"##,
        ] {
            let got = PresenceRecord::from_stored(bad);
            assert!(
                matches!(&got, Err(m) if !m.is_empty()),
                "{bad} gave {got:?}"
            );
        }
    }

    #[test]
    fn versions_other_than_known_ones_are_refused() {
        let mut r = record(5).to_text();
        r = r.replace("\"v\":1", "\"v\":2");
        assert_eq!(
            PresenceRecord::from_stored(&r),
            Err("unsupported schema version 2".to_owned())
        );
    }

    #[test]
    fn an_older_unversioned_record_is_migrated() {
        let old =
            r##"{"presenceId":"a","presenceText":"Away","basePresenceStatus":"AWAY","time":42}"##;
        let r = PresenceRecord::from_stored(old).ok().flatten();
        assert_eq!(
            r,
            Some(PresenceRecord {
                v: SCHEMA_VERSION,
                presence_id: "a".into(),
                text: "Away".into(),
                base_status: BaseStatus::Away,
                color: status_color(BaseStatus::Away).into(),
                options: vec![],
                chosen_at: 42,
            })
        );
        let no_time =
            r##"{"presenceId":"a","basePresenceStatus":"OFFLINE","presenceColor":"#123"}"##;
        let r = PresenceRecord::from_stored(no_time).ok().flatten();
        assert_eq!(r.map(|r| (r.chosen_at, r.color)), Some((0, "#123".into())));
    }

    #[test]
    fn oversized_input_is_refused() {
        let huge = format!(
            r##"{{"v":1,"presenceId":"p","text":"{}","baseStatus":"AWAY","color":"#fff","chosenAt":1}}"##,
            "a".repeat(crate::MAX_MESSAGE_BYTES)
        );
        assert!(PresenceRecord::from_stored(&huge).is_err());
        let long = r##"{"v":1,"presenceId":"p","text":"TEXT","baseStatus":"AWAY","color":"#fff","chosenAt":1}"##
            .replace("TEXT", &"a".repeat(MAX_TEXT + 1));
        assert!(PresenceRecord::from_stored(&long).is_err());
        let mut many = record(1);
        many.options = vec![many.options[0].clone(); MAX_OPTIONS + 1];
        assert!(PresenceRecord::from_stored(&many.to_text()).is_err());
    }

    #[test]
    fn every_truncation_of_a_record_is_read_or_refused_without_panic() {
        let text = record(1_700_000_000_000).to_text();
        for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
            match PresenceRecord::from_stored(&text[..end]) {
                Ok(None) => assert!(text[..end].trim().is_empty()),
                Ok(Some(r)) => assert_eq!(Some(r), None, "a truncated record was read"),
                Err(m) => assert!(!m.is_empty()),
            }
        }
    }

    #[test]
    fn sdk_values_are_bounded_before_storing() {
        let mut p = sdk("p", BaseStatus::Away, Some("#FFAA44"));
        p.presence_text = "é".repeat(MAX_TEXT * 2);
        let bad_option = sdk(&"x".repeat(MAX_ID + 1), BaseStatus::Busy, None);
        let change = PresenceChange {
            presence: p.clone(),
            options: Some(vec![bad_option, p.clone(), sdk("", BaseStatus::Busy, None)]),
        };
        let r = PresenceRecord::from_change(&change, 9);
        assert_eq!(r.text.chars().count(), MAX_TEXT);
        assert_eq!(r.options.len(), 1);
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(PresenceRecord::from_stored(&r.to_text()), Ok(Some(r)));
        p.presence_id = "y".repeat(MAX_ID + 1);
        let long_id = PresenceChange {
            presence: p,
            options: None,
        };
        assert!(PresenceRecord::from_change(&long_id, 9).validate().is_err());
    }

    #[test]
    fn the_newest_choice_wins() {
        assert!(record(2).newer(&record(1)));
        assert!(!record(1).newer(&record(2)));
        assert!(!record(1).newer(&record(1)));
    }

    #[test]
    fn a_choice_from_the_popup_uses_the_known_options_or_base_statuses() {
        let r = record(10);
        let busy = PresenceRecord::choose(Some(&r), Some("on"), None, 20);
        assert_eq!(
            busy.as_ref().map(|b| (b.presence_id.as_str(), b.chosen_at)),
            Ok(("on", 20))
        );
        assert_eq!(
            busy.as_ref().map(|b| b.options.clone()),
            Ok(r.options.clone())
        );
        assert_eq!(
            busy.map(|b| b.restore_request()),
            Ok((Some("on".into()), None))
        );
        assert!(PresenceRecord::choose(Some(&r), Some("nope"), None, 20).is_err());
        assert!(PresenceRecord::choose(None, None, None, 20).is_err());
        let away = PresenceRecord::choose(None, None, Some(BaseStatus::Away), 30);
        assert_eq!(
            away.as_ref()
                .map(|a| (a.presence_id.as_str(), a.text.as_str())),
            Ok(("base:AWAY", "Away"))
        );
        assert_eq!(
            away.as_ref().map(|a| a.restore_request()),
            Ok((None, Some(BaseStatus::Away)))
        );
        assert_eq!(away.map(|a| a.validate()), Ok(Ok(())));
        assert_eq!(PresenceRecord::offered(None).len(), 5);
    }

    #[test]
    fn badge_labels() {
        assert_eq!(badge_label(BaseStatus::Available), "ON");
        assert_eq!(badge_label(BaseStatus::Busy), "BSY");
        assert_eq!(badge_label(BaseStatus::BusyDoNotDisturb), "DND");
        assert_eq!(badge_label(BaseStatus::Away), "AWY");
        assert_eq!(badge_label(BaseStatus::Offline), "OFF");
    }
}
