//! Messages between the extension's own contexts: content script, background worker, panel frame
//! and the probe that runs inside the widget's frame.
//!
//! They travel as JSON text over `chrome.runtime` ports and messages, which page scripts can
//! neither read nor forge. They are still decoded with the same bounded decoder: a bug in one
//! context must not crash another.

use crate::config::Numbering;
use crate::driver::{BaseStatus, DriverEvent, DriverRequest};
use crate::page::{BridgeStatus, PageError, PageEvent};
use crate::{json, DropReason, E164};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Identifies one click-to-dial across retries: the content script's session and its counter.
/// The panel delivers each id at most once, so a resend after a worker restart never dials twice.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DialId {
    pub session: String,
    pub seq: u64,
}

/// How a click-to-dial ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum DialOutcome {
    /// Posted to a bound driver (the stock driver gives no further answer).
    Delivered,
    /// The extended driver confirmed that the SDK took the number.
    Accepted,
    Failed(PageError),
}

/// Content script → background (over the content script's port).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum ContentToBackground {
    Hello {
        session: String,
        url: String,
    },
    Dial {
        id: DialId,
        number: E164,
    },
    /// A request for the extended driver from the page (presence and the like).
    DriverRequest {
        id: DialId,
        request: DriverRequest,
    },
    GetStatus,
    /// Drop counters of this page's bridge, for diagnostics and the tests.
    Stats {
        drops: Vec<(String, u64)>,
    },
    /// Page text that may hold phone numbers, for the worker's matcher (see [`Scan`]).
    Scan(Scan),
    /// Whether this tab wants a softphone (the panel is enabled for its site), with its title
    /// for the other tabs' bar. Sent when the configuration is read or changes, and again after
    /// every reconnect; answered with [`BackgroundToContent::Role`].
    Softphone {
        wanted: bool,
        title: String,
    },
    /// The agent asked to move the softphone to this tab ("Open here").
    TakeSoftphone,
    /// The agent asked to see the tab that holds the softphone.
    ShowSoftphone,
}

/// Which tab hosts the one live softphone, as told to each tab that wants one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "camelCase")]
pub enum Role {
    /// This tab hosts the widget.
    Owner,
    /// Another tab does: this one shows a slim bar naming it.
    Elsewhere { title: String },
}

/// One batch of page text for the phone-number matcher, which runs in the worker so that its
/// size and start-up stay off the page. `texts` are runs of text that read as one (text nodes
/// joined across inline elements); `links` are the targets of `tel:`, `callto:` and `sip:` links,
/// without the scheme; `numbering` is the region and area code they were read under. The answer
/// is a [`BackgroundToContent::Found`] with the same `batch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    pub batch: u32,
    pub texts: Vec<String>,
    pub links: Vec<String>,
    pub numbering: Numbering,
}

/// The most one [`Scan`] carries, in bytes of its JSON text as [`json_cost`] estimates it, so
/// that the encoded batch stays within [`crate::MAX_MESSAGE_BYTES`] and one matcher task stays
/// short.
pub const MAX_SCAN_BYTES: usize = 40 * 1024;

/// An upper bound of the bytes `s` takes as a JSON string: UTF-8 length, plus the escapes
/// (`\"`, `\\`, `\n`, `\u0001`...), plus its quotes and comma.
pub fn json_cost(s: &str) -> usize {
    let escapes: usize = s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' => 1,
            0..=0x1f => 5,
            _ => 0,
        })
        .sum();
    s.len() + escapes + 3
}

/// A number found in `texts[text]` of a [`Scan`], at UTF-16 offsets `start..end`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    pub text: u32,
    pub start: u32,
    pub end: u32,
    pub number: E164,
    /// The accessible name of the element that dials it, e.g. `Call +1 425-555-0100`.
    pub label: String,
}

/// The number behind `links[link]` of a [`Scan`]; links that are not valid numbers are left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkHit {
    pub link: u32,
    pub number: E164,
    pub label: String,
}

/// Background → content script.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum BackgroundToContent {
    /// The worker's answer to `Hello`.
    Welcome {
        version: String,
    },
    DialResult {
        id: DialId,
        outcome: DialOutcome,
    },
    Event {
        event: PageEvent,
    },
    Status {
        status: BridgeStatus,
    },
    TogglePanel,
    ShowPanel,
    /// The matcher's answer to a [`Scan`], in one or more parts (see [`encode_found`]); `last`
    /// marks the final one.
    Found {
        batch: u32,
        hits: Vec<Hit>,
        links: Vec<LinkHit>,
        last: bool,
    },
    /// Dial a number the agent chose outside the page's own markup (the context menu).
    DialNumber {
        number: E164,
    },
    /// Something to tell the agent in this tab (e.g. a selection that is not a phone number).
    Notice {
        text: String,
    },
    /// The answer to [`ContentToBackground::Softphone`], and every change of owner after.
    Role(Role),
    /// Whether the owner's softphone is in a conversation (the page warns before unload).
    Busy {
        active: bool,
    },
}

/// Panel frame → background (over the panel's port).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum PanelToBackground {
    Hello,
    DialResult {
        id: DialId,
        outcome: DialOutcome,
    },
    DriverEvent {
        event: DriverEvent,
    },
    /// Events that arrived within one task, in order: one port message instead of many.
    DriverEvents {
        events: Vec<DriverEvent>,
    },
    Status {
        status: BridgeStatus,
    },
    /// The SDK asked for the panel to be shown or hidden.
    ShowPanel {
        visible: bool,
    },
    Stats {
        drops: Vec<(String, u64)>,
    },
    /// Whether a conversation is in progress (known from the extended driver's events only):
    /// while it is, the softphone does not move to another tab.
    Busy {
        active: bool,
    },
}

/// Background → panel frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum BackgroundToPanel {
    /// The worker's answer to `Hello`: proof that the port reached a live worker, and the tab
    /// the panel is in (for its direct port to that tab's content script).
    Welcome {
        tab_id: i32,
    },
    Dial {
        id: DialId,
        number: E164,
    },
    Probe {
        report: ProbeReport,
    },
    GetStatus,
    /// The agent chose a presence outside the widget (the popup).
    SetPresence(PresenceChoice),
    /// Where conversation events go: `true` when this panel's own tab is where the agent works,
    /// `false` when they go through the worker to another tab.
    EventsHere {
        here: bool,
    },
}

/// What the probe inside the widget's frame reports. `doc` is random per widget document, so a
/// report from a document that has since been replaced can be told apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum ProbeReport {
    /// The widget's document runs: proof of life, which the frame's `load` event is not.
    Alive { doc: String },
    /// The widget bound its CTI driver (`bindEvents` returned): click-to-dial can be delivered.
    DriverReady { doc: String },
    /// The widget's document is going away (reload or navigation).
    Gone { doc: String },
}

/// One-shot messages to the background (`chrome.runtime.sendMessage`), from contexts that hold
/// no port: the probe in the widget frame, the popup, the options page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum OneShot {
    Probe {
        report: ProbeReport,
    },
    Ping,
    /// The options page saved a configuration: re-register content scripts now.
    ConfigSaved,
    /// The popup set the agent's presence. Answered with a short status text.
    SetPresence(PresenceChoice),
}

/// A presence the agent chose outside the widget: by id, or by base status when no id is known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceChoice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_status: Option<BaseStatus>,
}

impl PresenceChoice {
    /// The driver request that sets it.
    pub fn request(&self) -> DriverRequest {
        DriverRequest::SetPresence {
            presence_id: self.presence_id.clone(),
            base_status: self.base_status,
        }
    }
}

/// Decodes any of the enums above from JSON text (bounded like every other message, so a batch
/// of events is cut to fit: see [`encode_batches`]).
pub fn decode<T: DeserializeOwned>(text: &str) -> Result<T, DropReason> {
    let v = json::parse_bounded(text)?;
    serde_json::from_value(v).map_err(|e| DropReason::WrongShape(e.to_string()))
}

/// Encodes driver events as as few [`PanelToBackground::DriverEvents`] messages as fit within
/// [`crate::MAX_MESSAGE_BYTES`], in order.
pub fn encode_batches(events: &[DriverEvent]) -> Vec<String> {
    let text = encode(&PanelToBackground::DriverEvents {
        events: events.to_vec(),
    });
    if text.len() <= crate::MAX_MESSAGE_BYTES || events.len() <= 1 {
        return vec![text];
    }
    let (a, b) = events.split_at(events.len() / 2);
    let mut out = encode_batches(a);
    out.extend(encode_batches(b));
    out
}

/// Encodes the answer to one [`Scan`] as as few [`BackgroundToContent::Found`] messages as fit
/// within [`crate::MAX_MESSAGE_BYTES`] (a batch of dense numbers answers with more bytes than it
/// asked with), in order, the last one marked.
pub fn encode_found(batch: u32, hits: &[Hit], links: &[LinkHit]) -> Vec<String> {
    fn parts(batch: u32, hits: &[Hit], links: &[LinkHit], out: &mut Vec<(Vec<Hit>, Vec<LinkHit>)>) {
        let size = encode(&BackgroundToContent::Found {
            batch,
            hits: hits.to_vec(),
            links: links.to_vec(),
            last: false,
        })
        .len();
        if size <= crate::MAX_MESSAGE_BYTES || hits.len() + links.len() <= 1 {
            out.push((hits.to_vec(), links.to_vec()));
        } else if links.len() > hits.len() {
            let (a, b) = links.split_at(links.len() / 2);
            parts(batch, hits, a, out);
            parts(batch, &[], b, out);
        } else {
            let (a, b) = hits.split_at(hits.len() / 2);
            parts(batch, a, &[], out);
            parts(batch, b, links, out);
        }
    }
    let mut out = Vec::new();
    parts(batch, hits, links, &mut out);
    let n = out.len();
    out.into_iter()
        .enumerate()
        .map(|(i, (hits, links))| {
            encode(&BackgroundToContent::Found {
                batch,
                hits,
                links,
                last: i + 1 == n,
            })
        })
        .collect()
}

/// Encodes any of the enums above as JSON text.
pub fn encode<T: Serialize>(msg: &T) -> String {
    serde_json::to_string(msg).unwrap_or_else(|_| "null".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let n = E164::parse("+14255550100").unwrap_or_else(|_| unreachable!());
        let m = ContentToBackground::Dial {
            id: DialId {
                session: "s".into(),
                seq: 3,
            },
            number: n,
        };
        assert_eq!(decode::<ContentToBackground>(&encode(&m)), Ok(m));
        let p = BackgroundToPanel::Probe {
            report: ProbeReport::Alive { doc: "d".into() },
        };
        assert_eq!(decode::<BackgroundToPanel>(&encode(&p)), Ok(p));
    }

    #[test]
    fn batches_fit_the_bound_and_keep_order() {
        use crate::driver::{HoldChange, WorkItem};
        let events: Vec<DriverEvent> = (0..3000)
            .map(|i| {
                if i % 2 == 0 {
                    DriverEvent::HoldChanged(HoldChange {
                        live_work_item_id: format!("w{i}"),
                        is_agent_on_hold: true,
                    })
                } else {
                    DriverEvent::ConversationAccepted(WorkItem {
                        live_work_item_id: format!("w{i}"),
                    })
                }
            })
            .collect();
        let batches = encode_batches(&events);
        assert!(batches.len() > 1);
        let mut back = Vec::new();
        for b in &batches {
            assert!(b.len() <= crate::MAX_MESSAGE_BYTES);
            match decode::<PanelToBackground>(b) {
                Ok(PanelToBackground::DriverEvents { events }) => back.extend(events),
                other => unreachable!("{other:?}"),
            }
        }
        assert_eq!(back, events);
    }

    #[test]
    fn scans_and_their_answers_round_trip_and_a_full_scan_fits_the_bound() {
        // The worst case for escapes: control characters, six bytes each on the wire.
        let piece = "Call (425) 555-0100 \u{201c}now\u{201d}\n\u{1}\"\\";
        let mut texts = Vec::new();
        let mut cost = 0;
        while cost + json_cost(piece) <= MAX_SCAN_BYTES {
            cost += json_cost(piece);
            texts.push(piece.to_owned());
        }
        let scan = ContentToBackground::Scan(Scan {
            batch: 7,
            texts,
            links: vec!["+14255550100".into()],
            numbering: Numbering {
                region: "US".into(),
                area_code: "425".into(),
            },
        });
        let wire = encode(&scan);
        assert!(wire.len() <= cost + 200, "{} > {cost}", wire.len());
        assert!(wire.len() <= crate::MAX_MESSAGE_BYTES, "{}", wire.len());
        assert_eq!(decode::<ContentToBackground>(&wire), Ok(scan));
        let n = E164::parse("+14255550100").unwrap_or_else(|_| unreachable!());
        let found = BackgroundToContent::Found {
            batch: 7,
            hits: vec![Hit {
                text: 0,
                start: 5,
                end: 19,
                number: n.clone(),
                label: "Call +1 425-555-0100".into(),
            }],
            links: vec![LinkHit {
                link: 0,
                number: n.clone(),
                label: "Call +1 425-555-0100".into(),
            }],
            last: true,
        };
        assert_eq!(decode::<BackgroundToContent>(&encode(&found)), Ok(found));
        // Thousands of hits answer in several parts, each within the bound, the last marked.
        let hits: Vec<Hit> = (0..3000)
            .map(|i| Hit {
                text: i,
                start: 0,
                end: 14,
                number: n.clone(),
                label: "Call +1 425-555-0100".into(),
            })
            .collect();
        let parts = encode_found(9, &hits, &[]);
        assert!(parts.len() > 1);
        let mut back = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            assert!(p.len() <= crate::MAX_MESSAGE_BYTES);
            match decode::<BackgroundToContent>(p) {
                Ok(BackgroundToContent::Found {
                    batch: 9,
                    hits,
                    last,
                    ..
                }) => {
                    assert_eq!(last, i + 1 == parts.len());
                    back.extend(hits);
                }
                other => unreachable!("{other:?}"),
            }
        }
        assert_eq!(back, hits);
        // A hit whose number is not E.164 is refused as a whole.
        let bad = r#"{"t":"found","batch":1,"hits":[{"text":0,"start":0,"end":3,"number":"555","label":""}],"links":[],"last":true}"#;
        assert!(decode::<BackgroundToContent>(bad).is_err());
    }

    #[test]
    fn refuses_a_bad_number_inside() {
        let t = r#"{"t":"dial","id":{"session":"s","seq":1},"number":"12"}"#;
        assert!(matches!(
            decode::<ContentToBackground>(t),
            Err(DropReason::WrongShape(_))
        ));
    }
}
