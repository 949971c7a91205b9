//! `chrome.contextMenus`: the one "Call <selection>" item.

use crate::{call, call_sync, get as prop, object, ExtError};
use js_sys::Array;
use wasm_bindgen::JsValue;

/// Replaces this extension's context-menu items with one item for selected text, shown only on
/// pages matching `patterns` (none: no item). `title` may hold `%s`, the selection.
pub async fn set_selection_item(
    id: &str,
    title: &str,
    patterns: &[String],
) -> Result<(), ExtError> {
    call(&["contextMenus"], "removeAll", &[]).await?;
    if patterns.is_empty() {
        return Ok(());
    }
    let pats: Array = patterns.iter().map(|p| JsValue::from_str(p)).collect();
    let contexts: Array = std::iter::once(JsValue::from_str("selection")).collect();
    let props = object(&[
        ("id", JsValue::from_str(id)),
        ("title", JsValue::from_str(title)),
        ("contexts", contexts.into()),
        ("documentUrlPatterns", pats.into()),
    ]);
    call_sync(&["contextMenus"], "create", &[props.into()]).map(|_| ())
}

/// What a context-menu click carries: `(menu item id, selected text, tab id, frame id)`.
pub fn click_info(info: &JsValue, tab: &JsValue) -> (String, String, Option<i32>, i32) {
    (
        prop(info, "menuItemId").as_string().unwrap_or_default(),
        prop(info, "selectionText").as_string().unwrap_or_default(),
        prop(tab, "id").as_f64().map(|id| id as i32),
        prop(info, "frameId").as_f64().map_or(0, |f| f as i32),
    )
}
