//! The class the widget loads (`window.CCaaS.CTIDriver`): subscribes to the Embed SDK, forwards
//! its events to the parent in the extended envelope, and answers the parent's requests.
//!
//! Everything here is plumbing between JavaScript and [`crate::logic`]. No callback may throw
//! into the widget: every SDK or DOM failure becomes a logged line and, for messages, a counted
//! drop (`stats()` shows the counters).

use crate::allow::Allowlist;
use crate::logic::{self, SUBSCRIPTIONS};
use gloo_events::EventListener;
use js_sys::{Array, Function, Object, Promise, Reflect};
use protocol::driver::{
    BridgeToDriver, DriverEvent, DriverRequest, DriverToBridge, Presence, OUR_DRIVER_NAME,
};
use protocol::drop::DropCounters;
use protocol::DropReason;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::MessageEvent;

thread_local! {
    /// `allowedOrigins` from the settings block of the built file, set once by its wrapper.
    static SETTINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Every driver's state lives as long as the widget's page, not as long as the JS object
    /// the widget holds: the SDK keeps our callbacks for the page's lifetime and offers no way
    /// to remove them, so the state they point at must not be freed under them.
    static LIVE: RefCell<Vec<Rc<RefCell<State>>>> = const { RefCell::new(Vec::new()) };
}

/// Called by the file's wrapper with its settings block, before the class is published.
pub fn configure(settings: &JsValue) {
    let origins = Reflect::get(settings, &"allowedOrigins".into())
        .ok()
        .filter(Array::is_array)
        .map(|a| {
            Array::from(&a)
                .iter()
                .filter_map(|v| v.as_string())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    SETTINGS.with(|s| *s.borrow_mut() = origins);
}

fn log(level: &str, msg: &str) {
    let line = JsValue::from_str(&format!("[ccaas-driver] {msg}"));
    match level {
        "warn" => web_sys::console::warn_1(&line),
        "info" => web_sys::console::info_1(&line),
        _ => web_sys::console::debug_1(&line),
    }
}

fn js_error_text(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string()
        .unwrap_or_else(|| "an error without a message".to_owned())
}

/// Any JS value as JSON text, `None` when it has none (undefined, a function, a cycle...).
fn json_text(v: &JsValue) -> Option<String> {
    if let Some(s) = v.as_string() {
        return Some(s);
    }
    js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string())
}

/// An SDK value (a callback payload, a resolved promise) as a bounded JSON value.
fn sdk_value(v: &JsValue) -> Result<Value, DropReason> {
    if v.is_undefined() || v.is_null() {
        return Ok(Value::Null);
    }
    let text = js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or(DropReason::NotJson)?;
    protocol::json::parse_bounded(&text)
}

struct State {
    sdk: JsValue,
    allow: Allowlist,
    bound: bool,
    drops: DropCounters,
    /// Messages from the parent that were acted on.
    accepted: u64,
    /// Messages posted to the parent.
    posted: u64,
    /// Origin of the last accepted message, the post target where the browser does not say
    /// who the parent is (Firefox has no `location.ancestorOrigins`).
    learned_origin: Option<String>,
    presence_options: Option<Vec<Presence>>,
    focused: Option<Option<String>>,
    listener: Option<EventListener>,
    /// The SDK callbacks, owned here for the page's lifetime (see `LIVE`).
    callbacks: Vec<Closure<dyn FnMut(JsValue)>>,
}

type Shared = Rc<RefCell<State>>;

/// The driver class. The widget constructs it with the SDK, awaits `initialize()` and calls
/// `bindEvents()`.
#[wasm_bindgen(js_name = CTIDriver)]
pub struct CtiDriver {
    state: Shared,
}

#[wasm_bindgen(js_class = CTIDriver)]
impl CtiDriver {
    #[wasm_bindgen(constructor)]
    pub fn new(sdk: JsValue) -> CtiDriver {
        let allow = allowlist_from_page();
        let state = Rc::new(RefCell::new(State {
            sdk,
            allow,
            bound: false,
            drops: DropCounters::default(),
            accepted: 0,
            posted: 0,
            learned_origin: None,
            presence_options: None,
            focused: None,
            listener: None,
            callbacks: Vec::new(),
        }));
        LIVE.with(|l| l.borrow_mut().push(state.clone()));
        CtiDriver { state }
    }

    /// Resolves `true` when the Embed SDK is there to drive, `false` (with a warning) if not.
    pub fn initialize(&self) -> Promise {
        let ok = !sdk_of(&self.state).is_undefined();
        if !ok {
            log("warn", "window.Microsoft.CCaaS.EmbedSDK is missing");
        }
        Promise::resolve(&JsValue::from_bool(ok))
    }

    /// Subscribes to the SDK, starts listening to the parent and introduces itself. Never
    /// throws; calling it again does nothing.
    #[wasm_bindgen(js_name = bindEvents)]
    pub fn bind_events(&self) {
        bind(&self.state);
    }

    /// Counters for diagnostics and the tests: `{dropped: {reason: n}, accepted, posted,
    /// bound, allowlist}`.
    pub fn stats(&self) -> JsValue {
        let me = self.state.borrow();
        let dropped: serde_json::Map<String, Value> = me
            .drops
            .iter()
            .map(|(k, n)| (k.to_owned(), n.into()))
            .collect();
        let v = json!({
            "dropped": dropped,
            "accepted": me.accepted,
            "posted": me.posted,
            "bound": me.bound,
            "allowlist": me.allow.describe(),
        });
        js_sys::JSON::parse(&v.to_string()).unwrap_or(JsValue::NULL)
    }
}

/// The allowlist from the widget URL's query, its `dynamicsUrl` and the settings block.
fn allowlist_from_page() -> Allowlist {
    let search = web_sys::window()
        .and_then(|w| w.location().href().ok())
        .and_then(|href| web_sys::Url::new(&href).ok())
        .map(|u| u.search_params());
    let param = search
        .as_ref()
        .and_then(|s| s.get(crate::allow::ORIGINS_PARAM));
    let dynamics = search.as_ref().and_then(|s| s.get("dynamicsUrl"));
    let settings = SETTINGS.with(|s| s.borrow().clone());
    let (allow, refused) =
        Allowlist::from_sources(param.as_deref(), dynamics.as_deref(), &settings);
    for r in refused {
        log("warn", &format!("allowlist entry ignored: {r}"));
    }
    if allow.is_empty() {
        log(
            "warn",
            "no parent origin is allowed: add ccaasBridgeOrigins=<origin,...> to the widget URL",
        );
    } else {
        log(
            "info",
            &format!("trusting parent origins {}", allow.describe().join(", ")),
        );
    }
    allow
}

/// `window.Microsoft.CCaaS.EmbedSDK`, as the driver contract says, else what the widget passed.
fn sdk_of(state: &Shared) -> JsValue {
    let global = js_sys::global();
    let mut v: JsValue = global.into();
    for key in ["Microsoft", "CCaaS", "EmbedSDK"] {
        v = Reflect::get(&v, &key.into()).unwrap_or(JsValue::UNDEFINED);
        if !v.is_object() {
            let passed = state.borrow().sdk.clone();
            return if passed.is_object() {
                passed
            } else {
                JsValue::UNDEFINED
            };
        }
    }
    v
}

/// `sdk[module][method](...args)`, with the module as `this`; a throw becomes `Err`.
fn call(sdk: &JsValue, module: &str, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let m = Reflect::get(sdk, &module.into()).map_err(|e| js_error_text(&e))?;
    let f = Reflect::get(&m, &method.into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| format!("the SDK has no {module}.{method}"))?;
    let args: Array = args.iter().collect();
    f.apply(&m, &args).map_err(|e| js_error_text(&e))
}

/// [`call`], awaiting the result when it is a promise.
async fn call_async(
    sdk: &JsValue,
    module: &str,
    method: &str,
    args: &[JsValue],
) -> Result<JsValue, String> {
    let out = call(sdk, module, method, args)?;
    match out.dyn_into::<Promise>() {
        Ok(p) => JsFuture::from(p).await.map_err(|e| js_error_text(&e)),
        Err(v) => Ok(v),
    }
}

fn bind(state: &Shared) {
    if state.borrow().bound {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let sdk = sdk_of(state);
    for (module, event) in SUBSCRIPTIONS {
        let weak = Rc::downgrade(state);
        let cb = Closure::<dyn FnMut(JsValue)>::new(move |payload: JsValue| {
            if let Some(s) = weak.upgrade() {
                on_sdk_event(&s, module, event, &payload);
            }
        });
        match call(&sdk, module, event, &[cb.as_ref().clone()]) {
            Ok(_) => state.borrow_mut().callbacks.push(cb),
            Err(e) => log("warn", &format!("not subscribed to {module}.{event}: {e}")),
        }
    }
    let weak = Rc::downgrade(state);
    let listener = EventListener::new(&window, "message", move |e| {
        if let (Some(s), Some(e)) = (weak.upgrade(), e.dyn_ref::<MessageEvent>()) {
            on_message(&s, e);
        }
    });
    {
        let mut me = state.borrow_mut();
        me.listener = Some(listener);
        me.bound = true;
    }
    post(
        state,
        &DriverToBridge::Hello {
            driver: OUR_DRIVER_NAME.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
    );
    // Read-only: the options list goes with every presence change.
    spawn_presence_options(Rc::downgrade(state), None);
}

fn drop_message(state: &Shared, reason: &DropReason, what: &str) {
    log("debug", &format!("dropped {what}: {reason}"));
    state.borrow_mut().drops.record(reason);
}

/// The parent's origin when the browser says it (`location.ancestorOrigins[0]`).
fn parent_origin(window: &web_sys::Window) -> Option<String> {
    let ancestors = Reflect::get(&window.location(), &"ancestorOrigins".into()).ok()?;
    if !ancestors.is_object() {
        return None;
    }
    Reflect::get(&ancestors, &"0".into()).ok()?.as_string()
}

/// Posts to the parent, only to allowed origins (see [`Allowlist::targets`]); `to` narrows it
/// to the origin a request came from.
fn post_to(state: &Shared, msg: &DriverToBridge, to: Option<&str>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(parent) = window.parent().ok().flatten() else {
        return;
    };
    if Object::is(&parent, &window) {
        return; // not framed: nobody to tell
    }
    let targets = match to {
        Some(o) => vec![o.to_owned()],
        None => {
            let me = state.borrow();
            me.allow.targets(
                parent_origin(&window).as_deref(),
                me.learned_origin.as_deref(),
            )
        }
    };
    if targets.is_empty() {
        return;
    }
    // A structured object, like the stock driver's conversation object: bridges for the stock
    // driver read it as it is. It comes from our own serialisation, so parsing cannot fail.
    let Ok(value) = js_sys::JSON::parse(&msg.to_value().to_string()) else {
        return;
    };
    for origin in targets {
        match parent.post_message(&value, &origin) {
            Ok(()) => state.borrow_mut().posted += 1,
            Err(e) => log(
                "debug",
                &format!("post to {origin} failed: {}", js_error_text(&e)),
            ),
        }
    }
}

fn post(state: &Shared, msg: &DriverToBridge) {
    post_to(state, msg, None);
}

fn on_sdk_event(state: &Shared, module: &'static str, event: &'static str, payload: &JsValue) {
    let value = match sdk_value(payload) {
        Ok(v) => v,
        Err(reason) => return drop_message(state, &reason, &format!("{module}.{event} payload")),
    };
    let options = state.borrow().presence_options.clone();
    match logic::event_from_sdk(module, event, &value, options) {
        Ok(Some(ev)) => {
            let stock = match &ev {
                DriverEvent::ConversationLoaded(c) => {
                    Some(DriverToBridge::StockConversationLoaded(c.clone()))
                }
                _ => None,
            };
            let needs_options =
                matches!(&ev, DriverEvent::PresenceChanged(p) if p.options.is_none());
            if needs_options {
                // Rare (the list is read at bind time): fetch it, then forward with it.
                spawn_presence_options(Rc::downgrade(state), Some(ev));
            } else {
                post(state, &DriverToBridge::Event(ev));
            }
            // Also untagged, as Microsoft's sample posts it, for bridges written for the stock
            // driver. (Our bridge ignores this copy once the driver said hello.)
            if let Some(stock) = stock {
                post(state, &stock);
            }
        }
        Ok(None) => {}
        Err(reason) => drop_message(state, &reason, &format!("{module}.{event} payload")),
    }
    if logic::may_change_focus(module, event) {
        refresh_focus(Rc::downgrade(state));
    }
}

/// Reads the presence options into the cache; forwards `pending` (a presence change) after.
fn spawn_presence_options(weak: Weak<RefCell<State>>, pending: Option<DriverEvent>) {
    wasm_bindgen_futures::spawn_local(async move {
        let Some(state) = weak.upgrade() else { return };
        let sdk = sdk_of(&state);
        let options = match presence_options(&sdk).await {
            Ok(o) => Some(o),
            Err(e) => {
                log("debug", &format!("presence options not read: {e}"));
                None
            }
        };
        if options.is_some() {
            state.borrow_mut().presence_options = options.clone();
        }
        if let Some(DriverEvent::PresenceChanged(mut p)) = pending {
            p.options = options;
            post(
                &state,
                &DriverToBridge::Event(DriverEvent::PresenceChanged(p)),
            );
        }
    });
}

async fn presence_options(sdk: &JsValue) -> Result<Vec<Presence>, String> {
    let v = call_async(sdk, "presence", "getPresenceOptions", &[]).await?;
    let v = sdk_value(&v).map_err(|e| e.to_string())?;
    serde_json::from_value(v).map_err(|e| format!("presence options: {e}"))
}

/// Re-reads the focused conversation and forwards it when it changed.
fn refresh_focus(weak: Weak<RefCell<State>>) {
    wasm_bindgen_futures::spawn_local(async move {
        let Some(state) = weak.upgrade() else { return };
        let sdk = sdk_of(&state);
        let focus = match call_async(&sdk, "conversation", "getFocusedConversationId", &[]).await {
            Ok(v) => logic::focus_from_sdk(&sdk_value(&v).unwrap_or(Value::Null)),
            Err(e) => return log("debug", &format!("focused conversation not read: {e}")),
        };
        let changed = {
            let mut me = state.borrow_mut();
            let changed = me.focused.as_ref() != Some(&focus.live_work_item_id);
            me.focused = Some(focus.live_work_item_id.clone());
            changed
        };
        if changed {
            post(
                &state,
                &DriverToBridge::Event(DriverEvent::FocusChanged(focus)),
            );
        }
    });
}

fn on_message(state: &Shared, e: &MessageEvent) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let parent = window.parent().ok().flatten();
    let from_parent = match (e.source(), parent) {
        // A top-level widget's parent is itself: then nothing is "from the parent".
        (Some(src), Some(p)) => !Object::is(&p, &window) && Object::is(&src, &p),
        _ => false,
    };
    let origin = e.origin();
    let text = json_text(&e.data());
    let allow = state.borrow().allow.clone();
    match logic::judge(from_parent, &origin, &allow, text.as_deref()) {
        Err(refused) => {
            drop_message(state, &refused.reason, &format!("message from {origin}"));
            if let Some(reply) = logic::refusal_reply(&refused) {
                post_to(state, &reply, Some(&origin));
            }
        }
        Ok(msg) => {
            {
                let mut me = state.borrow_mut();
                me.accepted += 1;
                me.learned_origin = Some(origin.clone());
            }
            act(state, msg, origin);
        }
    }
}

fn act(state: &Shared, msg: BridgeToDriver, origin: String) {
    let sdk = sdk_of(state);
    match msg {
        BridgeToDriver::ClickToDial { number, id } => {
            let arg = Object::new();
            let _ = Reflect::set(&arg, &"number".into(), &number.as_str().into());
            let result = call(&sdk, "ctiDriver", "clickToDial", &[arg.into()]);
            let reply = match (&result, &id) {
                (_, None) => None,
                (Ok(_), Some(id)) => Some(DriverToBridge::Reply {
                    id: id.clone(),
                    result: Ok(json!({ "accepted": true })),
                }),
                (Err(e), Some(id)) => Some(logic::error_reply(id, "sdkError", e.clone())),
            };
            if let Err(e) = &result {
                log("warn", &format!("clickToDial refused by the SDK: {e}"));
            }
            if let Some(reply) = reply {
                post_to(state, &reply, Some(&origin));
            }
        }
        BridgeToDriver::Request { id, request } => {
            let weak = Rc::downgrade(state);
            wasm_bindgen_futures::spawn_local(async move {
                let reply = answer(&sdk, &weak, &id, request).await;
                if let Some(state) = weak.upgrade() {
                    post_to(&state, &reply, Some(&origin));
                }
            });
        }
    }
}

async fn answer(
    sdk: &JsValue,
    weak: &Weak<RefCell<State>>,
    id: &str,
    request: DriverRequest,
) -> DriverToBridge {
    let ok = |data: Value| DriverToBridge::Reply {
        id: id.to_owned(),
        result: Ok(data),
    };
    let sdk_err = |e: String| logic::error_reply(id, "sdkError", e);
    match request {
        DriverRequest::GetPresence => match call_async(sdk, "presence", "getPresence", &[]).await {
            Ok(v) => match sdk_value(&v)
                .map_err(|e| e.to_string())
                .and_then(|v| serde_json::from_value::<Presence>(v).map_err(|e| e.to_string()))
            {
                Ok(p) => ok(serde_json::to_value(p).unwrap_or(Value::Null)),
                Err(e) => sdk_err(format!("presence: {e}")),
            },
            Err(e) => sdk_err(e),
        },
        DriverRequest::GetPresenceOptions => match presence_options(sdk).await {
            Ok(options) => {
                if let Some(s) = weak.upgrade() {
                    s.borrow_mut().presence_options = Some(options.clone());
                }
                ok(serde_json::to_value(options).unwrap_or(Value::Null))
            }
            Err(e) => sdk_err(e),
        },
        DriverRequest::SetPresence {
            presence_id,
            base_status,
        } => {
            // Fresh options each time: the id must be one the SDK offers now.
            let options = match presence_options(sdk).await {
                Ok(o) => o,
                Err(e) => return sdk_err(e),
            };
            let chosen = match logic::choose_presence(&options, presence_id.as_deref(), base_status)
            {
                Ok(c) => c,
                Err(why) => return logic::error_reply(id, "unknownPresence", why),
            };
            match call_async(sdk, "presence", "setPresence", &[chosen.as_str().into()]).await {
                Ok(_) => ok(json!({ "presenceId": chosen })),
                Err(e) => sdk_err(e),
            }
        }
        DriverRequest::GetFocusedConversation => {
            match call_async(sdk, "conversation", "getFocusedConversationId", &[]).await {
                Ok(v) => {
                    let focus = logic::focus_from_sdk(&sdk_value(&v).unwrap_or(Value::Null));
                    ok(serde_json::to_value(focus).unwrap_or(Value::Null))
                }
                Err(e) => sdk_err(e),
            }
        }
    }
}
