//! `chrome.storage`: values are stored as JSON text so that what comes back is decoded with the
//! same bounded decoder as every other untrusted input.

use crate::{call, get, object, ExtError, Listener};
use wasm_bindgen::JsValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    Local,
    Session,
    Managed,
}

impl Area {
    fn name(self) -> &'static str {
        match self {
            Area::Local => "local",
            Area::Session => "session",
            Area::Managed => "managed",
        }
    }
}

/// Reads one key; `Ok(None)` when absent.
pub async fn get_raw(area: Area, key: &str) -> Result<Option<JsValue>, ExtError> {
    let all = call(&["storage", area.name()], "get", &[JsValue::from_str(key)]).await?;
    let v = get(&all, key);
    Ok(if v.is_undefined() { None } else { Some(v) })
}

/// Reads one key stored as text.
pub async fn get_text(area: Area, key: &str) -> Result<Option<String>, ExtError> {
    Ok(get_raw(area, key).await?.and_then(|v| v.as_string()))
}

/// The whole area as JSON text (`Ok(None)` when it is empty).
pub async fn get_all_text(area: Area) -> Result<Option<String>, ExtError> {
    let all = call(&["storage", area.name()], "get", &[JsValue::NULL]).await?;
    if js_sys::Object::keys(&all.clone().into()).length() == 0 {
        return Ok(None);
    }
    Ok(js_sys::JSON::stringify(&all)
        .ok()
        .and_then(|s| s.as_string()))
}

/// Writes one key as text.
pub async fn set_text(area: Area, key: &str, text: &str) -> Result<(), ExtError> {
    let items = object(&[(key, JsValue::from_str(text))]);
    call(&["storage", area.name()], "set", &[items.into()])
        .await
        .map(|_| ())
}

/// `chrome.storage.onChanged`: calls `f(area, key, new_value)` for each changed key.
pub fn on_changed(mut f: impl FnMut(&str, &str, JsValue) + 'static) -> Result<Listener, ExtError> {
    Listener::on(&["storage", "onChanged"], move |changes, area, _| {
        let area = area.as_string().unwrap_or_default();
        for key in js_sys::Object::keys(&changes.clone().into()).iter() {
            if let Some(k) = key.as_string() {
                f(&area, &k, get(&get(&changes, &k), "newValue"));
            }
        }
    })
}
