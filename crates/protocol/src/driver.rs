//! The wire between the panel frame and the CTI driver inside the widget.
//!
//! Two dialects:
//! - **stock**: what Microsoft's generic sample driver speaks. To the driver, a JSON *string*
//!   `{"messageType":"clickToDial","messageData":{"number":"+14255550100"}}`; from it, the
//!   conversation-loaded object itself, untagged, recognised by shape.
//! - **extended** (`channel: "ccaas-driver"`, `v: 1`): what the project's own driver speaks —
//!   events for everything the Embed SDK reports, and requests with correlated replies.
//!
//! Everything posted into the widget is a JSON string, because the stock driver calls
//! `JSON.parse` on every message it receives and would throw on anything else.

use crate::json::{self, str_field};
use crate::{DropReason, DRIVER_CHANNEL, E164, PROTOCOL_VERSION};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The Embed SDK's conversation-loaded payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationLoaded {
    pub live_work_item_id: String,
    pub conversation_type: String,
    #[serde(default)]
    pub created_time_stamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_work_stream_id: Option<String>,
    pub session_id: String,
    #[serde(default)]
    pub customer_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_phone_number: Option<String>,
}

/// The agent's presence as the Embed SDK reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presence {
    pub presence_id: String,
    #[serde(default)]
    pub presence_name: String,
    #[serde(default)]
    pub presence_text: String,
    pub base_presence_status: BaseStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_color: Option<String>,
    #[serde(default)]
    pub can_user_set: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BaseStatus {
    Available,
    Away,
    Busy,
    BusyDoNotDisturb,
    Offline,
}

/// A conversation's status code as the SDK sends it: 2 active, 4 closed, 5 wrap-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConversationStatus {
    Active,
    Closed,
    WrapUp,
    Other(i64),
}

impl ConversationStatus {
    pub fn from_code(code: i64) -> Self {
        match code {
            2 => ConversationStatus::Active,
            4 => ConversationStatus::Closed,
            5 => ConversationStatus::WrapUp,
            n => ConversationStatus::Other(n),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkItem {
    pub live_work_item_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    pub live_work_item_id: String,
    pub status_code: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transfer {
    pub live_work_item_id: String,
    #[serde(default)]
    pub session_id: String,
    #[serde(default)]
    pub transfer_destination: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldChange {
    pub live_work_item_id: String,
    pub is_agent_on_hold: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MuteChange {
    pub live_work_item_id: String,
    pub is_agent_muted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceChange {
    pub presence: Presence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<Presence>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Focus {
    pub live_work_item_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visibility {
    pub visible: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pixels {
    pub px: u32,
}

/// Everything the extended driver reports. `type` and `data` on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "camelCase")]
pub enum DriverEvent {
    ConversationLoaded(ConversationLoaded),
    ConversationAccepted(WorkItem),
    ConversationRejected(WorkItem),
    StatusChanged(StatusChange),
    Transferred(Transfer),
    ConsultStarted(WorkItem),
    ConsultEnded(WorkItem),
    HoldChanged(HoldChange),
    MuteChanged(MuteChange),
    PresenceChanged(PresenceChange),
    FocusChanged(Focus),
    PanelVisibility(Visibility),
    PanelWidth(Pixels),
    PanelHeight(Pixels),
}

/// The `type` of every [`DriverEvent`], as on the wire.
pub const DRIVER_EVENT_TYPES: [&str; 14] = [
    "conversationLoaded",
    "conversationAccepted",
    "conversationRejected",
    "statusChanged",
    "transferred",
    "consultStarted",
    "consultEnded",
    "holdChanged",
    "muteChanged",
    "presenceChanged",
    "focusChanged",
    "panelVisibility",
    "panelWidth",
    "panelHeight",
];

/// Requests the bridge can make of the extended driver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "camelCase")]
pub enum DriverRequest {
    GetPresence,
    /// By id, or by base status when the id is not known.
    #[serde(rename_all = "camelCase")]
    SetPresence {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        presence_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_status: Option<BaseStatus>,
    },
    GetPresenceOptions,
    GetFocusedConversation,
}

/// What the bridge posts into the widget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BridgeToDriver {
    ClickToDial { number: E164, id: Option<String> },
    Request { id: String, request: DriverRequest },
}

impl BridgeToDriver {
    /// The JSON string to post. `extended` adds the correlation fields the project's driver
    /// answers; without it a click-to-dial is byte for byte the stock format.
    pub fn to_wire(&self, extended: bool) -> String {
        match self {
            BridgeToDriver::ClickToDial { number, id } => {
                // Written by hand, not through serde_json, so that the key order is the stock
                // driver's own; an E164 holds only `+` and digits, so nothing needs escaping.
                let stock = format!(
                    r#"{{"messageType":"clickToDial","messageData":{{"number":"{}"}}"#,
                    number.as_str()
                );
                match (extended, id) {
                    (true, Some(id)) => format!(
                        r#"{stock},"channel":"{DRIVER_CHANNEL}","v":{PROTOCOL_VERSION},"id":{}}}"#,
                        Value::from(id.as_str())
                    ),
                    _ => format!("{stock}}}"),
                }
            }
            BridgeToDriver::Request { id, request } => {
                let mut v = json!({
                    "messageType": "ccaasBridgeRequest",
                    "channel": DRIVER_CHANNEL,
                    "v": PROTOCOL_VERSION,
                    "id": id,
                });
                if let (Ok(Value::Object(req)), Some(obj)) =
                    (serde_json::to_value(request), v.as_object_mut())
                {
                    obj.extend(req);
                }
                v.to_string()
            }
        }
    }
}

/// A message from the bridge that the project's driver refused. `id` is kept when it could be
/// read, so that the driver can still answer the request with a typed error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverRefused {
    pub id: Option<String>,
    pub reason: DropReason,
}

/// Longest correlation id either side may use.
pub const MAX_WIRE_ID_CHARS: usize = 64;

impl BridgeToDriver {
    /// The driver's side of [`Self::to_wire`]: decodes what was posted into the widget. Accepts
    /// the stock click-to-dial (no id: nothing to answer) and every extended envelope.
    pub fn decode_text(text: &str) -> Result<Self, DriverRefused> {
        let v = json::parse_bounded(text).map_err(|reason| DriverRefused { id: None, reason })?;
        Self::decode_value(&v)
    }

    /// Decodes a value that has passed [`json::parse_bounded`] or [`json::check_value`].
    pub fn decode_value(v: &Value) -> Result<Self, DriverRefused> {
        let refuse = |reason| DriverRefused { id: None, reason };
        let obj = v
            .as_object()
            .ok_or_else(|| refuse(DropReason::WrongShape("not an object".into())))?;
        let extended = match obj.get("channel") {
            None => false,
            Some(Value::String(c)) if c == DRIVER_CHANNEL => true,
            Some(_) => {
                return Err(refuse(DropReason::WrongShape(
                    "`channel` is not ccaas-driver".into(),
                )))
            }
        };
        let id = if extended {
            check_version(v).map_err(refuse)?;
            let id = str_field(v, "id", MAX_WIRE_ID_CHARS).map_err(refuse)?;
            if id.is_empty() {
                return Err(refuse(DropReason::WrongShape("`id` is empty".into())));
            }
            Some(id.to_owned())
        } else {
            None
        };
        let with_id = |reason| DriverRefused {
            id: id.clone(),
            reason,
        };
        match str_field(v, "messageType", 64).map_err(with_id)? {
            "clickToDial" => {
                let data = v.get("messageData").unwrap_or(&Value::Null);
                let raw = str_field(data, "number", 64).map_err(with_id)?;
                let number = E164::parse(raw).map_err(|e| with_id(DropReason::BadNumber(e)))?;
                Ok(BridgeToDriver::ClickToDial {
                    number,
                    id: id.clone(),
                })
            }
            "ccaasBridgeRequest" => {
                let Some(id) = id.clone() else {
                    return Err(refuse(DropReason::WrongShape(
                        "a request needs the ccaas-driver envelope".into(),
                    )));
                };
                let ty = str_field(v, "type", 64).map_err(with_id)?;
                let mut tagged = json!({ "type": ty });
                if let (Some(data), Some(t)) = (v.get("data"), tagged.as_object_mut()) {
                    if !data.is_null() {
                        t.insert("data".into(), data.clone());
                    }
                }
                let request = serde_json::from_value::<DriverRequest>(tagged).map_err(|e| {
                    with_id(if DRIVER_REQUEST_TYPES.contains(&ty) {
                        DropReason::WrongShape(e.to_string())
                    } else {
                        DropReason::UnknownType(ty.to_owned())
                    })
                })?;
                Ok(BridgeToDriver::Request { id, request })
            }
            other => Err(with_id(DropReason::UnknownType(other.to_owned()))),
        }
    }
}

/// The `type` of every [`DriverRequest`], as on the wire.
pub const DRIVER_REQUEST_TYPES: [&str; 4] = [
    "getPresence",
    "setPresence",
    "getPresenceOptions",
    "getFocusedConversation",
];

/// The name the project's driver introduces itself with (`hello`).
pub const OUR_DRIVER_NAME: &str = "ccaas-bridge-driver";

/// A reply error from the driver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverError {
    pub code: String,
    pub message: String,
}

/// What the widget posts to the bridge, decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum DriverToBridge {
    /// The stock driver's untagged conversation-loaded object.
    StockConversationLoaded(ConversationLoaded),
    /// The extended driver introduces itself once bound.
    Hello {
        driver: String,
        version: String,
    },
    Event(DriverEvent),
    Reply {
        id: String,
        result: Result<Value, DriverError>,
    },
}

impl DriverToBridge {
    /// Decodes a message posted by the widget: a JSON string or an already structured value.
    pub fn decode_text(text: &str) -> Result<Self, DropReason> {
        Self::decode_value(&json::parse_bounded(text)?)
    }

    /// Decodes a value that has passed [`json::parse_bounded`] or [`json::check_value`].
    pub fn decode_value(v: &Value) -> Result<Self, DropReason> {
        let obj = v
            .as_object()
            .ok_or_else(|| DropReason::WrongShape("not an object".into()))?;
        if obj.get("channel").and_then(Value::as_str) == Some(DRIVER_CHANNEL) {
            return decode_extended(v);
        }
        let is_str = |k: &str| obj.get(k).is_some_and(Value::is_string);
        if is_str("liveWorkItemId") && is_str("sessionId") && is_str("conversationType") {
            return serde_json::from_value(v.clone())
                .map(DriverToBridge::StockConversationLoaded)
                .map_err(|e| DropReason::WrongShape(e.to_string()));
        }
        Err(DropReason::WrongShape(
            "neither a stock conversation nor a ccaas-driver envelope".into(),
        ))
    }
}

impl DriverToBridge {
    /// The value the driver posts to its parent: the stock conversation-loaded object itself,
    /// or an extended envelope. The inverse of [`DriverToBridge::decode_value`].
    pub fn to_value(&self) -> Value {
        let envelope =
            |kind: &str| json!({ "channel": DRIVER_CHANNEL, "v": PROTOCOL_VERSION, "kind": kind });
        match self {
            DriverToBridge::StockConversationLoaded(c) => {
                serde_json::to_value(c).unwrap_or(Value::Null)
            }
            DriverToBridge::Hello { driver, version } => {
                let mut v = envelope("hello");
                if let Some(o) = v.as_object_mut() {
                    o.insert(
                        "data".into(),
                        json!({ "driver": driver, "version": version }),
                    );
                }
                v
            }
            DriverToBridge::Event(ev) => {
                let mut v = envelope("event");
                if let (Some(o), Ok(Value::Object(tagged))) =
                    (v.as_object_mut(), serde_json::to_value(ev))
                {
                    o.extend(tagged);
                }
                v
            }
            DriverToBridge::Reply { id, result } => {
                let mut v = envelope("reply");
                if let Some(o) = v.as_object_mut() {
                    o.insert("id".into(), id.as_str().into());
                    match result {
                        Ok(data) => {
                            o.insert("ok".into(), true.into());
                            o.insert("data".into(), data.clone());
                        }
                        Err(e) => {
                            o.insert("ok".into(), false.into());
                            o.insert(
                                "error".into(),
                                json!({ "code": e.code, "message": e.message }),
                            );
                        }
                    }
                }
                v
            }
        }
    }
}

fn decode_extended(v: &Value) -> Result<DriverToBridge, DropReason> {
    check_version(v)?;
    match str_field(v, "kind", 16)? {
        "hello" => {
            let data = v.get("data").unwrap_or(&Value::Null);
            Ok(DriverToBridge::Hello {
                driver: str_field(data, "driver", 64)?.to_owned(),
                version: str_field(data, "version", 32)?.to_owned(),
            })
        }
        "event" => {
            let ty = str_field(v, "type", 64)?;
            // Read from the envelope itself (the adjacently tagged enum passes over its other
            // keys): no copy of `data` per event, which a burst of thousands would pay for.
            DriverEvent::deserialize(v)
                .map(DriverToBridge::Event)
                .map_err(|e| {
                    // Judged by the tag itself: serde's "unknown variant" also names a bad
                    // value of a nested enum, which is a wrong shape, not an unknown type.
                    if DRIVER_EVENT_TYPES.contains(&ty) {
                        DropReason::WrongShape(e.to_string())
                    } else {
                        DropReason::UnknownType(ty.to_owned())
                    }
                })
        }
        "reply" => {
            let id = str_field(v, "id", 64)?.to_owned();
            let result = match v.get("ok") {
                Some(Value::Bool(true)) => Ok(v.get("data").cloned().unwrap_or(Value::Null)),
                Some(Value::Bool(false)) => Err(serde_json::from_value::<DriverError>(
                    v.get("error").cloned().unwrap_or(Value::Null),
                )
                .map_err(|e| DropReason::WrongShape(e.to_string()))?),
                _ => return Err(DropReason::WrongShape("`ok` must be a boolean".into())),
            };
            Ok(DriverToBridge::Reply { id, result })
        }
        other => Err(DropReason::UnknownType(other.to_owned())),
    }
}

/// Refuses an envelope whose `v` is missing or not the version this crate speaks.
pub(crate) fn check_version(v: &Value) -> Result<(), DropReason> {
    match v.get("v") {
        Some(n) if n.as_u64() == Some(u64::from(PROTOCOL_VERSION)) => Ok(()),
        Some(n) => match n.as_u64() {
            Some(other) => Err(DropReason::UnsupportedVersion(other)),
            None => Err(DropReason::WrongShape(format!(
                "`v` must be the integer {PROTOCOL_VERSION}"
            ))),
        },
        None => Err(DropReason::WrongShape("`v` is missing".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> E164 {
        E164::parse(s).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn stock_click_to_dial_is_byte_exact() {
        let m = BridgeToDriver::ClickToDial {
            number: num("+14255550100"),
            id: Some("7".into()),
        };
        assert_eq!(
            m.to_wire(false),
            r#"{"messageType":"clickToDial","messageData":{"number":"+14255550100"}}"#
        );
        let ext: Value = serde_json::from_str(&m.to_wire(true)).unwrap_or_default();
        assert_eq!(ext["id"], "7");
        assert_eq!(ext["v"], 1);
        assert_eq!(ext["messageType"], "clickToDial");
    }

    #[test]
    fn recognises_the_stock_conversation_by_shape() {
        let v = json!({"liveWorkItemId":"w1","conversationType":"Voice","createdTimeStamp":"t",
            "sessionId":"s1","customerName":"Maria","customerPhoneNumber":"+14255550123","extra":1});
        match DriverToBridge::decode_value(&v) {
            Ok(DriverToBridge::StockConversationLoaded(c)) => {
                assert_eq!(c.customer_phone_number.as_deref(), Some("+14255550123"))
            }
            other => unreachable!("{other:?}"),
        }
        assert!(DriverToBridge::decode_value(&json!({"liveWorkItemId":"w1"})).is_err());
    }

    #[test]
    fn decodes_extended_events_and_replies() {
        let v = json!({"channel":"ccaas-driver","v":1,"kind":"event","type":"holdChanged",
            "data":{"liveWorkItemId":"w","isAgentOnHold":true}});
        assert_eq!(
            DriverToBridge::decode_value(&v),
            Ok(DriverToBridge::Event(DriverEvent::HoldChanged(
                HoldChange {
                    live_work_item_id: "w".into(),
                    is_agent_on_hold: true
                }
            )))
        );
        let bad =
            json!({"channel":"ccaas-driver","v":1,"kind":"event","type":"selfDestruct","data":{}});
        assert_eq!(
            DriverToBridge::decode_value(&bad),
            Err(DropReason::UnknownType("selfDestruct".into()))
        );
        let nested = json!({"channel":"ccaas-driver","v":1,"kind":"event","type":"presenceChanged",
            "data":{"presence":{"presenceId":"p","basePresenceStatus":"ON_FIRE"}}});
        assert!(matches!(
            DriverToBridge::decode_value(&nested),
            Err(DropReason::WrongShape(_))
        ));
        let v1s = json!({"channel":"ccaas-driver","v":"1","kind":"event","type":"holdChanged"});
        assert!(matches!(
            DriverToBridge::decode_value(&v1s),
            Err(DropReason::WrongShape(_))
        ));
        for t in DRIVER_EVENT_TYPES {
            let v = json!({"channel":"ccaas-driver","v":1,"kind":"event","type":t,"data":{}});
            assert!(
                !matches!(
                    DriverToBridge::decode_value(&v),
                    Err(DropReason::UnknownType(_))
                ),
                "{t}"
            );
        }
        // `data` before `type` reads the same; an event that needs data and has none is a
        // wrong shape, not a crash or an unknown type.
        let reordered = serde_json::from_str::<Value>(
            r#"{"data":{"liveWorkItemId":"w","isAgentOnHold":false},"v":1,"type":"holdChanged","kind":"event","channel":"ccaas-driver"}"#,
        )
        .unwrap_or_default();
        assert!(matches!(
            DriverToBridge::decode_value(&reordered),
            Ok(DriverToBridge::Event(DriverEvent::HoldChanged(_)))
        ));
        let no_data = json!({"channel":"ccaas-driver","v":1,"kind":"event","type":"holdChanged"});
        assert!(matches!(
            DriverToBridge::decode_value(&no_data),
            Err(DropReason::WrongShape(_))
        ));
        let v2 = json!({"channel":"ccaas-driver","v":2,"kind":"event","type":"holdChanged"});
        assert_eq!(
            DriverToBridge::decode_value(&v2),
            Err(DropReason::UnsupportedVersion(2))
        );
        let r = json!({"channel":"ccaas-driver","v":1,"kind":"reply","id":"9","ok":false,
            "error":{"code":"invalidNumber","message":"bad"}});
        assert!(matches!(
            DriverToBridge::decode_value(&r),
            Ok(DriverToBridge::Reply { result: Err(_), .. })
        ));
    }

    #[test]
    fn the_driver_decodes_what_the_bridge_posts() {
        let dial = BridgeToDriver::ClickToDial {
            number: num("+14255550100"),
            id: Some("d1".into()),
        };
        assert_eq!(
            BridgeToDriver::decode_text(&dial.to_wire(true)),
            Ok(dial.clone())
        );
        // The stock form carries no id: nothing to answer.
        assert_eq!(
            BridgeToDriver::decode_text(&dial.to_wire(false)),
            Ok(BridgeToDriver::ClickToDial {
                number: num("+14255550100"),
                id: None
            })
        );
        for request in [
            DriverRequest::GetPresence,
            DriverRequest::GetPresenceOptions,
            DriverRequest::GetFocusedConversation,
            DriverRequest::SetPresence {
                presence_id: Some("p1".into()),
                base_status: None,
            },
            DriverRequest::SetPresence {
                presence_id: None,
                base_status: Some(BaseStatus::Away),
            },
        ] {
            let m = BridgeToDriver::Request {
                id: "r1".into(),
                request,
            };
            assert_eq!(BridgeToDriver::decode_text(&m.to_wire(true)), Ok(m));
        }
    }

    #[test]
    fn the_driver_refuses_with_the_id_when_it_can() {
        let bad = r#"{"messageType":"clickToDial","messageData":{"number":"call me"},"channel":"ccaas-driver","v":1,"id":"d9"}"#;
        assert!(matches!(
            BridgeToDriver::decode_text(bad),
            Err(DriverRefused { id: Some(ref i), reason: DropReason::BadNumber(_) }) if i == "d9"
        ));
        let stock_bad = r#"{"messageType":"clickToDial","messageData":{"number":"12"}}"#;
        assert!(matches!(
            BridgeToDriver::decode_text(stock_bad),
            Err(DriverRefused {
                id: None,
                reason: DropReason::BadNumber(_)
            })
        ));
        let unknown = r#"{"messageType":"ccaasBridgeRequest","channel":"ccaas-driver","v":1,"id":"r","type":"wipe"}"#;
        assert_eq!(
            BridgeToDriver::decode_text(unknown),
            Err(DriverRefused {
                id: Some("r".into()),
                reason: DropReason::UnknownType("wipe".into())
            })
        );
        let wrong = r#"{"messageType":"ccaasBridgeRequest","channel":"ccaas-driver","v":1,"id":"r","type":"setPresence","data":{"baseStatus":"ON_FIRE"}}"#;
        assert!(matches!(
            BridgeToDriver::decode_text(wrong),
            Err(DriverRefused {
                id: Some(_),
                reason: DropReason::WrongShape(_)
            })
        ));
        // A request outside the envelope, another channel, another version, garbage.
        for (text, code) in [
            (
                r#"{"messageType":"ccaasBridgeRequest","id":"r","type":"getPresence"}"#,
                "wrongShape",
            ),
            (
                r#"{"channel":"ccaas-bridge","messageType":"clickToDial"}"#,
                "wrongShape",
            ),
            (
                r#"{"channel":"ccaas-driver","v":2,"id":"r","messageType":"clickToDial"}"#,
                "unsupportedVersion",
            ),
            (r#"{"messageType":"rmRf"}"#, "unknownType"),
            ("not json", "notJson"),
            (r#"[1,2]"#, "wrongShape"),
            (
                r#"{"messageType":"clickToDial","__proto__":{}}"#,
                "forbiddenKey",
            ),
        ] {
            match BridgeToDriver::decode_text(text) {
                Err(r) => assert_eq!(r.reason.code(), code, "{text}"),
                Ok(m) => unreachable!("{text} decoded as {m:?}"),
            }
        }
    }

    #[test]
    fn what_the_driver_posts_decodes_back() {
        let conv = ConversationLoaded {
            live_work_item_id: "w".into(),
            conversation_type: "Voice".into(),
            created_time_stamp: "t".into(),
            live_work_stream_id: None,
            session_id: "s".into(),
            customer_name: "Maria".into(),
            customer_phone_number: Some("+14255550123".into()),
        };
        let all = [
            DriverToBridge::StockConversationLoaded(conv.clone()),
            DriverToBridge::Hello {
                driver: OUR_DRIVER_NAME.into(),
                version: "0.1.0".into(),
            },
            DriverToBridge::Event(DriverEvent::ConversationLoaded(conv)),
            DriverToBridge::Event(DriverEvent::FocusChanged(Focus {
                live_work_item_id: None,
            })),
            DriverToBridge::Event(DriverEvent::PanelWidth(Pixels { px: 420 })),
            DriverToBridge::Reply {
                id: "d1".into(),
                result: Ok(json!({"accepted": true})),
            },
            DriverToBridge::Reply {
                id: "d2".into(),
                result: Err(DriverError {
                    code: "badNumber".into(),
                    message: "no".into(),
                }),
            },
        ];
        for m in all {
            let text = m.to_value().to_string();
            assert_eq!(DriverToBridge::decode_text(&text), Ok(m), "{text}");
        }
    }
}
