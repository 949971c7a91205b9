//! The driver's decisions, as pure functions tested natively: whether a `message` event is acted
//! on (source, origin, then the bounded decoder), what an SDK event becomes on the wire, and how
//! a presence is chosen for `setPresence`. `cti` only moves values between these and JavaScript.

use crate::allow::Allowlist;
use protocol::driver::{
    BaseStatus, BridgeToDriver, ConversationLoaded, DriverError, DriverEvent, DriverRefused,
    DriverToBridge, Focus, HoldChange, MuteChange, Pixels, Presence, PresenceChange, StatusChange,
    Transfer, Visibility, WorkItem,
};
use protocol::DropReason;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Judges one `message` event. `from_parent` is `event.source === window.parent` (and the
/// widget is framed at all); `text` is the data as JSON text, `None` when it could not be
/// serialised. A refusal from an untrusted sender never carries an id: nothing is answered to
/// a window or origin we do not trust.
pub fn judge(
    from_parent: bool,
    origin: &str,
    allow: &Allowlist,
    text: Option<&str>,
) -> Result<BridgeToDriver, DriverRefused> {
    let refuse = |reason| DriverRefused { id: None, reason };
    if !from_parent {
        return Err(refuse(DropReason::WrongSource));
    }
    if !allow.allows(origin) {
        return Err(refuse(DropReason::WrongOrigin));
    }
    let text = text.ok_or_else(|| refuse(DropReason::NotJson))?;
    BridgeToDriver::decode_text(text)
}

/// The typed error reply for a refused request, when it had a readable id.
pub fn refusal_reply(r: &DriverRefused) -> Option<DriverToBridge> {
    r.id.as_ref().map(|id| DriverToBridge::Reply {
        id: id.clone(),
        result: Err(DriverError {
            code: r.reason.code().to_owned(),
            message: r.reason.to_string(),
        }),
    })
}

/// A reply carrying an error of the driver's own (`sdkError`, `unknownPresence`, `noSdk`).
pub fn error_reply(id: &str, code: &str, message: impl Into<String>) -> DriverToBridge {
    DriverToBridge::Reply {
        id: id.to_owned(),
        result: Err(DriverError {
            code: code.to_owned(),
            message: message.into(),
        }),
    }
}

/// Every SDK event the driver subscribes to, as `(module, event)`.
pub const SUBSCRIPTIONS: [(&str, &str); 14] = [
    ("conversation", "onConversationLoaded"),
    ("conversation", "onAccept"),
    ("conversation", "onReject"),
    ("conversation", "onStatusChange"),
    ("conversation", "onTransfer"),
    ("conversation", "onConsultStart"),
    ("conversation", "onConsultEnd"),
    ("voiceOrVideoCalling", "onHoldChange"),
    ("voiceOrVideoCalling", "onMuteChange"),
    ("presence", "onPresenceChange"),
    ("ctiDriver", "onSoftPhonePanelVisibilityChange"),
    ("ctiDriver", "onSoftPhonePanelWidthChange"),
    ("ctiDriver", "onSoftPhonePanelHeightChange"),
    // Not forwarded as such: a notification says nothing the events above do not, but a new
    // conversation notification is a cue to re-read the focused conversation.
    ("notification", "onNewConversationNotification"),
];

fn typed<T: DeserializeOwned>(payload: &Value) -> Result<T, DropReason> {
    serde_json::from_value(payload.clone()).map_err(|e| DropReason::WrongShape(e.to_string()))
}

fn pixels(payload: &Value) -> Result<Pixels, DropReason> {
    // The SDK passes a number of pixels; some versions wrap it as `{width}`/`{height}`.
    let n = payload
        .as_f64()
        .or_else(|| payload.get("width").and_then(Value::as_f64))
        .or_else(|| payload.get("height").and_then(Value::as_f64))
        .filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| DropReason::WrongShape("panel size must be a number of pixels".into()))?;
    Ok(Pixels {
        px: n.round().min(f64::from(u32::MAX)) as u32,
    })
}

/// What one SDK callback's payload becomes. `options` is the presence options list, attached
/// to a presence change. `Ok(None)` for subscriptions that forward nothing themselves.
pub fn event_from_sdk(
    module: &str,
    event: &str,
    payload: &Value,
    options: Option<Vec<Presence>>,
) -> Result<Option<DriverEvent>, DropReason> {
    let ev = match (module, event) {
        ("conversation", "onConversationLoaded") => {
            DriverEvent::ConversationLoaded(typed::<ConversationLoaded>(payload)?)
        }
        ("conversation", "onAccept") => {
            DriverEvent::ConversationAccepted(typed::<WorkItem>(payload)?)
        }
        ("conversation", "onReject") => {
            DriverEvent::ConversationRejected(typed::<WorkItem>(payload)?)
        }
        ("conversation", "onStatusChange") => {
            DriverEvent::StatusChanged(typed::<StatusChange>(payload)?)
        }
        ("conversation", "onTransfer") => DriverEvent::Transferred(typed::<Transfer>(payload)?),
        ("conversation", "onConsultStart") => {
            DriverEvent::ConsultStarted(typed::<WorkItem>(payload)?)
        }
        ("conversation", "onConsultEnd") => DriverEvent::ConsultEnded(typed::<WorkItem>(payload)?),
        ("voiceOrVideoCalling", "onHoldChange") => {
            DriverEvent::HoldChanged(typed::<HoldChange>(payload)?)
        }
        ("voiceOrVideoCalling", "onMuteChange") => {
            DriverEvent::MuteChanged(typed::<MuteChange>(payload)?)
        }
        ("presence", "onPresenceChange") => DriverEvent::PresenceChanged(PresenceChange {
            presence: typed::<Presence>(payload)?,
            options,
        }),
        ("ctiDriver", "onSoftPhonePanelVisibilityChange") => {
            let visible = payload
                .as_bool()
                .or_else(|| payload.get("visible").and_then(Value::as_bool))
                .ok_or_else(|| DropReason::WrongShape("visibility must be a boolean".into()))?;
            DriverEvent::PanelVisibility(Visibility { visible })
        }
        ("ctiDriver", "onSoftPhonePanelWidthChange") => DriverEvent::PanelWidth(pixels(payload)?),
        ("ctiDriver", "onSoftPhonePanelHeightChange") => DriverEvent::PanelHeight(pixels(payload)?),
        _ => return Ok(None),
    };
    Ok(Some(ev))
}

/// Whether an event may have moved the agent's focus (then the driver re-reads it).
pub fn may_change_focus(module: &str, event: &str) -> bool {
    module == "conversation"
        && matches!(
            event,
            "onConversationLoaded" | "onAccept" | "onReject" | "onStatusChange" | "onTransfer"
        )
        || (module, event) == ("notification", "onNewConversationNotification")
}

/// The focus event for what `getFocusedConversationId` returned ("" means none).
pub fn focus_from_sdk(v: &Value) -> Focus {
    Focus {
        live_work_item_id: v.as_str().filter(|s| !s.is_empty()).map(str::to_owned),
    }
}

/// The presence id `setPresence` is called with: the id itself when the SDK offers it, else
/// the first option the agent may set with the wanted base status.
pub fn choose_presence(
    options: &[Presence],
    presence_id: Option<&str>,
    base_status: Option<BaseStatus>,
) -> Result<String, String> {
    if let Some(id) = presence_id {
        if options.iter().any(|o| o.presence_id == id) {
            return Ok(id.to_owned());
        }
    }
    if let Some(base) = base_status {
        if let Some(o) = options
            .iter()
            .find(|o| o.base_presence_status == base && o.can_user_set)
        {
            return Ok(o.presence_id.clone());
        }
    }
    Err(match (presence_id, base_status) {
        (None, None) => "setPresence needs presenceId or baseStatus".to_owned(),
        (Some(id), None) => format!("no presence with id {id:?}"),
        (_, Some(b)) => format!("no presence the agent may set with base status {b:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::E164;
    use serde_json::json;

    const EXT: &str = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";

    fn allow() -> Allowlist {
        Allowlist::from_sources(Some(EXT), None, &[]).0
    }

    const DIAL: &str = r#"{"messageType":"clickToDial","messageData":{"number":"+14255550100"},"channel":"ccaas-driver","v":1,"id":"d1"}"#;

    #[test]
    fn acts_only_on_the_parent_from_an_allowed_origin() {
        let ok = judge(true, EXT, &allow(), Some(DIAL));
        assert_eq!(
            ok,
            Ok(BridgeToDriver::ClickToDial {
                number: E164::parse("+14255550100").unwrap_or_else(|_| unreachable!()),
                id: Some("d1".into())
            })
        );
        // A sibling frame, the widget's own scripts: not the parent, whatever their origin.
        let r = judge(false, EXT, &allow(), Some(DIAL));
        assert_eq!(r.as_ref().map_err(|r| r.reason.code()), Err("wrongSource"));
        assert!(r.as_ref().is_err_and(|r| r.id.is_none()));
        // The parent, but from an origin nobody allowed: refused, and not answered.
        let r = judge(true, "https://evil.example", &allow(), Some(DIAL));
        assert_eq!(r.as_ref().map_err(|r| r.reason.code()), Err("wrongOrigin"));
        assert!(r.as_ref().is_err_and(|r| refusal_reply(r).is_none()));
        // Nothing is trusted with an empty list.
        let r = judge(true, EXT, &Allowlist::default(), Some(DIAL));
        assert_eq!(r.map_err(|r| r.reason.code()), Err("wrongOrigin"));
    }

    #[test]
    fn tolerates_anything_else_from_the_parent() {
        for (text, code) in [
            (None, "notJson"),
            (Some("not json"), "notJson"),
            (Some("42"), "wrongShape"),
            (Some(r#"{"hello":1}"#), "wrongShape"),
            (Some(r#"{"messageType":"formatDisk"}"#), "unknownType"),
        ] {
            let r = judge(true, EXT, &allow(), text);
            assert_eq!(r.map_err(|r| r.reason.code()), Err(code), "{text:?}");
        }
    }

    #[test]
    fn a_bad_number_gets_a_typed_error_reply() {
        let bad = DIAL.replace("+14255550100", "call me maybe");
        let r = judge(true, EXT, &allow(), Some(&bad));
        let Err(refused) = r else {
            unreachable!("{r:?}")
        };
        match refusal_reply(&refused) {
            Some(DriverToBridge::Reply { id, result: Err(e) }) => {
                assert_eq!(id, "d1");
                assert_eq!(e.code, "badNumber");
            }
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn sdk_payloads_become_typed_events() {
        let ev = |m, e, p: Value| event_from_sdk(m, e, &p, None);
        assert!(matches!(
            ev(
                "conversation",
                "onStatusChange",
                json!({"liveWorkItemId":"w","statusCode":4})
            ),
            Ok(Some(DriverEvent::StatusChanged(StatusChange {
                status_code: 4,
                ..
            })))
        ));
        assert!(matches!(
            ev("ctiDriver", "onSoftPhonePanelWidthChange", json!(420.4)),
            Ok(Some(DriverEvent::PanelWidth(Pixels { px: 420 })))
        ));
        assert!(matches!(
            ev(
                "ctiDriver",
                "onSoftPhonePanelVisibilityChange",
                json!(false)
            ),
            Ok(Some(DriverEvent::PanelVisibility(Visibility {
                visible: false
            })))
        ));
        assert!(matches!(
            ev("notification", "onNewConversationNotification", json!({})),
            Ok(None)
        ));
        assert!(ev("ctiDriver", "onSoftPhonePanelHeightChange", json!(-1)).is_err());
        assert!(ev(
            "voiceOrVideoCalling",
            "onHoldChange",
            json!({"liveWorkItemId":"w"})
        )
        .is_err());
        assert!(ev(
            "presence",
            "onPresenceChange",
            json!({"presenceId":"p","basePresenceStatus":"ON_FIRE"})
        )
        .is_err());
        for (m, e) in SUBSCRIPTIONS {
            // Every subscription is known to the mapper (a wrong payload, not an unknown event).
            assert!(!matches!(ev(m, e, json!(null)), Ok(Some(_))), "{m}.{e}");
        }
        assert_eq!(focus_from_sdk(&json!("")).live_work_item_id, None);
        assert_eq!(
            focus_from_sdk(&json!("w1")).live_work_item_id.as_deref(),
            Some("w1")
        );
    }

    #[test]
    fn presence_by_id_or_by_base_status() {
        let p = |id: &str, base, can| Presence {
            presence_id: id.into(),
            presence_name: id.into(),
            presence_text: id.into(),
            base_presence_status: base,
            presence_color: None,
            can_user_set: can,
        };
        let options = [
            p("avail", BaseStatus::Available, true),
            p("away-system", BaseStatus::Away, false),
            p("away", BaseStatus::Away, true),
        ];
        assert_eq!(
            choose_presence(&options, Some("avail"), None),
            Ok("avail".into())
        );
        assert_eq!(
            choose_presence(&options, Some("gone"), Some(BaseStatus::Away)),
            Ok("away".into())
        );
        assert!(choose_presence(&options, Some("gone"), None).is_err());
        assert!(choose_presence(&options, None, Some(BaseStatus::Offline)).is_err());
        assert!(choose_presence(&options, None, None).is_err());
    }
}
