//! Messages between the extension's own contexts: content script, background worker, panel frame
//! and the probe that runs inside the widget's frame.
//!
//! They travel as JSON text over `chrome.runtime` ports and messages, which page scripts can
//! neither read nor forge. They are still decoded with the same bounded decoder: a bug in one
//! context must not crash another.

use crate::driver::{DriverEvent, DriverRequest};
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
}

/// One batch of page text for the phone-number matcher, which runs in the worker so that its
/// size and start-up stay off the page. `texts` are runs of text that read as one (text nodes
/// joined across inline elements); `links` are the targets of `tel:`, `callto:` and `sip:` links,
/// without the scheme. The answer is a [`BackgroundToContent::Found`] with the same `batch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    pub batch: u32,
    pub texts: Vec<String>,
    pub links: Vec<String>,
}

/// The most text one [`Scan`] carries, in UTF-16 code units, so that the encoded batch (JSON
/// escapes included) stays within [`crate::MAX_MESSAGE_BYTES`] and one matcher task stays short.
pub const MAX_SCAN_UNITS: usize = 16 * 1024;

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
    /// The matcher's answer to a [`Scan`].
    Found {
        batch: u32,
        hits: Vec<Hit>,
        links: Vec<LinkHit>,
    },
    /// Dial a number the agent chose outside the page's own markup (the context menu).
    DialNumber {
        number: E164,
    },
    /// Something to tell the agent in this tab (e.g. a selection that is not a phone number).
    Notice {
        text: String,
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
    fn refuses_a_bad_number_inside() {
        let t = r#"{"t":"dial","id":{"session":"s","seq":1},"number":"12"}"#;
        assert!(matches!(
            decode::<ContentToBackground>(t),
            Err(DropReason::WrongShape(_))
        ));
    }
}
