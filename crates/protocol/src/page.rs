//! The page API: how a CRM page's own scripts talk to the bridge through `window.postMessage`.
//!
//! Request (page → bridge):
//! `{channel: "ccaas-bridge", v: 1, kind: "request", id: "r1", type: "clickToDial", data: {number: "+14255550100"}}`
//! Reply (bridge → page): `{channel, v, kind: "reply", id, ok: true, data}` or `{..., ok: false, error: {code, message}}`.
//! Event (bridge → page): `{channel, v, kind: "event", type: "conversationLoaded", data}`.
//!
//! Both directions share one window, so the page sees its own requests and the bridge sees its
//! own replies and events; `kind` tells them apart and the decoder ignores the bridge's own.

use crate::driver::{ConversationLoaded, ConversationStatus, Presence};
use crate::json::{self, str_field};
use crate::{DropReason, E164, PAGE_CHANNEL, PROTOCOL_VERSION};
use serde::Serialize;
use serde_json::{json, Value};

/// Longest request id a page may choose.
pub const MAX_ID_CHARS: usize = 64;

/// A request from the page, with the id its reply will carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub id: String,
    pub body: PageToBridge,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageToBridge {
    ClickToDial {
        number: E164,
    },
    /// Asks for a [`BridgeStatus`] reply.
    GetStatus,
    ShowPanel,
    HidePanel,
}

/// The outcome of decoding one `message` event seen by the content script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageInput {
    /// Not a bridge envelope at all (another library's message): ignored silently.
    NotForUs,
    /// One of the bridge's own replies or events, echoed on the shared window: ignored.
    OwnEcho,
    Request(PageRequest),
}

/// A request that was addressed to the bridge but refused. `id` is kept when it could be read,
/// so the page still gets an error reply for its request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub id: Option<String>,
    pub reason: DropReason,
}

impl PageInput {
    /// Decodes JSON text (the content script serialises whatever the page posted).
    pub fn decode_text(text: &str) -> Result<PageInput, Refused> {
        // Text that does not even parse is someone else's unless it names our channel; text
        // that parses is judged by its value, so an escaped channel (`ccaas\u002dbridge`) is
        // recognised like the literal one.
        match json::parse_bounded(text) {
            Ok(v) => Self::decode_value(&v),
            Err(reason) if text.contains(PAGE_CHANNEL) => Err(Refused { id: None, reason }),
            Err(_) => Ok(PageInput::NotForUs),
        }
    }

    pub fn decode_value(v: &Value) -> Result<PageInput, Refused> {
        if v.get("channel").and_then(Value::as_str) != Some(PAGE_CHANNEL) {
            return Ok(PageInput::NotForUs);
        }
        let refuse = |reason| Refused { id: None, reason };
        crate::driver::check_version(v).map_err(refuse)?;
        match str_field(v, "kind", 16).map_err(refuse)? {
            "reply" | "event" => return Ok(PageInput::OwnEcho),
            "request" => {}
            other => return Err(refuse(DropReason::UnknownType(format!("kind {other}")))),
        }
        let id = str_field(v, "id", MAX_ID_CHARS).map_err(refuse)?.to_owned();
        if id.is_empty() {
            return Err(refuse(DropReason::WrongShape("`id` is empty".into())));
        }
        let with_id = |reason| Refused {
            id: Some(id.clone()),
            reason,
        };
        let ty = str_field(v, "type", 32).map_err(with_id)?;
        let data = v.get("data").unwrap_or(&Value::Null);
        let body = match ty {
            "clickToDial" => {
                let raw = str_field(data, "number", 64).map_err(with_id)?;
                let number = E164::parse(raw).map_err(|e| with_id(DropReason::BadNumber(e)))?;
                PageToBridge::ClickToDial { number }
            }
            "getStatus" => PageToBridge::GetStatus,
            "showPanel" => PageToBridge::ShowPanel,
            "hidePanel" => PageToBridge::HidePanel,
            other => return Err(with_id(DropReason::UnknownType(other.to_owned()))),
        };
        Ok(PageInput::Request(PageRequest { id, body }))
    }
}

/// How far the widget has come, as the bridge observes it (never from the frame's `load` event).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WidgetState {
    /// The panel is not hosting a widget (no widget URL configured, or not created yet).
    Off,
    Loading,
    /// The widget's document runs (our probe reported from inside it) but its driver is not bound.
    Alive,
    /// The driver is bound: click-to-dial is delivered.
    Ready,
    /// No proof of life within the timeout: framing refused, network down or wrong URL.
    Unreachable,
}

/// Which driver the widget runs, as far as the bridge can tell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum DriverKind {
    Unknown,
    /// Bound, but never introduced itself: Microsoft's stock driver or another like it.
    Stock,
    Extended {
        name: String,
        version: String,
    },
}

/// The bridge's state, for `getStatus` replies and the panel's status line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BridgeStatus {
    pub widget: WidgetState,
    pub driver: DriverKind,
    pub widget_origin: Option<String>,
    pub queued: u32,
}

/// Events the page can listen for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "camelCase")]
pub enum PageEvent {
    ConversationLoaded(ConversationLoaded),
    #[serde(rename_all = "camelCase")]
    ConversationAccepted {
        live_work_item_id: String,
    },
    #[serde(rename_all = "camelCase")]
    ConversationRejected {
        live_work_item_id: String,
    },
    #[serde(rename_all = "camelCase")]
    ConversationStatus {
        live_work_item_id: String,
        status: ConversationStatus,
    },
    /// A conversation closed (status 4); sent besides `conversationStatus` for convenience.
    #[serde(rename_all = "camelCase")]
    ConversationEnded {
        live_work_item_id: String,
    },
    PresenceChanged(Presence),
    #[serde(rename_all = "camelCase")]
    HoldChanged {
        live_work_item_id: String,
        on_hold: bool,
    },
    #[serde(rename_all = "camelCase")]
    MuteChanged {
        live_work_item_id: String,
        muted: bool,
    },
    StatusChanged(BridgeStatus),
    /// From the project's driver only (the stock driver forwards none of these).
    #[serde(rename_all = "camelCase")]
    ConversationTransferred {
        live_work_item_id: String,
        transfer_destination: String,
    },
    #[serde(rename_all = "camelCase")]
    ConsultStarted {
        live_work_item_id: String,
    },
    #[serde(rename_all = "camelCase")]
    ConsultEnded {
        live_work_item_id: String,
    },
    /// The conversation the agent has in front of them; `null` when none.
    #[serde(rename_all = "camelCase")]
    FocusChanged {
        live_work_item_id: Option<String>,
    },
}

/// An error in a reply to the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PageError {
    pub code: String,
    pub message: String,
}

impl PageError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        PageError {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn from_drop(reason: &DropReason) -> Self {
        PageError::new(reason.code(), reason.to_string())
    }
}

/// What the bridge posts to the page.
#[derive(Clone, Debug, PartialEq)]
pub enum BridgeToPage {
    Reply {
        id: String,
        result: Result<Value, PageError>,
    },
    Event(PageEvent),
}

impl BridgeToPage {
    pub fn to_value(&self) -> Value {
        match self {
            BridgeToPage::Reply {
                id,
                result: Ok(data),
            } => json!({
                "channel": PAGE_CHANNEL, "v": PROTOCOL_VERSION, "kind": "reply",
                "id": id, "ok": true, "data": data,
            }),
            BridgeToPage::Reply { id, result: Err(e) } => json!({
                "channel": PAGE_CHANNEL, "v": PROTOCOL_VERSION, "kind": "reply",
                "id": id, "ok": false, "error": e,
            }),
            BridgeToPage::Event(ev) => {
                let mut v = serde_json::to_value(ev).unwrap_or(Value::Null);
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("channel".into(), PAGE_CHANNEL.into());
                    obj.insert("v".into(), PROTOCOL_VERSION.into());
                    obj.insert("kind".into(), "event".into());
                }
                v
            }
        }
    }
}

/// The page events a driver event becomes. The SDK's panel requests (visibility, width,
/// height) give none: they are about the extension's own panel and handled inside it.
pub fn page_events_for(ev: &crate::driver::DriverEvent) -> Vec<PageEvent> {
    use crate::driver::DriverEvent as D;
    match ev {
        D::ConversationLoaded(c) => vec![PageEvent::ConversationLoaded(c.clone())],
        D::ConversationAccepted(w) => {
            vec![PageEvent::ConversationAccepted {
                live_work_item_id: w.live_work_item_id.clone(),
            }]
        }
        D::ConversationRejected(w) => {
            vec![PageEvent::ConversationRejected {
                live_work_item_id: w.live_work_item_id.clone(),
            }]
        }
        D::StatusChanged(s) => {
            let status = ConversationStatus::from_code(s.status_code);
            let id = s.live_work_item_id.clone();
            let mut out = vec![PageEvent::ConversationStatus {
                live_work_item_id: id.clone(),
                status,
            }];
            if status == ConversationStatus::Closed {
                out.push(PageEvent::ConversationEnded {
                    live_work_item_id: id,
                });
            }
            out
        }
        D::HoldChanged(h) => vec![PageEvent::HoldChanged {
            live_work_item_id: h.live_work_item_id.clone(),
            on_hold: h.is_agent_on_hold,
        }],
        D::MuteChanged(m) => vec![PageEvent::MuteChanged {
            live_work_item_id: m.live_work_item_id.clone(),
            muted: m.is_agent_muted,
        }],
        D::PresenceChanged(p) => vec![PageEvent::PresenceChanged(p.presence.clone())],
        D::Transferred(t) => vec![PageEvent::ConversationTransferred {
            live_work_item_id: t.live_work_item_id.clone(),
            transfer_destination: t.transfer_destination.clone(),
        }],
        D::ConsultStarted(w) => vec![PageEvent::ConsultStarted {
            live_work_item_id: w.live_work_item_id.clone(),
        }],
        D::ConsultEnded(w) => vec![PageEvent::ConsultEnded {
            live_work_item_id: w.live_work_item_id.clone(),
        }],
        D::FocusChanged(f) => vec![PageEvent::FocusChanged {
            live_work_item_id: f.live_work_item_id.clone(),
        }],
        D::PanelVisibility(_) | D::PanelWidth(_) | D::PanelHeight(_) => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(v: Value) -> Result<PageInput, Refused> {
        PageInput::decode_text(&v.to_string())
    }

    #[test]
    fn decodes_click_to_dial() {
        let r = dec(
            json!({"channel":"ccaas-bridge","v":1,"kind":"request","id":"r1",
            "type":"clickToDial","data":{"number":"+1 425 555 0100"}}),
        );
        let Ok(PageInput::Request(req)) = r else {
            unreachable!("{r:?}")
        };
        assert_eq!(req.id, "r1");
        assert_eq!(
            req.body,
            PageToBridge::ClickToDial {
                number: E164::parse("+14255550100").unwrap_or_else(|_| unreachable!())
            }
        );
    }

    #[test]
    fn ignores_other_traffic_and_own_echoes() {
        assert_eq!(
            dec(json!({"source":"react-devtools"})),
            Ok(PageInput::NotForUs)
        );
        assert_eq!(dec(json!("hello")), Ok(PageInput::NotForUs));
        assert_eq!(PageInput::decode_text("not json"), Ok(PageInput::NotForUs));
        let escaped =
            r#"{"channel":"ccaas\u002dbridge","v":1,"kind":"request","id":"r","type":"getStatus"}"#;
        assert!(matches!(
            PageInput::decode_text(escaped),
            Ok(PageInput::Request(_))
        ));
        let ev = BridgeToPage::Event(PageEvent::ConversationEnded {
            live_work_item_id: "w".into(),
        });
        assert_eq!(
            PageInput::decode_value(&ev.to_value()),
            Ok(PageInput::OwnEcho)
        );
    }

    #[test]
    fn refusals_keep_the_id_when_readable() {
        let r = dec(
            json!({"channel":"ccaas-bridge","v":1,"kind":"request","id":"r2",
            "type":"clickToDial","data":{"number":"call me maybe"}}),
        );
        assert!(
            matches!(r, Err(Refused { id: Some(ref i), reason: DropReason::BadNumber(_) }) if i == "r2")
        );
        let r = dec(
            json!({"channel":"ccaas-bridge","v":3,"kind":"request","id":"r3","type":"getStatus"}),
        );
        assert_eq!(
            r,
            Err(Refused {
                id: None,
                reason: DropReason::UnsupportedVersion(3)
            })
        );
        let r =
            dec(json!({"channel":"ccaas-bridge","v":1,"kind":"request","id":"r4","type":"rmRf"}));
        assert_eq!(
            r,
            Err(Refused {
                id: Some("r4".into()),
                reason: DropReason::UnknownType("rmRf".into())
            })
        );
        let r = PageInput::decode_text(
            r#"{"channel":"ccaas-bridge","v":1,"kind":"request","id":"r5","type":"getStatus","__proto__":{"polluted":1}}"#,
        );
        assert_eq!(
            r,
            Err(Refused {
                id: None,
                reason: DropReason::ForbiddenKey
            })
        );
    }

    #[test]
    fn event_envelope_shape() {
        let v = BridgeToPage::Event(PageEvent::ConversationEnded {
            live_work_item_id: "w".into(),
        })
        .to_value();
        assert_eq!(
            v,
            json!({"channel":"ccaas-bridge","v":1,"kind":"event","type":"conversationEnded",
            "data":{"liveWorkItemId":"w"}})
        );
    }
}
