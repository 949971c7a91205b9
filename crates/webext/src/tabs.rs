//! `chrome.tabs`: the few calls the extension needs.

use crate::{call, get as prop, object, ExtError};
use wasm_bindgen::JsValue;

/// The active tab of the focused window, if any: `(id, url)`.
pub async fn active_tab() -> Result<Option<(i32, Option<String>)>, ExtError> {
    let q = object(&[
        ("active", JsValue::TRUE),
        ("lastFocusedWindow", JsValue::TRUE),
    ]);
    let tabs = call(&["tabs"], "query", &[q.into()]).await?;
    let first = prop(&tabs, "0");
    Ok(prop(&first, "id")
        .as_f64()
        .map(|id| (id as i32, prop(&first, "url").as_string())))
}

/// The URL of one tab (`None` if the tab is gone or its URL is not visible to the extension).
pub async fn get(tab_id: i32) -> Result<Option<String>, ExtError> {
    let tab = call(&["tabs"], "get", &[JsValue::from(tab_id)]).await?;
    Ok(prop(&tab, "url").as_string())
}
