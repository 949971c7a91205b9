//! `chrome.tabs`: the few calls the extension needs.

use crate::runtime::Port;
use crate::{call, call_sync, get as prop, object, ExtError};
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

/// The ids of the open tabs whose URL matches one of `patterns` (match patterns; only tabs of
/// sites the extension has host permission for are seen).
pub async fn query_urls(patterns: &[String]) -> Result<Vec<i32>, ExtError> {
    let urls: js_sys::Array = patterns.iter().map(|p| JsValue::from_str(p)).collect();
    let q = object(&[("url", urls.into())]);
    let tabs = call(&["tabs"], "query", &[q.into()]).await?;
    Ok(js_sys::Array::from(&tabs)
        .iter()
        .filter_map(|t| prop(&t, "id").as_f64())
        .map(|id| id as i32)
        .collect())
}

/// The URL of one tab (`None` if the tab is gone or its URL is not visible to the extension).
pub async fn get(tab_id: i32) -> Result<Option<String>, ExtError> {
    let tab = call(&["tabs"], "get", &[JsValue::from(tab_id)]).await?;
    Ok(prop(&tab, "url").as_string())
}

/// `chrome.tabs.connect(tabId, {name, frameId})`: a port to the content script of one frame.
pub fn connect(tab_id: i32, name: &str, frame_id: i32) -> Result<Port, ExtError> {
    let info = object(&[
        ("name", JsValue::from_str(name)),
        ("frameId", JsValue::from(frame_id)),
    ]);
    call_sync(&["tabs"], "connect", &[JsValue::from(tab_id), info.into()]).map(Port::from_js)
}

/// Whether the browser may discard tab `tab_id` by itself to save memory (`autoDiscardable`).
pub async fn set_auto_discardable(tab_id: i32, yes: bool) -> Result<(), ExtError> {
    let props = object(&[("autoDiscardable", JsValue::from_bool(yes))]);
    call(&["tabs"], "update", &[JsValue::from(tab_id), props.into()]).await?;
    Ok(())
}

/// Whether the browser may discard tab `tab_id` by itself (`None` if the tab is gone or the
/// browser does not say).
pub async fn auto_discardable(tab_id: i32) -> Result<Option<bool>, ExtError> {
    let tab = call(&["tabs"], "get", &[JsValue::from(tab_id)]).await?;
    Ok(prop(&tab, "autoDiscardable").as_bool())
}

/// Brings a tab to the front: makes it its window's active tab and focuses that window.
pub async fn activate(tab_id: i32) -> Result<(), ExtError> {
    let props = object(&[("active", JsValue::TRUE)]);
    let tab = call(&["tabs"], "update", &[JsValue::from(tab_id), props.into()]).await?;
    if let Some(window) = prop(&tab, "windowId").as_f64() {
        let focus = object(&[("focused", JsValue::TRUE)]);
        call(
            &["windows"],
            "update",
            &[JsValue::from(window), focus.into()],
        )
        .await?;
    }
    Ok(())
}
