//! `chrome.permissions`: optional host permissions, asked for one site at a time.

use crate::{call, object, ExtError};
use js_sys::Array;
use wasm_bindgen::JsValue;

fn origins(patterns: &[String]) -> JsValue {
    let list: Array = patterns.iter().map(|p| JsValue::from_str(p)).collect();
    object(&[("origins", list.into())]).into()
}

/// Asks the agent for host permissions (must run inside a user gesture). `Ok(false)` if refused.
pub async fn request(patterns: &[String]) -> Result<bool, ExtError> {
    Ok(call(&["permissions"], "request", &[origins(patterns)])
        .await?
        .is_truthy())
}
