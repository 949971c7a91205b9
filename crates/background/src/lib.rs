//! The background service worker.
//!
//! `extension/background.js` registers every listener synchronously at the top level (Chrome
//! only wakes a worker for events whose listeners existed when it started) and hands each event
//! to the exported functions here once the wasm is ready.
//!
//! Chrome stops an idle worker after about 30 s, so nothing that matters lives only here: the
//! configuration is in `storage.local`, diagnostics in `storage.session`, and the content
//! scripts keep every unanswered dial and resend it when their port reconnects. What this
//! worker holds in memory — the ports of each tab — is rebuilt by those reconnections.

mod badge;
mod owner;
mod presence;
mod registry;
mod router;
mod scan;

use protocol::config::Config;
use protocol::ext::{self, BackgroundToContent, OneShot};
use wasm_bindgen::prelude::*;
use webext::runtime::{Port, Sender};
use webext::storage::{self, Area};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The id of the context menu's "Call <selection>" item.
const MENU_CALL: &str = "ccaas-call-selection";

fn log(msg: &str) {
    web_sys::console::info_1(&JsValue::from_str(&format!("[ccaas-bridge] {msg}")));
}

fn debug(msg: &str) {
    web_sys::console::debug_1(&JsValue::from_str(&format!("[ccaas-bridge] {msg}")));
}

/// Called once per worker start, after the wasm is instantiated.
#[wasm_bindgen]
pub async fn start() {
    console_error_panic_hook::set_once();
    log(&format!("background worker started (version {VERSION})"));
    router::seed_working_tab().await;
    registry::sync().await;
    badge::sync().await;
}

/// A port from a content script or panel. `early` holds the messages the loader received on it
/// before the wasm was ready, `gone` whether it disconnected meanwhile (its other end then
/// connects again and resends what it still needs).
#[wasm_bindgen]
pub fn on_connect(port: JsValue, early: js_sys::Array, gone: bool) {
    let early = early.iter().filter_map(|m| m.as_string()).collect();
    router::on_connect(Port::from_js(port), early, gone);
}

/// One-shot messages; the resolved value is the reply.
#[wasm_bindgen]
pub async fn on_message(msg: JsValue, sender: JsValue) -> JsValue {
    let sender = Sender::from_js(&sender);
    if sender.extension_id != webext::runtime::id() {
        return JsValue::NULL;
    }
    let Some(text) = msg.as_string() else {
        return JsValue::NULL;
    };
    match ext::decode::<OneShot>(&text) {
        Ok(OneShot::Ping) => JsValue::from_str(&format!("pong {VERSION}")),
        Ok(OneShot::Probe { report }) => {
            router::on_probe(report, &sender).await;
            JsValue::TRUE
        }
        Ok(OneShot::ConfigSaved) => {
            registry::sync().await;
            JsValue::TRUE
        }
        Ok(OneShot::SetPresence(choice)) => JsValue::from_str(&presence::set(choice).await),
        Err(e) => {
            debug(&format!("dropped a one-shot message: {e}"));
            JsValue::NULL
        }
    }
}

#[wasm_bindgen]
pub async fn on_storage_changed(changes: JsValue, area: String) {
    let config_changed = area == "local" && !webext::get(&changes, "config").is_undefined();
    if config_changed || area == "managed" {
        registry::sync().await;
    }
    let key = protocol::presence::STORAGE_KEY;
    if area == "local" && !webext::get(&changes, key).is_undefined() {
        badge::sync().await;
    }
}

#[wasm_bindgen]
pub fn on_command(command: String) {
    if command == "toggle-panel" {
        wasm_bindgen_futures::spawn_local(router::toggle_active_panel());
    }
}

/// The context menu's "Call <selection>": parsed with the same matcher as the page's numbers,
/// then dialled through that tab's bridge, or a notice there saying why it is not a number.
#[wasm_bindgen]
pub async fn on_menu_click(info: JsValue, tab: JsValue) {
    let (item, text, tab_id, _frame) = webext::menus::click_info(&info, &tab);
    let Some(tab_id) = tab_id.filter(|_| item == MENU_CALL) else {
        return;
    };
    let msg = match scan::selection(&text).await {
        Ok(number) => BackgroundToContent::DialNumber { number },
        Err(why) => {
            let shown: String = text.chars().take(40).collect();
            BackgroundToContent::Notice {
                text: format!("Not dialled: \u{201c}{shown}\u{201d}: {why}."),
            }
        }
    };
    router::to_content(tab_id, &msg);
}

#[wasm_bindgen]
pub fn on_tab_removed(tab_id: i32) {
    router::forget_tab(tab_id);
}

#[wasm_bindgen]
pub fn on_tab_activated(info: JsValue) {
    if let Some(tab) = webext::get(&info, "tabId").as_f64() {
        router::on_tab_activated(tab as i32);
    }
}

/// The stored configuration, validated; `None` when absent or unusable (logged).
pub async fn load_config() -> Option<Config> {
    let text = storage::get_text(Area::Local, "config")
        .await
        .ok()
        .flatten()?;
    let parsed = protocol::json::parse_bounded(&text).map_err(|e| e.to_string());
    match parsed.and_then(|v| Config::from_stored(&v).map_err(|e| e.to_string())) {
        Ok(c) => Some(c),
        Err(e) => {
            log(&format!("stored configuration ignored: {e}"));
            None
        }
    }
}
