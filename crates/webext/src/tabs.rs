//! `chrome.tabs`: the few calls the background needs.

use crate::{call, get, object, ExtError};
use wasm_bindgen::JsValue;

/// The active tab of the focused window, if any: `(id, url)`.
pub async fn active_tab() -> Result<Option<(i32, Option<String>)>, ExtError> {
    let q = object(&[
        ("active", JsValue::TRUE),
        ("lastFocusedWindow", JsValue::TRUE),
    ]);
    let tabs = call(&["tabs"], "query", &[q.into()]).await?;
    let first = get(&tabs, "0");
    Ok(get(&first, "id")
        .as_f64()
        .map(|id| (id as i32, get(&first, "url").as_string())))
}
