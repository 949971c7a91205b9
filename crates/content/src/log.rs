//! Console output with one prefix, so an agent or admin can filter the extension's lines.

use wasm_bindgen::JsValue;

const PREFIX: &str = "[ccaas-bridge]";

pub fn info(msg: &str) {
    web_sys::console::info_1(&JsValue::from_str(&format!("{PREFIX} {msg}")));
}

pub fn warn(msg: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&format!("{PREFIX} {msg}")));
}

/// Debug level: hidden by default in devtools, which is where dropped messages belong.
pub fn debug(msg: &str) {
    web_sys::console::debug_1(&JsValue::from_str(&format!("{PREFIX} {msg}")));
}

/// A short random id (not a secret: used to tell sessions and documents apart).
pub fn random_id() -> String {
    let a = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let b = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("{a:08x}{b:08x}")
}
