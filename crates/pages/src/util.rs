//! Small helpers shared by the pages: logging, element lookup, the stored configuration.

use protocol::config::Config;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element};
use webext::storage::{self, Area};

pub fn info(msg: &str) {
    web_sys::console::info_1(&JsValue::from_str(&format!("[ccaas-bridge] {msg}")));
}

pub fn warn(msg: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&format!("[ccaas-bridge] {msg}")));
}

pub fn debug(msg: &str) {
    web_sys::console::debug_1(&JsValue::from_str(&format!("[ccaas-bridge] {msg}")));
}

pub fn document() -> Option<Document> {
    web_sys::window()?.document()
}

/// `document.getElementById(id)` cast to the wanted element type.
pub fn by_id<T: JsCast>(id: &str) -> Option<T> {
    document()?.get_element_by_id(id)?.dyn_into::<T>().ok()
}

pub fn set_text(id: &str, text: &str) {
    if let Some(el) = by_id::<Element>(id) {
        el.set_text_content(Some(text));
    }
}

/// The stored configuration: `Ok(None)` when there is none, `Err` when it is unusable.
pub async fn load_config() -> Result<Option<Config>, String> {
    let Some(text) = storage::get_text(Area::Local, "config")
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let v = protocol::json::parse_bounded(&text).map_err(|e| e.to_string())?;
    Config::from_stored(&v).map(Some).map_err(|e| e.to_string())
}
