//! Generated-input tests for every decoder of the crate.
//!
//! Three parts:
//! - `a_million_generated_inputs_are_decoded_or_dropped_consistently`: a fast, deterministic
//!   generator (splitmix64, fixed seeds) builds at least a million JSON texts: valid envelopes of
//!   every boundary, the same envelopes mutated (fields dropped, renamed, retyped, wrong `v`,
//!   unknown `type`/`kind`/`t`, `__proto__`/`constructor`/`prototype` keys at random depths, long
//!   strings, deep nesting, bad phone numbers), random JSON values, random bytes, texts around the
//!   64 KiB limit, and text-level mutants of all of these (truncated, spliced, keys escaped as
//!   `\u005f_proto__`, repeated keys, wrapped in a JSON string...). Each text goes to one text
//!   decoder (`parse_bounded`, `PageInput::decode_text`, `DriverToBridge::decode_text`,
//!   `ext::decode` of one of the six enums, `PanelPrefs::from_stored`); generated values also go
//!   to `check_value`, `Config::from_stored` and the `decode_value`s, phone-like strings to
//!   `E164::parse`. Every outcome is checked against an oracle: the generated value when the
//!   text is its serialisation, an independent parse otherwise. It prints how the inputs were
//!   classified (`cargo test -p protocol --test decoders_fuzz -- --nocapture`).
//! - proptest properties with modest case counts for the structured guarantees: E.164 canonical
//!   form and idempotence, click-to-dial round trips and wire formats, forbidden keys anywhere,
//!   oversized payloads, `ext` round trips, panel prefs and stored configuration.
//! - `the_driver_side_round_trips_and_refuses_mutants`: the project's driver's decoder
//!   (`BridgeToDriver::decode_text`) and encoder (`DriverToBridge::to_value`) against the bridge's.
//!
//! Two behaviours are counted and printed rather than asserted (see the counters in `Stats`):
//! a known extended event type refused as `unknownType` when a nested enum value is unknown, and
//! a page text that spells the channel with a JSON escape being ignored as not for us.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use protocol::config::{self, Config, ConfigError};
use protocol::driver::{
    BaseStatus, BridgeToDriver, ConversationLoaded, DriverError, DriverEvent, DriverRequest,
    DriverToBridge, Focus, HoldChange, MuteChange, Pixels, Presence, PresenceChange, StatusChange,
    Transfer, Visibility, WorkItem,
};
use protocol::ext::{
    self, BackgroundToContent, BackgroundToPanel, ContentToBackground, DialId, DialOutcome,
    OneShot, PanelToBackground, ProbeReport,
};
use protocol::json::{self, MAX_DEPTH};
use protocol::page::{
    BridgeStatus, BridgeToPage, DriverKind, PageError, PageEvent, PageInput, PageRequest,
    PageToBridge, Refused, WidgetState,
};
use protocol::prefs::{PanelPrefs, Side, DEFAULT_WIDTH, MAX_WIDTH, MIN_WIDTH};
use protocol::{DropReason, DRIVER_CHANNEL, E164, MAX_MESSAGE_BYTES, PAGE_CHANNEL};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Debug;

// ---------------------------------------------------------------------------------------------
// Deterministic generator
// ---------------------------------------------------------------------------------------------

/// splitmix64: tiny, fast, good enough to drive a fuzzer, and reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: usize, hi_inclusive: usize) -> usize {
        lo + self.below(hi_inclusive - lo + 1)
    }
    /// True with probability `1 / n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const FORBIDDEN: [&str; 3] = ["__proto__", "constructor", "prototype"];

/// Keys that the decoders look at, so that mutations rename fields into other meaningful ones.
const FIELD_KEYS: &[&str] = &[
    "channel",
    "v",
    "kind",
    "id",
    "type",
    "data",
    "number",
    "ok",
    "error",
    "code",
    "message",
    "driver",
    "version",
    "t",
    "session",
    "seq",
    "url",
    "outcome",
    "report",
    "doc",
    "event",
    "status",
    "request",
    "drops",
    "visible",
    "liveWorkItemId",
    "sessionId",
    "conversationType",
    "customerName",
    "customerPhoneNumber",
    "presence",
    "presenceId",
    "basePresenceStatus",
    "statusCode",
    "isAgentOnHold",
    "isAgentMuted",
    "px",
    "messageType",
    "messageData",
    "widgetUrl",
    "ccaasUrl",
    "sites",
    "schema",
    "livenessTimeoutMs",
    "side",
    "width",
    "minimized",
    // near misses that are allowed
    "__proto",
    "proto",
    "Constructor",
    "PROTOTYPE",
    "__proto__ ",
    "_proto_",
];

const WORDS: &[&str] = &[
    "",
    "a",
    "r1",
    "w1",
    "s1",
    "Voice",
    "+14255550100",
    "__proto__",
    "constructor",
    "prototype",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "é",
    "日本語",
    "🎉🎉",
    "\u{0}",
    "\u{a0}",
    "\u{202e}rtl",
    "\u{feff}",
    "\"",
    "\\",
    "\n\t",
    "null",
    "true",
    "1",
    "-0",
    "1e309",
    "ccaas-bridge",
    "ccaas-driver",
    "clickToDial",
    "getStatus",
    "showPanel",
    "hidePanel",
    "request",
    "reply",
    "event",
    "hello",
    "conversationLoaded",
    "presenceChanged",
    "AVAILABLE",
    "{}",
    "[]",
    "[[[[",
    "}}}}",
];

const PAGE_TYPES: [&str; 4] = ["clickToDial", "getStatus", "showPanel", "hidePanel"];

use protocol::driver::DRIVER_EVENT_TYPES;

fn gen_unicode_char(r: &mut Rng) -> char {
    match r.below(6) {
        0 => char::from(r.range(0x20, 0x7e) as u8),
        1 => char::from(r.below(0x20) as u8),
        2 => char::from_u32(r.range(0xa0, 0x2fff) as u32).unwrap_or('?'),
        3 => char::from_u32(r.range(0x1f300, 0x1f6ff) as u32).unwrap_or('?'),
        4 => *r.pick(&['"', '\\', '{', '}', '[', ']', ':', ',', '/', '\u{2028}']),
        _ => *r.pick(&['٣', '０', '１', '＋', '\u{a0}', '\u{3000}', 'ß', 'İ']),
    }
}

fn gen_alnum(r: &mut Rng, len: usize) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    (0..len).map(|_| char::from(*r.pick(A))).collect()
}

/// A string value: from the pool, random alphanumerics around the decoders' length limits
/// (16, 32, 64), or random unicode.
fn gen_str(r: &mut Rng) -> String {
    match r.below(8) {
        0..=2 => (*r.pick(WORDS)).to_owned(),
        3 => {
            let len = *r.pick(&[0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100]);
            gen_alnum(r, len)
        }
        4 => {
            let n = r.range(1, 12);
            (0..n).map(|_| gen_unicode_char(r)).collect()
        }
        5 => {
            // A number of unicode chars that is <= 64 chars but > 64 bytes.
            let n = *r.pick(&[16, 32, 63, 64, 65]);
            "é".repeat(n)
        }
        _ => {
            let n = r.range(0, 10);
            gen_alnum(r, n)
        }
    }
}

/// A short, plain string for the fields of valid envelopes.
fn gen_ident(r: &mut Rng) -> String {
    match r.below(4) {
        0 => (*r.pick(&["r1", "w1", "s1", "x", "id-7", "é", "日本", "🎉"])).to_owned(),
        _ => {
            let n = r.range(1, 12);
            gen_alnum(r, n)
        }
    }
}

fn gen_key(r: &mut Rng) -> String {
    match r.below(20) {
        0 => (*r.pick(&FORBIDDEN)).to_owned(),
        1 | 2 => gen_str(r),
        _ => (*r.pick(FIELD_KEYS)).to_owned(),
    }
}

fn gen_number_value(r: &mut Rng) -> Value {
    match r.below(10) {
        0 => json!(0),
        1 => json!(1),
        2 => json!(-1),
        3 => json!(u64::MAX),
        4 => json!(i64::MIN),
        5 => json!(1.0),
        6 => json!(1e300),
        7 => json!(-0.5),
        8 => json!(r.next() as i64),
        _ => json!(r.below(1000)),
    }
}

fn gen_scalar(r: &mut Rng) -> Value {
    match r.below(5) {
        0 => Value::Null,
        1 => Value::Bool(r.one_in(2)),
        2 => gen_number_value(r),
        _ => Value::String(gen_str(r)),
    }
}

/// A random JSON value; keys are mostly meaningful field names, sometimes forbidden ones.
fn gen_value(r: &mut Rng, depth: usize) -> Value {
    let k = if depth >= 5 { r.below(5) } else { r.below(8) };
    match k {
        0..=4 => gen_scalar(r),
        5 => {
            let n = r.below(4);
            Value::Array((0..n).map(|_| gen_value(r, depth + 1)).collect())
        }
        _ => {
            let n = r.below(5);
            let mut m = Map::new();
            for _ in 0..n {
                let k = gen_key(r);
                m.insert(k, gen_value(r, depth + 1));
            }
            Value::Object(m)
        }
    }
}

fn gen_e164(r: &mut Rng) -> E164 {
    let len = r.range(7, 15);
    let mut s = String::from("+");
    s.push(char::from(b'1' + r.below(9) as u8));
    for _ in 1..len {
        s.push(char::from(b'0' + r.below(10) as u8));
    }
    E164::parse(&s).unwrap()
}

/// A phone number as someone may type it, or something that is not one.
fn gen_phone_text(r: &mut Rng) -> String {
    let digits = |r: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + r.below(10) as u8))
            .collect()
    };
    match r.below(14) {
        // valid, canonical
        0..=2 => gen_e164(r).as_str().to_owned(),
        // valid, with separators and padding
        3..=5 => {
            let canon = gen_e164(r);
            let mut s = String::new();
            if r.one_in(3) {
                s.push_str(r.pick::<&str>(&[" ", "\t", "\u{3000}", "\n"]));
            }
            s.push('+');
            for c in canon.as_str()[1..].chars() {
                if r.one_in(3) {
                    s.push(*r.pick(&[' ', '-', '.', '(', ')', '\u{a0}']));
                }
                s.push(c);
            }
            if r.one_in(3) {
                s.push(' ');
            }
            s
        }
        6 => {
            let n = r.range(0, 20);
            format!(
                "{}{}",
                r.pick(&["", "+", "++", "00", "＋", "+0"]),
                digits(r, n)
            )
        }
        7 => {
            let n = r.range(5, 16);
            let mut s = format!("+1{}", digits(r, n));
            let at = r.range(1, s.len());
            s.insert_str(
                at,
                r.pick::<&str>(&["x", "<b>", "e", "#", "*", "٣", "１", "\u{0}", "ext"]),
            );
            s
        }
        8 => (*r.pick(&[
            "call me maybe",
            "+<img src=x>",
            "+1 (425) 555-0100",
            "tel:+14255550100",
            "+1-800-FLOWERS",
            "+",
            "",
            "   ",
            "+1234567",
            "+123456",
            "+123456789012345",
            "+1234567890123456",
            "+0123456789",
            "+1 2 3 4 5 6 7",
            "+(((((((1234567",
        ]))
        .to_owned(),
        9 => {
            // long separators push it past the 64-byte input limit
            let n = r.range(50, 80);
            format!("+1{}234567", " ".repeat(n))
        }
        10 => gen_str(r),
        _ => {
            let n = r.range(0, 30);
            let mut s = String::from("+");
            for _ in 0..n {
                s.push(*r.pick(&['1', '2', '0', ' ', '-', '.', '(', ')', 'a', '+', '\u{a0}']));
            }
            s
        }
    }
}

// --- typed values of every message enum -----------------------------------------------------

fn gen_opt_str(r: &mut Rng) -> Option<String> {
    if r.one_in(2) {
        Some(gen_str(r))
    } else {
        None
    }
}

fn gen_base_status(r: &mut Rng) -> BaseStatus {
    *r.pick(&[
        BaseStatus::Available,
        BaseStatus::Away,
        BaseStatus::Busy,
        BaseStatus::BusyDoNotDisturb,
        BaseStatus::Offline,
    ])
}

fn gen_presence(r: &mut Rng) -> Presence {
    Presence {
        presence_id: gen_str(r),
        presence_name: gen_str(r),
        presence_text: gen_str(r),
        base_presence_status: gen_base_status(r),
        presence_color: gen_opt_str(r),
        can_user_set: r.one_in(2),
    }
}

fn gen_conversation(r: &mut Rng) -> ConversationLoaded {
    ConversationLoaded {
        live_work_item_id: gen_ident(r),
        conversation_type: gen_str(r),
        created_time_stamp: gen_str(r),
        live_work_stream_id: gen_opt_str(r),
        session_id: gen_ident(r),
        customer_name: gen_str(r),
        customer_phone_number: if r.one_in(2) {
            Some(gen_phone_text(r))
        } else {
            None
        },
    }
}

fn gen_work_item(r: &mut Rng) -> WorkItem {
    WorkItem {
        live_work_item_id: gen_ident(r),
    }
}

fn gen_driver_event(r: &mut Rng) -> DriverEvent {
    match r.below(14) {
        0 => DriverEvent::ConversationLoaded(gen_conversation(r)),
        1 => DriverEvent::ConversationAccepted(gen_work_item(r)),
        2 => DriverEvent::ConversationRejected(gen_work_item(r)),
        3 => DriverEvent::StatusChanged(StatusChange {
            live_work_item_id: gen_ident(r),
            status_code: *r.pick(&[2, 4, 5, 0, -1, i64::MAX, i64::MIN]),
        }),
        4 => DriverEvent::Transferred(Transfer {
            live_work_item_id: gen_ident(r),
            session_id: gen_str(r),
            transfer_destination: gen_str(r),
        }),
        5 => DriverEvent::ConsultStarted(gen_work_item(r)),
        6 => DriverEvent::ConsultEnded(gen_work_item(r)),
        7 => DriverEvent::HoldChanged(HoldChange {
            live_work_item_id: gen_ident(r),
            is_agent_on_hold: r.one_in(2),
        }),
        8 => DriverEvent::MuteChanged(MuteChange {
            live_work_item_id: gen_ident(r),
            is_agent_muted: r.one_in(2),
        }),
        9 => DriverEvent::PresenceChanged(PresenceChange {
            presence: gen_presence(r),
            options: if r.one_in(2) {
                let n = r.below(3);
                Some((0..n).map(|_| gen_presence(r)).collect())
            } else {
                None
            },
        }),
        10 => DriverEvent::FocusChanged(Focus {
            live_work_item_id: gen_opt_str(r),
        }),
        11 => DriverEvent::PanelVisibility(Visibility {
            visible: r.one_in(2),
        }),
        12 => DriverEvent::PanelWidth(Pixels {
            px: r.next() as u32,
        }),
        _ => DriverEvent::PanelHeight(Pixels {
            px: r.below(5000) as u32,
        }),
    }
}

fn gen_driver_request(r: &mut Rng) -> DriverRequest {
    match r.below(4) {
        0 => DriverRequest::GetPresence,
        1 => DriverRequest::SetPresence {
            presence_id: gen_opt_str(r),
            base_status: if r.one_in(2) {
                Some(gen_base_status(r))
            } else {
                None
            },
        },
        2 => DriverRequest::GetPresenceOptions,
        _ => DriverRequest::GetFocusedConversation,
    }
}

fn gen_bridge_status(r: &mut Rng) -> BridgeStatus {
    BridgeStatus {
        widget: *r.pick(&[
            WidgetState::Off,
            WidgetState::Loading,
            WidgetState::Alive,
            WidgetState::Ready,
            WidgetState::Unreachable,
        ]),
        driver: match r.below(3) {
            0 => DriverKind::Unknown,
            1 => DriverKind::Stock,
            _ => DriverKind::Extended {
                name: gen_str(r),
                version: gen_str(r),
            },
        },
        widget_origin: gen_opt_str(r),
        queued: r.next() as u32,
    }
}

fn gen_page_error(r: &mut Rng) -> PageError {
    PageError::new(&gen_ident(r), gen_str(r))
}

fn gen_page_event(r: &mut Rng) -> PageEvent {
    use protocol::driver::ConversationStatus as S;
    match r.below(9) {
        0 => PageEvent::ConversationLoaded(gen_conversation(r)),
        1 => PageEvent::ConversationAccepted {
            live_work_item_id: gen_ident(r),
        },
        2 => PageEvent::ConversationRejected {
            live_work_item_id: gen_ident(r),
        },
        3 => PageEvent::ConversationStatus {
            live_work_item_id: gen_ident(r),
            status: *r.pick(&[S::Active, S::Closed, S::WrapUp, S::Other(7), S::Other(-3)]),
        },
        4 => PageEvent::ConversationEnded {
            live_work_item_id: gen_ident(r),
        },
        5 => PageEvent::PresenceChanged(gen_presence(r)),
        6 => PageEvent::HoldChanged {
            live_work_item_id: gen_ident(r),
            on_hold: r.one_in(2),
        },
        7 => PageEvent::MuteChanged {
            live_work_item_id: gen_ident(r),
            muted: r.one_in(2),
        },
        _ => PageEvent::StatusChanged(gen_bridge_status(r)),
    }
}

fn gen_dial_id(r: &mut Rng) -> DialId {
    DialId {
        session: gen_ident(r),
        seq: if r.one_in(4) { u64::MAX } else { r.next() },
    }
}

fn gen_outcome(r: &mut Rng) -> DialOutcome {
    match r.below(3) {
        0 => DialOutcome::Delivered,
        1 => DialOutcome::Accepted,
        _ => DialOutcome::Failed(gen_page_error(r)),
    }
}

fn gen_probe(r: &mut Rng) -> ProbeReport {
    let doc = gen_ident(r);
    match r.below(3) {
        0 => ProbeReport::Alive { doc },
        1 => ProbeReport::DriverReady { doc },
        _ => ProbeReport::Gone { doc },
    }
}

fn gen_drops(r: &mut Rng) -> Vec<(String, u64)> {
    let n = r.below(4);
    (0..n).map(|_| (gen_ident(r), r.next())).collect()
}

/// One value of one of the `ext` enums.
#[derive(Clone, Debug, PartialEq)]
enum ExtMsg {
    C2B(ContentToBackground),
    B2C(BackgroundToContent),
    P2B(PanelToBackground),
    B2P(BackgroundToPanel),
    Probe(ProbeReport),
    One(OneShot),
}

const EXT_KINDS: usize = 6;

fn gen_ext(r: &mut Rng) -> ExtMsg {
    match r.below(EXT_KINDS) {
        0 => ExtMsg::C2B(match r.below(5) {
            0 => ContentToBackground::Hello {
                session: gen_ident(r),
                url: gen_str(r),
            },
            1 => ContentToBackground::Dial {
                id: gen_dial_id(r),
                number: gen_e164(r),
            },
            2 => ContentToBackground::DriverRequest {
                id: gen_dial_id(r),
                request: gen_driver_request(r),
            },
            3 => ContentToBackground::GetStatus,
            _ => ContentToBackground::Stats {
                drops: gen_drops(r),
            },
        }),
        1 => ExtMsg::B2C(match r.below(6) {
            0 => BackgroundToContent::Welcome {
                version: gen_str(r),
            },
            1 => BackgroundToContent::DialResult {
                id: gen_dial_id(r),
                outcome: gen_outcome(r),
            },
            2 => BackgroundToContent::Event {
                event: gen_page_event(r),
            },
            3 => BackgroundToContent::Status {
                status: gen_bridge_status(r),
            },
            4 => BackgroundToContent::TogglePanel,
            _ => BackgroundToContent::ShowPanel,
        }),
        2 => ExtMsg::P2B(match r.below(6) {
            0 => PanelToBackground::Hello,
            1 => PanelToBackground::DialResult {
                id: gen_dial_id(r),
                outcome: gen_outcome(r),
            },
            2 => PanelToBackground::DriverEvent {
                event: gen_driver_event(r),
            },
            3 => PanelToBackground::Status {
                status: gen_bridge_status(r),
            },
            4 => PanelToBackground::ShowPanel {
                visible: r.one_in(2),
            },
            _ => PanelToBackground::Stats {
                drops: gen_drops(r),
            },
        }),
        3 => ExtMsg::B2P(match r.below(3) {
            0 => BackgroundToPanel::Dial {
                id: gen_dial_id(r),
                number: gen_e164(r),
            },
            1 => BackgroundToPanel::Probe {
                report: gen_probe(r),
            },
            _ => BackgroundToPanel::GetStatus,
        }),
        4 => ExtMsg::Probe(gen_probe(r)),
        _ => ExtMsg::One(match r.below(3) {
            0 => OneShot::Probe {
                report: gen_probe(r),
            },
            1 => OneShot::Ping,
            _ => OneShot::ConfigSaved,
        }),
    }
}

impl ExtMsg {
    fn index(&self) -> usize {
        match self {
            ExtMsg::C2B(_) => 0,
            ExtMsg::B2C(_) => 1,
            ExtMsg::P2B(_) => 2,
            ExtMsg::B2P(_) => 3,
            ExtMsg::Probe(_) => 4,
            ExtMsg::One(_) => 5,
        }
    }
    fn to_value(&self) -> Value {
        match self {
            ExtMsg::C2B(m) => serde_json::to_value(m),
            ExtMsg::B2C(m) => serde_json::to_value(m),
            ExtMsg::P2B(m) => serde_json::to_value(m),
            ExtMsg::B2P(m) => serde_json::to_value(m),
            ExtMsg::Probe(m) => serde_json::to_value(m),
            ExtMsg::One(m) => serde_json::to_value(m),
        }
        .unwrap()
    }
    fn encode(&self) -> String {
        match self {
            ExtMsg::C2B(m) => ext::encode(m),
            ExtMsg::B2C(m) => ext::encode(m),
            ExtMsg::P2B(m) => ext::encode(m),
            ExtMsg::B2P(m) => ext::encode(m),
            ExtMsg::Probe(m) => ext::encode(m),
            ExtMsg::One(m) => ext::encode(m),
        }
    }
    /// Decodes `text` as the enum with the given index.
    fn decode(index: usize, text: &str) -> Result<ExtMsg, DropReason> {
        match index {
            0 => ext::decode(text).map(ExtMsg::C2B),
            1 => ext::decode(text).map(ExtMsg::B2C),
            2 => ext::decode(text).map(ExtMsg::P2B),
            3 => ext::decode(text).map(ExtMsg::B2P),
            4 => ext::decode(text).map(ExtMsg::Probe),
            _ => ext::decode(text).map(ExtMsg::One),
        }
    }
}

// --- envelopes of each boundary, as JSON values ---------------------------------------------

fn gen_page_request(r: &mut Rng) -> Value {
    let ty = *r.pick(&PAGE_TYPES);
    let mut v =
        json!({"channel": PAGE_CHANNEL, "v": 1, "kind": "request", "id": gen_ident(r), "type": ty});
    if ty == "clickToDial" || r.one_in(4) {
        v["data"] = json!({ "number": gen_phone_text(r) });
    }
    v
}

fn gen_page_echo(r: &mut Rng) -> Value {
    match r.below(3) {
        0 => BridgeToPage::Event(gen_page_event(r)).to_value(),
        1 => BridgeToPage::Reply {
            id: gen_ident(r),
            result: Ok(serde_json::to_value(gen_bridge_status(r)).unwrap()),
        }
        .to_value(),
        _ => BridgeToPage::Reply {
            id: gen_ident(r),
            result: Err(gen_page_error(r)),
        }
        .to_value(),
    }
}

fn gen_driver_envelope(r: &mut Rng) -> Value {
    let ext = |mut v: Value, kind: &str| {
        if let Some(o) = v.as_object_mut() {
            o.insert("channel".into(), DRIVER_CHANNEL.into());
            o.insert("v".into(), 1.into());
            o.insert("kind".into(), kind.into());
        }
        v
    };
    match r.below(6) {
        0 | 1 => ext(serde_json::to_value(gen_driver_event(r)).unwrap(), "event"),
        2 => ext(
            json!({"data": {"driver": gen_str(r), "version": gen_str(r)}}),
            "hello",
        ),
        3 => ext(
            json!({"id": gen_ident(r), "ok": true, "data": gen_value(r, 2)}),
            "reply",
        ),
        4 => ext(
            json!({"id": gen_ident(r), "ok": false, "error": DriverError { code: gen_ident(r), message: gen_str(r) }}),
            "reply",
        ),
        _ => serde_json::to_value(gen_conversation(r)).unwrap(),
    }
}

fn gen_widget_url(r: &mut Rng) -> String {
    if r.one_in(10) {
        return gen_str(r);
    }
    if r.one_in(2) {
        // valid ones, so that stored records get past the URL often enough
        return (*r.pick(&[
            "https://ccaas-embed-prod.azureedge.net/widget/index.html?dynamicsUrl=https://org.crm.dynamics.com&msdynembedmode=3",
            "https://ccaas.example.net/widget/index.html?dynamicsUrl=https%3A%2F%2Forg.crm.dynamics.com",
            "http://ccaas.localhost:8130/widget/index.html?dynamicsUrl=https://o.crm.dynamics.com",
            "http://127.0.0.1:8130/?dynamicsUrl=https://o.example",
            " https://x.example/w?a=1&dynamicsUrl=https://o.example#f ",
        ]))
        .to_owned();
    }
    let scheme = *r.pick(&[
        "https",
        "https",
        "https",
        "http",
        "HTTPS",
        "javascript",
        "data",
        "file",
        "ftp",
        "",
    ]);
    let host = *r.pick(&[
        "ccaas-embed-prod.azureedge.net",
        "ccaas.example.net",
        "localhost:8130",
        "ccaas.localhost:8130",
        "127.0.0.1",
        "[::1]",
        "evil.example",
        "",
        "xn--80ak6aa92e.com",
        "пример.рф",
        "a b",
        "user:pw@host.example",
        "host.example:99999",
        "%41.example",
    ]);
    let path = *r.pick(&["/widget/index.html", "", "/", "/a/../b", "/%2e%2e/"]);
    let query = *r.pick(&[
        "?dynamicsUrl=https://org.crm.dynamics.com",
        "?dynamicsUrl=https://org.crm.dynamics.com&msdynembedmode=3",
        "?dynamicsUrl=https%3A%2F%2Forg.crm.dynamics.com&x=1",
        "?x=1&dynamicsUrl=https://o.example",
        "?dynamicsUrl=http://org.crm.dynamics.com",
        "?dynamicsUrl=javascript:alert(1)",
        "?dynamicsUrl=https://",
        "?dynamicsUrl=",
        "?dynamicsurl=https://org.crm.dynamics.com",
        "?x=1",
        "",
    ]);
    let frag = *r.pick(&["", "", "#x", "#dynamicsUrl=https://a.b"]);
    let pad = *r.pick(&["", "", " ", "\t", "\n "]);
    format!("{pad}{scheme}://{host}{path}{query}{frag}{pad}")
}

fn gen_site(r: &mut Rng) -> String {
    if r.one_in(10) {
        return gen_str(r);
    }
    if r.one_in(2) {
        return (*r.pick(&[
            "https://crm.example.com",
            "https://crm.example.com/",
            "https://*.example.com",
            "http://crm.localhost:8130",
            "https://Crm.Example.COM:443",
        ]))
        .to_owned();
    }
    let scheme = *r.pick(&["https", "https", "http", "ftp", "HTTPS"]);
    let wild = *r.pick(&["", "", "*.", "*.*."]);
    let host = *r.pick(&[
        "crm.example.com",
        "example.com",
        "localhost",
        "crm.localhost",
        "127.0.0.1",
        "[::1]",
        "com",
        "",
        "пример.рф",
        "Crm.Example.COM",
    ]);
    let port = *r.pick(&["", "", ":443", ":8130", ":0", ":70000"]);
    let tail = *r.pick(&["", "", "/", "/app", "?q=1", "#f", "//"]);
    format!("{scheme}://{wild}{host}{port}{tail}")
}

fn gen_config(r: &mut Rng) -> Value {
    let mut m = Map::new();
    match r.below(6) {
        0 => {}
        1 => {
            m.insert("schema".into(), json!(0));
        }
        2 => {
            m.insert("schema".into(), json!(2));
        }
        3 => {
            m.insert("schema".into(), gen_scalar(r));
        }
        _ => {
            m.insert("schema".into(), json!(1));
        }
    }
    match r.below(5) {
        0 => {
            m.insert("ccaasUrl".into(), gen_widget_url(r).into());
        }
        1 => {
            m.insert("ccaasUrl".into(), gen_widget_url(r).into());
            m.insert("widgetUrl".into(), gen_widget_url(r).into());
        }
        2 if r.one_in(3) => {}
        _ => {
            m.insert("widgetUrl".into(), gen_widget_url(r).into());
        }
    }
    if !r.one_in(5) {
        let n = r.below(4);
        m.insert(
            "sites".into(),
            Value::Array((0..n).map(|_| Value::from(gen_site(r))).collect()),
        );
    }
    if r.one_in(2) {
        let t = match r.below(8) {
            0 => json!(0),
            1 => json!(500),
            2 => json!(15_000),
            3 => json!(200_000),
            4 => json!(u64::from(u32::MAX) + 1),
            5 => json!(-1),
            6 => json!(1.5),
            _ => gen_scalar(r),
        };
        m.insert("livenessTimeoutMs".into(), t);
    }
    // the fields schema 2 added
    if r.one_in(3) {
        let region = match r.below(4) {
            0 => json!("US"),
            1 => json!("gb"),
            2 => json!("XX"),
            _ => gen_scalar(r),
        };
        m.insert("region".into(), region);
    }
    if r.one_in(3) {
        let area = match r.below(4) {
            0 => json!("425"),
            1 => json!(""),
            2 => json!("+1 425"),
            _ => gen_scalar(r),
        };
        m.insert("areaCode".into(), area);
    }
    if r.one_in(3) {
        m.insert(
            "allSites".into(),
            if r.one_in(2) {
                json!(r.one_in(2))
            } else {
                gen_scalar(r)
            },
        );
    }
    if r.one_in(3) {
        let mut settings = Map::new();
        for _ in 0..r.below(3) {
            let key = if r.one_in(2) { gen_site(r) } else { gen_key(r) };
            let val = if r.one_in(2) {
                json!({"panel": r.one_in(2), "detection": r.one_in(2)})
            } else {
                gen_value(r, 3)
            };
            settings.insert(key, val);
        }
        m.insert("siteSettings".into(), Value::Object(settings));
    }
    Value::Object(m)
}

fn gen_prefs(r: &mut Rng) -> Value {
    let mut m = Map::new();
    if !r.one_in(5) {
        let side = match r.below(5) {
            0 | 1 => json!("left"),
            2 => json!("right"),
            3 => json!("LEFT"),
            _ => gen_scalar(r),
        };
        m.insert("side".into(), side);
    }
    if !r.one_in(5) {
        let w = match r.below(8) {
            0 => json!(MIN_WIDTH - 1),
            1 => json!(MIN_WIDTH),
            2 => json!(MAX_WIDTH),
            3 => json!(MAX_WIDTH + 1),
            4 => json!(r.below(2000)),
            5 => json!(u64::MAX),
            6 => json!(u64::from(u32::MAX) + 7),
            _ => gen_scalar(r),
        };
        m.insert("width".into(), w);
    }
    if !r.one_in(5) {
        m.insert(
            "minimized".into(),
            if r.one_in(2) {
                Value::Bool(r.one_in(2))
            } else {
                gen_scalar(r)
            },
        );
    }
    Value::Object(m)
}

// --- mutations ------------------------------------------------------------------------------

/// A random node of `v` (the root included), reached by walking down.
fn random_node<'a>(r: &mut Rng, v: &'a mut Value) -> &'a mut Value {
    let n = match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    if n == 0 || r.one_in(3) {
        return v;
    }
    let i = r.below(n);
    match v {
        Value::Object(m) => match m.iter_mut().nth(i) {
            Some((_, c)) => random_node(r, c),
            None => unreachable!(),
        },
        Value::Array(a) => random_node(r, &mut a[i]),
        _ => unreachable!(),
    }
}

/// A random object inside `v`, if any (tries a few walks).
fn random_object<'a>(r: &mut Rng, v: &'a mut Value) -> Option<&'a mut Map<String, Value>> {
    // Decide the path first (immutable walks), then follow it mutably once.
    let mut best: Option<Vec<usize>> = None;
    for _ in 0..4 {
        let mut path = Vec::new();
        let mut cur: &Value = v;
        loop {
            let n = match cur {
                Value::Object(m) => m.len(),
                Value::Array(a) => a.len(),
                _ => 0,
            };
            if cur.is_object() && (n == 0 || r.one_in(3)) {
                break;
            }
            if n == 0 {
                break;
            }
            let i = r.below(n);
            path.push(i);
            cur = match cur {
                Value::Object(m) => m.values().nth(i).unwrap(),
                Value::Array(a) => &a[i],
                _ => unreachable!(),
            };
        }
        if cur.is_object() {
            best = Some(path);
            break;
        }
    }
    let path = best?;
    let mut cur = v;
    for i in path {
        cur = match cur {
            Value::Object(m) => m.values_mut().nth(i).unwrap(),
            Value::Array(a) => &mut a[i],
            _ => unreachable!(),
        };
    }
    cur.as_object_mut()
}

/// A value of a different JSON type than `v`.
fn retyped(r: &mut Rng, v: &Value) -> Value {
    loop {
        let n = gen_value(r, 4);
        if std::mem::discriminant(&n) != std::mem::discriminant(v) {
            return n;
        }
    }
}

/// Inserts a forbidden key somewhere in `v` (at a random depth, sometimes a deep new one).
fn insert_forbidden(r: &mut Rng, v: &mut Value) {
    let key = (*r.pick(&FORBIDDEN)).to_owned();
    let mut payload = if r.one_in(2) {
        gen_scalar(r)
    } else {
        json!({"polluted": true})
    };
    for _ in 0..r.below(4) {
        payload = if r.one_in(2) {
            json!([payload])
        } else {
            json!({ "x": payload })
        };
    }
    let node = random_node(r, v);
    match node {
        Value::Object(m) => {
            m.insert(key, payload);
        }
        Value::Array(a) => a.push(json!({ key: payload })),
        other => *other = json!({ key: payload }),
    }
}

fn mutate_value(r: &mut Rng, v: &mut Value) {
    match r.below(13) {
        0 => {
            if let Some(m) = random_object(r, v) {
                if !m.is_empty() {
                    let i = r.below(m.len());
                    let k = m.keys().nth(i).cloned().unwrap();
                    m.remove(&k);
                }
            }
        }
        1 => {
            if let Some(m) = random_object(r, v) {
                if !m.is_empty() {
                    let i = r.below(m.len());
                    let k = m.keys().nth(i).cloned().unwrap();
                    let val = m.remove(&k).unwrap();
                    m.insert(gen_key(r), val);
                }
            }
        }
        2 | 3 => {
            let node = random_node(r, v);
            let n = retyped(r, node);
            *node = n;
        }
        4 => {
            if let Some(m) = v.as_object_mut() {
                let bad = r
                    .pick(&[
                        json!(0),
                        json!(2),
                        json!(1.0),
                        json!(-1),
                        json!("1"),
                        Value::Null,
                        json!(u64::MAX),
                        json!(1e300),
                        json!([1]),
                    ])
                    .clone();
                if r.one_in(6) {
                    m.remove("v");
                } else {
                    m.insert("v".into(), bad);
                }
            }
        }
        5 => {
            if let Some(m) = v.as_object_mut() {
                let field = *r.pick(&["type", "kind", "t", "channel", "outcome"]);
                let val = match r.below(4) {
                    0 => Value::String(gen_str(r)),
                    1 => Value::String((*r.pick(&DRIVER_EVENT_TYPES)).to_owned()),
                    2 => Value::String((*r.pick(&PAGE_TYPES)).to_owned()),
                    _ => Value::String((*r.pick(WORDS)).to_owned()),
                };
                m.insert(field.into(), val);
            }
        }
        6 | 7 => insert_forbidden(r, v),
        8 => {
            // the phone number, wherever it is
            if let Some(d) = v.get_mut("data").and_then(Value::as_object_mut) {
                d.insert("number".into(), gen_phone_text(r).into());
            } else if let Some(m) = v.as_object_mut() {
                m.insert("number".into(), gen_phone_text(r).into());
            }
        }
        9 => {
            if let Some(m) = random_object(r, v) {
                m.insert(gen_key(r), gen_value(r, 3));
            }
        }
        10 => {
            // wrap it
            for _ in 0..r.range(1, 14) {
                *v = if r.one_in(2) {
                    json!([v.take()])
                } else {
                    json!({ "data": v.take() })
                };
            }
        }
        11 => {
            // a string field made long (past every per-field limit, well under 64 KiB)
            let node = random_node(r, v);
            let n = if r.one_in(20) {
                4000
            } else {
                *r.pick(&[65, 100, 300])
            };
            *node = Value::String(gen_alnum(r, n));
        }
        _ => {
            if let Some(m) = v.as_object_mut() {
                m.insert(
                    "channel".into(),
                    (*r.pick(&[
                        PAGE_CHANNEL,
                        DRIVER_CHANNEL,
                        "ccaas-bridge ",
                        "CCAAS-BRIDGE",
                    ]))
                    .into(),
                );
            }
        }
    }
}

/// A random char boundary of `s` in `0..=s.len()` (`0..s.len()` when `inner`, for a non-empty `s`).
fn char_boundary(r: &mut Rng, s: &str, inner: bool) -> usize {
    let mut i = r.below(s.len() + usize::from(!inner));
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Mutations on the text itself; the result may or may not be JSON.
fn mutate_text(r: &mut Rng, text: &mut String) {
    match r.below(10) {
        0 => {
            // truncate
            let at = char_boundary(r, text, false);
            text.truncate(at);
        }
        1 => {
            // insert a structural or random char
            let at = char_boundary(r, text, false);
            let c = if r.one_in(2) {
                *r.pick(&['{', '}', '[', ']', '"', ',', ':', '\\', '0', ' '])
            } else {
                gen_unicode_char(r)
            };
            text.insert(at, c);
        }
        2 => {
            // delete a char
            if !text.is_empty() {
                let at = char_boundary(r, text, true);
                text.remove(at);
            }
        }
        3 => {
            // escape the first character of keys and channel names: same value once parsed
            let (from, to) = *r.pick(&[
                ("\"__proto__\"", "\"\\u005f_proto__\""),
                ("\"constructor\"", "\"\\u0063onstructor\""),
                ("\"prototype\"", "\"\\u0070rototype\""),
                ("\"ccaas-bridge\"", "\"ccaas\\u002dbridge\""),
                ("\"ccaas-driver\"", "\"\\u0063caas-driver\""),
                ("\"clickToDial\"", "\"click\\u0054oDial\""),
            ]);
            if text.contains(from) {
                *text = text.replace(from, to);
            }
        }
        4 => {
            // duplicate a segment
            let i = char_boundary(r, text, false);
            let mut j = i + r.below(text.len() - i + 1);
            while !text.is_char_boundary(j) {
                j -= 1;
            }
            let seg = text[i..j].to_owned();
            text.insert_str(j, &seg);
        }
        5 => text.push_str(r.pick::<&str>(&["", " ", "\n", "x", "}", "]", ",", "{}", "\u{0}"])),
        6 => {
            // JSON allows a repeated key; the last one wins in serde_json, as in JSON.parse
            if let Some(rest) = text.strip_prefix('{') {
                let key = if r.one_in(2) {
                    (*r.pick(&FORBIDDEN)).to_owned()
                } else {
                    (*r.pick(FIELD_KEYS)).to_owned()
                };
                let sep = if rest.starts_with('}') { "" } else { "," };
                *text = format!("{{{}:{}{sep}{rest}", Value::from(key), gen_scalar(r));
            }
        }
        7 => {
            // whitespace around and inside
            *text = format!(" \n{}\t ", text.replace(',', " , "));
        }
        8 => {
            // the message as a JSON string (what the stock driver posts)
            *text = Value::String(std::mem::take(text)).to_string();
        }
        _ => {
            // garbage before a number token
            let start = r.below(text.len() + 1);
            if let Some(at) = text.as_bytes()[start..].iter().position(u8::is_ascii_digit) {
                text.insert_str(
                    start + at,
                    r.pick::<&str>(&["-", "0", "1e", ".", "NaN", "Infinity", "+"]),
                );
            }
        }
    }
}

fn random_bytes_text(r: &mut Rng) -> String {
    let n = r.below(80);
    let bytes: Vec<u8> = (0..n)
        .map(|_| {
            if r.one_in(2) {
                *r.pick(b"{}[]\":,0123456789-+.eE tfnrulas\\")
            } else {
                r.next() as u8
            }
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Texts around the 64 KiB limit: at it, just under, one over, far over; padded with ASCII,
/// with multi-byte characters (the limit is in bytes) or with whitespace outside any string.
/// Built by concatenation, because serialising 64 KiB through serde is slow in a debug build.
fn oversized_text(r: &mut Rng) -> String {
    let base = match r.below(3) {
        0 => gen_page_request(r),
        1 => gen_driver_envelope(r),
        _ => gen_ext(r).to_value(),
    };
    let text = base.to_string();
    // Mostly over the limit: a text under it is parsed, which is slow in a debug build, and
    // `oversized_payloads_are_too_large` covers the exact boundary.
    let target = match r.below(16) {
        0 => MAX_MESSAGE_BYTES,
        1 => MAX_MESSAGE_BYTES - r.range(1, 100),
        2..=6 => MAX_MESSAGE_BYTES + 1,
        7..=12 => MAX_MESSAGE_BYTES + r.range(2, 1000),
        _ => MAX_MESSAGE_BYTES * 2,
    };
    let Some(rest) = text.strip_prefix('{') else {
        unreachable!("every envelope is an object")
    };
    if r.one_in(3) {
        return format!("{}{text}", " ".repeat(target.saturating_sub(text.len())));
    }
    let sep = if rest.starts_with('}') { "" } else { "," };
    // `{"pad":"<fill>",<rest>`
    let fill = target.saturating_sub(text.len() + r#""pad":"""#.len() + sep.len());
    let pad = if r.one_in(2) {
        "a".repeat(fill)
    } else {
        let mut s = "é".repeat(fill / 2);
        if fill % 2 == 1 {
            s.push('a');
        }
        s
    };
    format!(r#"{{"pad":"{pad}"{sep}{rest}"#)
}

fn deep_text(r: &mut Rng) -> String {
    let n = *r.pick(&[11, 12, 13, 14, 15, 20, 100, 5000]);
    match r.below(5) {
        0 => format!("{}{}", "[".repeat(n), "]".repeat(n)),
        1 => format!("{}1{}", "[".repeat(n), "]".repeat(n)),
        2 => format!("{}{}{}", r#"{"a":"#.repeat(n), "{}", "}".repeat(n)),
        3 => "[".repeat(n),
        _ => {
            // deep inside a page envelope, with or without a forbidden key at the bottom
            let inner = if r.one_in(2) {
                r#"{"__proto__":1}"#
            } else {
                "1"
            };
            format!(
                r#"{{"channel":"ccaas-bridge","v":1,"kind":"request","id":"d","type":"getStatus","data":{}{inner}{}}}"#,
                "[".repeat(n),
                "]".repeat(n)
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Oracles
// ---------------------------------------------------------------------------------------------

fn has_forbidden(v: &Value) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| FORBIDDEN.contains(&k.as_str()) || has_forbidden(v)),
        Value::Array(a) => a.iter().any(has_forbidden),
        _ => false,
    }
}

/// Depth of the deepest node, the root being at depth 0 (so a scalar has depth 0).
fn node_depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.values().map(|c| 1 + node_depth(c)).max().unwrap_or(0),
        Value::Array(a) => a.iter().map(|c| 1 + node_depth(c)).max().unwrap_or(0),
        _ => 0,
    }
}

/// Largest number of open brackets in the text, strings included (the documented pre-scan).
fn bracket_depth(text: &str) -> usize {
    let (mut d, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'{' | b'[' => {
                d += 1;
                max = max.max(d);
            }
            b'}' | b']' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// `^\+[1-9][0-9]{6,14}$`
fn is_canonical_e164(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8
        && b.len() <= 16
        && b[0] == b'+'
        && (b'1'..=b'9').contains(&b[1])
        && b[2..].iter().all(u8::is_ascii_digit)
}

fn check_e164(input: &str) -> Result<E164, protocol::number::NumberError> {
    let out = E164::parse(input);
    if let Ok(n) = &out {
        assert!(is_canonical_e164(n.as_str()), "{input:?} -> {n:?}");
        assert_eq!(E164::parse(n.as_str()).as_ref(), Ok(n), "not idempotent");
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        assert_eq!(&n.as_str()[1..], digits, "{input:?}: digits changed");
        assert!(input.trim_start().starts_with('+'), "{input:?}");
    }
    out
}

fn preview(text: &str) -> String {
    let s: String = text.chars().take(300).collect();
    format!("{s:?} ({} bytes)", text.len())
}

fn reason_code<T>(r: &Result<T, DropReason>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

// ---------------------------------------------------------------------------------------------
// The million
// ---------------------------------------------------------------------------------------------

/// The decoders that take text.
#[derive(Clone, Copy, Debug)]
enum Dec {
    Parse,
    Page,
    Driver,
    Ext(usize),
    Prefs,
}

fn random_dec(r: &mut Rng) -> Dec {
    match r.below(10) {
        0 | 1 => Dec::Parse,
        2..=4 => Dec::Page,
        5..=7 => Dec::Driver,
        8 => Dec::Ext(r.below(EXT_KINDS)),
        _ => Dec::Prefs,
    }
}

#[derive(Default)]
struct Stats {
    /// JSON texts, each given to one text decoder.
    inputs: u64,
    /// Generated values given to the value decoders (`check_value`, `Config::from_stored`, ...).
    value_inputs: u64,
    /// Phone-number candidates given to `E164::parse`.
    e164_inputs: u64,
    classes: BTreeMap<(&'static str, &'static str), u64>,
    /// Texts that spell the channel with an escape (`ccaas\u002dbridge`): recognised once parsed.
    escaped_channel_mismatch: u64,
}

impl Stats {
    fn count(&mut self, what: &'static str, class: &'static str) {
        *self.classes.entry((what, class)).or_default() += 1;
    }
    fn merge(&mut self, o: Stats) {
        self.inputs += o.inputs;
        self.value_inputs += o.value_inputs;
        self.e164_inputs += o.e164_inputs;
        self.escaped_channel_mismatch += o.escaped_channel_mismatch;
        for (k, n) in o.classes {
            *self.classes.entry(k).or_default() += n;
        }
    }
}

/// Refusals that happen before a message's shape is looked at: `parse_bounded`'s own.
fn is_parse_level(r: &DropReason) -> bool {
    matches!(
        r,
        DropReason::TooLarge | DropReason::NotJson | DropReason::TooDeep | DropReason::ForbiddenKey
    )
}

/// What `parse_bounded` must say of `text`, the serialisation of `v`: nothing (empty), or one
/// of the reasons listed (when a value is both too deep and polluted, either may come first).
fn predict(text: &str, v: &Value) -> Vec<DropReason> {
    if text.len() > MAX_MESSAGE_BYTES {
        return vec![DropReason::TooLarge];
    }
    if bracket_depth(text) > MAX_DEPTH + 1 {
        return vec![DropReason::TooDeep];
    }
    let mut p = Vec::new();
    if node_depth(v) > MAX_DEPTH {
        p.push(DropReason::TooDeep);
    }
    if has_forbidden(v) {
        p.push(DropReason::ForbiddenKey);
    }
    p
}

/// Justifies a parse-level refusal without the crate's help.
fn verify_reason(text: &str, r: &DropReason) {
    match r {
        DropReason::TooLarge => assert!(text.len() > MAX_MESSAGE_BYTES),
        DropReason::NotJson => {
            assert!(bracket_depth(text) <= MAX_DEPTH + 1, "{}", preview(text));
            assert!(
                serde_json::from_str::<Value>(text).is_err(),
                "{}",
                preview(text)
            );
        }
        DropReason::TooDeep => {
            if bracket_depth(text) <= MAX_DEPTH + 1 {
                let v: Value = serde_json::from_str(text).unwrap();
                assert!(node_depth(&v) > MAX_DEPTH, "{}", preview(text));
            }
        }
        DropReason::ForbiddenKey => {
            assert!(bracket_depth(text) <= MAX_DEPTH + 1, "{}", preview(text));
            let v: Value = serde_json::from_str(text).unwrap();
            assert!(has_forbidden(&v), "{}", preview(text));
        }
        other => panic!("{other:?} is not a parse-level reason"),
    }
}

/// Checks a decoder's parse-level verdict (`got`, None when it got past parsing) against the
/// prediction from the generated value, or against an independent oracle when there is none.
fn verify_parse_level(text: &str, got: Option<&DropReason>, predicted: Option<&[DropReason]>) {
    assert_eq!(
        got == Some(&DropReason::TooLarge),
        text.len() > MAX_MESSAGE_BYTES,
        "{got:?}: {}",
        preview(text)
    );
    match (predicted, got) {
        (Some(p), None) => assert!(p.is_empty(), "expected {p:?}: {}", preview(text)),
        (Some(p), Some(r)) => assert!(p.contains(r), "{r:?}, expected {p:?}: {}", preview(text)),
        (None, Some(r)) => verify_reason(text, r),
        (None, None) => {}
    }
}

/// The value behind `text` once a decoder got past parsing: the generated one, or parsed here
/// (and then parsing must succeed, with a clean value).
fn value_for<'a>(text: &str, oracle: Option<&'a Value>) -> std::borrow::Cow<'a, Value> {
    match oracle {
        Some(v) => std::borrow::Cow::Borrowed(v),
        None => match json::parse_bounded(text) {
            Ok(v) => {
                assert!(!has_forbidden(&v) && node_depth(&v) <= MAX_DEPTH);
                std::borrow::Cow::Owned(v)
            }
            Err(e) => panic!(
                "a decoder got past parsing, parse_bounded says {e:?}: {}",
                preview(text)
            ),
        },
    }
}

fn page_code(r: &Result<PageInput, Refused>) -> &'static str {
    match r {
        Ok(PageInput::NotForUs) => "ok:notForUs",
        Ok(PageInput::OwnEcho) => "ok:ownEcho",
        Ok(PageInput::Request(_)) => "ok:request",
        Err(r) => r.reason.code(),
    }
}

/// Properties of a page decoding of value `v`.
fn check_page_outcome(v: &Value, out: &Result<PageInput, Refused>) {
    match out {
        Ok(PageInput::NotForUs) => {
            assert_ne!(v.get("channel").and_then(Value::as_str), Some(PAGE_CHANNEL));
        }
        Ok(PageInput::OwnEcho) => {
            assert!(matches!(
                v.get("kind").and_then(Value::as_str),
                Some("reply" | "event")
            ));
            assert_eq!(v["v"].as_u64(), Some(1));
        }
        Ok(PageInput::Request(PageRequest { id, body })) => {
            assert_eq!(v["channel"], PAGE_CHANNEL);
            assert_eq!(v["v"].as_u64(), Some(1));
            assert_eq!(v["kind"], "request");
            assert_eq!(v["id"].as_str(), Some(id.as_str()));
            assert!(!id.is_empty() && id.chars().count() <= protocol::page::MAX_ID_CHARS);
            let ty = v["type"].as_str().unwrap();
            match body {
                PageToBridge::ClickToDial { number } => {
                    assert_eq!(ty, "clickToDial");
                    let raw = v["data"]["number"].as_str().unwrap();
                    assert_eq!(check_e164(raw).as_ref(), Ok(number), "{raw:?}");
                }
                PageToBridge::GetStatus => assert_eq!(ty, "getStatus"),
                PageToBridge::ShowPanel => assert_eq!(ty, "showPanel"),
                PageToBridge::HidePanel => assert_eq!(ty, "hidePanel"),
            }
        }
        Err(Refused { id, reason }) => {
            assert!(!is_parse_level(reason), "{reason:?}");
            if let Some(id) = id {
                assert_eq!(v["id"].as_str(), Some(id.as_str()));
                assert!(!matches!(reason, DropReason::UnsupportedVersion(_)));
            }
            if let DropReason::BadNumber(e) = reason {
                let raw = v["data"]["number"].as_str().unwrap();
                assert_eq!(check_e164(raw), Err(*e));
            }
            if let DropReason::UnknownType(t) = reason {
                assert!(!PAGE_TYPES.contains(&t.as_str()), "{t}");
            }
        }
    }
}

/// Properties of a driver decoding of value `v`.
fn check_driver_outcome(v: &Value, out: &Result<DriverToBridge, DropReason>) {
    match out {
        Ok(DriverToBridge::Event(e)) => {
            assert_eq!(v["channel"], DRIVER_CHANNEL);
            assert_eq!(v["kind"], "event");
            let back = serde_json::to_value(e).unwrap();
            assert_eq!(back["type"], v["type"]);
            assert_eq!(
                serde_json::from_value::<DriverEvent>(back).ok().as_ref(),
                Some(e)
            );
        }
        Ok(DriverToBridge::Hello { driver, version }) => {
            assert_eq!(v["kind"], "hello");
            assert!(driver.chars().count() <= 64 && version.chars().count() <= 32);
        }
        Ok(DriverToBridge::Reply { id, result }) => {
            assert_eq!(v["kind"], "reply");
            assert_eq!(v["id"].as_str(), Some(id.as_str()));
            assert_eq!(result.is_ok(), v["ok"] == true);
        }
        Ok(DriverToBridge::StockConversationLoaded(c)) => {
            assert_ne!(
                v.get("channel").and_then(Value::as_str),
                Some(DRIVER_CHANNEL)
            );
            assert_eq!(
                v["liveWorkItemId"].as_str(),
                Some(c.live_work_item_id.as_str())
            );
            assert_eq!(v["sessionId"].as_str(), Some(c.session_id.as_str()));
        }
        Err(DropReason::UnknownType(t)) => {
            // A known type is never refused as unknown (a bad nested enum value, such as
            // `basePresenceStatus`, is a wrong shape).
            assert!(
                !(v["kind"] == "event" && DRIVER_EVENT_TYPES.contains(&t.as_str())),
                "known event type {t} refused as unknown: {v}"
            );
            if v["kind"] != "event" {
                assert!(!["hello", "event", "reply"].contains(&t.as_str()), "{t}");
            }
        }
        Err(r) => assert!(!is_parse_level(r), "{r:?}"),
    }
}

/// What `PanelPrefs::from_stored` must make of a clean parsed value.
fn expected_prefs(v: &Value) -> PanelPrefs {
    PanelPrefs {
        side: if v.get("side").and_then(Value::as_str) == Some("left") {
            Side::Left
        } else {
            Side::Right
        },
        width: v
            .get("width")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_WIDTH, |w| {
                w.clamp(u64::from(MIN_WIDTH), u64::from(MAX_WIDTH)) as u32
            }),
        minimized: v.get("minimized").and_then(Value::as_bool).unwrap_or(false),
    }
}

/// Feeds one text to one decoder and checks the outcome.
fn check_one(text: &str, dec: Dec, oracle: Option<&Value>, st: &mut Stats) {
    st.inputs += 1;
    let predicted = oracle.map(|v| predict(text, v));
    let predicted = predicted.as_deref();
    match dec {
        Dec::Parse => {
            let got = json::parse_bounded(text);
            st.count("parse_bounded", reason_code(&got));
            verify_parse_level(text, got.as_ref().err(), predicted);
            if let Ok(v) = &got {
                assert!(!has_forbidden(v) && node_depth(v) <= MAX_DEPTH);
                assert_eq!(json::check_value(v, 0), Ok(()));
            }
        }
        Dec::Page => {
            let got = PageInput::decode_text(text);
            st.count("page", page_code(&got));
            if !text.contains(PAGE_CHANNEL) {
                // No literal channel: text that does not parse is not for us; text that parses
                // is judged by its value (an escaped channel is still the channel).
                match json::parse_bounded(text) {
                    Ok(v) => {
                        if PageInput::decode_value(&v) != Ok(PageInput::NotForUs) {
                            st.escaped_channel_mismatch += 1;
                        }
                        assert_eq!(got, PageInput::decode_value(&v), "{}", preview(text));
                    }
                    Err(_) => assert_eq!(got, Ok(PageInput::NotForUs), "{}", preview(text)),
                }
                return;
            }
            let level = match &got {
                Err(Refused { id: None, reason }) if is_parse_level(reason) => Some(reason),
                _ => None,
            };
            verify_parse_level(text, level, predicted);
            if level.is_none() {
                let v = value_for(text, oracle);
                assert_eq!(got, PageInput::decode_value(&v), "{}", preview(text));
                check_page_outcome(&v, &got);
            }
        }
        Dec::Driver => {
            let got = DriverToBridge::decode_text(text);
            st.count("driver", reason_code(&got));
            let level = got.as_ref().err().filter(|r| is_parse_level(r));
            verify_parse_level(text, level, predicted);
            if level.is_none() {
                let v = value_for(text, oracle);
                assert_eq!(got, DriverToBridge::decode_value(&v), "{}", preview(text));
                check_driver_outcome(&v, &got);
            }
        }
        Dec::Ext(i) => {
            let got = ExtMsg::decode(i, text);
            st.count("ext", reason_code(&got));
            let level = got.as_ref().err().filter(|r| is_parse_level(r));
            verify_parse_level(text, level, predicted);
            match &got {
                Ok(m) => {
                    let _ = value_for(text, oracle);
                    assert_eq!(ExtMsg::decode(i, &m.encode()).as_ref(), Ok(m));
                }
                Err(r) if level.is_none() => {
                    assert!(matches!(r, DropReason::WrongShape(_)), "{r:?}");
                    let _ = value_for(text, oracle);
                }
                Err(_) => {}
            }
        }
        Dec::Prefs => {
            let p = PanelPrefs::from_stored(Some(text));
            assert!(
                (MIN_WIDTH..=MAX_WIDTH).contains(&p.width),
                "{}",
                preview(text)
            );
            let expected = match (predicted, oracle) {
                (Some([]), Some(v)) => expected_prefs(v),
                (Some(_), _) => PanelPrefs::default(),
                (None, _) => json::parse_bounded(text)
                    .map(|v| expected_prefs(&v))
                    .unwrap_or_default(),
            };
            assert_eq!(p, expected, "{}", preview(text));
            if p != PanelPrefs::default() {
                assert_eq!(PanelPrefs::from_stored(Some(&p.to_text())), p);
            }
            st.count(
                "prefs",
                if p == PanelPrefs::default() {
                    "default"
                } else {
                    "read"
                },
            );
        }
    }
}

fn check_config(v: &Value, st: &mut Stats) {
    st.value_inputs += 1;
    let out = Config::from_stored(v);
    match &out {
        Ok(c) => {
            assert!(!has_forbidden(v));
            let w = config::parse_widget_url(&c.widget_url);
            assert!(w.is_ok(), "{v} -> {c:?}");
            assert_eq!(c.widget_origin(), w.ok().map(|w| w.origin));
            assert_eq!(c.schema, config::CONFIG_SCHEMA);
            assert!((1_000..=120_000).contains(&c.liveness_timeout_ms));
            for s in &c.sites {
                assert_eq!(config::parse_site(s).as_ref(), Ok(s), "{v}");
            }
            let again = Config::from_stored(&serde_json::to_value(c).unwrap());
            assert_eq!(
                again.as_ref(),
                Ok(c),
                "from_stored is not idempotent for {v}"
            );
            st.count("config", "ok");
        }
        Err(ConfigError::Field { field, .. }) => st.count(
            "config",
            match *field {
                "widgetUrl" => "err:widgetUrl",
                "sites" => "err:sites",
                _ => "err:otherField",
            },
        ),
        Err(ConfigError::Stored(_)) => st.count("config", "err:stored"),
    }
    if has_forbidden(v) {
        assert!(out.is_err());
    }
}

/// The value-level decoders on a generated value, which may not have passed `check_value`.
fn check_raw_value(v: &Value, st: &mut Stats) {
    st.value_inputs += 1;
    let c = json::check_value(v, 0);
    if has_forbidden(v) {
        assert!(
            matches!(c, Err(DropReason::ForbiddenKey | DropReason::TooDeep)),
            "{v}"
        );
        if node_depth(v) <= MAX_DEPTH {
            assert_eq!(c, Err(DropReason::ForbiddenKey), "{v}");
        }
    } else {
        assert_eq!(c.is_ok(), node_depth(v) <= MAX_DEPTH, "{v}");
    }
    st.count("check_value", reason_code(&c));
    // Documented to take checked values; they must still not panic on unchecked ones.
    let _ = PageInput::decode_value(v);
    let _ = DriverToBridge::decode_value(v);
}

/// One generated base input and the texts derived from it.
fn one_base(r: &mut Rng, st: &mut Stats) {
    let phone = gen_phone_text(r);
    st.e164_inputs += 1;
    let n = check_e164(&phone);
    st.count("e164", if n.is_ok() { "ok" } else { "err" });

    let family = r.below(4000);
    if family < 2 {
        let dec = random_dec(r);
        return check_one(&oversized_text(r), dec, None, st);
    }
    if family < 40 {
        let dec = random_dec(r);
        return check_one(&deep_text(r), dec, None, st);
    }
    if family < 320 {
        let dec = random_dec(r);
        return check_one(&random_bytes_text(r), dec, None, st);
    }
    let mut is_config = false;
    let (v, dec) = if family < 720 {
        (gen_value(r, 0), random_dec(r))
    } else {
        let (mut v, dec) = match r.below(8) {
            0 | 1 => (gen_page_request(r), Dec::Page),
            2 => (gen_page_echo(r), Dec::Page),
            3 | 4 => (gen_driver_envelope(r), Dec::Driver),
            5 => {
                let m = gen_ext(r);
                if r.one_in(4) {
                    // unmutated ext messages round-trip exactly
                    assert_eq!(ExtMsg::decode(m.index(), &m.encode()).as_ref(), Ok(&m));
                }
                (m.to_value(), Dec::Ext(m.index()))
            }
            6 => {
                is_config = true;
                (gen_config(r), Dec::Parse)
            }
            _ => (gen_prefs(r), Dec::Prefs),
        };
        // a quarter stay valid, the rest get 1 to 3 value mutations
        if !r.one_in(4) {
            for _ in 0..r.range(1, 3) {
                mutate_value(r, &mut v);
            }
        }
        // and now and then a decoder they were not meant for
        (v, if r.one_in(5) { random_dec(r) } else { dec })
    };
    check_raw_value(&v, st);
    if is_config || r.one_in(16) {
        check_config(&v, st);
    }
    let text = if r.one_in(8) {
        serde_json::to_string_pretty(&v).unwrap()
    } else {
        v.to_string()
    };
    check_one(&text, dec, Some(&v), st);
    // Text-level mutants of the same text, checked without the value (cheaper than new bases).
    for _ in 0..5 {
        let mut t = text.clone();
        for _ in 0..r.range(1, 3) {
            mutate_text(r, &mut t);
        }
        let d = if r.one_in(2) { dec } else { random_dec(r) };
        check_one(&t, d, None, st);
    }
}

const MILLION: u64 = 1_000_000;

#[test]
fn a_million_generated_inputs_are_decoded_or_dropped_consistently() {
    const THREADS: u64 = 2;
    let per_thread = MILLION.div_ceil(THREADS);
    let started = std::time::Instant::now();
    let results: Vec<Stats> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let mut r = Rng(0x00C0_FFEE_u64.wrapping_add(t.wrapping_mul(0x1234_5678_9ABC)));
                    let mut st = Stats::default();
                    while st.inputs < per_thread {
                        one_base(&mut r, &mut st);
                    }
                    st
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut st = Stats::default();
    for s in results {
        st.merge(s);
    }

    println!(
        "decoders_fuzz: {} generated JSON texts, each given to a text decoder; \
         {} generated values given to value decoders; {} phone-number candidates; {:.1?}",
        st.inputs,
        st.value_inputs,
        st.e164_inputs,
        started.elapsed()
    );
    let mut last = "";
    for ((what, class), n) in &st.classes {
        if *what != last {
            let total: u64 = st
                .classes
                .iter()
                .filter(|((w, _), _)| w == what)
                .map(|(_, n)| n)
                .sum();
            println!("  {what} ({total} inputs)");
            last = what;
        }
        println!("    {class:<20} {n:>9}");
    }
    println!(
        "  page text with an escaped channel, recognised once parsed: {}",
        st.escaped_channel_mismatch
    );

    assert!(st.inputs >= MILLION, "only {} inputs", st.inputs);
    // The generator must reach the interesting outcomes, not just a few of them.
    let seen = |w: &str, c: &str| st.classes.get(&(w, c)).copied().unwrap_or(0);
    for (what, class) in [
        ("parse_bounded", "ok"),
        ("parse_bounded", "tooLarge"),
        ("parse_bounded", "notJson"),
        ("parse_bounded", "tooDeep"),
        ("parse_bounded", "forbiddenKey"),
        ("page", "ok:request"),
        ("page", "ok:ownEcho"),
        ("page", "ok:notForUs"),
        ("page", "badNumber"),
        ("page", "unknownType"),
        ("page", "unsupportedVersion"),
        ("page", "wrongShape"),
        ("page", "forbiddenKey"),
        ("page", "tooDeep"),
        ("page", "notJson"),
        ("page", "tooLarge"),
        ("driver", "ok"),
        ("driver", "unknownType"),
        ("driver", "unsupportedVersion"),
        ("driver", "wrongShape"),
        ("driver", "forbiddenKey"),
        ("driver", "tooLarge"),
        ("ext", "ok"),
        ("ext", "wrongShape"),
        ("ext", "forbiddenKey"),
        ("prefs", "read"),
        ("prefs", "default"),
        ("check_value", "ok"),
        ("check_value", "forbiddenKey"),
        ("check_value", "tooDeep"),
        ("config", "ok"),
        ("config", "err:widgetUrl"),
        ("config", "err:sites"),
        ("config", "err:stored"),
        ("e164", "ok"),
        ("e164", "err"),
    ] {
        assert!(seen(what, class) > 0, "no input reached {what} {class}");
    }
}

// ---------------------------------------------------------------------------------------------
// Structured properties (proptest)
// ---------------------------------------------------------------------------------------------

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z_]{0,10}",
        proptest::sample::select(FIELD_KEYS).prop_map(str::to_owned),
        ".{0,6}",
    ]
    .prop_filter("not forbidden", |k| !FORBIDDEN.contains(&k.as_str()))
}

/// JSON values free of forbidden keys.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 48, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((arb_key(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A valid international number in canonical form and as typed, with separators and padding.
fn arb_phone() -> impl Strategy<Value = (String, String)> {
    (
        1u8..=9,
        proptest::collection::vec(0u8..=9, 6..=14),
        proptest::collection::vec(
            proptest::sample::select(vec!["", "", "", " ", "-", ".", "(", ")", "\u{a0}", " - "]),
            16,
        ),
        proptest::sample::select(vec!["", " ", "\t", "\u{3000}"]),
        proptest::sample::select(vec!["", " ", "\n"]),
    )
        .prop_map(|(first, rest, seps, lead, trail)| {
            let digits: Vec<u8> = std::iter::once(first).chain(rest).collect();
            let canon: String = std::iter::once('+')
                .chain(digits.iter().map(|d| char::from(b'0' + d)))
                .collect();
            let mut typed = format!("{lead}+");
            for (i, d) in digits.iter().enumerate() {
                typed.push_str(seps[i]);
                typed.push(char::from(b'0' + d));
            }
            typed.push_str(trail);
            (canon, typed)
        })
}

fn insert_at_path(v: &mut Value, path: &[proptest::sample::Index], key: &str, payload: Value) {
    let mut cur = v;
    for ix in path {
        let n = match &*cur {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        };
        if n == 0 {
            break;
        }
        let i = ix.index(n);
        cur = match cur {
            Value::Object(m) => m.values_mut().nth(i).unwrap(),
            Value::Array(a) => &mut a[i],
            _ => unreachable!(),
        };
    }
    match cur {
        Value::Object(m) => {
            m.insert(key.to_owned(), payload);
        }
        Value::Array(a) => a.push(json!({ key: payload })),
        other => *other = json!({ key: payload }),
    }
}

/// `v` (a non-empty object) serialised with a `pad` string that brings it to `len` bytes.
fn padded(v: &Value, len: usize, multibyte: bool) -> String {
    let small = v.to_string();
    let rest = &small[1..];
    let fill = len - (small.len() + r#""pad":"","#.len());
    let pad = if multibyte {
        // fewer characters than bytes: the limit is in bytes
        format!("{}{}", "日".repeat(fill / 3), "a".repeat(fill % 3))
    } else {
        "a".repeat(fill)
    };
    format!(r#"{{"pad":"{pad}",{rest}"#)
}

#[test]
fn the_size_limit_is_exactly_max_message_bytes() {
    let v =
        json!({"channel": PAGE_CHANNEL, "v": 1, "kind": "request", "id": "r", "type": "getStatus"});
    for multibyte in [false, true] {
        let at = padded(&v, MAX_MESSAGE_BYTES, multibyte);
        assert_eq!(at.len(), MAX_MESSAGE_BYTES);
        assert!(json::parse_bounded(&at).is_ok());
        assert!(matches!(
            PageInput::decode_text(&at),
            Ok(PageInput::Request(PageRequest {
                body: PageToBridge::GetStatus,
                ..
            }))
        ));
        let over = padded(&v, MAX_MESSAGE_BYTES + 1, multibyte);
        assert_eq!(over.len(), MAX_MESSAGE_BYTES + 1);
        assert_eq!(json::parse_bounded(&over), Err(DropReason::TooLarge));
        assert_eq!(
            PageInput::decode_text(&over),
            Err(Refused {
                id: None,
                reason: DropReason::TooLarge
            })
        );
        assert_eq!(
            DriverToBridge::decode_text(&over),
            Err(DropReason::TooLarge)
        );
        assert_eq!(ext::decode::<OneShot>(&over), Err(DropReason::TooLarge));
        assert_eq!(PanelPrefs::from_stored(Some(&over)), PanelPrefs::default());
        // a big message for someone else is ignored, not counted as a drop
        let other = over.replace(PAGE_CHANNEL, "other-library");
        assert_eq!(PageInput::decode_text(&other), Ok(PageInput::NotForUs));
    }
}

fn rt<T: Serialize + DeserializeOwned + PartialEq + Debug>(m: &T) {
    let text = ext::encode(m);
    assert_eq!(ext::decode::<T>(&text).as_ref(), Ok(m), "{text}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn e164_any_string_is_canonical_or_refused(s in prop_oneof![
        any::<String>(),
        "[ +]{0,2}[0-9 ()\\-.a-z<>+]{0,40}",
        "\\+[0-9]{0,20}",
    ]) {
        let _ = check_e164(&s);
    }

    #[test]
    fn e164_typed_numbers_parse_to_their_digits((canon, typed) in arb_phone()) {
        let n = check_e164(&typed);
        prop_assert_eq!(n.as_ref().map(E164::as_str), Ok(canon.as_str()));
        let again = E164::parse(&canon);
        prop_assert_eq!(again.as_ref(), n.as_ref());
    }

    #[test]
    fn e164_junk_inserted_anywhere_is_refused(
        (_canon, typed) in arb_phone(),
        junk in prop_oneof![
            proptest::sample::select(vec!["x", "<b>", "e", "#", "*", "٣", "１", "+", "\u{0}", "ext.", "/", "_"])
                .prop_map(str::to_owned),
            "[a-zA-Z<>&;\"']{1,5}",
        ],
        at in any::<proptest::sample::Index>(),
    ) {
        let mut s = typed.trim_end().to_owned();
        let cut: Vec<usize> = s.char_indices().map(|(i, _)| i).skip(1).chain([s.len()]).collect();
        s.insert_str(cut[at.index(cut.len())], &junk);
        prop_assert!(E164::parse(&s).is_err(), "{:?}", s);
    }

    #[test]
    fn page_click_to_dial_round_trips(
        (canon, typed) in arb_phone(),
        id in ".{1,64}",
        pretty in any::<bool>(),
    ) {
        let v = json!({"channel": PAGE_CHANNEL, "v": 1, "kind": "request", "id": id,
            "type": "clickToDial", "data": {"number": typed}});
        let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
        let expected = E164::parse(&typed).unwrap();
        prop_assert_eq!(expected.as_str(), canon.as_str());
        prop_assert_eq!(
            PageInput::decode_text(&text),
            Ok(PageInput::Request(PageRequest { id, body: PageToBridge::ClickToDial { number: expected } }))
        );
    }

    #[test]
    fn page_click_to_dial_with_a_bad_number_keeps_the_id(
        number in prop_oneof![
            "[^+]{0,20}",
            "\\+0[0-9]{6,14}",
            "\\+[1-9][0-9]{0,5}",
            "\\+[1-9][0-9]{15,30}",
            "\\+[1-9][0-9]{3,8}[a-z<>]{1,3}[0-9]{0,4}",
        ],
        id in "[a-z0-9]{1,64}",
    ) {
        let v = json!({"channel": PAGE_CHANNEL, "v": 1, "kind": "request", "id": id,
            "type": "clickToDial", "data": {"number": number}});
        let out = PageInput::decode_text(&v.to_string());
        let Err(Refused { id: Some(got), reason }) = out.clone() else {
            return Err(TestCaseError::fail(format!("{number:?} -> {out:?}")));
        };
        prop_assert_eq!(got, id);
        // numbers too long for the field are refused by shape, the rest by the number parser
        if number.chars().count() > 64 {
            prop_assert!(matches!(reason, DropReason::WrongShape(_)), "{:?}", reason);
        } else {
            prop_assert_eq!(reason, DropReason::BadNumber(E164::parse(&number).unwrap_err()));
        }
    }

    #[test]
    fn stock_click_to_dial_wire_is_exact(number in any::<u64>(), id in proptest::option::of(".{0,70}")) {
        let mut r = Rng(number);
        let n = gen_e164(&mut r);
        let msg = BridgeToDriver::ClickToDial { number: n.clone(), id: id.clone() };
        let wire = msg.to_wire(false);
        prop_assert_eq!(
            &wire,
            &format!(r#"{{"messageType":"clickToDial","messageData":{{"number":"{}"}}}}"#, n.as_str())
        );
        let parsed: Value = serde_json::from_str(&wire).unwrap();
        prop_assert_eq!(parsed, json!({"messageType": "clickToDial", "messageData": {"number": n.as_str()}}));

        let ext_wire = msg.to_wire(true);
        let parsed: Value = serde_json::from_str(&ext_wire).unwrap();
        match &id {
            None => prop_assert_eq!(&ext_wire, &wire),
            Some(id) => prop_assert_eq!(parsed, json!({"messageType": "clickToDial",
                "messageData": {"number": n.as_str()}, "channel": DRIVER_CHANNEL, "v": 1, "id": id})),
        }
    }

    #[test]
    fn driver_request_wire_is_a_tagged_envelope(seed in any::<u64>(), id in ".{0,70}") {
        let mut r = Rng(seed);
        let request = gen_driver_request(&mut r);
        let wire = BridgeToDriver::Request { id: id.clone(), request: request.clone() }.to_wire(seed % 2 == 0);
        let v: Value = serde_json::from_str(&wire).unwrap();
        prop_assert_eq!(&v["messageType"], "ccaasBridgeRequest");
        prop_assert_eq!(&v["channel"], DRIVER_CHANNEL);
        prop_assert_eq!(&v["v"], 1);
        prop_assert_eq!(v["id"].as_str(), Some(id.as_str()));
        let mut tagged = Map::new();
        tagged.insert("type".into(), v["type"].clone());
        if let Some(d) = v.get("data") {
            tagged.insert("data".into(), d.clone());
        }
        prop_assert_eq!(serde_json::from_value::<DriverRequest>(Value::Object(tagged)).ok(), Some(request));
        // our own request, seen by a driver decoder, is never taken for a driver message
        prop_assert!(DriverToBridge::decode_text(&wire).is_err());
    }

    #[test]
    fn bridge_to_page_messages_are_own_echoes(seed in any::<u64>()) {
        let mut r = Rng(seed);
        let v = gen_page_echo(&mut r);
        prop_assert_eq!(json::check_value(&v, 0), Ok(()));
        prop_assert_eq!(PageInput::decode_value(&v), Ok(PageInput::OwnEcho));
        prop_assert_eq!(PageInput::decode_text(&v.to_string()), Ok(PageInput::OwnEcho));
    }

    #[test]
    fn extended_driver_events_round_trip(seed in any::<u64>()) {
        let mut r = Rng(seed);
        let ev = gen_driver_event(&mut r);
        let mut v = serde_json::to_value(&ev).unwrap();
        v["channel"] = DRIVER_CHANNEL.into();
        v["v"] = 1.into();
        v["kind"] = "event".into();
        prop_assert_eq!(DriverToBridge::decode_text(&v.to_string()), Ok(DriverToBridge::Event(ev)));
    }

    #[test]
    fn ext_messages_round_trip(seed in any::<u64>()) {
        let mut r = Rng(seed);
        match gen_ext(&mut r) {
            ExtMsg::C2B(m) => rt(&m),
            ExtMsg::B2C(m) => rt(&m),
            ExtMsg::P2B(m) => rt(&m),
            ExtMsg::B2P(m) => rt(&m),
            ExtMsg::Probe(m) => rt(&m),
            ExtMsg::One(m) => rt(&m),
        }
    }

}

// Slower properties (bigger values, URL parsing, 64 KiB texts): fewer cases.
proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn forbidden_key_anywhere_is_refused(
        base in arb_json(),
        path in proptest::collection::vec(any::<proptest::sample::Index>(), 0..8),
        key in proptest::sample::select(FORBIDDEN.to_vec()),
        payload in arb_json(),
        escape in any::<bool>(),
        ext_index in 0..EXT_KINDS,
    ) {
        let mut v = base;
        // addressed to the page boundary too, when the root is an object
        if let Some(m) = v.as_object_mut() {
            m.insert("channel".into(), PAGE_CHANNEL.into());
        }
        insert_at_path(&mut v, &path, key, payload);
        let mut text = v.to_string();
        if escape {
            let q = format!("\"{key}\":");
            let mut escaped = format!("\"\\u{:04x}", u32::from(key.as_bytes()[0]));
            escaped.push_str(&key[1..]);
            escaped.push_str("\":");
            text = text.replace(&q, &escaped);
        }
        let structurally_ok = text.len() <= MAX_MESSAGE_BYTES
            && bracket_depth(&text) <= MAX_DEPTH + 1
            && node_depth(&v) <= MAX_DEPTH;
        let got = json::parse_bounded(&text);
        if structurally_ok {
            prop_assert_eq!(&got, &Err(DropReason::ForbiddenKey), "{}", text);
        } else {
            prop_assert!(matches!(got, Err(DropReason::ForbiddenKey | DropReason::TooDeep | DropReason::TooLarge)), "{}", text);
        }
        let reason = got.clone().unwrap_err();
        prop_assert_eq!(json::check_value(&v, 0).is_err(), true);
        prop_assert_eq!(DriverToBridge::decode_text(&text), Err(reason.clone()));
        prop_assert_eq!(ExtMsg::decode(ext_index, &text), Err(reason.clone()));
        prop_assert_eq!(PanelPrefs::from_stored(Some(&text)), PanelPrefs::default());
        prop_assert!(Config::from_stored(&v).is_err());
        if text.contains(PAGE_CHANNEL) {
            prop_assert_eq!(PageInput::decode_text(&text), Err(Refused { id: None, reason }));
        }
    }

    #[test]
    fn oversized_payloads_are_too_large(seed in any::<u64>(), extra in 1usize..3000, multibyte in any::<bool>(), ext_index in 0..EXT_KINDS) {
        let mut r = Rng(seed);
        let mut v = match seed % 3 {
            0 => gen_page_request(&mut r),
            1 => gen_driver_envelope(&mut r),
            _ => gen_ext(&mut r).to_value(),
        };
        v["channel"] = PAGE_CHANNEL.into();
        let text = padded(&v, MAX_MESSAGE_BYTES + extra, multibyte);
        prop_assert_eq!(text.len(), MAX_MESSAGE_BYTES + extra);
        prop_assert_eq!(json::parse_bounded(&text), Err(DropReason::TooLarge));
        prop_assert_eq!(PageInput::decode_text(&text), Err(Refused { id: None, reason: DropReason::TooLarge }));
        prop_assert_eq!(DriverToBridge::decode_text(&text), Err(DropReason::TooLarge));
        prop_assert_eq!(ExtMsg::decode(ext_index, &text), Err(DropReason::TooLarge));
        prop_assert_eq!(PanelPrefs::from_stored(Some(&text)), PanelPrefs::default());
    }

    #[test]
    fn panel_prefs_width_is_always_in_range(
        side in prop_oneof![Just(json!("left")), Just(json!("right")), arb_json()],
        width in prop_oneof![
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            (0u64..2000).prop_map(Value::from),
            arb_json(),
        ],
        minimized in prop_oneof![any::<bool>().prop_map(Value::from), arb_json()],
    ) {
        let text = json!({"side": side, "width": width, "minimized": minimized}).to_string();
        let p = PanelPrefs::from_stored(Some(&text));
        prop_assert!((MIN_WIDTH..=MAX_WIDTH).contains(&p.width), "{} -> {:?}", text, p);
        if let Some(w) = width.as_u64() {
            prop_assert_eq!(u64::from(p.width), w.clamp(u64::from(MIN_WIDTH), u64::from(MAX_WIDTH)));
        }
        prop_assert_eq!(p.side == Side::Left, side == "left");
        prop_assert_eq!(p.minimized, minimized == true);
        prop_assert_eq!(PanelPrefs::from_stored(Some(&p.to_text())), p);
    }

    #[test]
    fn panel_prefs_of_any_text_are_in_range(text in prop_oneof![any::<String>(), arb_json().prop_map(|v| v.to_string())]) {
        let p = PanelPrefs::from_stored(Some(&text));
        prop_assert!((MIN_WIDTH..=MAX_WIDTH).contains(&p.width));
    }

    #[test]
    fn stored_config_never_holds_a_refused_widget_url(seed in any::<u64>(), extra in arb_json()) {
        let mut r = Rng(seed);
        let mut v = gen_config(&mut r);
        if seed % 4 == 0 {
            if let Some(m) = v.as_object_mut() {
                m.insert("extra".into(), extra);
            }
        }
        check_config(&v, &mut Stats::default());
        // and the URL validators on their own
        let u = gen_widget_url(&mut r);
        if let Ok(w) = config::parse_widget_url(&u) {
            prop_assert_eq!(config::parse_widget_url(&w.url), Ok(w.clone()), "{:?}", u);
            prop_assert!(w.origin.starts_with("https://") || w.origin.starts_with("http://"));
        }
        let s = gen_site(&mut r);
        if let Ok(site) = config::parse_site(&s) {
            prop_assert_eq!(config::parse_site(&site), Ok(site.clone()), "{:?}", s);
            prop_assert!(!site.ends_with('/'));
        }
    }

    #[test]
    fn stored_config_of_any_json_is_checked(v in arb_json()) {
        check_config(&v, &mut Stats::default());
    }
}

/// The driver's side of the wire: what the bridge posts decodes back to itself in the driver
/// (`BridgeToDriver::decode_text`), what the driver posts decodes back in the bridge
/// (`DriverToBridge::to_value` → `decode_value`), and text mutants of both are decoded or
/// refused without a panic, a refusal keeping the id only when the envelope carried one.
#[test]
fn the_driver_side_round_trips_and_refuses_mutants() {
    let mut r = Rng(0x6d72_6976_6572);
    for i in 0..20_000u64 {
        let id = format!("r{i}");
        let to_driver = if r.one_in(2) {
            BridgeToDriver::ClickToDial {
                number: gen_e164(&mut r),
                id: Some(id.clone()),
            }
        } else {
            BridgeToDriver::Request {
                id: id.clone(),
                request: gen_driver_request(&mut r),
            }
        };
        let wire = to_driver.to_wire(true);
        assert_eq!(
            BridgeToDriver::decode_text(&wire),
            Ok(to_driver.clone()),
            "{wire}"
        );
        if let BridgeToDriver::ClickToDial { number, .. } = &to_driver {
            let stock = BridgeToDriver::ClickToDial {
                number: number.clone(),
                id: None,
            };
            assert_eq!(
                BridgeToDriver::decode_text(&to_driver.to_wire(false)),
                Ok(stock)
            );
        }
        let mut text = wire;
        mutate_text(&mut r, &mut text);
        if let Err(refused) = BridgeToDriver::decode_text(&text) {
            if let Some(got) = &refused.id {
                assert!(
                    text.contains(got.as_str()),
                    "{text}: id {got} is not in the text"
                );
            }
        }

        let from_driver = match r.below(4) {
            0 | 1 => DriverToBridge::Event(gen_driver_event(&mut r)),
            2 => DriverToBridge::Hello {
                driver: gen_alnum(&mut r, 12),
                version: gen_alnum(&mut r, 6),
            },
            _ => DriverToBridge::Reply {
                id,
                result: if r.one_in(2) {
                    Ok(json!({"accepted": true}))
                } else {
                    Err(DriverError {
                        code: gen_ident(&mut r),
                        message: gen_str(&mut r),
                    })
                },
            },
        };
        let v = from_driver.to_value();
        assert_eq!(DriverToBridge::decode_value(&v), Ok(from_driver), "{v}");
    }
}
