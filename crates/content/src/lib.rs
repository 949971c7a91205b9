//! The content script. One wasm module, started by `extension/content.js` through one of two
//! routes (compiled wasm, or the same module translated to JavaScript by wasm2js where the page's
//! CSP forbids compiling wasm), and run in one of two roles:
//! - in a CRM page's top frame: the docked softphone panel and the page API ([`bridge`]);
//! - inside the widget's frame hosted by our panel: the liveness probe ([`probe`]).

pub mod bar;
pub mod bridge;
pub mod detect;
pub mod log;
pub mod panel;
pub mod probe;
pub mod runs;
pub mod toast;

use wasm_bindgen::prelude::*;

/// Entry point, called once by the loader with the route it took (`"wasm"` or `"wasm2js"`) and
/// the page's messages and `ccaas-bridge` events that came before (see `bridge::start`).
#[wasm_bindgen]
pub fn start(route: &str, early: Option<js_sys::Array>) {
    console_error_panic_hook::set_once();
    let Some(window) = web_sys::window() else {
        return;
    };
    if webext::runtime::id().is_none() {
        return;
    }
    if probe::is_our_widget_frame(&window) {
        log::info(&format!(
            "probe started in the widget frame (route: {route})"
        ));
        probe::start();
        return;
    }
    let is_top = window.top().ok().flatten().is_some_and(|t| t == window);
    if !is_top {
        return;
    }
    log::info(&format!("content script started (route: {route})"));
    bridge::start(window, early.unwrap_or_default());
}
